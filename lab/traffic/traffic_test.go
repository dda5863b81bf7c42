package traffic

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

func TestHTTP(t *testing.T) {
	var mu sync.Mutex
	var paths, agents []string
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		paths = append(paths, r.URL.RequestURI())
		agents = append(agents, r.UserAgent())
		n := len(paths)
		mu.Unlock()
		if n == 3 {
			http.Error(w, "no", http.StatusServiceUnavailable)
			return
		}
		w.Write([]byte("<html>welcome to nginx</html>"))
	}))
	defer srv.Close()
	var done []int
	o := Options{Count: 5, Rate: 200, Nonce: "k3x9abcdef", UserAgent: "lab-traffic/v1.2.3", Timeout: time.Second}
	s := HTTP(context.Background(), srv.Client(), func(context.Context) (string, error) { return srv.URL, nil }, o, func(d, total int) {
		done = append(done, d)
		if total != 5 {
			t.Errorf("total %d", total)
		}
	})
	if s.Sent != 5 || s.OK != 4 || s.Failed != 1 || s.Errors["HTTP 503"] != 1 || s.P50 <= 0 || s.P99 < s.P50 {
		t.Errorf("summary %+v", s)
	}
	if diff := cmp.Diff([]int{1, 2, 3, 4, 5}, done); diff != "" {
		t.Errorf("progress (-want +got):\n%s", diff)
	}
	for i := range paths {
		if paths[i] != "/?lab=k3x9abcdef" || agents[i] != "lab-traffic/v1.2.3" {
			t.Errorf("request %d: %s with %q", i, paths[i], agents[i])
		}
	}
}

func TestHTTPFollowsBaseAndStopsOnCancel(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {}))
	defer srv.Close()
	ctx, cancel := context.WithCancel(context.Background())
	calls := 0
	base := func(context.Context) (string, error) {
		calls++
		if calls == 2 {
			return "", errors.New("lost connection to pod")
		}
		if calls == 3 {
			cancel()
		}
		return srv.URL, nil
	}
	s := HTTP(ctx, srv.Client(), base, Options{Count: 10, Nonce: "n"}, nil)
	if s.Sent != 3 || s.Errors["port-forward: lost connection to pod"] != 1 {
		t.Errorf("summary %+v, want 3 sent with one port-forward error", s)
	}
}

func TestSummarize(t *testing.T) {
	var rs []Result
	for i := 1; i <= 100; i++ {
		rs = append(rs, Result{Status: 200, Latency: time.Duration(i) * time.Millisecond})
	}
	rs = append(rs, Result{Err: "connection refused"})
	s := Summarize(Pod, rs)
	want := Summary{Via: Pod, Sent: 101, OK: 100, Failed: 1, P50: 50 * time.Millisecond, P99: 99 * time.Millisecond, Errors: map[string]int{"connection refused": 1}}
	if diff := cmp.Diff(want, s); diff != "" {
		t.Errorf("(-want +got):\n%s", diff)
	}
	if got := s.String(); got != "pod: sent 101, ok 100, failed 1, p50 50ms, p99 99ms; errors: connection refused ×1" {
		t.Errorf("String() = %q", got)
	}
	if empty := Summarize(Pod, nil); empty.Sent != 0 || empty.P99 != 0 {
		t.Errorf("empty: %+v", empty)
	}
}

func TestPodScriptAndLog(t *testing.T) {
	o := Options{Count: 3, Rate: 4, Nonce: "abc", UserAgent: "lab-traffic/dev", Timeout: 5 * time.Second}
	script := PodScript("http://nginx-distroless.default.svc.cluster.local/", o)
	for _, want := range []string{`-lt 3`, `-m 5`, `-A 'lab-traffic/dev'`, `'http://nginx-distroless.default.svc.cluster.local/?lab=abc'`, `sleep 0.250`, `echo done`} {
		if !strings.Contains(script, want) {
			t.Errorf("script lacks %q:\n%s", want, script)
		}
	}
	for _, want := range []string{`-w '%{http_code} %{time_total} %header{server}'`, `echo "${out:-000 0}"`} {
		if !strings.Contains(script, want) {
			t.Errorf("script lacks %q:\n%s", want, script)
		}
	}
	results, complete, err := ParsePodLog(strings.NewReader("200 0.001234\ncurl: (6) Could not resolve host\n000 0\n200 0.5\ndone\n"))
	if err != nil || !complete {
		t.Fatalf("complete %v, err %v", complete, err)
	}
	want := []Result{{Status: 200, Latency: 1234 * time.Microsecond}, {Err: "no answer from the Service"}, {Status: 200, Latency: 500 * time.Millisecond}}
	if diff := cmp.Diff(want, results); diff != "" {
		t.Errorf("(-want +got):\n%s", diff)
	}
	if _, complete, _ := ParsePodLog(strings.NewReader("200 0.1\n")); complete {
		t.Error("a log without done is not complete")
	}
}

