package cli

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/k8s-debug-lab/lab/lab/kube"
	"github.com/k8s-debug-lab/lab/lab/kube/kubetest"
	"github.com/k8s-debug-lab/lab/lab/state"
	"github.com/k8s-debug-lab/lab/lab/traffic"
)

// fakeStreams are the streaming requests of a fake cluster: the
// port-forward reaches an httptest server playing nginx, and the client
// pod's log says every request was answered.
type fakeStreams struct {
	nginx *httptest.Server
	mu    sync.Mutex
	uris  []string
	lc    *labCluster
	t     *testing.T
}

type fixedForward struct{ base string }

func (f fixedForward) Base(context.Context) (string, error) { return f.base, nil }
func (fixedForward) Reconnects() int                        { return 0 }
func (fixedForward) Close()                                 {}

func (s *fakeStreams) Forward(_ context.Context, ns, pod string, port int) (traffic.Forwarder, error) {
	if pod != labPod || port != 80 {
		return nil, errors.New("port-forward to the wrong pod")
	}
	return fixedForward{s.nginx.URL}, nil
}

func (s *fakeStreams) Logs(ctx context.Context, ns, pod, container string, follow bool) (io.ReadCloser, error) {
	p, err := s.lc.CoreV1().Pods(ns).Get(ctx, pod, metav1.GetOptions{})
	if err != nil {
		return nil, err
	}
	if !strings.Contains(p.Spec.Containers[0].Command[2], "svc.cluster.local/?lab=") {
		s.t.Errorf("the client pod requests no nonce: %s", p.Spec.Containers[0].Command[2])
	}
	// The client pod's lines as curl 7.88.1 printed them for Debian's nginx.
	return io.NopCloser(strings.NewReader(strings.Repeat("200 0.001025 nginx/1.22.1\n", 3) + "done\n")), nil
}

func (s *fakeStreams) Exec(context.Context, kube.ExecOptions) error {
	return errors.New("no exec in this test")
}

// trafficCluster is a fake cluster holding a Ready lab, with fake streams.
func trafficCluster(t *testing.T) (*labCluster, *fakeStreams) {
	lc := newLabCluster(t)
	saved := kube.PollInterval
	kube.PollInterval = time.Millisecond
	t.Cleanup(func() { kube.PollInterval = saved })
	pod := theLab("default")
	if _, err := lc.CoreV1().Pods("default").Create(context.Background(), pod, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	lc.Update(t, "pods", pod, "default")
	fs := &fakeStreams{lc: lc, t: t}
	fs.nginx = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		fs.mu.Lock()
		fs.uris = append(fs.uris, r.URL.RequestURI()+" "+r.UserAgent())
		fs.mu.Unlock()
		w.Header().Set("Server", "nginx/1.22.1")
		io.WriteString(w, "<h1>Welcome to nginx!</h1>")
	}))
	t.Cleanup(fs.nginx.Close)
	useDeps(t, func(d *Deps) { d.NewStreams = func(*kube.Target) (LabStreams, error) { return fs, nil } })
	t.Setenv("XDG_STATE_HOME", t.TempDir())
	return lc, fs
}

func TestTraffic(t *testing.T) {
	lc, fs := trafficCluster(t)
	r := lab(t, "traffic", "--count", "3", "--rate", "0", "-o", "json").must(t, ExitOK)
	var doc trafficReport
	if err := json.Unmarshal([]byte(r.out), &doc); err != nil {
		t.Fatalf("stdout is not one JSON document: %v\n%s", err, r.out)
	}
	path, _ := state.Path("local", "default")
	st, err := state.Load(path, "", "")
	if err != nil {
		t.Fatal(err)
	}
	if doc.Nonce != st.Nonce || doc.Path != "/?lab="+st.Nonce || doc.Kind != "Traffic" || doc.Service != "http://nginx-distroless.default.svc.cluster.local/" {
		t.Errorf("report %+v, state nonce %s", doc, st.Nonce)
	}
	var got []string
	for _, run := range doc.Runs {
		got = append(got, string(run.Via)+" "+run.Source+" "+run.Server)
		if run.Sent != 3 || run.OK != 3 || run.P50Ms <= 0 {
			t.Errorf("run %+v", run)
		}
	}
	if diff := cmp.Diff([]string{"port-forward 127.0.0.1 nginx/1.22.1", "pod " + kubetest.PodIP + " nginx/1.22.1"}, got); diff != "" {
		t.Errorf("runs (-want +got):\n%s", diff)
	}
	for _, u := range fs.uris {
		if u != "/?lab="+st.Nonce+" lab-traffic/dev" {
			t.Errorf("request %q", u)
		}
	}
	if diff := cmp.Diff([]string{"127.0.0.1", kubetest.PodIP}, st.Sources()); diff != "" {
		t.Errorf("state sources (-want +got):\n%s", diff)
	}
	if st.Server() != "nginx/1.22.1" {
		t.Errorf("state server %q, want nginx/1.22.1", st.Server())
	}
	pods, _ := lc.CoreV1().Pods("default").List(context.Background(), metav1.ListOptions{})
	if len(pods.Items) != 1 {
		t.Errorf("%d pods after lab traffic, want the lab's alone (the client pod deleted)", len(pods.Items))
	}

	// A second run keeps the nonce and adds its runs; text goes to stdout.
	r = lab(t, "traffic", "--count", "2", "--rate", "0", "--via", "port-forward").must(t, ExitOK)
	if !strings.HasPrefix(r.out, "port-forward: sent 2, ok 2, failed 0, p50 ") || !strings.Contains(r.out, "(from 127.0.0.1, answered by nginx/1.22.1)\nevery request: GET /?lab="+st.Nonce+", User-Agent lab-traffic/dev\n") {
		t.Errorf("stdout:\n%s", r.out)
	}
	again, _ := state.Load(path, "", "")
	if again.Nonce != st.Nonce || len(again.Traffic) != 3 {
		t.Errorf("state after two runs: nonce %s, %d runs", again.Nonce, len(again.Traffic))
	}
}

