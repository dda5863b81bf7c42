package cli

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"

	"github.com/spf13/cobra"
	"golang.org/x/term"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/tools/clientcmd"

	"github.com/k8s-debug-lab/lab/lab/cluster"
	"github.com/k8s-debug-lab/lab/lab/deploy"
	"github.com/k8s-debug-lab/lab/lab/kube"
)

// newKubeClient builds the client a command talks through; tests replace
// it with client-go's fake clientset.
var newKubeClient = func(t *kube.Target) (kubernetes.Interface, error) { return kube.NewClient(t) }

// stdinIsTerminal reports whether lab down can ask its question; tests
// replace it to answer.
var stdinIsTerminal = func(r io.Reader) bool {
	f, ok := r.(*os.File)
	return ok && term.IsTerminal(int(f.Fd()))
}

// providerFlags choose the provider and name lab's kind cluster; up,
// status, reset, down and doctor take them.
type providerFlags struct {
	provider string
	name     string
}

func (p *providerFlags) addTo(cmd *cobra.Command) {
	f := cmd.Flags()
	f.StringVar(&p.provider, "provider", "", "kind, minikube or existing (default: "+cluster.EnvProvider+", else detected)")
	f.StringVar(&p.name, "name", cluster.DefaultKindName, "the kind cluster's name (its context is kind-<name>)")
	_ = cmd.RegisterFlagCompletionFunc("provider", completeChoices(cluster.Names))
}

// clusterSession is what up, status, reset and down share: choosing the
// provider, the safety rule, connecting, and reporting progress.
type clusterSession struct {
	streams Streams
	g       *globals
	kf      *kubeconfigFlags
	pf      *providerFlags
	kind    cluster.KindOptions
	log     *progress

	choice     cluster.Choice
	prov       cluster.Provider
	engines    []cluster.Engine
	resolveErr error
}

func newClusterSession(streams Streams, g *globals, kf *kubeconfigFlags, pf *providerFlags) *clusterSession {
	return &clusterSession{
		streams: streams, g: g, kf: kf, pf: pf,
		log: newProgress(streams.ErrOut, isTerminal(streams.ErrOut), g.verbosity),
	}
}

// choose picks the provider. Engines are probed only when detection or
// kind needs them.
func (s *clusterSession) choose(ctx context.Context) error {
	t, err := s.kf.resolve()
	if err != nil {
		t = nil
		if s.kf.context != "" {
			// A named context that cannot be used: nothing else may stand in.
			return usageErrorf("%v", err)
		}
		if !errors.Is(err, kube.ErrNoContext) {
			// kind may still write a new --kubeconfig file; checked below.
			s.resolveErr = err
		}
	}
	probe := func() []cluster.Engine {
		if s.engines == nil {
			s.engines = cluster.ProbeEngines(ctx)
		}
		return s.engines
	}
	s.choice, err = cluster.Select(cluster.SelectInput{
		Flag: s.pf.provider, Env: os.Getenv(cluster.EnvProvider),
		Explicit: s.kf.explicit(), Target: t, KindName: s.pf.name, Engines: probe,
	})
	switch {
	case errors.Is(err, cluster.ErrNothingToUse):
		if s.resolveErr != nil {
			err = fmt.Errorf("%w (the kubeconfig: %v)", err, s.resolveErr)
		} else {
			err = fmt.Errorf("%w (kubeconfig files read: %s)", err, strings.Join(kubeconfigFiles(s.kf), ", "))
		}
		return &ExitError{Code: ExitCluster, Err: err}
	case err != nil:
		return usageErrorf("%v", err)
	}
	if s.choice.Warning != "" {
		s.log.Warnf("%s", s.choice.Warning)
	}
	if s.choice.Reason != "" {
		s.log.Debugf("provider %s: %s", s.choice.Name, s.choice.Reason)
	}
	if s.choice.Name != cluster.Kind && s.resolveErr != nil {
		return usageErrorf("%v", s.resolveErr)
	}
	if s.choice.Name == cluster.Kind {
		probe()
	}
	s.prov = cluster.New(s.choice, cluster.Options{Kube: s.kf.options(), Kind: s.kind, Engines: s.engines})
	return nil
}

