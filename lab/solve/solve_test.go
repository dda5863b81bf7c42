package solve

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/client-go/kubernetes/fake"
	"k8s.io/utils/ptr"

	"github.com/k8s-debug-lab/lab/checks"
	"github.com/k8s-debug-lab/lab/checks/spec"
	"github.com/k8s-debug-lab/lab/lab/kube"
	"github.com/k8s-debug-lab/lab/lab/labfolder"
	"github.com/k8s-debug-lab/lab/lab/traffic"
)

// The outputs the fake debug container prints: real captures that pass
// lab check offline (checks/testdata/answers/good).
func sample(t *testing.T, name string) string {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("..", "..", "checks", "testdata", "answers", "good", name))
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// BusyBox ps in a debug container of a pod that shares its PID namespace.
const psOutput = `PID   USER     TIME  COMMAND
    1 65535     0:00 /pause
    7 root      0:00 nginx: master process /usr/sbin/nginx -g daemon off;
   12 www-data  0:00 nginx: worker process
   13 root      0:00 sh
   26 root      0:00 ps
`

// fakeLab is the lab's cluster: the fake clientset with a kubelet that
// starts ephemeral containers and runs node debug pods to completion, and
// a debug container whose tools print the samples.
type fakeLab struct {
	t *testing.T
	*fake.Clientset
	samples map[string]string

	mu       sync.Mutex
	execs    [][]string
	running  map[string]chan struct{} // pid file -> interrupted
	traffic  []traffic.Via
	stop     chan struct{}
	wg       sync.WaitGroup
	noLaunch bool // the debug container never starts
	noFinish bool // node debug pods never finish
	// deleteNode is how someone else deletes the node debug pods:
	// "pending" before they run, "failed" while they run (the kubelet
	// kills them), "logs" after they finished, before their log is read.
	deleteNode string
}

var podsGVR = corev1.SchemeGroupVersion.WithResource("pods")

func newFakeLab(t *testing.T, objs ...runtime.Object) *fakeLab {
	saved := kube.PollInterval
	kube.PollInterval = time.Millisecond
	pod := &corev1.Pod{
		ObjectMeta: metav1.ObjectMeta{Name: "nginx-distroless", Namespace: "lab", UID: "0f1e2d3c-4b5a-6978-8a9b-acbdcedf0011",
			CreationTimestamp: metav1.NewTime(time.Now().Add(-5 * time.Minute))},
		Spec: corev1.PodSpec{ShareProcessNamespace: ptr.To(true), NodeName: "lab-node",
			Containers: []corev1.Container{{Name: "nginx", Image: "kyos0109/nginx-distroless"}}},
		Status: corev1.PodStatus{Phase: corev1.PodRunning, PodIP: "10.88.0.7",
			Conditions:        []corev1.PodCondition{{Type: corev1.PodReady, Status: corev1.ConditionTrue}},
			ContainerStatuses: []corev1.ContainerStatus{{Name: "nginx", Ready: true, State: corev1.ContainerState{Running: &corev1.ContainerStateRunning{}}}}},
	}
	l := &fakeLab{
		t: t, Clientset: fake.NewClientset(append([]runtime.Object{pod}, objs...)...),
		samples: map[string]string{
			"ls": sample(t, "step-3.txt"), "tcpdump": sample(t, "step-5.txt"),
			"strace": sample(t, "star.txt"), "log": sample(t, "step-7.txt"),
		},
		running: map[string]chan struct{}{},
		stop:    make(chan struct{}),
	}
	l.wg.Add(1)
	go l.kubelet()
	t.Cleanup(func() { close(l.stop); l.wg.Wait(); kube.PollInterval = saved })
	return l
}

