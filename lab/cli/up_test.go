package cli

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"

	"github.com/k8s-debug-lab/lab/lab/cluster"
	"github.com/k8s-debug-lab/lab/lab/doctor"
	"github.com/k8s-debug-lab/lab/lab/kube"
	"github.com/k8s-debug-lab/lab/lab/kube/kubetest"
)

// labCluster is a fake cluster behind a kubeconfig with a local context
// ("local", the current one) and a remote one ("cloud"); connections
// counts the clients commands built, to prove a refusal came first.
type labCluster struct {
	*kubetest.Cluster
	kubeconfig  string
	connections int
}

func newLabCluster(t *testing.T) *labCluster {
	t.Helper()
	lc := &labCluster{Cluster: kubetest.New(t)}
	lc.kubeconfig = filepath.Join(t.TempDir(), "config")
	kc := `apiVersion: v1
kind: Config
clusters:
- name: local
  cluster: {server: "https://127.0.0.1:6443"}
- name: cloud
  cluster: {server: "https://35.200.1.2"}
users:
- name: u
  user: {token: t}
contexts:
- name: local
  context: {cluster: local, user: u}
- name: cloud
  context: {cluster: cloud, user: u}
current-context: local
`
	if err := os.WriteFile(lc.kubeconfig, []byte(kc), 0o600); err != nil {
		t.Fatal(err)
	}
	useDeps(t, func(d *Deps) {
		d.NewClient = func(*kube.Target) (kubernetes.Interface, error) {
			lc.connections++
			return lc.Cluster, nil
		}
		d.ProbeEngines = func(context.Context) []cluster.Engine {
			return []cluster.Engine{{Name: "docker", Err: errors.New("not installed")}}
		}
	})
	t.Setenv(cluster.EnvProvider, "")
	t.Setenv("KUBECONFIG", lc.kubeconfig)
	return lc
}

func (r run) must(t *testing.T, code int) run {
	t.Helper()
	if r.code != code {
		t.Fatalf("exit %d, want %d: %v\nstdout:\n%s\nstderr:\n%s", r.code, code, r.returnedError, r.out, r.err)
	}
	return r
}

func TestUpThenUpAgain(t *testing.T) {
	lc := newLabCluster(t)
	r := lab(t, "up", "--provider", "existing").must(t, ExitOK)
	for _, want := range []string{"lab is ready: pod default/nginx-distroless is Ready on node " + kubetest.NodeName, "created pod default/nginx-distroless", "Next: kubectl get pod nginx-distroless -o wide"} {
		if !strings.Contains(r.out, want) {
			t.Errorf("stdout lacks %q:\n%s", want, r.out)
		}
	}
	if !strings.Contains(r.err, "context local, server https://127.0.0.1:6443, namespace default") {
		t.Errorf("stderr does not name the context and server before changing anything:\n%s", r.err)
	}
	if strings.Contains(r.err, "\x1b[") || strings.Contains(r.err, "\r") {
		t.Errorf("control codes written to a stderr that is not a terminal: %q", r.err)
	}
	lc.ClearActions()
	r = lab(t, "up", "--provider", "existing").must(t, ExitOK)
	if !strings.Contains(r.out, "lab is ready (nothing changed)") {
		t.Errorf("second up:\n%s", r.out)
	}
	if w := kubetest.Writes(lc.Actions()); len(w) != 0 {
		t.Errorf("second up wrote %v", w)
	}
}

