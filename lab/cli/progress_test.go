package cli

import (
	"bytes"
	"strings"
	"sync"
	"testing"
	"time"
)

func TestProgressWithoutATerminal(t *testing.T) {
	for _, verbosity := range []int{0, 1} {
		var b bytes.Buffer
		p := newProgress(&b, false, verbosity)
		p.Status("waiting for pod nginx-distroless to be Ready (Pending)")
		p.Status("waiting for pod nginx-distroless to be Ready (Pending)")
		p.Infof("using %s", "kind cluster lab")
		p.Done()
		got := b.String()
		if strings.ContainsAny(got, "\r\x1b") {
			t.Errorf("-v=%d: control codes without a terminal: %q", verbosity, got)
		}
		if want := 1 + verbosity; strings.Count(got, "\n") != want {
			t.Errorf("-v=%d: %d lines, want %d (statuses only with -v, each once):\n%s", verbosity, strings.Count(got, "\n"), want, got)
		}
	}
}

func TestProgressOnATerminal(t *testing.T) {
	var b syncBuffer
	p := newProgress(&b, true, 0)
	p.Status("creating kind cluster lab")
	time.Sleep(250 * time.Millisecond)
	p.Warnf("inotify limits are low")
	p.Done()
	got := b.String()
	if !strings.Contains(got, "\r\x1b[K⠋ creating kind cluster lab") || strings.Count(got, "creating kind cluster lab") < 2 {
		t.Errorf("the spinner did not redraw its line: %q", got)
	}
	if !strings.Contains(got, "\r\x1b[Klab: warning: inotify limits are low\n") {
		t.Errorf("a warning is not printed on a cleared line: %q", got)
	}
	if !strings.HasSuffix(got, "\r\x1b[K") {
		t.Errorf("Done does not clear the spinner's line: %q", got)
	}
}

// syncBuffer is a buffer the spinner's goroutine and the test share.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}