// target resolves the provider's context without connecting; a cluster
// that is not there or whose engine is down is exit code 3.
func (s *clusterSession) target(ctx context.Context) (*kube.Target, error) {
	t, err := s.prov.Target(ctx)
	if err != nil {
		return nil, s.clusterErr(err)
	}
	return t, nil
}

// clusterErr gives an error about reaching the cluster its exit code.
func (s *clusterSession) clusterErr(err error) error {
	var ee *ExitError
	if errors.As(err, &ee) {
		return err
	}
	var engine *cluster.EngineError
	if errors.Is(err, cluster.ErrNoCluster) || errors.As(err, &engine) || kube.IsUnreachable(err) {
		return &ExitError{Code: ExitCluster, Err: err}
	}
	var unsafe *cluster.UnsafeError
	if errors.As(err, &unsafe) {
		return &ExitError{Code: ExitUsage, Err: err}
	}
	return err
}

// guard is the safety rule, applied before anything is changed and before
// any connection: it refuses a remote context, then prints the context
// and server lab is about to change.
func (s *clusterSession) guard(t *kube.Target, yes bool) error {
	if err := cluster.CheckSafe(t, yes); err != nil {
		return &ExitError{Code: ExitUsage, Err: err}
	}
	l := cluster.Classify(t)
	why := ""
	if !l.Local {
		why = " (not local; confirmed with --context and --yes)"
	}
	s.log.Infof("using %s: context %s, server %s%s, namespace %s", s.prov.Describe(), t.Context, t.Server, why, t.Namespace)
	return nil
}

// connect builds the client and checks that the cluster answers.
func (s *clusterSession) connect(ctx context.Context, t *kube.Target) (kubernetes.Interface, error) {
	c, err := newKubeClient(t)
	if err != nil {
		return nil, err
	}
	s.log.Status("connecting to " + t.Server)
	if _, err := kube.Ping(ctx, c, t.Server, t.Namespace); err != nil {
		if ctx.Err() != nil {
			return nil, ctx.Err()
		}
		return nil, &ExitError{Code: ExitCluster, Err: fmt.Errorf("%w; %s", err, s.reachHint(t))}
	}
	return c, nil
}

// reachHint says what to try when the cluster does not answer.
func (s *clusterSession) reachHint(t *kube.Target) string {
	switch s.prov.Name() {
	case cluster.Kind:
		return fmt.Sprintf("is the kind node running? %s ps --filter name=%s-control-plane; lab doctor checks more", s.engineName(), s.choice.KindName)
	case cluster.Minikube:
		return "is minikube running? minikube status, then minikube start"
	}
	if t == nil {
		return "check the kubeconfig: kubectl config get-contexts"
	}
	return fmt.Sprintf("check the context with kubectl --context %s get namespaces; lab doctor checks more", t.Context)
}

func (s *clusterSession) engineName() string {
	if e, ok := cluster.FirstAnswering(s.engines); ok {
		return e.Name
	}
	return "docker"
}

// deployOptions are deploy's options with progress wired to the spinner.
func (s *clusterSession) deployOptions(namespace, image string) deploy.Options {
	return deploy.Options{
		Namespace:  namespace,
		NginxImage: image,
		Status:     s.log.Status,
		Debugf:     s.log.Debugf,
	}
}

// confirm asks a yes/no question on the terminal. Without a terminal it
// refuses, since nobody can answer: the caller says to pass --yes.
func (s *clusterSession) confirm(question string) (bool, error) {
	if !stdinIsTerminal(s.streams.In) {
		return false, usageErrorf("nothing done: there is no terminal to ask %q on; add --yes to confirm", question)
	}
	s.log.Done()
	fmt.Fprintf(s.streams.ErrOut, "%s [y/N] ", question)
	line, err := bufio.NewReader(s.streams.In).ReadString('\n')
	if err != nil && line == "" {
		return false, nil
	}
	switch strings.ToLower(strings.TrimSpace(line)) {
	case "y", "yes":
		return true, nil
	}
	return false, nil
}

// kubeconfigFiles are the files the kubeconfig flags and KUBECONFIG name,
// for saying where lab looked.
func kubeconfigFiles(kf *kubeconfigFlags) []string {
	if kf.kubeconfig != "" {
		return []string{kf.kubeconfig}
	}
	return clientcmd.NewDefaultClientConfigLoadingRules().GetLoadingPrecedence()
}
