package cli

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"os"
	"strings"
	"time"

	"github.com/spf13/cobra"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/tools/clientcmd"

	"github.com/k8s-debug-lab/lab/checks/spec"
	"github.com/k8s-debug-lab/lab/lab/cluster"
	"github.com/k8s-debug-lab/lab/lab/deploy"
	"github.com/k8s-debug-lab/lab/lab/kube"
	"github.com/k8s-debug-lab/lab/lab/labfolder"
	"github.com/k8s-debug-lab/lab/lab/state"
)

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

// labFlag is --assignment: the lab folder a command works with; every
// command that deploys, teaches, sends traffic, solves or grades takes it.
// labFlagHelp is --assignment's help on every command that takes it.
const labFlagHelp = "a lab folder: assignment.yaml, manifests/, lessons/ (default: the built-in lab)"

type labFlag struct{ dir string }

func (f *labFlag) addTo(cmd *cobra.Command) {
	cmd.Flags().StringVar(&f.dir, "assignment", "", labFlagHelp)
	_ = cmd.MarkFlagDirname("assignment")
}

// load opens the lab folder (exit 2 when it does not open).
func (f *labFlag) load() (*labfolder.Lab, error) { return loadLab(f.dir) }

// newClusterSession is the session of a command that looks after the
// cluster: it chooses a provider (--provider and the kubeconfig flags).
func newClusterSession(streams Streams, g *globals, kf *kubeconfigFlags, pf *providerFlags, lf *labFlag) (*session, error) {
	l, err := lf.load()
	if err != nil {
		return nil, err
	}
	s := newSession(streams, g, kf, l)
	s.pf = pf
	return s, nil
}

// session is the one way a command reaches the lab's cluster: the
// kubeconfig flags resolved as kubectl resolves them, the client built
// through the command's Deps, reachability, the lab folder's workload, and
// every failure given its exit code. Commands that look after the cluster
// (up, status, reset, down, doctor) first choose a provider (choose);
// lab traffic and lab solve open a lab that is up (openLab, which applies
// the safety rule since they create pods); lab check and lab lesson read
// (readOnly), falling back to no cluster.
type session struct {
	streams Streams
	g       *globals
	kf      *kubeconfigFlags
	pf      *providerFlags
	kind    cluster.KindOptions
	log     *progress
	// lab is the lab folder the command works with.
	lab *labfolder.Lab

	choice     cluster.Choice
	prov       cluster.Provider
	engines    []cluster.Engine
	resolveErr error
}

func newSession(streams Streams, g *globals, kf *kubeconfigFlags, lab *labfolder.Lab) *session {
	return &session{
		streams: streams, g: g, kf: kf, lab: lab,
		log: newProgress(streams.ErrOut, cursorTerminal(streams.ErrOut), g.verbosity),
	}
}

// workload is the lab folder's pod and container.
func (s *session) workload() spec.Workload { return s.lab.Spec.Workload }

// labPod reads the workload's pod.
func (s *session) labPod(ctx context.Context, c kubernetes.Interface, namespace string) (kube.PodFacts, error) {
	w := s.workload()
	return kube.LabPod(ctx, c, namespace, w.Pod, w.Container)
}

// probedEngines probes the engines once per command.
func (s *session) probedEngines(ctx context.Context) []cluster.Engine {
	if s.engines == nil {
		s.engines = s.g.deps.ProbeEngines(ctx)
	}
	return s.engines
}

