package kube

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/client-go/kubernetes/fake"
)

// The built-in lab's workload, as the tests' pods name it.
const (
	podName       = "nginx-distroless"
	containerName = "nginx"
)

func writeKubeconfig(t *testing.T, dir, name, current string, contexts map[string]string) string {
	t.Helper()
	var b strings.Builder
	b.WriteString("apiVersion: v1\nkind: Config\nclusters:\n")
	for ctx, server := range contexts {
		fmt.Fprintf(&b, "- name: %s\n  cluster: {server: %q}\n", ctx, server)
	}
	b.WriteString("users:\n- name: u\n  user: {token: t}\ncontexts:\n")
	for ctx := range contexts {
		fmt.Fprintf(&b, "- name: %s\n  context: {cluster: %s, user: u, namespace: prod}\n", ctx, ctx)
	}
	if current != "" {
		fmt.Fprintf(&b, "current-context: %s\n", current)
	}
	p := filepath.Join(dir, name)
	if err := os.WriteFile(p, []byte(b.String()), 0o600); err != nil {
		t.Fatal(err)
	}
	return p
}

func TestResolveFollowsKubectlsRules(t *testing.T) {
	dir := t.TempDir()
	a := writeKubeconfig(t, dir, "a", "alpha", map[string]string{"alpha": "https://127.0.0.1:6443"})
	b := writeKubeconfig(t, dir, "b", "beta", map[string]string{"beta": "https://127.0.0.2:6443"})
	t.Setenv("HOME", dir) // no ~/.kube/config to fall back on
	tests := []struct {
		name       string
		kubeconfig string // KUBECONFIG
		opts       Options
		wantCtx    string
		wantServer string
		wantNS     string
		wantErr    string
	}{
		{name: "first file's current context wins", kubeconfig: a + string(os.PathListSeparator) + b, wantCtx: "alpha", wantServer: "https://127.0.0.1:6443", wantNS: "default"},
		{name: "contexts of later files can be named", kubeconfig: a + string(os.PathListSeparator) + b, opts: Options{Context: "beta"}, wantCtx: "beta", wantServer: "https://127.0.0.2:6443", wantNS: "default"},
		{name: "--kubeconfig replaces KUBECONFIG", kubeconfig: a, opts: Options{Kubeconfig: b}, wantCtx: "beta", wantServer: "https://127.0.0.2:6443", wantNS: "default"},
		{name: "--namespace", kubeconfig: a, opts: Options{Namespace: "lab"}, wantCtx: "alpha", wantServer: "https://127.0.0.1:6443", wantNS: "lab"},
		{name: "unknown context", kubeconfig: a, opts: Options{Context: "gamma"}, wantErr: `context "gamma" is not in the kubeconfig (it has: alpha)`},
		{name: "missing --kubeconfig", opts: Options{Kubeconfig: filepath.Join(dir, "nope")}, wantErr: "reading the kubeconfig"},
		{name: "no kubeconfig at all", wantErr: ErrNoContext.Error()},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Setenv("KUBECONFIG", tt.kubeconfig)
			got, err := Resolve(tt.opts)
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("error %v, want %q", err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff([]string{tt.wantCtx, tt.wantServer, tt.wantNS, "true"},
				[]string{got.Context, got.Server, got.Namespace, fmt.Sprint(got.ContextExplicit == (tt.opts.Context != ""))}); diff != "" {
				t.Errorf("(-want +got):\n%s", diff)
			}
			if got.REST == nil || got.REST.Host != tt.wantServer || got.REST.Timeout != CallTimeout {
				t.Errorf("rest config %+v", got.REST)
			}
		})
	}
}

func TestGuessProfile(t *testing.T) {
	yes := true
	tests := []struct {
		name string
		sc   *corev1.SecurityContext
		want string
	}{
		{"nothing set", nil, ProfileLegacy},
		{"general adds SYS_PTRACE", &corev1.SecurityContext{Capabilities: &corev1.Capabilities{Add: []corev1.Capability{"SYS_PTRACE"}}}, ProfileGeneral},
		{"netadmin", &corev1.SecurityContext{Capabilities: &corev1.Capabilities{Add: []corev1.Capability{"NET_ADMIN", "NET_RAW"}}}, ProfileNetadmin},
		{"sysadmin", &corev1.SecurityContext{Privileged: &yes}, ProfileSysadmin},
		{"restricted", &corev1.SecurityContext{RunAsNonRoot: &yes, Capabilities: &corev1.Capabilities{Drop: []corev1.Capability{"ALL"}}}, ProfileRestricted},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := GuessProfile(tt.sc); got != tt.want {
				t.Errorf("%s, want %s", got, tt.want)
			}
		})
	}
}

