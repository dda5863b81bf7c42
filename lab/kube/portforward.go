package kube

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"sync"
	"time"

	"k8s.io/apimachinery/pkg/util/httpstream"
	"k8s.io/client-go/tools/portforward"
	"k8s.io/client-go/transport/spdy"
)

// Forward is a port-forward from a random port on 127.0.0.1 to a pod's
// port, as `kubectl port-forward pod/NAME :80` makes. When the stream to
// the pod is lost (the API server restarted, a laptop slept, the kubelet
// closed it) the next Base re-establishes it, on a new local port: callers
// ask Base before every request rather than keeping the address.
type Forward struct {
	dial   func() (httpstream.Dialer, error)
	remote int

	mu         sync.Mutex
	cur        *forwardSession
	closed     bool
	reconnects int
	lastErr    error
}

type forwardSession struct {
	base string
	stop chan struct{}
	done chan struct{} // closed when ForwardPorts returned
	err  error
}

func (s *forwardSession) lost() bool {
	select {
	case <-s.done:
		return true
	default:
		return false
	}
}

// PortForward starts a port-forward to port of the pod and waits until it
// listens. Close stops it.
func (s *Streamer) PortForward(ctx context.Context, namespace, pod string, port int) (*Forward, error) {
	u := s.client.CoreV1().RESTClient().Post().
		Namespace(namespace).Resource("pods").Name(pod).SubResource("portforward").URL()
	dial := func() (httpstream.Dialer, error) {
		// kubectl's choice: SPDY tunnelled over a websocket first, plain
		// SPDY when the API server cannot upgrade to a websocket (before
		// Kubernetes 1.31, or through a proxy that drops websockets).
		transport, upgrader, err := spdy.RoundTripperFor(s.cfg)
		if err != nil {
			return nil, err
		}
		plain := spdy.NewDialer(upgrader, &http.Client{Transport: transport}, http.MethodPost, u)
		tunnel, err := portforward.NewSPDYOverWebsocketDialer(u, s.cfg)
		if err != nil {
			return nil, err
		}
		return portforward.NewFallbackDialer(tunnel, plain, func(err error) bool {
			return httpstream.IsUpgradeFailure(err) || httpstream.IsHTTPSProxyError(err)
		}), nil
	}
	f, err := newForward(ctx, dial, port)
	if err != nil {
		return nil, fmt.Errorf("port-forward to %s/%s port %d: %w", namespace, pod, port, err)
	}
	return f, nil
}

func newForward(ctx context.Context, dial func() (httpstream.Dialer, error), port int) (*Forward, error) {
	f := &Forward{dial: dial, remote: port}
	if _, err := f.Base(ctx); err != nil {
		return nil, err
	}
	f.reconnects = 0
	return f, nil
}

// ErrForwardClosed is Base after Close.
var ErrForwardClosed = errors.New("the port-forward was closed")

// forwardDialTimeout bounds establishing one forward: the dialers take no
// context, and a server that never answers must not hang lab.
var forwardDialTimeout = CallTimeout

// Base returns the forward's address, http://127.0.0.1:PORT, first
// re-establishing the forward if its stream was lost.
func (f *Forward) Base(ctx context.Context) (string, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.closed {
		return "", ErrForwardClosed
	}
	if f.cur != nil {
		if !f.cur.lost() {
			return f.cur.base, nil
		}
		f.lastErr = f.cur.err
		f.cur = nil
		f.reconnects++
	}
	s, err := f.open(ctx)
	if err != nil {
		return "", err
	}
	f.cur = s
	return s.base, nil
}

// Reconnects counts how often the forward was re-established after its
// stream was lost.
func (f *Forward) Reconnects() int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.reconnects
}

// LastLoss is why the forward was last lost, nil if never.
func (f *Forward) LastLoss() error {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.lastErr
}

func (f *Forward) open(ctx context.Context) (*forwardSession, error) {
	dialer, err := f.dial()
	if err != nil {
		return nil, err
	}
	s := &forwardSession{stop: make(chan struct{}), done: make(chan struct{})}
	ready := make(chan struct{})
	// 127.0.0.1 only, never "localhost": kubectl's localhost also binds ::1,
	// and lab's servers listen on loopback IPv4 alone.
	pf, err := portforward.NewOnAddresses(dialer, []string{"127.0.0.1"}, []string{"0:" + strconv.Itoa(f.remote)}, s.stop, ready, io.Discard, io.Discard)
	if err != nil {
		return nil, err
	}
	go func() {
		s.err = pf.ForwardPorts()
		if s.err == nil {
			s.err = ErrForwardClosed
		}
		close(s.done)
	}()
	timeout := time.NewTimer(forwardDialTimeout)
	defer timeout.Stop()
	select {
	case <-ready:
		ports, err := pf.GetPorts()
		if err != nil || len(ports) == 0 {
			close(s.stop)
			return nil, fmt.Errorf("the port-forward listens on no port: %v", err)
		}
		s.base = "http://127.0.0.1:" + strconv.Itoa(int(ports[0].Local))
		return s, nil
	case <-s.done:
		return nil, s.err
	case <-ctx.Done():
		close(s.stop)
		return nil, ctx.Err()
	case <-timeout.C:
		close(s.stop)
		return nil, fmt.Errorf("no answer within %s", forwardDialTimeout)
	}
}

// Close stops the forward and waits (briefly) for its listener to close.
func (f *Forward) Close() {
	f.mu.Lock()
	s := f.cur
	f.cur, f.closed = nil, true
	f.mu.Unlock()
	if s == nil {
		return
	}
	close(s.stop)
	select {
	case <-s.done:
	case <-time.After(2 * time.Second):
	}
}
