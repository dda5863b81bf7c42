package cli

import (
	"context"
	"errors"
	"fmt"
	"io"

	"k8s.io/client-go/kubernetes"

	"github.com/k8s-debug-lab/lab/lab/cluster"
	"github.com/k8s-debug-lab/lab/lab/kube"
	"github.com/k8s-debug-lab/lab/lab/state"
	"github.com/k8s-debug-lab/lab/lab/traffic"
)

// labStreams are the long-lived requests lab traffic and lab solve make:
// exec, followed logs and port-forwards. Tests replace newLabStreams.
type labStreams interface {
	Exec(ctx context.Context, o kube.ExecOptions) error
	Logs(ctx context.Context, namespace, pod, container string, follow bool) (io.ReadCloser, error)
	Forward(ctx context.Context, namespace, pod string, port int) (traffic.Forwarder, error)
}

type kubeStreams struct{ *kube.Streamer }

func (k kubeStreams) Forward(ctx context.Context, namespace, pod string, port int) (traffic.Forwarder, error) {
	f, err := k.PortForward(ctx, namespace, pod, port)
	if err != nil {
		return nil, err // not a nil *kube.Forward inside an interface
	}
	return f, nil
}

// newLabStreams builds the streaming client for a target.
var newLabStreams = func(t *kube.Target) (labStreams, error) {
	s, err := kube.NewStreamer(t)
	if err != nil {
		return nil, err
	}
	return kubeStreams{s}, nil
}

// labConn is a connection to the cluster of a lab that is up.
type labConn struct {
	target  *kube.Target
	client  kubernetes.Interface
	streams labStreams
	pod     kube.PodFacts
	// statePath is the lab's state file (nonce, traffic runs), and state
	// what it held, saved again before any request is sent.
	statePath string
	state     *state.Lab
}

// openLab is how lab traffic and lab solve reach the lab: client-go's
// logging routed as -v asks, the kubeconfig flags resolved as kubectl
// resolves them, the safety rule (both create pods, so a context that is
// not local needs --context and --yes), one line saying where lab works, a
// connection, the lab's pod, which must be Ready, and the lab's state.
func openLab(ctx context.Context, g *globals, errOut io.Writer, kf *kubeconfigFlags, yes bool, log *progress) (*labConn, error) {
	routeKlog(g, errOut)
	t, err := kf.resolve()
	switch {
	case errors.Is(err, kube.ErrNoContext):
		return nil, &ExitError{Code: ExitCluster, Err: fmt.Errorf("%w (kubeconfig files read: %v): lab up creates the lab's cluster", err, kubeconfigFiles(kf))}
	case err != nil:
		return nil, usageErrorf("%v", err)
	}
	if err := cluster.CheckSafe(t, yes); err != nil {
		return nil, &ExitError{Code: ExitUsage, Err: err}
	}
	log.Infof("context %s, server %s, namespace %s", t.Context, t.Server, t.Namespace)
	c, err := newKubeClient(t)
	if err != nil {
		return nil, err
	}
	log.Status("connecting to " + t.Server)
	if _, err := kube.Ping(ctx, c, t.Server, t.Namespace); err != nil {
		if ctx.Err() != nil {
			return nil, ctx.Err()
		}
		return nil, &ExitError{Code: ExitCluster, Err: fmt.Errorf("%w; is the lab's cluster running? lab status says more", err)}
	}
	pod, err := kube.LabPod(ctx, c, t.Namespace)
	switch {
	case errors.Is(err, kube.ErrNotDeployed):
		return nil, &ExitError{Code: ExitFailed, Err: fmt.Errorf("the lab is not deployed in namespace %s (context %s): run lab up%s", t.Namespace, t.Context, nsFlag(t.Namespace))}
	case err != nil:
		return nil, &ExitError{Code: ExitCluster, Err: err}
	case !pod.Ready:
		state := pod.Phase
		if pod.Reason != "" {
			state += ", " + pod.Reason
		}
		return nil, &ExitError{Code: ExitFailed, Err: fmt.Errorf("pod %s/%s is %s, not Ready: lab up%s says why and repairs what it can", pod.Namespace, pod.Name, state, nsFlag(t.Namespace))}
	}
	st, err := newLabStreams(t)
	if err != nil {
		return nil, err
	}
	path, err := state.Path(t.Context, t.Namespace)
	if err != nil {
		return nil, err
	}
	l := &labConn{target: t, client: c, streams: st, pod: pod, statePath: path}
	if l.state, err = l.rememberState(); err != nil {
		return nil, err
	}
	return l, nil
}

// nsFlag is " -n NS" for a namespace other than the default, to append to
// a suggested lab command.
func nsFlag(ns string) string {
	if ns == kube.DefaultNamespace || ns == "" {
		return ""
	}
	return " -n " + ns
}

// rememberState reads the lab's state (a new nonce the first time) and
// saves it at once: a run cut short by Ctrl-C has still sent requests
// carrying this nonce, and the live checks must find it. A damaged file is
// the user's to remove (exit 2, the message says so).
func (l *labConn) rememberState() (*state.Lab, error) {
	s, err := state.Load(l.statePath, l.target.Context, l.target.Namespace)
	if err != nil {
		return nil, usageErrorf("%v", err)
	}
	if err := s.Save(l.statePath); err != nil {
		return nil, err
	}
	return s, nil
}

// trafficCluster is lab/traffic's view of the lab.
func (l *labConn) trafficCluster(log *progress) traffic.Cluster {
	ns := l.target.Namespace
	return traffic.Cluster{
		Client:    l.client,
		Namespace: ns,
		Forward: func(ctx context.Context) (traffic.Forwarder, error) {
			return l.streams.Forward(ctx, ns, kube.PodName, 80)
		},
		Logs:   l.streams.Logs,
		Status: log.Status,
	}
}

// routeKlog keeps client-go's own log lines (a lost port-forward stream,
// retried requests) out of lab's output, except at -vv.
func routeKlog(g *globals, errOut io.Writer) {
	if g.verbosity >= 2 {
		kube.RouteKlog(errOut)
		return
	}
	kube.RouteKlog(nil)
}