func (l *fakeLab) kubelet() {
	defer l.wg.Done()
	for {
		select {
		case <-l.stop:
			return
		case <-time.After(time.Millisecond):
		}
		list, err := l.Tracker().List(podsGVR, corev1.SchemeGroupVersion.WithKind("Pod"), "")
		if err != nil {
			continue
		}
		for _, p := range list.(*corev1.PodList).Items {
			p := p.DeepCopy()
			changed := false
			if strings.HasPrefix(p.Name, kube.NodeDebuggerPrefix) && p.Status.Phase == "" && kube.IsManaged(p) && l.deleteNode == "pending" {
				_ = l.Tracker().Delete(podsGVR, p.Namespace, p.Name)
				continue
			}
			if strings.HasPrefix(p.Name, kube.NodeDebuggerPrefix) && p.Status.Phase == "" && kube.IsManaged(p) && l.deleteNode == "failed" {
				p.Status.Phase = corev1.PodFailed
				p.DeletionTimestamp = ptr.To(metav1.Now())
				_ = l.Tracker().Update(podsGVR, p, p.Namespace)
				continue
			}
			if strings.HasPrefix(p.Name, kube.NodeDebuggerPrefix) && p.Status.Phase == "" && kube.IsManaged(p) && !l.noFinish {
				p.Status.Phase = corev1.PodSucceeded
				p.Status.ContainerStatuses = []corev1.ContainerStatus{{Name: "debugger",
					State: corev1.ContainerState{Terminated: &corev1.ContainerStateTerminated{Reason: "Completed"}}}}
				changed = true
			}
			for _, e := range p.Spec.EphemeralContainers {
				if l.noLaunch || slices.ContainsFunc(p.Status.EphemeralContainerStatuses, func(s corev1.ContainerStatus) bool { return s.Name == e.Name }) {
					continue
				}
				p.Status.EphemeralContainerStatuses = append(p.Status.EphemeralContainerStatuses, corev1.ContainerStatus{Name: e.Name,
					State: corev1.ContainerState{Running: &corev1.ContainerStateRunning{StartedAt: metav1.Now()}}})
				changed = true
			}
			if changed {
				_ = l.Tracker().Update(podsGVR, p, p.Namespace)
			}
		}
	}
}

var rePidFile = regexp.MustCompile(`echo \$\$ > (\S+); exec timeout -s INT \d+ (\S+)`)

// exec plays the debug container's tools.
func (l *fakeLab) exec(ctx context.Context, o kube.ExecOptions) error {
	l.mu.Lock()
	l.execs = append(l.execs, o.Command)
	l.mu.Unlock()
	if o.Namespace != "lab" || o.Pod != "nginx-distroless" || !strings.HasPrefix(o.Container, kube.DebuggerPrefix) {
		return fmt.Errorf("exec in %s/%s -c %s", o.Namespace, o.Pod, o.Container)
	}
	cmd := strings.Join(o.Command, " ")
	switch {
	case cmd == "sh -c ps -ef 2>/dev/null || ps":
		io.WriteString(o.Stdout, psOutput)
	case cmd == "sh -c ls -la /proc/7/root/etc/nginx/":
		io.WriteString(o.Stdout, l.samples["ls"])
	case strings.HasPrefix(cmd, "sh -c kill -INT"):
		pidFile := regexp.MustCompile(`cat (\S+)\)`).FindStringSubmatch(cmd)[1]
		l.mu.Lock()
		ch := l.running[pidFile]
		delete(l.running, pidFile)
		l.mu.Unlock()
		if ch != nil {
			close(ch)
		}
	case rePidFile.MatchString(cmd):
		m := rePidFile.FindStringSubmatch(cmd)
		ch := make(chan struct{})
		l.mu.Lock()
		l.running[m[1]] = ch
		l.mu.Unlock()
		switch m[2] {
		case "tcpdump":
			io.WriteString(o.Stderr, "tcpdump: verbose output suppressed, use -v[v]... for full protocol decode\nlistening on any, link-type LINUX_SLL2 (Linux cooked v2), snapshot length 262144 bytes\n")
		case "strace":
			if !strings.Contains(cmd, "-p 12") {
				return fmt.Errorf("strace of the wrong process: %s", cmd)
			}
			io.WriteString(o.Stderr, "strace: Process 12 attached\n")
		}
		select {
		case <-ch:
		case <-ctx.Done():
			return ctx.Err()
		}
		if m[2] == "tcpdump" {
			io.WriteString(o.Stdout, l.samples["tcpdump"])
			io.WriteString(o.Stderr, "30 packets captured\n")
		} else {
			io.WriteString(o.Stderr, l.samples["strace"])
		}
		return &kube.ExitCodeError{Command: o.Command, Code: 130}
	default:
		return fmt.Errorf("unexpected command %q", cmd)
	}
	return nil
}