func TestUpSafety(t *testing.T) {
	tests := []struct {
		name    string
		args    []string
		code    int
		want    string
		connect bool
	}{
		{"a remote current context is refused", []string{"up", "--kubeconfig", "", "--provider", "existing"}, ExitUsage, "refusing to change context cloud: its API server https://35.200.1.2 is not local", false},
		{"a named remote context needs --yes", []string{"up", "--context", "cloud"}, ExitUsage, "add --yes", false},
		{"--yes alone does not name it", []string{"up", "--yes", "--provider", "existing"}, ExitUsage, "--context cloud --yes", false},
		{"named and confirmed", []string{"up", "--context", "cloud", "--yes"}, ExitOK, "not local; confirmed with --context and --yes", true},
		{"reset is guarded too", []string{"reset", "--provider", "existing"}, ExitUsage, "refusing to change context cloud", false},
		{"down is guarded too", []string{"down", "--provider", "existing", "--yes"}, ExitUsage, "refusing to change context cloud", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			lc := newLabCluster(t)
			// Make the remote context the current one.
			data, _ := os.ReadFile(lc.kubeconfig)
			os.WriteFile(lc.kubeconfig, bytes.Replace(data, []byte("current-context: local"), []byte("current-context: cloud"), 1), 0o600)
			args := tt.args
			if args[1] == "--kubeconfig" {
				args = append([]string{"up", "--kubeconfig", lc.kubeconfig}, args[3:]...)
			}
			r := lab(t, args...).must(t, tt.code)
			if !strings.Contains(r.err+fmt.Sprint(r.returnedError), tt.want) {
				t.Errorf("output lacks %q:\n%s\n%v", tt.want, r.err, r.returnedError)
			}
			if (lc.connections > 0) != tt.connect {
				t.Errorf("%d connections; a refusal must come before any", lc.connections)
			}
		})
	}
}

func TestUpUsage(t *testing.T) {
	newLabCluster(t)
	tests := []struct {
		args []string
		want string
	}{
		{[]string{"up", "--provider", "docker"}, "unknown provider: docker"},
		{[]string{"up", "--provider", "existing", "--preload"}, "[--preload] work with the kind provider only"},
		{[]string{"up", "--provider", "minikube", "--node-image", "x"}, "minikube image load"},
		{[]string{"up", "--image-archive", "/nonexistent.tar"}, "--image-archive /nonexistent.tar: not a readable file"},
		{[]string{"up", "--timeout", "0s"}, "--timeout must be positive"},
		{[]string{"up", "--context", "nope"}, `context "nope" is not in the kubeconfig (it has: cloud, local)`},
		{[]string{"status", "-o", "yaml"}, "unknown output: yaml"},
		{[]string{"up", "extra"}, "unknown command"},
	}
	for _, tt := range tests {
		t.Run(strings.Join(tt.args, " "), func(t *testing.T) {
			r := lab(t, tt.args...).must(t, ExitUsage)
			if !strings.Contains(r.returnedError.Error(), tt.want) {
				t.Errorf("error %v, want %q", r.returnedError, tt.want)
			}
		})
	}
	t.Run("LAB_PROVIDER", func(t *testing.T) {
		t.Setenv(cluster.EnvProvider, "k3s")
		r := lab(t, "up").must(t, ExitUsage)
		if !strings.Contains(r.returnedError.Error(), "LAB_PROVIDER: unknown provider: k3s") {
			t.Errorf("error %v", r.returnedError)
		}
	})
}

func TestUpUnreachable(t *testing.T) {
	newLabCluster(t)
	realClient(t) // to a port nothing listens on
	kc := filepath.Join(t.TempDir(), "closed")
	os.WriteFile(kc, []byte("apiVersion: v1\nkind: Config\nclusters:\n- name: c\n  cluster: {server: \"https://127.0.0.1:1\"}\nusers:\n- name: u\n  user: {token: t}\ncontexts:\n- name: c\n  context: {cluster: c, user: u}\ncurrent-context: c\n"), 0o600)
	for _, verb := range []string{"up", "reset", "status", "down"} {
		t.Run(verb, func(t *testing.T) {
			args := []string{verb, "--kubeconfig", kc}
			if verb != "status" {
				args = append(args, "--yes")
			}
			r := lab(t, args...).must(t, ExitCluster)
			msg := r.out + fmt.Sprint(r.returnedError)
			if !strings.Contains(msg, "cannot reach the cluster at https://127.0.0.1:1") || !strings.Contains(msg, "kubectl --context c get namespaces") {
				t.Errorf("message does not say what failed and what to try:\n%s", msg)
			}
		})
	}
	t.Run("nothing configured", func(t *testing.T) {
		t.Setenv("KUBECONFIG", filepath.Join(t.TempDir(), "none"))
		r := lab(t, "up").must(t, ExitCluster)
		if !strings.Contains(r.returnedError.Error(), "start Docker") {
			t.Errorf("error %v", r.returnedError)
		}
	})
}

