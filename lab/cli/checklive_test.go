package cli

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/client-go/kubernetes/fake"
	k8stesting "k8s.io/client-go/testing"
	"k8s.io/utils/ptr"

	"github.com/k8s-debug-lab/lab/checks"
	"github.com/k8s-debug-lab/lab/checks/live"
	"github.com/k8s-debug-lab/lab/checks/spec"
	"github.com/k8s-debug-lab/lab/lab/kube"
	"github.com/k8s-debug-lab/lab/lab/kube/kubetest"
	"github.com/k8s-debug-lab/lab/lab/labfolder"
	"github.com/k8s-debug-lab/lab/lab/record"
	"github.com/k8s-debug-lab/lab/lab/state"
)

// The package's tests never reach the cluster or the state of the machine
// running them: lab check asks the kubeconfig's cluster unless --offline.
// Tests that want a cluster set KUBECONFIG themselves. The locale is an
// English one: lab speaks the locale's language, and the tests'
// expectations are English unless a test sets LANG itself.
func TestMain(m *testing.M) {
	for _, k := range []string{"LC_ALL", "LC_MESSAGES"} {
		os.Unsetenv(k)
	}
	os.Setenv("LANG", "C.UTF-8")
	tmp, err := os.MkdirTemp("", "lab-cli-test-")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(2)
	}
	os.Setenv("KUBECONFIG", filepath.Join(tmp, "no-kubeconfig"))
	os.Setenv("XDG_STATE_HOME", filepath.Join(tmp, "state"))
	code := m.Run()
	os.RemoveAll(tmp)
	os.Exit(code)
}

// theLab is the lab's pod as a student leaves it after step 2: Running,
// sharing its PID namespace, with a running debug container that can
// ptrace.
func theLab(ns string) *corev1.Pod {
	return &corev1.Pod{
		ObjectMeta: metav1.ObjectMeta{Name: labPod, Namespace: ns, UID: "0f1e2d3c-4b5a-6978-8a9b-acbdcedf0011",
			Labels: map[string]string{kube.ManagedByLabel: kube.ManagedByValue}},
		Spec: corev1.PodSpec{
			ShareProcessNamespace: ptr.To(true), NodeName: kubetest.NodeName,
			Containers:          []corev1.Container{{Name: "nginx", Image: "kyos0109/nginx-distroless"}},
			EphemeralContainers: []corev1.EphemeralContainer{kube.DebugContainer("debugger-x7k2p", "nicolaka/netshoot", "nginx")},
		},
		Status: corev1.PodStatus{
			Phase: corev1.PodRunning, PodIP: "10.88.0.7",
			Conditions: []corev1.PodCondition{{Type: corev1.PodReady, Status: corev1.ConditionTrue}},
			EphemeralContainerStatuses: []corev1.ContainerStatus{{Name: "debugger-x7k2p",
				State: corev1.ContainerState{Running: &corev1.ContainerStateRunning{}}}},
		},
	}
}

// nodeDebugger is a finished kubectl debug node/… pod.
func nodeDebugger(ns, name, node string) *corev1.Pod {
	p := kube.NodeDebugPod(ns, node, "ubuntu", []string{"true"})
	p.Name = name
	p.Status = corev1.PodStatus{Phase: corev1.PodSucceeded, ContainerStatuses: []corev1.ContainerStatus{{Name: "debugger",
		State: corev1.ContainerState{Terminated: &corev1.ContainerStateTerminated{Reason: "Completed"}}}}}
	return p
}

