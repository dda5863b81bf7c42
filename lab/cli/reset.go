package cli

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/spf13/cobra"

	"github.com/k8s-debug-lab/lab/lab/cluster"
	"github.com/k8s-debug-lab/lab/lab/deploy"
)

// resetOptions are lab reset's flags.
type resetOptions struct {
	streams Streams
	globals *globals
	kf      kubeconfigFlags
	pf      providerFlags

	nginxImage string
	timeout    time.Duration
	yes        bool

	lf labFlag
	s  *session
}

func newResetCmd(streams Streams, g *globals) *cobra.Command {
	o := &resetOptions{streams: streams, globals: g}
	cmd := &cobra.Command{
		Use:   "reset",
		Short: "Recreate the lab's pod, clearing its debug containers",
		Long: `Recreate the pod nginx-distroless from the manifest and wait until it is
Ready. Ephemeral debug containers can never be removed from a pod, so this
is how to start the assignment over with a clean pod. The cluster, the
Service and your answers folder are not touched.

The same safety rule as lab up applies. Exit codes: 0 the new pod is Ready,
1 it did not become Ready, 2 usage error or a refused context, 3 the
cluster could not be reached (or does not exist yet: run lab up).`,
		Example: `  lab reset
  lab reset -n lab-course`,
		Args: cobra.NoArgs,
		RunE: runOptions(o),
	}
	o.kf.addTo(cmd)
	o.pf.addTo(cmd)
	o.lf.addTo(cmd)
	f := cmd.Flags()
	f.StringVar(&o.nginxImage, "nginx-image", "", "the pod's image (default: the one the lab runs now)")
	f.DurationVar(&o.timeout, "timeout", deploy.DefaultTimeout, "how long to wait for the new pod to be Ready")
	f.BoolVarP(&o.yes, "yes", "y", false, "confirm changing a cluster that is not local (with --context)")
	return cmd
}

func (o *resetOptions) complete() error {
	var err error
	if o.s, err = newClusterSession(o.streams, o.globals, &o.kf, &o.pf, &o.lf); err != nil {
		return err
	}
	return nil
}

func (o *resetOptions) validate() error {
	if o.timeout <= 0 {
		return usageErrorf("--timeout must be positive, got %s", o.timeout)
	}
	return nil
}

func (o *resetOptions) run(ctx context.Context) error {
	s := o.s
	defer s.log.Done()
	if err := s.choose(ctx); err != nil {
		return err
	}
	t, err := s.prov.Target(ctx)
	if errors.Is(err, cluster.ErrNoCluster) {
		return &ExitError{Code: ExitCluster, Err: fmt.Errorf("%w; %s", err, o.globals.printer().Sprintf("there is no lab to reset: run lab up"))}
	}
	if err != nil {
		return s.clusterErr(err)
	}
	if err := s.guard(t, o.yes); err != nil {
		return err
	}
	c, err := s.connect(ctx, t)
	if err != nil {
		return err
	}
	dopts := s.deployOptions(t.Namespace, o.nginxImage)
	dopts.Timeout = o.timeout
	res, err := deploy.Reset(ctx, c, dopts)
	s.log.Done()
	if err != nil {
		return deployErr(o.streams, err)
	}
	pr := o.globals.printer()
	printUpResult(o.streams, pr, res, pr.Sprintf("lab is reset"))
	return nil
}