func TestUpExplainsAFailingPod(t *testing.T) {
	lc := newLabCluster(t)
	lc.FailImage("example.org/amd64-only")
	r := lab(t, "up", "--nginx-image", "example.org/amd64-only").must(t, ExitFailed)
	for _, want := range []string{"TYPE", "Failed to pull image", "linux/arm64", "(platform)", "--nginx-image"} {
		if !strings.Contains(r.err, want) {
			t.Errorf("stderr lacks %q:\n%s", want, r.err)
		}
	}
	if !strings.Contains(r.returnedError.Error(), "ImagePullBackOff") {
		t.Errorf("error %v", r.returnedError)
	}
}

func TestStatus(t *testing.T) {
	lc := newLabCluster(t)
	r := lab(t, "status").must(t, ExitFailed)
	if !strings.Contains(r.out, "the lab is not deployed in namespace default: run lab up") {
		t.Errorf("status before up:\n%s", r.out)
	}
	lab(t, "up").must(t, ExitOK)
	// A student's debugger with the general profile.
	pod, _ := lc.CoreV1().Pods("default").Get(context.Background(), labPod, metav1.GetOptions{})
	pod.Spec.EphemeralContainers = []corev1.EphemeralContainer{{TargetContainerName: "nginx", EphemeralContainerCommon: corev1.EphemeralContainerCommon{
		Name: "debugger-x7k2p", Image: "nicolaka/netshoot",
		SecurityContext: &corev1.SecurityContext{Capabilities: &corev1.Capabilities{Add: []corev1.Capability{"SYS_PTRACE"}}}}}}
	lc.Update(t, "pods", pod, "default")
	lc.ClearActions()
	r = lab(t, "status").must(t, ExitOK)
	for _, want := range []string{
		"provider", "existing", "context", "local", "server", "https://127.0.0.1:6443",
		"node", kubetest.NodeName + " (linux/arm64, kubelet v1.34.4)",
		"runtime", "containerd 1.7.18", "CRI lines",
		"default/nginx-distroless Running, Ready", kubetest.PodIP, string(pod.UID),
		"/var/log/pods/default_nginx-distroless_" + string(pod.UID) + "/nginx/ on node " + kubetest.NodeName,
		"debugger-x7k2p → nginx, profile general (SYS_PTRACE)",
		"service", "nginx-distroless",
	} {
		if !strings.Contains(r.out, want) {
			t.Errorf("status lacks %q:\n%s", want, r.out)
		}
	}
	if w := kubetest.Writes(lc.Actions()); len(w) != 0 {
		t.Errorf("status wrote %v", w)
	}
	r = lab(t, "status", "-o", "json").must(t, ExitOK)
	var st labStatus
	if err := json.Unmarshal([]byte(r.out), &st); err != nil {
		t.Fatalf("stdout is not one JSON document: %v\n%s", err, r.out)
	}
	if !st.Ready || st.Pod.LogDir == "" || st.Node.Runtime.LogFormat != kube.LogFormatCRI || len(st.Pod.Ephemeral) != 1 || st.Pod.Ephemeral[0].Profile != "general" {
		t.Errorf("json status %+v", st)
	}
	if r.err != "" {
		t.Errorf("-o json wrote to stderr: %q", r.err)
	}
}

func TestResetRecreates(t *testing.T) {
	lc := newLabCluster(t)
	lab(t, "up").must(t, ExitOK)
	before, _ := lc.CoreV1().Pods("default").Get(context.Background(), labPod, metav1.GetOptions{})
	r := lab(t, "reset").must(t, ExitOK)
	after, _ := lc.CoreV1().Pods("default").Get(context.Background(), labPod, metav1.GetOptions{})
	if before.UID == after.UID || !strings.Contains(r.out, "recreated pod default/nginx-distroless (lab reset)") {
		t.Errorf("reset kept UID %s:\n%s", before.UID, r.out)
	}
}