func TestGatherLive(t *testing.T) {
	other := &corev1.Pod{ObjectMeta: metav1.ObjectMeta{Name: "web-1", Namespace: "lab"}}
	c := fake.NewClientset(theLab("lab"), other,
		nodeDebugger("lab", "node-debugger-lab-node-aaaaa", "lab-node"),
		nodeDebugger("default", "node-debugger-lab-node-bbbbb", "lab-node"),
		nodeDebugger("kube-system", "node-debugger-lab-node-ccccc", "lab-node"))
	st := &state.Lab{Nonce: "k3x9abcdef"}
	st.AddRun(state.Run{Via: "port-forward", Sent: 3, Source: "127.0.0.1"})
	st.AddRun(state.Run{Via: "pod", Sent: 3, Source: "10.88.0.9"})

	snap, err := gatherLive(context.Background(), c, builtinSpec(t), "lab", st)
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, p := range snap.Pods {
		names = append(names, p.Namespace+"/"+p.Name)
	}
	// kubectl debug node/… puts its pod in the current namespace: the lab's
	// and default are searched, nothing else, and only debugger pods kept.
	if diff := cmp.Diff([]string{"lab/node-debugger-lab-node-aaaaa", "default/node-debugger-lab-node-bbbbb"}, names); diff != "" {
		t.Errorf("node debuggers (-want +got):\n%s", diff)
	}
	if snap.Pod == nil || snap.Pod.UID != "0f1e2d3c-4b5a-6978-8a9b-acbdcedf0011" || snap.Nonce != "k3x9abcdef" || snap.Namespace != "lab" {
		t.Errorf("snapshot %+v", snap)
	}
	if diff := cmp.Diff([]string{"127.0.0.1", "10.88.0.9"}, snap.TrafficSources); diff != "" {
		t.Errorf("sources (-want +got):\n%s", diff)
	}

	// The default namespace is listed once.
	c = fake.NewClientset(theLab("default"))
	if _, err := gatherLive(context.Background(), c, builtinSpec(t), "default", nil); err != nil {
		t.Fatal(err)
	}
	lists := 0
	for _, a := range c.Actions() {
		if a.GetVerb() == "list" {
			lists++
		}
	}
	if lists != 1 {
		t.Errorf("%d lists for the default namespace", lists)
	}
}

func TestGatherLiveWithoutThePodOrPermissions(t *testing.T) {
	c := fake.NewClientset()
	c.PrependReactor("list", "pods", func(k8stesting.Action) (bool, runtime.Object, error) {
		return true, nil, errors.New(`pods is forbidden: User "student" cannot list resource "pods"`)
	})
	snap, err := gatherLive(context.Background(), c, builtinSpec(t), "lab", nil)
	if err != nil || snap.Pod != nil || snap.Pods != nil || snap.Nonce != "" {
		t.Fatalf("snapshot %+v, %v", snap, err)
	}
	l := live.Evaluate(snap)
	if r := l.Checks[live.PodSharesPID]; r.OK || r.Message != "the pod nginx-distroless does not exist in namespace lab" {
		t.Errorf("pod-shares-pid: %+v", r)
	}

	c = fake.NewClientset()
	c.PrependReactor("get", "pods", func(k8stesting.Action) (bool, runtime.Object, error) {
		return true, nil, errors.New("dial tcp 127.0.0.1:6443: connect: connection refused")
	})
	if _, err := gatherLive(context.Background(), c, builtinSpec(t), "lab", nil); err == nil {
		t.Error("a cluster that does not answer gave a snapshot")
	}
}

// checkCluster is a fake cluster holding a lab whose students did steps
// 1, 2 and the node debugger, and a state file with the nonce.
func checkCluster(t *testing.T) *labCluster {
	lc := newLabCluster(t)
	ctx := context.Background()
	for _, p := range []*corev1.Pod{theLab("default"), nodeDebugger("default", "node-debugger-"+kubetest.NodeName+"-n47p5", kubetest.NodeName)} {
		if _, err := lc.CoreV1().Pods("default").Create(ctx, p, metav1.CreateOptions{}); err != nil {
			t.Fatal(err)
		}
		lc.Update(t, "pods", p, "default") // keep the status the kubelet would not set
	}
	t.Setenv("XDG_STATE_HOME", t.TempDir())
	st := &state.Lab{Context: "local", Namespace: "default", Nonce: "k3x9abcdef", Created: time.Now()}
	st.AddRun(state.Run{Via: "port-forward", Sent: 3, OK: 3, Source: "127.0.0.1"})
	path, _ := state.Path("local", "default")
	if err := st.Save(path); err != nil {
		t.Fatal(err)
	}
	lc.ClearActions()
	return lc
}

type checkDoc struct {
	Offline bool `json:"offline"`
	Results []struct {
		Step, Status, Message string
	} `json:"results"`
}

func verdictsOf(t *testing.T, out string) (bool, map[string]string) {
	t.Helper()
	var doc checkDoc
	if err := json.Unmarshal([]byte(out), &doc); err != nil {
		t.Fatalf("stdout is not one JSON document: %v\n%s", err, out)
	}
	v := map[string]string{}
	for _, r := range doc.Results {
		v[r.Step] = r.Status + " " + r.Message
	}
	return doc.Offline, v
}