// choose picks the provider. Engines are probed only when detection or
// kind needs them.
func (s *session) choose(ctx context.Context) error {
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
	probe := func() []cluster.Engine { return s.probedEngines(ctx) }
	s.choice, err = cluster.Select(cluster.SelectInput{
		Flag: s.pf.provider, Env: os.Getenv(cluster.EnvProvider),
		Explicit: s.kf.explicit(), Target: t, KindName: s.pf.name, Engines: probe,
	})
	switch {
	case errors.Is(err, cluster.ErrNothingToUse):
		// Said again in the user's language, from the engines probed;
		// still ErrNothingToUse for errors.Is (lab doctor asks).
		p := s.g.printer()
		var why []string
		for _, e := range s.probedEngines(ctx) {
			why = append(why, e.String())
		}
		msg := p.Sprintf("no cluster to use: no container engine answers (%s) and the kubeconfig has no current context; start Docker (or Podman) so that lab can create a kind cluster, or point lab at a cluster with --kubeconfig/--context", strings.Join(why, "; "))
		if s.resolveErr != nil {
			msg += " " + p.Sprintf("(the kubeconfig: %v)", s.resolveErr)
		} else {
			msg += " " + p.Sprintf("(kubeconfig files read: %s)", strings.Join(kubeconfigFiles(s.kf), ", "))
		}
		return &ExitError{Code: ExitCluster, Err: &saidError{msg: msg, err: err}}
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
func (s *session) target(ctx context.Context) (*kube.Target, error) {
	t, err := s.prov.Target(ctx)
	if err != nil {
		return nil, s.clusterErr(err)
	}
	return t, nil
}

// clusterErr gives an error about reaching the cluster its exit code.
func (s *session) clusterErr(err error) error {
	var ee *ExitError
	if errors.As(err, &ee) {
		return err
	}
	var pull *cluster.NodeImagePullError
	if errors.As(err, &pull) {
		// Not the cluster's reachability: its node image could not be had
		// (the message says why and what to do).
		return &ExitError{Code: ExitFailed, Err: err}
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
func (s *session) guard(t *kube.Target, yes bool) error {
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
func (s *session) connect(ctx context.Context, t *kube.Target) (kubernetes.Interface, error) {
	c, err := s.g.deps.NewClient(t)
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
func (s *session) reachHint(t *kube.Target) string {
	p := s.g.printer()
	if s.prov == nil {
		return p.Sprintf("is the lab's cluster running? lab status says more")
	}
	switch s.prov.Name() {
	case cluster.Kind:
		return p.Sprintf("is the kind node running? %s ps --filter name=%s-control-plane; lab doctor checks more", s.engineName(), s.choice.KindName)
	case cluster.Minikube:
		return p.Sprintf("is minikube running? minikube status, then minikube start")
	}
	if t == nil {
		return p.Sprintf("check the kubeconfig: kubectl config get-contexts")
	}
	return p.Sprintf("check the context with kubectl --context %s get namespaces; lab doctor checks more", t.Context)
}

func (s *session) engineName() string {
	if e, ok := cluster.FirstAnswering(s.engines); ok {
		return e.Name
	}
	return "docker"
}

// deployOptions are deploy's options with progress wired to the spinner.
func (s *session) deployOptions(namespace, image string) deploy.Options {
	return deploy.Options{
		Lab:        s.lab,
		Namespace:  namespace,
		NginxImage: image,
		Status:     s.log.Status,
		Debugf:     s.log.Debugf,
	}
}

// confirm asks a yes/no question on the terminal. Without a terminal it
// refuses, since nobody can answer: the caller says to pass --yes.
func (s *session) confirm(question string) (bool, error) {
	if !s.g.deps.StdinIsTerminal(s.streams.In) {
		return false, usageError(s.g.printer(), "nothing done: there is no terminal to ask %q on; add --yes to confirm", question)
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

// openLab is how lab traffic and lab solve reach the lab: client-go's
// logging routed as -v asks, the kubeconfig flags resolved as kubectl
// resolves them, the safety rule (both create pods, so a context that is
// not local needs --context and --yes), one line saying where lab works, a
// connection, the lab's pod, which must be Ready, and the lab's state.
func (s *session) openLab(ctx context.Context, yes bool) (*labConn, error) {
	routeKlog(s.g, s.streams.ErrOut)
	p := s.g.printer()
	log, kf := s.log, s.kf
	t, err := kf.resolve()
	switch {
	case errors.Is(err, kube.ErrNoContext):
		return nil, &ExitError{Code: ExitCluster, Err: fmt.Errorf("%w %s", err, p.Sprintf("(kubeconfig files read: %v): lab up creates the lab's cluster", kubeconfigFiles(kf)))}
	case err != nil:
		return nil, usageErrorf("%v", err)
	}
	if err := cluster.CheckSafe(t, yes); err != nil {
		return nil, &ExitError{Code: ExitUsage, Err: err}
	}
	log.Infof("context %s, server %s, namespace %s", t.Context, t.Server, t.Namespace)
	c, err := s.g.deps.NewClient(t)
	if err != nil {
		return nil, err
	}
	log.Status("connecting to " + t.Server)
	if _, err := kube.Ping(ctx, c, t.Server, t.Namespace); err != nil {
		if ctx.Err() != nil {
			return nil, ctx.Err()
		}
		return nil, &ExitError{Code: ExitCluster, Err: fmt.Errorf("%w; %s", err, p.Sprintf("is the lab's cluster running? lab status says more"))}
	}
	pod, err := s.labPod(ctx, c, t.Namespace)
	switch {
	case errors.Is(err, kube.ErrNotDeployed):
		return nil, &ExitError{Code: ExitFailed, Err: errors.New(p.Sprintf("the lab is not deployed in namespace %s (context %s): run lab up%s", t.Namespace, t.Context, nsFlag(t.Namespace)))}
	case err != nil:
		return nil, &ExitError{Code: ExitCluster, Err: err}
	case !pod.Ready:
		state := pod.Phase
		if pod.Reason != "" {
			state += ", " + pod.Reason
		}
		return nil, &ExitError{Code: ExitFailed, Err: errors.New(p.Sprintf("pod %s/%s is %s, not Ready: lab up%s says why and repairs what it can", pod.Namespace, pod.Name, state, nsFlag(t.Namespace)))}
	}
	st, err := s.g.deps.NewStreams(t)
	if err != nil {
		return nil, err
	}
	path, err := state.Path(t.Context, t.Namespace)
	if err != nil {
		return nil, err
	}
	l := &labConn{target: t, client: c, streams: st, pod: pod, statePath: path, lab: s.lab}
	if l.state, err = l.rememberState(); err != nil {
		return nil, err
	}
	return l, nil
}

// saidError is err told anew for the user (in their language), still err
// for errors.Is and errors.As.
type saidError struct {
	msg string
	err error
}

func (e *saidError) Error() string { return e.msg }
func (e *saidError) Unwrap() error { return e.err }

// errNoCluster is why a read-only session has no cluster; the command goes
// on without one.
type errNoCluster struct{ why string }

func (e *errNoCluster) Error() string { return e.why }

// readOnly is the client of a command that only reads and must not make a
// student wait (lab check, lab lesson): every request bounded by timeout.
// When there is no cluster to ask, the error is an *errNoCluster saying
// why, and the command goes on without one. With strict (lab check, whose
// verdict depends on it), a cluster the user named (--context,
// --kubeconfig) that cannot be used is a usage error; a lesson opens
// whatever happens.
func (s *session) readOnly(timeout time.Duration, strict bool) (*kube.Target, kubernetes.Interface, error) {
	t, err := s.kf.resolve()
	switch {
	case err != nil && strict && s.kf.explicit():
		return nil, nil, usageErrorf("%v", err)
	case errors.Is(err, kube.ErrNoContext):
		return nil, nil, &errNoCluster{s.g.printer().Sprintf("no cluster in the kubeconfig (lab up makes one)")}
	case err != nil:
		return nil, nil, &errNoCluster{err.Error()}
	}
	t.REST.Timeout = timeout
	c, err := s.g.deps.NewClient(t)
	if err != nil {
		return t, nil, &errNoCluster{err.Error()}
	}
	return t, c, nil
}

// unanswered gives a read that failed its exit code: the cluster the user
// named not answering is exit 3; otherwise the command goes on without a
// cluster (*errNoCluster).
func (s *session) unanswered(t *kube.Target, err error, offlineFlag string) error {
	p := s.g.printer()
	why := p.Sprintf("the lab's cluster did not answer (context %s, server %s): %v", t.Context, t.Server, shortAPIError(err))
	if s.kf.explicit() {
		return &ExitError{Code: ExitCluster, Err: errors.New(why + p.Sprintf("; lab status says more") + offlineFlag)}
	}
	return &errNoCluster{why}
}