func (l *fakeLab) logs(_ context.Context, ns, pod, container string, follow bool) (io.ReadCloser, error) {
	p, err := l.CoreV1().Pods(ns).Get(context.Background(), pod, metav1.GetOptions{})
	if err != nil {
		return nil, err
	}
	if l.deleteNode == "logs" {
		_ = l.Tracker().Delete(podsGVR, ns, pod)
		return nil, apierrors.NewNotFound(corev1.Resource("pods/log"), pod)
	}
	want := "sh -c cat /host/var/log/pods/lab_nginx-distroless_0f1e2d3c-4b5a-6978-8a9b-acbdcedf0011/nginx/*.log 2>/dev/null || chroot /host sh -c 'cat /var/log/pods/lab_nginx-distroless_0f1e2d3c-4b5a-6978-8a9b-acbdcedf0011/nginx/*.log'"
	if got := strings.Join(p.Spec.Containers[0].Command, " "); got != want || container != "debugger" {
		return nil, fmt.Errorf("logs of %s -c %s running %q", pod, container, got)
	}
	return io.NopCloser(strings.NewReader(l.samples["log"])), nil
}

func (l *fakeLab) env() Env {
	return Env{
		Client: l, Namespace: "lab", Exec: l.exec, Logs: l.logs,
		Traffic: func(_ context.Context, via traffic.Via) (string, error) {
			l.mu.Lock()
			defer l.mu.Unlock()
			if len(l.running) == 0 && via == traffic.Both {
				l.t.Error("traffic sent while no capture was running")
			}
			l.traffic = append(l.traffic, via)
			return "port-forward 10/10 ok", nil
		},
	}
}

func run(t *testing.T, l *fakeLab, o Options, ids ...string) []Result {
	t.Helper()
	steps, err := checks.Select(builtin(t), ids)
	if err != nil {
		t.Fatal(err)
	}
	o.Settle = time.Millisecond
	res, err := Run(context.Background(), builtin(t), l.env(), o, steps, nil)
	if err != nil {
		t.Fatal(err)
	}
	return res
}

