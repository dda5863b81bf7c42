// Package traffic sends the requests that the students' tcpdump, strace and
// log files must show. Every request carries the lab's nonce in its path
// (/?lab=<nonce>) and a lab-traffic/<version> User-Agent, so that the live
// checks can tell this lab's traffic from a capture made anywhere else.
//
// Requests travel two ways, as in the assignment: from the student's machine
// through a port-forward (HTTP here), and from a client pod inside the
// cluster that asks for the Service by its DNS name (a small shell loop
// around curl whose output this package reads back). Both end in the same
// Summary.
package traffic

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/k8s-debug-lab/lab/internal/choice"
	"github.com/k8s-debug-lab/lab/internal/i18n"
)

// Via says which way requests travel.
type Via string

// The ways lab traffic can send requests.
const (
	// PortForward: from this machine through a port-forward to the pod.
	PortForward Via = "port-forward"
	// Pod: from a client pod, to the Service's cluster DNS name.
	Pod Via = "pod"
	// Both: through the port-forward and from the pod, at the same time.
	Both Via = "both"
)

// Vias lists the choices, for help and errors.
var Vias = []Via{PortForward, Pod, Both}

// ParseVia turns a flag's value into a Via.
func ParseVia(s string) (Via, error) {
	return choice.Parse("via", s, Vias)
}

// Options shape a run.
type Options struct {
	// Count is how many requests to send.
	Count int
	// Rate is requests per second; 0 sends as fast as answers come.
	Rate float64
	// Nonce marks every request.
	Nonce string
	// UserAgent names lab and its version.
	UserAgent string
	// Timeout bounds one request.
	Timeout time.Duration
}

// Path is the request path every request uses.
func (o Options) Path() string { return "/?lab=" + url.QueryEscape(o.Nonce) }

// Validate checks the options a person typed.
func (o Options) Validate() error {
	switch {
	case o.Count < 1 || o.Count > 100000:
		return fmt.Errorf("--count %d: want 1 to 100000 requests", o.Count)
	case o.Rate < 0 || o.Rate > 1000:
		return fmt.Errorf("--rate %g: want 0 (as fast as nginx answers) to 1000 requests a second", o.Rate)
	case o.Nonce == "":
		return fmt.Errorf("no nonce: the lab's state has none")
	}
	return nil
}

// Result is one request's outcome.
type Result struct {
	Status  int
	Latency time.Duration
	Err     string
	// Server is the response's Server header ("nginx/1.22.1"), cleaned
	// by CleanServer; empty when there was no answer or no header.
	Server string
}

// OK reports whether nginx answered with a 2xx or 3xx status.
func (r Result) OK() bool { return r.Err == "" && r.Status >= 200 && r.Status < 400 }

// Summary is what a run achieved.
type Summary struct {
	Via Via `json:"via"`
	// Source is where the requests came from as nginx saw them: 127.0.0.1
	// through a port-forward, the client pod's IP from the pod.
	Source string         `json:"source,omitempty"`
	Sent   int            `json:"sent"`
	OK     int            `json:"ok"`
	Failed int            `json:"failed"`
	P50    time.Duration  `json:"p50"`
	P99    time.Duration  `json:"p99"`
	Errors map[string]int `json:"errors,omitempty"`
	// Server is the Server header the answers carried (the last one
	// seen): the version the lab's nginx names itself with, which the
	// students' captures must show too.
	Server string `json:"server,omitempty"`
}

// String is the summary line a person reads, in English.
func (s Summary) String() string { return s.In(i18n.For(i18n.English)) }

// In is the summary line in p's language.
func (s Summary) In(p *i18n.Printer) string {
	line := p.Sprintf("%s: sent %d, ok %d, failed %d, p50 %s, p99 %s", s.Via, s.Sent, s.OK, s.Failed, round(s.P50), round(s.P99))
	if len(s.Errors) > 0 {
		keys := make([]string, 0, len(s.Errors))
		for k := range s.Errors {
			keys = append(keys, k)
		}
		slices.Sort(keys)
		parts := make([]string, 0, len(keys))
		for _, k := range keys {
			parts = append(parts, fmt.Sprintf("%s ×%d", k, s.Errors[k]))
		}
		line += "; " + p.Sprintf("errors: %s", strings.Join(parts, ", "))
	}
	return line
}

func round(d time.Duration) time.Duration {
	switch {
	case d >= time.Second:
		return d.Round(10 * time.Millisecond)
	case d >= time.Millisecond:
		return d.Round(10 * time.Microsecond)
	}
	return d.Round(time.Microsecond)
}

// Summarize turns results into a Summary; latencies count only answered
// requests.
func Summarize(via Via, results []Result) Summary {
	s := Summary{Via: via, Sent: len(results)}
	var lat []time.Duration
	for _, r := range results {
		if r.OK() {
			s.OK++
		} else {
			s.Failed++
			if s.Errors == nil {
				s.Errors = map[string]int{}
			}
			key := r.Err
			if key == "" {
				key = "HTTP " + strconv.Itoa(r.Status)
			}
			s.Errors[key]++
		}
		if r.Err == "" {
			lat = append(lat, r.Latency)
		}
		if r.Server != "" {
			s.Server = r.Server
		}
	}
	if len(lat) > 0 {
		slices.Sort(lat)
		s.P50 = lat[(len(lat)-1)*50/100]
		s.P99 = lat[(len(lat)-1)*99/100]
	}
	return s
}

