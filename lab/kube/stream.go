package kube

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/url"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/util/httpstream"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/kubernetes/scheme"
	"k8s.io/client-go/rest"
	"k8s.io/client-go/tools/remotecommand"
	utilexec "k8s.io/client-go/util/exec"
	"k8s.io/klog/v2"
)

// Streamer runs the long-lived requests kubectl exec, logs -f and
// port-forward make. Its client has no per-request timeout: Target.REST
// carries CallTimeout, which would cut a stream after 15 s, so streams are
// bounded by their context instead.
type Streamer struct {
	cfg    *rest.Config
	client kubernetes.Interface
}

// NewStreamer builds a Streamer for the target. It does not connect.
func NewStreamer(t *Target) (*Streamer, error) {
	cfg := rest.CopyConfig(t.REST)
	cfg.Timeout = 0
	c, err := kubernetes.NewForConfig(cfg)
	if err != nil {
		return nil, fmt.Errorf("building a streaming client for context %s: %w", t.Context, err)
	}
	return &Streamer{cfg: cfg, client: c}, nil
}

// ExecOptions say what to run where.
type ExecOptions struct {
	Namespace, Pod, Container string
	// Command is the argv; no shell unless it names one.
	Command []string
	// Stdout and Stderr receive the command's output as it comes; nil
	// discards it.
	Stdout, Stderr io.Writer
}

// Exec runs a command in a container without a terminal or stdin, as
// `kubectl exec` does: over a websocket, falling back to SPDY when the API
// server cannot upgrade to it (before Kubernetes 1.30, or through a proxy
// that drops websockets). The command's own failure is an *ExitCodeError.
// Cancelling ctx closes the stream; the command itself runs on until it
// ends, so long commands must carry their own timeout.
func (s *Streamer) Exec(ctx context.Context, o ExecOptions) error {
	req := s.client.CoreV1().RESTClient().Post().
		Namespace(o.Namespace).Resource("pods").Name(o.Pod).SubResource("exec").
		VersionedParams(&corev1.PodExecOptions{
			Container: o.Container,
			Command:   o.Command,
			Stdout:    true,
			Stderr:    true,
		}, scheme.ParameterCodec)
	exec, err := newExecutor(s.cfg, req.URL())
	if err != nil {
		return fmt.Errorf("exec in %s/%s -c %s: %w", o.Namespace, o.Pod, o.Container, err)
	}
	stdout, stderr := o.Stdout, o.Stderr
	if stdout == nil {
		stdout = io.Discard
	}
	if stderr == nil {
		stderr = io.Discard
	}
	err = exec.StreamWithContext(ctx, remotecommand.StreamOptions{Stdout: stdout, Stderr: stderr})
	var code utilexec.ExitError
	if errors.As(err, &code) {
		return &ExitCodeError{Command: o.Command, Code: code.ExitStatus()}
	}
	if err != nil {
		return fmt.Errorf("exec in %s/%s -c %s: %w", o.Namespace, o.Pod, o.Container, err)
	}
	return nil
}

// ExitCodeError is a command that ran in a container and failed.
type ExitCodeError struct {
	Command []string
	Code    int
}

func (e *ExitCodeError) Error() string {
	return fmt.Sprintf("%s exited with status %d", e.Command[0], e.Code)
}

// newExecutor is kubectl exec's transport choice: websocket (GET, RFC 6455)
// first, SPDY (POST) when the upgrade fails.
func newExecutor(cfg *rest.Config, u *url.URL) (remotecommand.Executor, error) {
	spdy, err := remotecommand.NewSPDYExecutor(cfg, "POST", u)
	if err != nil {
		return nil, err
	}
	ws, err := remotecommand.NewWebSocketExecutor(cfg, "GET", u.String())
	if err != nil {
		return nil, err
	}
	return remotecommand.NewFallbackExecutor(ws, spdy, func(err error) bool {
		return httpstream.IsUpgradeFailure(err) || httpstream.IsHTTPSProxyError(err)
	})
}

// Logs streams a container's log; with follow it ends when the container
// does (or ctx is cancelled).
func (s *Streamer) Logs(ctx context.Context, namespace, pod, container string, follow bool) (io.ReadCloser, error) {
	return s.client.CoreV1().Pods(namespace).GetLogs(pod, &corev1.PodLogOptions{Container: container, Follow: follow}).Stream(ctx)
}

// RouteKlog sends client-go's own log lines (klog's "Unhandled Error",
// "lost connection to pod", …) to w, or nowhere when w is nil. lab reports
// what matters itself; those lines would break its progress line.
func RouteKlog(w io.Writer) {
	if w == nil {
		w = io.Discard
	}
	klog.LogToStderr(false)
	klog.SetOutput(w)
}
