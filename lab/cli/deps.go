package cli

import (
	"context"
	"io"
	"net/http"
	"os"

	"golang.org/x/term"
	"k8s.io/client-go/kubernetes"

	"github.com/k8s-debug-lab/lab/lab/cluster"
	"github.com/k8s-debug-lab/lab/lab/doctor"
	"github.com/k8s-debug-lab/lab/lab/kube"
	"github.com/k8s-debug-lab/lab/lab/traffic"
)

// Deps are what lab's commands reach beyond the process through: the
// cluster's API and its streams, the container engines, the machine's
// probes, the terminal. Run passes the real ones; tests pass fakes to
// RunWith, so that no test swaps a package variable under another.
type Deps struct {
	// NewClient builds the client a command talks to the API through.
	NewClient func(*kube.Target) (kubernetes.Interface, error)
	// NewStreams builds the long-lived requests: exec, logs,
	// port-forwards.
	NewStreams func(*kube.Target) (LabStreams, error)
	// ProbeEngines asks the container engines whether they answer.
	ProbeEngines func(context.Context) []cluster.Engine
	// DoctorProbes are lab doctor's views of the machine; engines and the
	// cluster come from the command's own session.
	DoctorProbes func(engines func(context.Context) []cluster.Engine, clusterFacts func(context.Context) (*doctor.ClusterFacts, error)) doctor.Probes
	// StdinIsTerminal reports whether a question can be asked on in.
	StdinIsTerminal func(in io.Reader) bool
	// ImagePlatforms asks an image's registry which platforms it is
	// published for, so that lab up can say an image cannot run on the
	// node before it deploys.
	ImagePlatforms func(ctx context.Context, image string) ([]string, error)
}

// LabStreams are the long-lived requests lab traffic and lab solve make:
// exec, followed logs and port-forwards.
type LabStreams interface {
	Exec(ctx context.Context, o kube.ExecOptions) error
	Logs(ctx context.Context, namespace, pod, container string, follow bool) (io.ReadCloser, error)
	Forward(ctx context.Context, namespace, pod string, port int) (traffic.Forwarder, error)
}

// RealDeps are the machine's own.
func RealDeps() Deps {
	return Deps{
		NewClient:       func(t *kube.Target) (kubernetes.Interface, error) { return kube.NewClient(t) },
		NewStreams:      newKubeStreams,
		ProbeEngines:    cluster.ProbeEngines,
		DoctorProbes:    machineProbes,
		StdinIsTerminal: func(r io.Reader) bool { f, ok := r.(*os.File); return ok && term.IsTerminal(int(f.Fd())) },
		ImagePlatforms: func(ctx context.Context, image string) ([]string, error) {
			return doctor.ImagePlatforms(ctx, http.DefaultClient, image)
		},
	}
}

type kubeStreams struct{ *kube.Streamer }

func (k kubeStreams) Forward(ctx context.Context, namespace, pod string, port int) (traffic.Forwarder, error) {
	f, err := k.PortForward(ctx, namespace, pod, port)
	if err != nil {
		return nil, err // not a nil *kube.Forward inside an interface
	}
	return f, nil
}

func newKubeStreams(t *kube.Target) (LabStreams, error) {
	s, err := kube.NewStreamer(t)
	if err != nil {
		return nil, err
	}
	return kubeStreams{s}, nil
}