func TestParseRuntime(t *testing.T) {
	tests := map[string]Runtime{
		"containerd://1.7.18": {Name: "containerd", Version: "1.7.18", LogFormat: LogFormatCRI},
		"cri-o://1.30.2":      {Name: "cri-o", Version: "1.30.2", LogFormat: LogFormatCRI},
		"docker://24.0.7":     {Name: "docker", Version: "24.0.7", LogFormat: LogFormatJSONFile},
	}
	for in, want := range tests {
		if diff := cmp.Diff(want, ParseRuntime(in)); diff != "" {
			t.Errorf("%s (-want +got):\n%s", in, diff)
		}
	}
}

func labPod() *corev1.Pod {
	yes := true
	started := metav1.NewTime(time.Date(2026, 11, 2, 10, 0, 0, 0, time.UTC))
	return &corev1.Pod{
		ObjectMeta: metav1.ObjectMeta{Name: podName, Namespace: "default", UID: "84d58bd0-ac6b-4cb7-98a3-9b6726cd27ab",
			Labels: map[string]string{ManagedByLabel: ManagedByValue}},
		Spec: corev1.PodSpec{
			NodeName:              "minikube",
			ShareProcessNamespace: &yes,
			Containers:            []corev1.Container{{Name: containerName, Image: "kyos0109/nginx-distroless"}},
			EphemeralContainers: []corev1.EphemeralContainer{
				{TargetContainerName: "nginx", EphemeralContainerCommon: corev1.EphemeralContainerCommon{Name: "debugger-a", Image: "busybox"}},
				{TargetContainerName: "nginx", EphemeralContainerCommon: corev1.EphemeralContainerCommon{Name: "debugger-b", Image: "nicolaka/netshoot",
					SecurityContext: &corev1.SecurityContext{Capabilities: &corev1.Capabilities{Add: []corev1.Capability{"SYS_PTRACE"}}}}},
			},
		},
		Status: corev1.PodStatus{
			Phase: corev1.PodRunning, PodIP: "10.244.0.12",
			Conditions:        []corev1.PodCondition{{Type: corev1.PodReady, Status: corev1.ConditionTrue}},
			ContainerStatuses: []corev1.ContainerStatus{{Name: containerName, RestartCount: 1}},
			EphemeralContainerStatuses: []corev1.ContainerStatus{
				{Name: "debugger-a", State: corev1.ContainerState{Terminated: &corev1.ContainerStateTerminated{StartedAt: started}}},
				{Name: "debugger-b", State: corev1.ContainerState{Running: &corev1.ContainerStateRunning{StartedAt: started}}},
			},
		},
	}
}

func TestLabPod(t *testing.T) {
	node := &corev1.Node{ObjectMeta: metav1.ObjectMeta{Name: "minikube"}, Status: corev1.NodeStatus{NodeInfo: corev1.NodeSystemInfo{
		Architecture: "amd64", OperatingSystem: "linux", KubeletVersion: "v1.31.0", ContainerRuntimeVersion: "docker://27.2.0"}}}
	c := fake.NewClientset(labPod(), node)
	f, err := LabPod(context.Background(), c, "default", podName, containerName)
	if err != nil {
		t.Fatal(err)
	}
	started := time.Date(2026, 11, 2, 10, 0, 0, 0, time.UTC)
	want := PodFacts{
		Namespace: "default", Name: podName, UID: "84d58bd0-ac6b-4cb7-98a3-9b6726cd27ab", Node: "minikube", IP: "10.244.0.12",
		Phase: "Running", Ready: true, Container: "nginx", Image: "kyos0109/nginx-distroless", ShareProcessNamespace: true, Managed: true, Restarts: 1,
		LogDir: "/var/log/pods/default_nginx-distroless_84d58bd0-ac6b-4cb7-98a3-9b6726cd27ab",
		NodeFacts: &NodeFacts{Name: "minikube", Architecture: "amd64", OS: "linux", Kubelet: "v1.31.0",
			Runtime: Runtime{Name: "docker", Version: "27.2.0", LogFormat: LogFormatJSONFile}},
		Ephemeral: []EphemeralFacts{
			{Name: "debugger-a", Image: "busybox", Target: "nginx", Profile: ProfileLegacy, State: "terminated", Started: &started},
			{Name: "debugger-b", Image: "nicolaka/netshoot", Target: "nginx", Profile: ProfileGeneral, Capabilities: []string{"SYS_PTRACE"}, State: "running", Started: &started},
		},
	}
	if diff := cmp.Diff(want, f); diff != "" {
		t.Errorf("(-want +got):\n%s", diff)
	}
	if got := f.ContainerLogDir(); got != want.LogDir+"/nginx" {
		t.Errorf("container log dir %s", got)
	}
	if _, err := LabPod(context.Background(), c, "other", podName, containerName); !errors.Is(err, ErrNotDeployed) {
		t.Errorf("missing pod: %v, want ErrNotDeployed", err)
	}
}