// answersCopy is a copy of an answers folder that a live lab check may
// write its record into: testdata stays as it is.
func answersCopy(t *testing.T, src string) string {
	t.Helper()
	dir := filepath.Join(t.TempDir(), "answers")
	if err := os.CopyFS(dir, os.DirFS(src)); err != nil {
		t.Fatal(err)
	}
	return dir
}

func TestCheckLive(t *testing.T) {
	lc := checkCluster(t)
	answers := answersCopy(t, seed)
	r := lab(t, "check", "--answers", answers, "-o", "json")
	offline, v := verdictsOf(t, r.out)
	if offline {
		t.Error("a report graded against the cluster says offline")
	}
	want := map[string]string{
		"step-1": "pass ",
		"step-2": "pass ",
		"step-3": "fail this is the /pause sandbox's filesystem, not nginx's",
		"step-5": "fail no request in this capture carries this lab's nonce (lab=k3x9abcdef): it was not captured here while lab traffic ran",
		"step-6": "fail the table shows nginx-distroless=10.244.0.12, but this pod's IP is 10.88.0.7",
		"step-7": "fail no access entry carries this lab's nonce (lab=k3x9abcdef): this log is not this pod's, or was read before lab traffic ran",
		"star":   "pass ",
	}
	if diff := cmp.Diff(want, v); diff != "" {
		t.Errorf("verdicts (-want +got):\n%s", diff)
	}
	recPath := filepath.Join(answers, record.FileName)
	if wantErr := "lab check: wrote " + recPath + ", the lab record grading without the cluster checks the answers against\n"; r.code != ExitFailed || r.err != wantErr {
		t.Errorf("exit %d, stderr %q, want %q", r.code, r.err, wantErr)
	}
	if w := kubetest.Writes(lc.Actions()); len(w) != 0 {
		t.Errorf("lab check wrote to the cluster: %v", w)
	}
	if _, err := os.Stat(recPath); err != nil {
		t.Fatalf("no lab record after a live lab check: %v", err)
	}

	// --offline never builds a client; it grades against the record, and
	// says that steps 1 and 2 were recorded live.
	lc.connections = 0
	r = lab(t, "check", "--answers", answers, "-o", "json", "--offline")
	offline, v = verdictsOf(t, r.out)
	if !offline || !strings.HasPrefix(v["step-1"], "pass recorded live at ") || !strings.HasPrefix(v["step-2"], "pass recorded live at ") || lc.connections != 0 {
		t.Errorf("--offline: offline %v, step-1 %q, step-2 %q, %d connections", offline, v["step-1"], v["step-2"], lc.connections)
	}
	// The cross rules run against the recorded nonce and IP.
	for _, step := range []string{"step-5", "step-6", "step-7", "star"} {
		if v[step] != want[step] {
			t.Errorf("--offline %s = %q, want %q as live", step, v[step], want[step])
		}
	}

	// Without the record, the answers were not checked against anything.
	if err := os.Remove(recPath); err != nil {
		t.Fatal(err)
	}
	r = lab(t, "check", "--answers", answers, "-o", "json", "--offline")
	if offline, v := verdictsOf(t, r.out); !offline || v["step-1"] != "skip proven only against the lab's cluster; skipped offline" {
		t.Errorf("--offline without a record: offline %v, step-1 %q", offline, v["step-1"])
	}
	if !strings.Contains(r.out, `"checked": "nothing"`) || !strings.Contains(r.out, checks.NotChecked) {
		t.Errorf("--offline without a record does not say it was not checked:\n%s", r.out)
	}
}

