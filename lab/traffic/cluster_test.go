package traffic

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/k8s-debug-lab/lab/lab/kube"
	"github.com/k8s-debug-lab/lab/lab/kube/kubetest"
)

// fakeForward is a port-forward straight to an httptest server.
type fakeForward struct {
	base   string
	closed int
}

func (f *fakeForward) Base(context.Context) (string, error) { return f.base, nil }
func (f *fakeForward) Reconnects() int                      { return 0 }
func (f *fakeForward) Close()                               { f.closed++ }

// nginxServer records the requests it answers.
type nginxServer struct {
	*httptest.Server
	mu      sync.Mutex
	uris    []string
	agents  []string
	answers int
}

func newNginxServer(t *testing.T) *nginxServer {
	n := &nginxServer{}
	n.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		n.mu.Lock()
		n.uris = append(n.uris, r.URL.RequestURI())
		n.agents = append(n.agents, r.UserAgent())
		n.mu.Unlock()
		io.WriteString(w, "<h1>Welcome to nginx!</h1>")
	}))
	t.Cleanup(n.Close)
	return n
}

func fastPolls(t *testing.T) {
	saved := kube.PollInterval
	kube.PollInterval = time.Millisecond
	t.Cleanup(func() { kube.PollInterval = saved })
}

// podLog plays the client pod: it checks the pod lab created and prints
// what curl would.
func podLog(t *testing.T, fc *kubetest.Cluster, o Options, lines string) func(ctx context.Context, ns, pod, container string, follow bool) (io.ReadCloser, error) {
	return func(ctx context.Context, ns, name, container string, follow bool) (io.ReadCloser, error) {
		p, err := fc.CoreV1().Pods(ns).Get(ctx, name, metav1.GetOptions{})
		if err != nil {
			return nil, err
		}
		script := strings.Join(p.Spec.Containers[0].Command, " ")
		for _, want := range []string{"http://nginx-distroless." + ns + ".svc.cluster.local/?lab=" + o.Nonce, "-A '" + o.UserAgent + "'", fmt.Sprintf("-lt %d", o.Count)} {
			if !strings.Contains(script, want) {
				t.Errorf("the client pod's script lacks %q:\n%s", want, script)
			}
		}
		if container != ClientContainer || !follow {
			t.Errorf("log of container %q, follow %v", container, follow)
		}
		return io.NopCloser(strings.NewReader(lines)), nil
	}
}

func clientPods(t *testing.T, fc *kubetest.Cluster, ns string) []string {
	t.Helper()
	l, err := fc.CoreV1().Pods(ns).List(context.Background(), metav1.ListOptions{})
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, p := range l.Items {
		if strings.HasPrefix(p.Name, ClientPrefix) {
			names = append(names, p.Name)
		}
	}
	return names
}

func TestSendBothWays(t *testing.T) {
	fastPolls(t)
	fc := kubetest.New(t)
	srv := newNginxServer(t)
	fwd := &fakeForward{base: srv.URL}
	o := Options{Count: 4, Rate: 0, Nonce: "k3x9abcdef", UserAgent: "lab-traffic/v1.2.3", Timeout: time.Second}
	var mu sync.Mutex
	progress := map[Via][]int{}
	c := Cluster{
		Client: fc, Namespace: "default", Pod: "nginx-distroless", Service: "nginx-distroless", Port: 80, Image: "curlimages/curl",
		Forward: func(context.Context) (Forwarder, error) { return fwd, nil },
		Logs:    podLog(t, fc, o, "200 0.002\n200 0.004\n000 0\n200 0.003\ndone\n"),
		Progress: func(v Via, done, total int) {
			mu.Lock()
			progress[v] = append(progress[v], done)
			mu.Unlock()
		},
	}
	res, err := Send(context.Background(), c, Both, o)
	if err != nil {
		t.Fatal(err)
	}
	want := []Summary{
		{Via: PortForward, Source: "127.0.0.1", Sent: 4, OK: 4},
		{Via: Pod, Source: kubetest.PodIP, Sent: 4, OK: 3, Failed: 1, P50: 3 * time.Millisecond, P99: 3 * time.Millisecond,
			Errors: map[string]int{"no answer from the Service": 1}},
	}
	if diff := cmp.Diff(want, res.Summaries, cmpopts.IgnoreFields(Summary{}, "P50", "P99")); diff != "" {
		t.Errorf("summaries (-want +got):\n%s", diff)
	}
	if s := res.Summaries[1]; s.P50 != 3*time.Millisecond || s.P99 != 3*time.Millisecond {
		t.Errorf("pod latencies p50 %s p99 %s", s.P50, s.P99)
	}
	if diff := cmp.Diff([]string{"127.0.0.1", kubetest.PodIP}, res.Sources()); diff != "" {
		t.Errorf("sources (-want +got):\n%s", diff)
	}
	for i, u := range srv.uris {
		if u != "/?lab=k3x9abcdef" || srv.agents[i] != "lab-traffic/v1.2.3" {
			t.Errorf("port-forward request %d: %s with %q", i, u, srv.agents[i])
		}
	}
	if diff := cmp.Diff(map[Via][]int{PortForward: {1, 2, 3, 4}, Pod: {1, 2, 3, 4}}, progress); diff != "" {
		t.Errorf("progress (-want +got):\n%s", diff)
	}
	if !strings.HasPrefix(res.ClientPod, ClientPrefix) || fwd.closed != 1 {
		t.Errorf("client pod %q, forward closed %d times", res.ClientPod, fwd.closed)
	}
	if left := clientPods(t, fc, "default"); len(left) != 0 {
		t.Errorf("client pods left behind: %v", left)
	}
}

