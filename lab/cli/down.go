package cli

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/spf13/cobra"
	"k8s.io/client-go/kubernetes"

	"github.com/k8s-debug-lab/lab/lab/cluster"
	"github.com/k8s-debug-lab/lab/lab/deploy"
	"github.com/k8s-debug-lab/lab/lab/kube"
)

// downOptions are lab down's flags.
type downOptions struct {
	streams Streams
	globals *globals
	kf      kubeconfigFlags
	pf      providerFlags
	yes     bool

	lf labFlag
	s  *session
}

func newDownCmd(streams Streams, g *globals) *cobra.Command {
	o := &downOptions{streams: streams, globals: g}
	cmd := &cobra.Command{
		Use:   "down",
		Short: "Take the lab down: delete what lab created, nothing else",
		Long: `Take the lab down. A kind cluster is deleted whole only when lab created
it: its name is lab's (--name) and its nodes carry lab's marker label
(` + cluster.MarkerLabel + `=` + cluster.MarkerValue + `). Anywhere else, only the
objects labelled ` + kube.ManagedBySelector() + ` in the lab's namespace are
deleted (and the namespace, if lab created it and nothing else is in it).
Objects with lab's names but without its label are left alone, and named.
No other cluster or context is ever touched.

lab down lists what it will delete and asks on a terminal; without one it
needs --yes. Exit codes: 0 done (or nothing to do), 2 usage error, a refused
context, or no terminal to ask on without --yes, 3 the cluster could not be
reached.`,
		Example: `  lab down
  lab down --yes
  lab down --provider existing --context my-cluster --yes`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			var err error
			if o.s, err = newClusterSession(o.streams, o.globals, &o.kf, &o.pf, &o.lf); err != nil {
				return err
			}
			return o.run(cmd.Context())
		},
	}
	o.kf.addTo(cmd)
	o.pf.addTo(cmd)
	o.lf.addTo(cmd)
	cmd.Flags().BoolVarP(&o.yes, "yes", "y", false, "do not ask; also confirms a cluster that is not local (with --context)")
	return cmd
}

func (o *downOptions) run(ctx context.Context) error {
	s := o.s
	defer s.log.Done()
	if err := s.choose(ctx); err != nil {
		return err
	}
	t, err := s.prov.Target(ctx)
	if errors.Is(err, cluster.ErrNoCluster) {
		fmt.Fprintln(o.streams.Out, o.globals.printer().Sprintf("nothing to take down: %v", err))
		return nil
	}
	if err != nil {
		return s.clusterErr(err)
	}
	if err := s.guard(t, o.yes); err != nil {
		return err
	}
	c, connErr := s.connect(ctx, t)
	if connErr != nil && ctx.Err() != nil {
		return connErr
	}
	if s.prov.Name() == cluster.Kind {
		// A kind cluster whose API is broken can still be identified and
		// deleted through its node container.
		done, err := o.deleteKindCluster(ctx, c)
		if done || err != nil {
			return err
		}
	}
	if connErr != nil {
		return connErr
	}
	return o.deleteObjects(ctx, c, t)
}

// deleteKindCluster deletes the whole kind cluster when lab created it.
// done is false when it is not lab's, so that only lab's objects go.
func (o *downOptions) deleteKindCluster(ctx context.Context, c kubernetes.Interface) (done bool, err error) {
	s := o.s
	s.log.Status("checking whether lab created " + s.prov.Describe())
	owned, why, err := s.prov.Owned(ctx, c)
	if err != nil {
		return false, s.clusterErr(err)
	}
	s.log.Debugf("%s", why)
	if !owned {
		s.log.Infof("%s; only lab's objects in it will be deleted", why)
		return false, nil
	}
	s.log.Done()
	fmt.Fprintln(o.streams.ErrOut, o.globals.printer().Sprintf("lab down will delete %s, which lab created (%s).", s.prov.Describe(), why))
	if !o.yes {
		ok, err := s.confirm(o.globals.printer().Sprintf("Delete %s?", s.prov.Describe()))
		if err != nil || !ok {
			return true, o.declined(err)
		}
	}
	s.log.Status("deleting " + s.prov.Describe())
	if err := s.prov.DeleteCluster(context.WithoutCancel(ctx), s.log); err != nil {
		return true, err
	}
	s.log.Done()
	fmt.Fprintln(o.streams.Out, o.globals.printer().Sprintf("deleted %s", s.prov.Describe()))
	return true, nil
}

// declined is the answer "no" (or no answer possible): nothing is deleted.
func (o *downOptions) declined(err error) error {
	if err != nil {
		return err
	}
	fmt.Fprintln(o.streams.ErrOut, o.globals.printer().Sprintf("nothing deleted"))
	return nil
}

func (o *downOptions) deleteObjects(ctx context.Context, c kubernetes.Interface, t *kube.Target) error {
	s := o.s
	dopts := s.deployOptions(t.Namespace, "")
	s.log.Status("listing lab's objects in namespace " + t.Namespace)
	plan, err := deploy.PlanDown(ctx, c, dopts)
	if err != nil {
		return s.clusterErr(err)
	}
	s.log.Done()
	for _, f := range plan.Foreign {
		s.log.Warnf("leaving %s alone: lab did not create it (no %s label)", f, kube.ManagedBySelector())
	}
	if plan.Empty() {
		fmt.Fprintln(o.streams.Out, o.globals.printer().Sprintf("nothing to take down: no objects of lab's in namespace %s", t.Namespace))
		return nil
	}
	var names []string
	for _, obj := range plan.Delete {
		names = append(names, obj.String())
	}
	if plan.DeleteNamespace {
		names = append(names, o.globals.printer().Sprintf("namespace %s (if nothing else is in it)", plan.Namespace))
	}
	fmt.Fprintf(o.streams.ErrOut, "%s\n  %s\n", o.globals.printer().Sprintf("lab down will delete, in context %s:", t.Context), strings.Join(names, "\n  "))
	if !o.yes {
		ok, err := s.confirm(o.globals.printer().Sprintf("Delete them?"))
		if err != nil || !ok {
			return o.declined(err)
		}
	}
	res, err := deploy.Down(ctx, c, plan, dopts)
	s.log.Done()
	if res != nil {
		for _, obj := range res.Deleted {
			fmt.Fprintln(o.streams.Out, o.globals.printer().Sprintf("deleted %s", obj))
		}
		if res.KeptNamespace != "" {
			s.log.Warnf("%s", res.KeptNamespace)
		}
	}
	if err != nil {
		return s.clusterErr(err)
	}
	return nil
}