func TestCheckWhenTheClusterDoesNotAnswer(t *testing.T) {
	newLabCluster(t)
	realClient(t) // to a port nothing listens on
	kc := writeClosedKubeconfig(t)
	t.Setenv("KUBECONFIG", kc)

	r := lab(t, "check", "--answers", seed, "-o", "json")
	offline, v := verdictsOf(t, r.out)
	if !offline || !strings.HasPrefix(v["step-1"], "skip") || r.code != ExitFailed {
		t.Errorf("offline %v, step-1 %q, exit %d", offline, v["step-1"], r.code)
	}
	want := "lab check: the lab's cluster did not answer (context c, server https://127.0.0.1:1): dial tcp 127.0.0.1:1: connect: connection refused; graded offline"
	if !strings.HasPrefix(r.err, want) || strings.Count(r.err, "\n") != 1 {
		t.Errorf("stderr, want one line starting %q:\n%s", want, r.err)
	}

	// A cluster named on the command line must answer.
	r = lab(t, "check", "--answers", seed, "--context", "c").must(t, ExitCluster)
	if r.out != "" || !strings.Contains(r.returnedError.Error(), "did not answer (context c") {
		t.Errorf("stdout %q, error %v", r.out, r.returnedError)
	}
	lab(t, "check", "--answers", seed, "--context", "nope").must(t, ExitUsage)

	// No kubeconfig at all: offline, said once.
	t.Setenv("KUBECONFIG", filepath.Join(t.TempDir(), "none"))
	r = lab(t, "check", "--answers", seed)
	if !strings.HasPrefix(r.err, "lab check: no cluster in the kubeconfig") || r.code != ExitFailed {
		t.Errorf("exit %d, stderr %q", r.code, r.err)
	}
}

func builtinSpec(t *testing.T) *spec.Assignment {
	t.Helper()
	l, err := labfolder.Builtin()
	if err != nil {
		t.Fatal(err)
	}
	return l.Spec
}

// A live check's record holds the context's name and the server's host,
// nothing else of a kubeconfig that carries a token and a client key.
func TestCheckLiveRecordHoldsNoCredential(t *testing.T) {
	lc := checkCluster(t)
	const token = "eyJhbGciOiJSUzI1NiJ9.c2VjcmV0LXRva2Vu.U0VDUkVU"
	const key = "LS0tLS1CRUdJTiBQUklWQVRFIEtFWS0tLS0tU0VDUkVULUtFWQ=="
	kc := `apiVersion: v1
kind: Config
clusters:
- name: local
  cluster: {server: "https://127.0.0.1:6443", certificate-authority-data: "Q0EtREFUQS1TRUNSRVQ="}
users:
- name: u
  user: {token: "` + token + `", client-key-data: "` + key + `"}
contexts:
- name: local
  context: {cluster: local, user: u}
current-context: local
`
	if err := os.WriteFile(lc.kubeconfig, []byte(kc), 0o600); err != nil {
		t.Fatal(err)
	}
	answers := answersCopy(t, seed)
	lab(t, "check", "--answers", answers, "-o", "json").must(t, ExitFailed)
	data, err := os.ReadFile(filepath.Join(answers, record.FileName))
	if err != nil {
		t.Fatal(err)
	}
	for _, secret := range []string{token, key, "Q0EtREFUQS1TRUNSRVQ=", "c2VjcmV0", "https://"} {
		if strings.Contains(string(data), secret) {
			t.Errorf("the lab record holds %q:\n%s", secret, data)
		}
	}
	if !strings.Contains(string(data), `"context": "local"`) || !strings.Contains(string(data), `"server": "127.0.0.1:6443"`) {
		t.Errorf("the lab record lacks the context and the server's host:\n%s", data)
	}
}

func TestCheckOfflineRecordErrors(t *testing.T) {
	checkCluster(t)
	answers := answersCopy(t, seed)
	lab(t, "check", "--answers", answers, "-o", "json").must(t, ExitFailed)

	// --require-record: a hand-in without a record fails every step.
	bare := answersCopy(t, seed)
	r := lab(t, "check", "--answers", bare, "--offline", "--require-record", "-o", "json").must(t, ExitFailed)
	if _, v := verdictsOf(t, r.out); v["star"] != "fail "+record.Required {
		t.Errorf("--require-record without a record: star %q", v["star"])
	}

	// A record of another assignment is an input error.
	path := filepath.Join(answers, record.FileName)
	data, _ := os.ReadFile(path)
	other := strings.Replace(string(data), `"name": "kubernetes-debug"`, `"name": "k8s-networking"`, 1)
	if err := os.WriteFile(path, []byte(other), 0o644); err != nil {
		t.Fatal(err)
	}
	r = lab(t, "check", "--answers", answers, "--offline").must(t, ExitUsage)
	if r.out != "" || !strings.Contains(r.returnedError.Error(), `lab-record.json: made for the assignment "k8s-networking", not "kubernetes-debug"; run lab check where the lab's cluster answers`) {
		t.Errorf("stdout %q, error %v", r.out, r.returnedError)
	}
}