// Ctrl-C while the client pod is sending: the pod is deleted all the same.
func TestSendCancelledDeletesTheClientPod(t *testing.T) {
	fastPolls(t)
	fc := kubetest.New(t)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	c := Cluster{
		Client: fc, Namespace: "default", Service: "nginx-distroless", Port: 80, Image: "curlimages/curl",
		Logs: func(ctx context.Context, ns, name, container string, follow bool) (io.ReadCloser, error) {
			pr, pw := io.Pipe()
			go func() {
				io.WriteString(pw, "200 0.001\n")
				<-ctx.Done() // the pod keeps sending until the stream is cut
				pw.CloseWithError(ctx.Err())
			}()
			return pr, nil
		},
		Progress: func(Via, int, int) { cancel() }, // Ctrl-C after the first answer
	}
	res, err := Send(ctx, c, Pod, Options{Count: 100, Nonce: "n", UserAgent: "ua"})
	if !errors.Is(err, context.Canceled) {
		t.Errorf("error %v, want the cancellation", err)
	}
	if len(res.Summaries) != 1 || res.Summaries[0].Sent != 1 {
		t.Errorf("summaries %+v, want the one answer", res.Summaries)
	}
	if left := clientPods(t, fc, "default"); len(left) != 0 {
		t.Errorf("client pods left behind after Ctrl-C: %v", left)
	}
}

// A client pod that cannot start is named with why, and deleted.
func TestSendClientPodStuck(t *testing.T) {
	fastPolls(t)
	fc := kubetest.New(t)
	fc.FailImage("registry.invalid/curl")
	c := Cluster{Client: fc, Namespace: "default", Image: "registry.invalid/curl",
		Logs: func(context.Context, string, string, string, bool) (io.ReadCloser, error) {
			t.Error("the log of a pod that never started was read")
			return nil, errors.New("no")
		}}
	res, err := Send(context.Background(), c, Pod, Options{Count: 1, Nonce: "n", UserAgent: "ua"})
	if err == nil || !strings.Contains(err.Error(), "did not start") || !strings.Contains(err.Error(), "ImagePullBackOff") {
		t.Errorf("error %v", err)
	}
	if len(res.Summaries) != 0 {
		t.Errorf("summaries %+v for a pod that sent nothing", res.Summaries)
	}
	if left := clientPods(t, fc, "default"); len(left) != 0 {
		t.Errorf("client pods left behind: %v", left)
	}
}

func TestSendPortForwardFails(t *testing.T) {
	c := Cluster{Forward: func(context.Context) (Forwarder, error) {
		return nil, errors.New("pods \"nginx-distroless\" is forbidden")
	}}
	res, err := Send(context.Background(), c, PortForward, Options{Count: 1, Nonce: "n"})
	if err == nil || err.Error() != `port-forward: pods "nginx-distroless" is forbidden` || len(res.Summaries) != 0 {
		t.Errorf("error %v, summaries %+v", err, res.Summaries)
	}
}

func TestClientPod(t *testing.T) {
	o := Options{Count: 2, Nonce: "abc", UserAgent: "lab-traffic/dev"}
	p := ClientPod("lab", "lab-traffic-x7k2p", "curlimages/curl", ServiceURL("nginx-distroless", "lab", 80), o)
	if !kube.IsManaged(p) || p.Spec.RestartPolicy != corev1.RestartPolicyNever || *p.Spec.AutomountServiceAccountToken {
		t.Errorf("pod %+v", p)
	}
	c := p.Spec.Containers[0]
	if c.Image != "curlimages/curl" || c.Command[0] != "sh" || !strings.Contains(c.Command[2], "'http://nginx-distroless.lab.svc.cluster.local/?lab=abc'") {
		t.Errorf("container %+v", c)
	}
	if got := ServiceURL("web", "lab", 8080); got != "http://web.lab.svc.cluster.local:8080/" {
		t.Errorf("ServiceURL on another port: %s", got)
	}
}

// A run tidies up the finished client pods an earlier run could not
// delete (its cluster stopped answering), and leaves running ones and
// pods that are not lab's alone.
func TestSendSweepsFinishedClientPods(t *testing.T) {
	fastPolls(t)
	fc := kubetest.New(t)
	o := Options{Count: 1, Nonce: "n", UserAgent: "ua"}
	pods := fc.CoreV1().Pods("default")
	for name, phase := range map[string]corev1.PodPhase{
		ClientPrefix + "done1": corev1.PodSucceeded,
		ClientPrefix + "fail1": corev1.PodFailed,
		ClientPrefix + "busy1": corev1.PodRunning,
	} {
		p := ClientPod("default", name, "curlimages/curl", "http://x", o)
		p.Status.Phase = phase
		if _, err := pods.Create(context.Background(), p, metav1.CreateOptions{}); err != nil {
			t.Fatal(err)
		}
	}
	mine := ClientPod("default", ClientPrefix+"notlab", "curlimages/curl", "http://x", o)
	mine.Labels = map[string]string{"app.kubernetes.io/name": "lab-traffic"}
	mine.Status.Phase = corev1.PodSucceeded
	if _, err := pods.Create(context.Background(), mine, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	c := Cluster{Client: fc, Namespace: "default", Service: "nginx-distroless", Port: 80, Image: "curlimages/curl"}
	c.Logs = podLog(t, fc, o, "200 0.001\ndone\n")
	if _, err := Send(context.Background(), c, Pod, o); err != nil {
		t.Fatal(err)
	}
	got := clientPods(t, fc, "default")
	sort.Strings(got)
	if diff := cmp.Diff([]string{ClientPrefix + "busy1", ClientPrefix + "notlab"}, got); diff != "" {
		t.Errorf("client pods left (-want +got):\n%s", diff)
	}
}