// Progress is called after each request with how many are done.
type Progress func(done, total int)

// Base returns where to send the next request (http://127.0.0.1:PORT); it
// is asked before every request so that a port-forward that was
// re-established on a new port is followed.
type Base func(ctx context.Context) (string, error)

// HTTP sends o.Count requests from this machine, paced at o.Rate.
func HTTP(ctx context.Context, client *http.Client, base Base, o Options, progress Progress) Summary {
	results := make([]Result, 0, o.Count)
	var tick *time.Ticker
	if o.Rate > 0 {
		tick = time.NewTicker(time.Duration(float64(time.Second) / o.Rate))
		defer tick.Stop()
	}
	for i := 0; i < o.Count; i++ {
		if i > 0 && tick != nil {
			select {
			case <-ctx.Done():
			case <-tick.C:
			}
		}
		if ctx.Err() != nil {
			break
		}
		results = append(results, one(ctx, client, base, o))
		if progress != nil {
			progress(i+1, o.Count)
		}
	}
	return Summarize(PortForward, results)
}

func one(ctx context.Context, client *http.Client, base Base, o Options) Result {
	b, err := base(ctx)
	if err != nil {
		return Result{Err: "port-forward: " + shortErr(err)}
	}
	rctx := ctx
	if o.Timeout > 0 {
		var cancel context.CancelFunc
		rctx, cancel = context.WithTimeout(ctx, o.Timeout)
		defer cancel()
	}
	req, err := http.NewRequestWithContext(rctx, http.MethodGet, strings.TrimSuffix(b, "/")+o.Path(), nil)
	if err != nil {
		return Result{Err: shortErr(err)}
	}
	req.Header.Set("User-Agent", o.UserAgent)
	start := time.Now()
	resp, err := client.Do(req)
	if err != nil {
		return Result{Err: shortErr(err), Latency: time.Since(start)}
	}
	_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, 1<<20))
	resp.Body.Close()
	return Result{Status: resp.StatusCode, Latency: time.Since(start), Server: CleanServer(resp.Header.Get("Server"))}
}

// shortErr keeps the last part of a wrapped network error, which is the
// part that differs between failures ("connection refused", "EOF").
func shortErr(err error) string {
	s := err.Error()
	if i := strings.LastIndex(s, ": "); i >= 0 {
		s = s[i+2:]
	}
	return s
}

// PodScript is the shell loop the client pod runs: one curl per request,
// each printing "<status> <seconds> <Server header>" on its own line, and
// "done" at the end so that lab knows the run completed. curl prints its
// -w line also for a request that got no answer ("000 0.000273 "); the
// echo stands in only where curl printed nothing at all, so that every
// request is one line.
func PodScript(target string, o Options) string {
	pause := "0"
	if o.Rate > 0 {
		pause = strconv.FormatFloat(1/o.Rate, 'f', 3, 64)
	}
	timeout := 10
	if o.Timeout > 0 {
		timeout = max(1, int(o.Timeout.Seconds()))
	}
	u := strings.TrimSuffix(target, "/") + o.Path()
	return fmt.Sprintf(`i=0; while [ "$i" -lt %d ]; do i=$((i+1)); `+
		`out=$(curl -s -o /dev/null -m %d -A %s -w '%%{http_code} %%{time_total} %%header{server}' %s); echo "${out:-000 0}"; `+
		`sleep %s; done; echo done`, o.Count, timeout, shellQuote(o.UserAgent), shellQuote(u), pause)
}

// maxServer bounds a Server header lab keeps: enough for any server's
// name and version, never a page of text a server chose to send.
const maxServer = 128

// CleanServer is a Server header as lab keeps it: printable ASCII only,
// spaces collapsed, at most maxServer bytes. A curl older than 7.84 does
// not know %header{server} and prints it as it is: that is no header.
func CleanServer(h string) string {
	if strings.HasPrefix(h, "%header{") {
		return ""
	}
	h = strings.Map(func(r rune) rune {
		if r < ' ' || r > '~' {
			return ' '
		}
		return r
	}, h)
	h = strings.Join(strings.Fields(h), " ")
	if len(h) > maxServer {
		h = h[:maxServer]
	}
	return h
}

func shellQuote(s string) string { return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'" }

// ParsePodLog reads the client pod's output back into results. complete
// reports whether the loop printed its final "done".
func ParsePodLog(r io.Reader) (results []Result, complete bool, err error) {
	sc := bufio.NewScanner(r)
	for sc.Scan() {
		line := strings.TrimSpace(sc.Text())
		if line == "done" {
			complete = true
			continue
		}
		f := strings.Fields(line)
		if len(f) < 2 {
			continue // curl's own messages, if any
		}
		code, err1 := strconv.Atoi(f[0])
		secs, err2 := strconv.ParseFloat(f[1], 64)
		if err1 != nil || err2 != nil || len(f[0]) != 3 {
			continue
		}
		res := Result{Status: code, Latency: time.Duration(secs * float64(time.Second)), Server: CleanServer(strings.Join(f[2:], " "))}
		if code == 0 {
			res = Result{Err: "no answer from the Service"}
		}
		results = append(results, res)
	}
	return results, complete, sc.Err()
}