// TestParsePodLogServer reads the client pod's loop as it ran (BusyBox sh,
// curl 7.88.1) against Debian 12's nginx 1.22.1, BusyBox 1.35's httpd
// (which sends no Server header) and a port nobody listens on.
func TestParsePodLogServer(t *testing.T) {
	tests := []struct {
		name, file string
		want       []Result
		server     string
	}{
		{"nginx", "podlog-nginx.txt", []Result{
			{Status: 200, Latency: 1025 * time.Microsecond, Server: "nginx/1.22.1"},
			{Status: 200, Latency: 5013 * time.Microsecond, Server: "nginx/1.22.1"},
			{Status: 200, Latency: 943 * time.Microsecond, Server: "nginx/1.22.1"},
		}, "nginx/1.22.1"},
		{"busybox httpd", "podlog-busybox-httpd.txt", []Result{
			{Status: 200, Latency: 2626 * time.Microsecond},
			{Status: 200, Latency: 4702 * time.Microsecond},
			{Status: 200, Latency: 3225 * time.Microsecond},
		}, ""},
		{"refused", "podlog-refused.txt", []Result{
			{Err: "no answer from the Service"}, {Err: "no answer from the Service"}, {Err: "no answer from the Service"},
		}, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f, err := os.Open(filepath.Join("testdata", tt.file))
			if err != nil {
				t.Fatal(err)
			}
			defer f.Close()
			got, complete, err := ParsePodLog(f)
			if err != nil || !complete {
				t.Fatalf("complete %v, err %v", complete, err)
			}
			if diff := cmp.Diff(tt.want, got, cmp.Comparer(func(a, b time.Duration) bool { return (a - b).Abs() < time.Microsecond })); diff != "" {
				t.Errorf("(-want +got):\n%s", diff)
			}
			if s := Summarize(Pod, got); s.Server != tt.server || s.Sent != 3 {
				t.Errorf("summary %+v, want server %q and 3 sent", s, tt.server)
			}
		})
	}
}

func TestCleanServer(t *testing.T) {
	tests := []struct{ in, want string }{
		{"nginx/1.22.1", "nginx/1.22.1"},
		{"  Apache/2.4.57  (Debian)\t", "Apache/2.4.57 (Debian)"},
		{"nginx/1.25.3\x1b[31m", "nginx/1.25.3 [31m"},
		{"%header{server}", ""}, // curl before 7.84 prints the variable it does not know
		{strings.Repeat("x", 300), strings.Repeat("x", maxServer)},
		{"", ""},
	}
	for _, tt := range tests {
		if got := CleanServer(tt.in); got != tt.want {
			t.Errorf("CleanServer(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
}

// TestHTTPServerHeader answers with the headers Debian 12's nginx 1.22.1
// sent to curl -D.
func TestHTTPServerHeader(t *testing.T) {
	raw, err := os.ReadFile(filepath.Join("testdata", "nginx-response-headers.txt"))
	if err != nil {
		t.Fatal(err)
	}
	resp, err := http.ReadResponse(bufio.NewReader(bytes.NewReader(raw)), nil)
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		for k, vs := range resp.Header {
			w.Header()[k] = vs
		}
		w.Write([]byte("hi\n"))
	}))
	defer srv.Close()
	s := HTTP(context.Background(), srv.Client(), func(context.Context) (string, error) { return srv.URL, nil }, Options{Count: 2, Nonce: "n"}, nil)
	if s.Server != "nginx/1.22.1" || s.OK != 2 {
		t.Errorf("summary %+v, want 2 answers from nginx/1.22.1", s)
	}
}

func TestValidateAndVia(t *testing.T) {
	for _, o := range []Options{{Count: 0, Nonce: "x"}, {Count: 1, Rate: -1, Nonce: "x"}, {Count: 1}} {
		if o.Validate() == nil {
			t.Errorf("%+v validated", o)
		}
	}
	if (Options{Count: 10, Rate: 5, Nonce: "x"}).Validate() != nil {
		t.Error("good options refused")
	}
	if _, err := ParseVia("ssh"); err == nil || err.Error() != "unknown via: ssh (want port-forward, pod or both)" {
		t.Errorf("ParseVia(ssh): %v", err)
	}
}