func TestRunAll(t *testing.T) {
	foreign := &corev1.Pod{ObjectMeta: metav1.ObjectMeta{Name: "node-debugger-lab-node-kubec", Namespace: "lab",
		Labels: map[string]string{kube.ManagedByLabel: "kubectl-debug"}}, Spec: corev1.PodSpec{NodeName: "lab-node"}}
	older := &corev1.Pod{ObjectMeta: metav1.ObjectMeta{Name: "node-debugger-lab-node-older", Namespace: "lab", UID: "old",
		Labels: map[string]string{kube.ManagedByLabel: kube.ManagedByValue}}, Spec: corev1.PodSpec{NodeName: "lab-node"},
		Status: corev1.PodStatus{Phase: corev1.PodSucceeded}}
	l := newFakeLab(t, foreign, older)
	dir := filepath.Join(t.TempDir(), "reference")
	res := run(t, l, Options{Answers: dir})

	var got []string
	for _, r := range res {
		if !r.OK {
			t.Errorf("%s failed: %v (did %q)", r.Step, r.Err, r.Did)
		}
		got = append(got, r.Step+" "+filepath.Base(r.File))
	}
	want := []string{"step-1 .", "step-2 .", "step-3 step-3.txt", "step-5 step-5.txt", "step-6 step-6.txt", "step-7 step-7.txt", "star star.txt"}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("steps (-want +got):\n%s", diff)
	}
	// strace writes to stderr, where the student's 2> saves it from.
	for file, want := range map[string]string{"step-3.txt": l.samples["ls"], "step-5.txt": l.samples["tcpdump"],
		"star.txt": "strace: Process 12 attached\n" + l.samples["strace"], "step-7.txt": l.samples["log"]} {
		b, err := os.ReadFile(filepath.Join(dir, file))
		if err != nil || string(b) != want {
			t.Errorf("%s holds %d bytes (%v), want %d", file, len(b), err, len(want))
		}
	}
	table, _ := os.ReadFile(filepath.Join(dir, "step-6.txt"))
	if !regexp.MustCompile(`(?m)^nginx-distroless   1/1     Running   0          5m\d*s?\s+10\.88\.0\.7   lab-node   <none>           <none>$`).Match(table) {
		t.Errorf("step-6.txt:\n%s", table)
	}
	if !strings.Contains(strings.Join(res[2].Did, "\n"), "nginx master PID 7, worker PID 12 (PID 1 is /pause)") {
		t.Errorf("step-3 did %q", res[2].Did)
	}

	// step-2: one ephemeral container, as kubectl debug --profile=general adds it.
	pod, _ := l.CoreV1().Pods("lab").Get(context.Background(), "nginx-distroless", metav1.GetOptions{})
	if len(pod.Spec.EphemeralContainers) != 1 {
		t.Fatalf("%d ephemeral containers", len(pod.Spec.EphemeralContainers))
	}
	e := pod.Spec.EphemeralContainers[0]
	if !regexp.MustCompile(`^debugger-[a-z0-9]{5}$`).MatchString(e.Name) || e.TargetContainerName != "nginx" || e.Image != "nicolaka/netshoot" ||
		!slices.Contains(e.SecurityContext.Capabilities.Add, "SYS_PTRACE") {
		t.Errorf("ephemeral container %+v", e)
	}

	// step-7: a node debug pod like kubectl's, and the older lab one replaced.
	pods, _ := l.CoreV1().Pods("lab").List(context.Background(), metav1.ListOptions{})
	var debuggers []string
	for _, p := range pods.Items {
		if !strings.HasPrefix(p.Name, kube.NodeDebuggerPrefix) {
			continue
		}
		debuggers = append(debuggers, p.Name)
		if kube.IsManaged(&p) && (!p.Spec.HostPID || p.Spec.Volumes[0].HostPath.Path != "/" || p.Spec.Containers[0].VolumeMounts[0].MountPath != "/host" || p.Spec.NodeName != "lab-node") {
			t.Errorf("node debug pod %s: %+v", p.Name, p.Spec)
		}
	}
	if len(debuggers) != 2 || !slices.Contains(debuggers, foreign.Name) || slices.Contains(debuggers, older.Name) {
		t.Errorf("node debuggers after the run: %v (the foreign one kept, the older lab one replaced)", debuggers)
	}

	// Traffic ran during both captures (and before step-7 reads the log, as
	// its solve says), and both captures were interrupted.
	if diff := cmp.Diff([]traffic.Via{traffic.Both, traffic.PortForward, traffic.Both}, l.traffic); diff != "" {
		t.Errorf("traffic (-want +got):\n%s", diff)
	}
	l.mu.Lock()
	if len(l.running) != 0 {
		t.Errorf("captures never interrupted: %v", l.running)
	}
	l.mu.Unlock()

	// A second run reuses the debug container, and refuses to overwrite.
	res = run(t, l, Options{Answers: dir}, "step-2", "step-3")
	if !strings.Contains(res[0].Did[0], "reused the running ephemeral container "+e.Name) {
		t.Errorf("second run: %q", res[0].Did)
	}
	if res[1].OK || !errors.Is(res[1].Err, ErrExists) {
		t.Errorf("step-3 over an existing file: ok %v, %v", res[1].OK, res[1].Err)
	}
	res = run(t, l, Options{Answers: dir, Force: true}, "step-3")
	if !res[0].OK {
		t.Errorf("step-3 --force: %v", res[0].Err)
	}
	entries, _ := os.ReadDir(dir)
	if len(entries) != 5 {
		t.Errorf("the answers folder holds %d entries, want the 5 files (no temporary ones)", len(entries))
	}
}