func TestResetWithoutALab(t *testing.T) {
	newLabCluster(t)
	r := lab(t, "reset").must(t, ExitOK)
	if !strings.Contains(r.out, "created pod") {
		t.Errorf("reset on an empty cluster deploys the lab:\n%s", r.out)
	}
}

func TestDown(t *testing.T) {
	answers := []struct {
		name     string
		terminal bool
		stdin    string
		args     []string
		code     int
		deleted  bool
		want     string
	}{
		{"no terminal and no --yes", false, "", nil, ExitUsage, false, `there is no terminal to ask "Delete them?" on; add --yes to confirm`},
		{"--yes", false, "", []string{"--yes"}, ExitOK, true, "deleted pod default/nginx-distroless"},
		{"asked, yes", true, "y\n", nil, ExitOK, true, "deleted service default/nginx-distroless"},
		{"asked, no", true, "n\n", nil, ExitOK, false, "nothing deleted"},
		{"asked, end of input", true, "", nil, ExitOK, false, "nothing deleted"},
	}
	for _, tt := range answers {
		t.Run(tt.name, func(t *testing.T) {
			lc := newLabCluster(t)
			lab(t, "up").must(t, ExitOK)
			useDeps(t, func(d *Deps) { d.StdinIsTerminal = func(io.Reader) bool { return tt.terminal } })
			r := labIn(t, tt.stdin, append([]string{"down"}, tt.args...)...).must(t, tt.code)
			if !strings.Contains(r.out+r.err+fmt.Sprint(r.returnedError), tt.want) {
				t.Errorf("output lacks %q:\n%s\n%s\n%v", tt.want, r.out, r.err, r.returnedError)
			}
			if !strings.Contains(r.err, "lab down will delete, in context local:\n  pod default/nginx-distroless\n  service default/nginx-distroless") && tt.code == ExitOK {
				t.Errorf("down did not list what it would delete:\n%s", r.err)
			}
			_, err := lc.CoreV1().Pods("default").Get(context.Background(), labPod, metav1.GetOptions{})
			if apierrors.IsNotFound(err) != tt.deleted {
				t.Errorf("pod deleted: %v, want %v", apierrors.IsNotFound(err), tt.deleted)
			}
		})
	}
}

func TestDownLeavesForeignObjects(t *testing.T) {
	lc := newLabCluster(t)
	ctx := context.Background()
	lc.CoreV1().Pods("default").Create(ctx, &corev1.Pod{ObjectMeta: metav1.ObjectMeta{Name: labPod, Namespace: "default"},
		Spec: corev1.PodSpec{Containers: []corev1.Container{{Name: "web", Image: "nginx"}}}}, metav1.CreateOptions{})
	r := lab(t, "down", "--yes").must(t, ExitOK)
	if !strings.Contains(r.err, "leaving pod default/nginx-distroless alone: lab did not create it") || !strings.Contains(r.out, "nothing to take down") {
		t.Errorf("down on a foreign pod:\n%s\n%s", r.out, r.err)
	}
	if _, err := lc.CoreV1().Pods("default").Get(ctx, labPod, metav1.GetOptions{}); err != nil {
		t.Errorf("down deleted a pod lab did not create: %v", err)
	}
	r = lab(t, "up").must(t, ExitFailed)
	if !strings.Contains(r.returnedError.Error(), "lab did not create it") {
		t.Errorf("up over a foreign pod: %v", r.returnedError)
	}
}

