package kube

import (
	"context"
	"errors"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/util/httpstream"
	"k8s.io/client-go/tools/portforward"
)

// fakeDialer stands in for the API server's port-forward: every data
// stream is a TCP connection to target (an httptest server playing nginx).
type fakeDialer struct {
	target string
	mu     sync.Mutex
	conns  []*fakeConn
	fail   error
}

func (d *fakeDialer) dial() (httpstream.Dialer, error) { return d, nil }

func (d *fakeDialer) Dial(protocols ...string) (httpstream.Connection, string, error) {
	d.mu.Lock()
	defer d.mu.Unlock()
	if d.fail != nil {
		return nil, "", d.fail
	}
	c := &fakeConn{target: d.target, closed: make(chan bool)}
	d.conns = append(d.conns, c)
	return c, portforward.PortForwardProtocolV1Name, nil
}

func (d *fakeDialer) last() *fakeConn {
	d.mu.Lock()
	defer d.mu.Unlock()
	return d.conns[len(d.conns)-1]
}

type fakeConn struct {
	target string
	closed chan bool
	once   sync.Once
	mu     sync.Mutex
	data   []net.Conn
}

func (c *fakeConn) CreateStream(h http.Header) (httpstream.Stream, error) {
	select {
	case <-c.closed:
		return nil, errors.New("connection closed")
	default:
	}
	if h.Get(corev1.StreamType) == corev1.StreamTypeError {
		return errStream{h: h}, nil
	}
	nc, err := net.Dial("tcp", c.target)
	if err != nil {
		return nil, err
	}
	c.mu.Lock()
	c.data = append(c.data, nc)
	c.mu.Unlock()
	return &dataStream{Conn: nc, h: h}, nil
}

// Close is the stream to the pod being lost.
func (c *fakeConn) Close() error {
	c.once.Do(func() {
		close(c.closed)
		c.mu.Lock()
		for _, d := range c.data {
			d.Close()
		}
		c.mu.Unlock()
	})
	return nil
}

func (c *fakeConn) CloseChan() <-chan bool             { return c.closed }
func (c *fakeConn) SetIdleTimeout(time.Duration)       {}
func (c *fakeConn) RemoveStreams(...httpstream.Stream) {}

func (d *fakeDialer) count() int {
	d.mu.Lock()
	defer d.mu.Unlock()
	return len(d.conns)
}

// errStream is the port's error stream: the fake pod never reports one.
type errStream struct{ h http.Header }

func (errStream) Read([]byte) (int, error)    { return 0, io.EOF }
func (errStream) Write(p []byte) (int, error) { return len(p), nil }
func (errStream) Close() error                { return nil }
func (errStream) Reset() error                { return nil }
func (s errStream) Headers() http.Header      { return s.h }
func (errStream) Identifier() uint32          { return 1 }

// dataStream carries the bytes; Close is a half-close, as SPDY's is.
type dataStream struct {
	net.Conn
	h http.Header
}

func (s *dataStream) Headers() http.Header { return s.h }
func (s *dataStream) Identifier() uint32   { return 2 }
func (s *dataStream) Reset() error         { return s.Conn.Close() }
func (s *dataStream) Close() error         { return s.Conn.(*net.TCPConn).CloseWrite() }

func httpGet(base string) (string, error) {
	client := &http.Client{Transport: &http.Transport{DisableKeepAlives: true}, Timeout: 5 * time.Second}
	resp, err := client.Get(base + "/?lab=n")
	if err != nil {
		return "", err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	return string(b), err
}

func nginx(t *testing.T) *httptest.Server {
	t.Helper()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		io.WriteString(w, "welcome to nginx "+r.URL.RawQuery)
	}))
	t.Cleanup(srv.Close)
	return srv
}

func waitNewBase(t *testing.T, f *Forward, old string) string {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for time.Now().Before(deadline) {
		b, err := f.Base(context.Background())
		if err == nil && b != old {
			return b
		}
		time.Sleep(5 * time.Millisecond)
	}
	t.Fatalf("the forward was not re-established after its stream was lost (still %s)", old)
	return ""
}

func TestForwardReconnectsOnANewPort(t *testing.T) {
	srv := nginx(t)
	d := &fakeDialer{target: strings.TrimPrefix(srv.URL, "http://")}
	f, err := newForward(context.Background(), d.dial, 80)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	base, _ := f.Base(context.Background())
	if !strings.HasPrefix(base, "http://127.0.0.1:") {
		t.Fatalf("base %q is not on 127.0.0.1", base)
	}
	if body, err := httpGet(base); err != nil || body != "welcome to nginx lab=n" {
		t.Fatalf("through the forward: %q, %v", body, err)
	}
	if again, _ := f.Base(context.Background()); again != base || d.count() != 1 {
		t.Errorf("a live forward was re-dialled: %s, %d dials", again, d.count())
	}

	d.last().Close() // the API server dropped the stream
	base2 := waitNewBase(t, f, base)
	if body, err := httpGet(base2); err != nil || body != "welcome to nginx lab=n" {
		t.Fatalf("through the re-established forward: %q, %v", body, err)
	}
	if f.Reconnects() != 1 || !errors.Is(f.LastLoss(), portforward.ErrLostConnectionToPod) {
		t.Errorf("reconnects %d, last loss %v", f.Reconnects(), f.LastLoss())
	}
	if _, err := httpGet(base); err == nil {
		t.Errorf("the lost forward's port %s still answers", base)
	}

	f.Close()
	if _, err := f.Base(context.Background()); !errors.Is(err, ErrForwardClosed) {
		t.Errorf("Base after Close: %v", err)
	}
	if _, err := httpGet(base2); err == nil {
		t.Errorf("a closed forward's port %s still answers", base2)
	}
}

func TestForwardDialFailure(t *testing.T) {
	d := &fakeDialer{fail: &httpstream.UpgradeFailureError{Cause: errors.New("403 Forbidden")}}
	_, err := newForward(context.Background(), d.dial, 80)
	if err == nil || !strings.Contains(err.Error(), "403 Forbidden") {
		t.Errorf("newForward with a refusing server: %v", err)
	}
}