func TestTrafficRefusals(t *testing.T) {
	lc, _ := trafficCluster(t)
	lab(t, "traffic", "--via", "ssh").must(t, ExitUsage)
	lab(t, "traffic", "--count", "0").must(t, ExitUsage)
	lc.connections = 0
	r := lab(t, "traffic", "--context", "cloud").must(t, ExitUsage)
	if lc.connections != 0 || !strings.Contains(r.returnedError.Error(), "refusing to change context cloud") {
		t.Errorf("remote context: %d connections, %v", lc.connections, r.returnedError)
	}
	r = lab(t, "traffic", "-n", "elsewhere").must(t, ExitFailed)
	if !strings.Contains(r.returnedError.Error(), "the lab is not deployed in namespace elsewhere (context local): run lab up -n elsewhere") {
		t.Errorf("not deployed: %v", r.returnedError)
	}
	if _, err := os.Stat(filepath.Join(os.Getenv("XDG_STATE_HOME"), "lab", state.FileName("local", "elsewhere"))); err == nil {
		t.Error("a state file was written for a lab that is not there")
	}
}

func TestSolveRefusals(t *testing.T) {
	lc, _ := trafficCluster(t)
	lc.connections = 0
	dir := t.TempDir()
	os.WriteFile(filepath.Join(dir, "step-5.txt"), []byte("the student's own"), 0o644)
	r := lab(t, "solve", "all", "--answers", dir).must(t, ExitUsage)
	if !strings.Contains(r.returnedError.Error(), "never overwrites answers, and these exist: "+filepath.Join(dir, "step-5.txt")+"; add --force") || lc.connections != 0 {
		t.Errorf("existing answers: %v (%d connections)", r.returnedError, lc.connections)
	}
	if b, _ := os.ReadFile(filepath.Join(dir, "step-5.txt")); string(b) != "the student's own" {
		t.Error("the existing answer was changed")
	}
	lab(t, "solve", "step-4", "--answers", dir).must(t, ExitUsage)
	file := filepath.Join(dir, "step-5.txt")
	lab(t, "solve", "--answers", file).must(t, ExitUsage)
	r = lab(t, "solve", "step-1", "--answers", dir).must(t, ExitOK)
	if !strings.Contains(r.out, "✓ step-1") || !strings.Contains(r.out, "pod nginx-distroless shares its PID namespace") {
		t.Errorf("step-1:\n%s", r.out)
	}
}

// With -o json, stdout is the report and nothing else, failures included.
func TestSolveJSON(t *testing.T) {
	trafficCluster(t)
	dir := t.TempDir()
	lab(t, "solve", "-o", "yaml", "--answers", dir).must(t, ExitUsage)
	r := lab(t, "solve", "step-1", "--answers", dir, "-o", "json").must(t, ExitOK)
	var rep solveReport
	if err := json.Unmarshal([]byte(r.out), &rep); err != nil {
		t.Fatalf("stdout is not one JSON report: %v\n%s", err, r.out)
	}
	if rep.Kind != "SolveReport" || rep.Pod != "nginx-distroless" || rep.Passed != 1 || rep.Failed != 0 || len(rep.Steps) != 1 ||
		!rep.Steps[0].OK || !strings.Contains(strings.Join(rep.Steps[0].Did, "\n"), "shares its PID namespace") || rep.Error != "" {
		t.Errorf("report: %+v", rep)
	}
	// step-3 needs a debug container the fake cluster never starts.
	r = lab(t, "solve", "step-1", "step-3", "--answers", dir, "-o", "json").must(t, ExitFailed)
	rep = solveReport{}
	if err := json.Unmarshal([]byte(r.out), &rep); err != nil {
		t.Fatalf("stdout is not one JSON report: %v\n%s", err, r.out)
	}
	if rep.Passed != 1 || rep.Failed != 1 || rep.Steps[1].OK || rep.Steps[1].Error == "" {
		t.Errorf("report with a failed step: %+v", rep)
	}
}