func TestDoctorExitCodes(t *testing.T) {
	newLabCluster(t)
	type probes = func(func(context.Context) []cluster.Engine, func(context.Context) (*doctor.ClusterFacts, error)) doctor.Probes
	healthy := func(e func(context.Context) []cluster.Engine, c func(context.Context) (*doctor.ClusterFacts, error)) doctor.Probes {
		p := machineProbes(e, c)
		p.KubectlVersion = func(context.Context) (string, error) { return "v1.36.1", nil }
		p.ImagePlatforms = func(context.Context, string, doctor.Puller) ([]string, error) { return []string{"linux/arm64"}, nil }
		return p
	}
	useProbes := func(p probes) { useDeps(t, func(d *Deps) { d.DoctorProbes = p }) }
	useProbes(healthy)
	r := lab(t, "doctor", "--provider", "existing").must(t, ExitOK)
	for _, want := range []string{"✓ kubectl", "✓ cluster", "✓ image/workload", "✓ image/debugger", "✓ capabilities", "nothing blocks the lab"} {
		if !strings.Contains(r.out, want) {
			t.Errorf("doctor lacks %q:\n%s", want, r.out)
		}
	}
	useProbes(func(e func(context.Context) []cluster.Engine, c func(context.Context) (*doctor.ClusterFacts, error)) doctor.Probes {
		p := healthy(e, c)
		p.ImagePlatforms = func(context.Context, string, doctor.Puller) ([]string, error) { return []string{"linux/amd64"}, nil }
		return p
	})
	r = lab(t, "doctor", "--provider", "existing", "-o", "json").must(t, ExitFailed)
	var rep doctor.Report
	if err := json.Unmarshal([]byte(r.out), &rep); err != nil || !rep.Blocking {
		t.Errorf("json report %v: %+v", err, rep)
	}
	realClient(t)
	useProbes(healthy)
	r = lab(t, "doctor", "--provider", "existing", "--kubeconfig", writeClosedKubeconfig(t)).must(t, ExitCluster)
	if !strings.Contains(r.out, "✗ cluster") {
		t.Errorf("doctor on an unreachable cluster:\n%s", r.out)
	}
}

func writeClosedKubeconfig(t *testing.T) string {
	kc := filepath.Join(t.TempDir(), "closed")
	os.WriteFile(kc, []byte("apiVersion: v1\nkind: Config\nclusters:\n- name: c\n  cluster: {server: \"https://127.0.0.1:1\"}\nusers:\n- name: u\n  user: {token: t}\ncontexts:\n- name: c\n  context: {cluster: c, user: u}\ncurrent-context: c\n"), 0o600)
	return kc
}

// realClient makes lab(t, …) talk through a real client again, after
// newLabCluster faked it: for a kubeconfig that points nowhere.
func realClient(t *testing.T) {
	useDeps(t, func(d *Deps) { d.NewClient = RealDeps().NewClient })
}

// On an arm64 node (kubetest's), lab up says before it deploys that the
// default image has no arm64 variant, and what to do; an image that has
// one, or the pod of an earlier lab up, raises nothing.
func TestUpStatesPlatform(t *testing.T) {
	lc := newLabCluster(t)
	var asked []string
	writesWhenAsked := -1
	useDeps(t, func(d *Deps) {
		d.ImagePlatforms = func(_ context.Context, image string) ([]string, error) {
			asked = append(asked, image)
			writesWhenAsked = len(kubetest.Writes(lc.Actions()))
			if strings.HasSuffix(image, ":arm64") {
				return []string{"linux/arm64/v8"}, nil
			}
			return []string{"linux/amd64"}, nil
		}
	})
	r := lab(t, "up", "--provider", "existing").must(t, ExitOK)
	want := "lab: warning: kyos0109/nginx-distroless is published for linux/amd64 only, but " + kubetest.NodeName + " is linux/arm64: the pod cannot start there."
	if !strings.Contains(r.err, want) || !strings.Contains(r.err, "What to do: give the lab an nginx-distroless image built for linux/arm64") {
		t.Errorf("stderr does not state the platform:\n%s", r.err)
	}
	if writesWhenAsked != 0 {
		t.Errorf("the platform was compared after %d writes: it must be stated before deploying", writesWhenAsked)
	}
	asked = nil
	r = lab(t, "up", "--provider", "existing").must(t, ExitOK)
	if len(asked) != 0 || strings.Contains(r.err, "warning") {
		t.Errorf("an earlier lab up's pod: asked about %v\n%s", asked, r.err)
	}
	lab(t, "down", "--provider", "existing", "--yes").must(t, ExitOK)
	r = lab(t, "up", "--provider", "existing", "--nginx-image", "registry.example/nginx-distroless:arm64").must(t, ExitOK)
	if !slices.Equal(asked, []string{"registry.example/nginx-distroless:arm64"}) || strings.Contains(r.err, "warning") {
		t.Errorf("an arm64 image: asked about %v\n%s", asked, r.err)
	}
}
