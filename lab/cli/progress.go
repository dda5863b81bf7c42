package cli

import (
	"fmt"
	"io"
	"strings"
	"sync"
	"time"
)

// progress writes what a cluster command is doing to stderr. On a
// terminal the current status is one spinner line that redraws in place
// (with the time spent on it); elsewhere (CI logs, a pipe) there is no
// spinner and no control code, and each new status is a plain line with
// -v. Warnings, info lines and -v detail are printed above the spinner.
type progress struct {
	w         io.Writer
	tty       bool
	verbosity int

	mu      sync.Mutex
	msg     string
	since   time.Time
	drawn   bool
	stop    chan struct{}
	stopped chan struct{}
}

// spinnerFrames turn once per second at 10 frames a second.
var spinnerFrames = []string{"⠋", "⠙", "⠹", "⠸", "⠼", "⠴", "⠦", "⠧", "⠇", "⠏"}

func newProgress(w io.Writer, tty bool, verbosity int) *progress {
	return &progress{w: w, tty: tty, verbosity: verbosity}
}

// Status replaces the current status line.
func (p *progress) Status(msg string) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if msg == p.msg {
		return
	}
	p.msg, p.since = msg, time.Now()
	if !p.tty {
		// Without a terminal there is no line to redraw: statuses are
		// printed as plain lines, and only with -v, so that CI logs and
		// pipes get the outcome rather than every step.
		if p.verbosity > 0 {
			fmt.Fprintf(p.w, "lab: %s\n", msg)
		}
		return
	}
	if p.stop == nil {
		p.stop, p.stopped = make(chan struct{}), make(chan struct{})
		go p.spin(p.stop, p.stopped)
	}
	p.drawLocked(0)
}

func (p *progress) spin(stop, stopped chan struct{}) {
	defer close(stopped)
	t := time.NewTicker(100 * time.Millisecond)
	defer t.Stop()
	for frame := 1; ; frame++ {
		select {
		case <-stop:
			return
		case <-t.C:
			p.mu.Lock()
			p.drawLocked(frame)
			p.mu.Unlock()
		}
	}
}

func (p *progress) drawLocked(frame int) {
	if !p.tty || p.msg == "" {
		return
	}
	elapsed := ""
	if d := time.Since(p.since); d >= time.Second {
		elapsed = " " + d.Truncate(time.Second).String()
	}
	fmt.Fprintf(p.w, "\r\x1b[K%s %s%s", spinnerFrames[frame%len(spinnerFrames)], p.msg, elapsed)
	p.drawn = true
}

func (p *progress) clearLocked() {
	if p.tty && p.drawn {
		fmt.Fprint(p.w, "\r\x1b[K")
		p.drawn = false
	}
}

// Println prints a line above the spinner (or just a line).
func (p *progress) Println(line string) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.clearLocked()
	fmt.Fprintln(p.w, line)
	p.drawLocked(0)
}

// Infof prints a line for the user, always.
func (p *progress) Infof(format string, args ...any) {
	p.Println("lab: " + fmt.Sprintf(format, args...))
}

// Warnf prints a warning, always.
func (p *progress) Warnf(format string, args ...any) {
	p.Println("lab: warning: " + fmt.Sprintf(format, args...))
}

// Debugf prints detail with -v.
func (p *progress) Debugf(format string, args ...any) {
	if p.verbosity < 1 {
		return
	}
	msg := fmt.Sprintf(format, args...)
	p.Println("lab: " + strings.TrimRight(msg, "\n"))
}

// Done stops the spinner and clears its line.
func (p *progress) Done() {
	p.mu.Lock()
	stop, stopped := p.stop, p.stopped
	p.stop = nil
	p.mu.Unlock()
	if stop != nil {
		close(stop)
		<-stopped
	}
	p.mu.Lock()
	p.clearLocked()
	p.msg = ""
	p.mu.Unlock()
}