func TestNotReadyReason(t *testing.T) {
	pending := &corev1.Pod{Status: corev1.PodStatus{Phase: corev1.PodPending, ContainerStatuses: []corev1.ContainerStatus{{
		State: corev1.ContainerState{Waiting: &corev1.ContainerStateWaiting{Reason: "ContainerCreating"}}}}}}
	pull := pending.DeepCopy()
	pull.Status.ContainerStatuses[0].State.Waiting.Reason = "ErrImagePull"
	unsched := &corev1.Pod{Status: corev1.PodStatus{Phase: corev1.PodPending, Conditions: []corev1.PodCondition{{
		Type: corev1.PodScheduled, Status: corev1.ConditionFalse, Reason: "Unschedulable"}}}}
	for pod, want := range map[*corev1.Pod]string{pending: "ContainerCreating", pull: "ErrImagePull", unsched: "Unschedulable"} {
		if got := NotReadyReason(pod); got != want {
			t.Errorf("%s, want %s", got, want)
		}
	}
}

func TestPing(t *testing.T) {
	c := fake.NewClientset(&corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: "default"}})
	if ok, err := Ping(context.Background(), c, "fake", "default"); !ok || err != nil {
		t.Errorf("existing namespace: %v %v", ok, err)
	}
	if ok, err := Ping(context.Background(), c, "fake", "lab"); ok || err != nil {
		t.Errorf("missing namespace: %v %v", ok, err)
	}
}

func TestPingRefusesWhatIsNotKubernetes(t *testing.T) {
	// A web server (or a captive proxy) that answers every path with 404
	// must not be taken for a cluster whose namespace is missing.
	srv := httptest.NewServer(http.NotFoundHandler())
	defer srv.Close()
	kc := fmt.Sprintf("apiVersion: v1\nkind: Config\nclusters:\n- name: c\n  cluster: {server: %q}\nusers:\n- name: u\n  user: {token: t}\ncontexts:\n- name: c\n  context: {cluster: c, user: u}\ncurrent-context: c\n", srv.URL)
	tg, err := FromKubeconfig([]byte(kc), Options{})
	if err != nil {
		t.Fatal(err)
	}
	c, err := NewClient(tg)
	if err != nil {
		t.Fatal(err)
	}
	_, err = Ping(context.Background(), c, tg.Server, "default")
	if !IsUnreachable(err) || !strings.Contains(err.Error(), "does not answer like a Kubernetes API server") {
		t.Errorf("error %v, want an unreachable cluster", err)
	}
	srv.Close()
	if _, err := Ping(context.Background(), c, tg.Server, "default"); !IsUnreachable(err) || !strings.Contains(err.Error(), "cannot reach the cluster at "+srv.URL) {
		t.Errorf("closed server: %v", err)
	}
}

func TestLostCluster(t *testing.T) {
	get := func(err error) error {
		return &url.Error{Op: "Get", URL: "https://10.254.254.1:6443/api/v1/namespaces/default?timeout=15s", Err: err}
	}
	for _, tc := range []struct {
		name string
		err  error
		want bool
	}{
		{"nil", nil, false},
		{"client timeout", fmt.Errorf("reading namespace default: %w", get(context.DeadlineExceeded)), true},
		{"refused", get(errors.New("dial tcp 127.0.0.1:1: connect: connection refused")), true},
		{"unreachable", &UnreachableError{Server: "x", Err: errors.New("no")}, true},
		{"ctrl-c", fmt.Errorf("waiting: %w", get(context.Canceled)), false},
		{"an answer", apierrors.NewForbidden(schema.GroupResource{Resource: "pods"}, "x", errors.New("no")), false},
		{"lab's own", errors.New("the pod did not become Ready"), false},
		{"lab's own wait", fmt.Errorf("waiting for pod default/x to be deleted: %w", context.DeadlineExceeded), false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := LostCluster(tc.err); got != tc.want {
				t.Errorf("LostCluster(%v) = %v, want %v", tc.err, got, tc.want)
			}
		})
	}
}
