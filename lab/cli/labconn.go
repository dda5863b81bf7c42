package cli

import (
	"context"
	"io"

	"k8s.io/client-go/kubernetes"

	"github.com/k8s-debug-lab/lab/lab/kube"
	"github.com/k8s-debug-lab/lab/lab/labfolder"
	"github.com/k8s-debug-lab/lab/lab/state"
	"github.com/k8s-debug-lab/lab/lab/traffic"
)

// labConn is a connection to the cluster of a lab that is up.
type labConn struct {
	target  *kube.Target
	client  kubernetes.Interface
	streams LabStreams
	pod     kube.PodFacts
	// statePath is the lab's state file (nonce, traffic runs), and state
	// what it held, saved again before any request is sent.
	statePath string
	state     *state.Lab
	// lab is the lab folder: its workload and tools.
	lab *labfolder.Lab
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
	ns, w := l.target.Namespace, l.lab.Spec.Workload
	return traffic.Cluster{
		Client:    l.client,
		Namespace: ns,
		Pod:       w.Pod,
		Service:   w.Pod,
		Port:      w.Port,
		Image:     l.lab.Spec.Images.TrafficClient,
		Forward: func(ctx context.Context) (traffic.Forwarder, error) {
			return l.streams.Forward(ctx, ns, w.Pod, w.Port)
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