// A debug container that never starts fails the steps that need it, with
// the reason, and the others still run.
func TestRunWithoutDebugContainer(t *testing.T) {
	l := newFakeLab(t)
	l.noLaunch = true
	dir := t.TempDir()
	steps, _ := checks.Select(builtin(t), []string{"step-2", "step-3", "step-6"})
	res, err := Run(context.Background(), builtin(t), l.env(), Options{Answers: dir, StartTimeout: 30 * time.Millisecond}, steps, nil)
	if err != nil {
		t.Fatal(err)
	}
	if res[0].OK || !strings.Contains(res[0].Err.Error(), "did not start: timed out") {
		t.Errorf("step-2: %v", res[0].Err)
	}
	if res[1].OK || !strings.Contains(res[1].Err.Error(), "needs the debug container") {
		t.Errorf("step-3: %v", res[1].Err)
	}
	if !res[2].OK || !strings.Contains(strings.Join(res[2].Did, "\n"), "needs a node debugger pod on lab-node") {
		t.Errorf("step-6: %v %q", res[2].Err, res[2].Did)
	}
	if _, err := os.Stat(filepath.Join(dir, "step-3.txt")); err == nil {
		t.Error("step-3.txt written without a listing")
	}
}

// A node debug pod that does not finish (a timeout here, a Ctrl-C for a
// student) is deleted, not left to wait for the next run.
func TestNodeDebuggerUnfinished(t *testing.T) {
	l := newFakeLab(t)
	l.noFinish = true
	steps, _ := checks.Select(builtin(t), []string{"step-7"})
	res, err := Run(context.Background(), builtin(t), l.env(), Options{Answers: t.TempDir(), StartTimeout: 30 * time.Millisecond}, steps, nil)
	if err != nil {
		t.Fatal(err)
	}
	if res[0].OK || !strings.Contains(res[0].Err.Error(), "did not finish: timed out after 30ms (deleted it)") {
		t.Errorf("step-7: %v", res[0].Err)
	}
	pods, _ := l.CoreV1().Pods("lab").List(context.Background(), metav1.ListOptions{})
	for _, p := range pods.Items {
		if strings.HasPrefix(p.Name, kube.NodeDebuggerPrefix) {
			t.Errorf("node debug pod %s left behind", p.Name)
		}
	}
}

// A node debug pod someone else deletes while lab solve waits for what it
// prints fails the step with a message saying so, and saves nothing: the
// log it would save is not the whole log.
func TestNodeDebuggerDeleted(t *testing.T) {
	for _, when := range []string{"pending", "failed", "logs"} {
		t.Run(when, func(t *testing.T) {
			l := newFakeLab(t)
			l.deleteNode = when
			dir := t.TempDir()
			res := run(t, l, Options{Answers: dir}, "step-7")
			if res[0].OK || res[0].Err == nil || !strings.Contains(res[0].Err.Error(), "was deleted before lab read what it printed") ||
				!strings.Contains(res[0].Err.Error(), "run lab solve step-7 again") {
				t.Errorf("step-7 with its node debug pod deleted (%s): ok=%v, %v", when, res[0].OK, res[0].Err)
			}
			if _, err := os.Stat(filepath.Join(dir, "step-7.txt")); err == nil {
				t.Error("step-7.txt written though the node debug pod was deleted")
			}
		})
	}
}

func TestExisting(t *testing.T) {
	dir := t.TempDir()
	os.WriteFile(filepath.Join(dir, "step-5.txt"), []byte("mine"), 0o644)
	all, _ := checks.Select(builtin(t), nil)
	if got := Existing(all, dir); len(got) != 1 || got[0] != filepath.Join(dir, "step-5.txt") {
		t.Errorf("Existing = %v", got)
	}
	steps, _ := checks.Select(builtin(t), []string{"step-3"})
	if got := Existing(steps, dir); got != nil {
		t.Errorf("Existing(step-3) = %v", got)
	}
}

// builtin is the built-in lab's spec, whose solve: actions the tests run.
func builtin(t *testing.T) *spec.Assignment {
	t.Helper()
	l, err := labfolder.Builtin()
	if err != nil {
		t.Fatal(err)
	}
	return l.Spec
}
