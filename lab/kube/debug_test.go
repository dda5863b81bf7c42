package kube

import (
	"context"
	"errors"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/client-go/kubernetes/fake"
	k8stesting "k8s.io/client-go/testing"
	"k8s.io/utils/ptr"
)

// The ephemeral container is what kubectl debug -it --target=nginx
// --profile=general -- sh adds.
func TestDebugContainer(t *testing.T) {
	got := DebugContainer("debugger-x7k2p", "nicolaka/netshoot", "nginx")
	want := corev1.EphemeralContainer{
		EphemeralContainerCommon: corev1.EphemeralContainerCommon{
			Name: "debugger-x7k2p", Image: "nicolaka/netshoot", ImagePullPolicy: corev1.PullIfNotPresent,
			Command: []string{"sh"}, Stdin: true, TTY: true,
			TerminationMessagePolicy: corev1.TerminationMessageReadFile,
			SecurityContext:          &corev1.SecurityContext{Capabilities: &corev1.Capabilities{Add: []corev1.Capability{"SYS_PTRACE"}}},
		},
		TargetContainerName: "nginx",
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("(-want +got):\n%s", diff)
	}
	if p := GuessProfile(got.SecurityContext); p != ProfileGeneral {
		t.Errorf("lab status would call it %s, want general", p)
	}
}

// The node pod is kubectl debug node/NODE --profile=general's, plus lab's label.
func TestNodeDebugPod(t *testing.T) {
	p := NodeDebugPod("lab", "lab-e2e-node", "ubuntu", []string{"chroot", "/host", "cat", "/etc/hostname"})
	if !regexp.MustCompile(`^node-debugger-lab-e2e-node-[a-z0-9]{5}$`).MatchString(p.Name) {
		t.Errorf("name %q", p.Name)
	}
	s := p.Spec
	if !s.HostPID || !s.HostNetwork || !s.HostIPC || s.NodeName != "lab-e2e-node" || s.RestartPolicy != corev1.RestartPolicyNever {
		t.Errorf("spec %+v", s)
	}
	if diff := cmp.Diff([]corev1.Toleration{{Operator: corev1.TolerationOpExists}}, s.Tolerations); diff != "" {
		t.Errorf("tolerations (-want +got):\n%s", diff)
	}
	if len(s.Volumes) != 1 || s.Volumes[0].HostPath == nil || s.Volumes[0].HostPath.Path != "/" {
		t.Fatalf("volumes %+v", s.Volumes)
	}
	c := s.Containers[0]
	if diff := cmp.Diff([]corev1.VolumeMount{{Name: s.Volumes[0].Name, MountPath: "/host"}}, c.VolumeMounts); diff != "" {
		t.Errorf("mounts (-want +got):\n%s", diff)
	}
	if c.SecurityContext != nil || c.Image != "ubuntu" || strings.Join(c.Command, " ") != "chroot /host cat /etc/hostname" {
		t.Errorf("container %+v", c)
	}
	if !IsManaged(p) || p.Namespace != "lab" {
		t.Errorf("labels %v, namespace %q", p.Labels, p.Namespace)
	}
	long := NodeDebugPodName(strings.Repeat("n", 260), "abcde")
	if len(long) > 253 || !strings.HasSuffix(long, "-abcde") {
		t.Errorf("a long node's pod name %d chars: …%s", len(long), long[len(long)-10:])
	}
}

func debugTarget(eph ...corev1.EphemeralContainer) *corev1.Pod {
	return &corev1.Pod{
		ObjectMeta: metav1.ObjectMeta{Name: podName, Namespace: "default", UID: "u1"},
		Spec: corev1.PodSpec{
			ShareProcessNamespace: ptr.To(true),
			Containers:            []corev1.Container{{Name: "nginx", Image: "kyos0109/nginx-distroless"}},
			EphemeralContainers:   eph,
		},
		Status: corev1.PodStatus{Phase: corev1.PodRunning},
	}
}

func TestAddDebugContainerRetriesOnConflict(t *testing.T) {
	c := fake.NewClientset(debugTarget())
	conflicts := 1
	c.PrependReactor("update", "pods", func(a k8stesting.Action) (bool, runtime.Object, error) {
		if a.GetSubresource() == "ephemeralcontainers" && conflicts > 0 {
			conflicts--
			return true, nil, errConflict()
		}
		return false, nil, nil
	})
	p, err := AddDebugContainer(context.Background(), c, "default", podName, DebugContainer("debugger-abcde", "nicolaka/netshoot", "nginx"))
	if err != nil {
		t.Fatal(err)
	}
	if len(p.Spec.EphemeralContainers) != 1 || p.Spec.EphemeralContainers[0].TargetContainerName != "nginx" {
		t.Errorf("ephemeral containers %+v", p.Spec.EphemeralContainers)
	}
	var sub []string
	for _, a := range c.Actions() {
		if a.GetVerb() == "update" {
			sub = append(sub, a.GetSubresource())
		}
	}
	if diff := cmp.Diff([]string{"ephemeralcontainers", "ephemeralcontainers"}, sub); diff != "" {
		t.Errorf("updates (-want +got):\n%s", diff)
	}
}

func TestEphemeralRunningAndReuse(t *testing.T) {
	dbg := DebugContainer("debugger-aaaaa", "nicolaka/netshoot", "nginx")
	legacy := DebugContainer("debugger-bbbbb", "nicolaka/netshoot", "nginx")
	legacy.SecurityContext = nil
	other := DebugContainer("debugger-ccccc", "busybox", "nginx")
	p := debugTarget(dbg, legacy, other)
	status := func(name string, st corev1.ContainerState) corev1.ContainerStatus {
		return corev1.ContainerStatus{Name: name, State: st}
	}
	running := corev1.ContainerState{Running: &corev1.ContainerStateRunning{StartedAt: metav1.Now()}}

	p.Status.EphemeralContainerStatuses = []corev1.ContainerStatus{
		status("debugger-aaaaa", corev1.ContainerState{Waiting: &corev1.ContainerStateWaiting{Reason: "ContainerCreating"}}),
	}
	if ok, err := EphemeralRunning("debugger-aaaaa")(p); ok || err != nil {
		t.Errorf("creating: %v, %v", ok, err)
	}
	if got := ReusableDebugger(p, "nicolaka/netshoot", "nginx"); got != "" {
		t.Errorf("reused a container that does not run: %s", got)
	}
	p.Status.EphemeralContainerStatuses[0] = status("debugger-aaaaa", corev1.ContainerState{Waiting: &corev1.ContainerStateWaiting{Reason: "ImagePullBackOff", Message: "no such image"}})
	if _, err := EphemeralRunning("debugger-aaaaa")(p); err == nil || !strings.Contains(err.Error(), "ImagePullBackOff: no such image") {
		t.Errorf("back-off: %v", err)
	}
	p.Status.EphemeralContainerStatuses = []corev1.ContainerStatus{
		status("debugger-aaaaa", running), status("debugger-bbbbb", running), status("debugger-ccccc", running),
	}
	if ok, err := EphemeralRunning("debugger-aaaaa")(p); !ok || err != nil {
		t.Errorf("running: %v, %v", ok, err)
	}
	// bbbbb lacks SYS_PTRACE and ccccc is another image: only aaaaa fits.
	if got := ReusableDebugger(p, "nicolaka/netshoot", "nginx"); got != "debugger-aaaaa" {
		t.Errorf("reusable: %q", got)
	}
	p.Status.EphemeralContainerStatuses[0] = status("debugger-aaaaa", corev1.ContainerState{Terminated: &corev1.ContainerStateTerminated{Reason: "Completed"}})
	if _, err := EphemeralRunning("debugger-aaaaa")(p); err == nil || !strings.Contains(err.Error(), "ended (Completed") {
		t.Errorf("ended: %v", err)
	}
}

func TestWaitPod(t *testing.T) {
	saved := PollInterval
	PollInterval = time.Millisecond
	t.Cleanup(func() { PollInterval = saved })
	pod := debugTarget()
	pod.Status.Phase = corev1.PodPending
	c := fake.NewClientset(pod)
	reads := 0
	c.PrependReactor("get", "pods", func(a k8stesting.Action) (bool, runtime.Object, error) {
		reads++
		if reads == 3 {
			done := pod.DeepCopy()
			done.Status.Phase = corev1.PodSucceeded
			return true, done, nil
		}
		return false, nil, nil
	})
	p, err := WaitPod(context.Background(), c, "default", podName, time.Minute, PodFinished)
	if err != nil || p.Status.Phase != corev1.PodSucceeded || reads != 3 {
		t.Errorf("WaitPod: %v, %v after %d reads", p.Status.Phase, err, reads)
	}
	_, err = WaitPod(context.Background(), c, "default", podName, 20*time.Millisecond, func(*corev1.Pod) (bool, error) { return false, nil })
	if err == nil || !strings.Contains(err.Error(), "timed out after 20ms") {
		t.Errorf("timeout: %v", err)
	}
	if _, err := WaitPod(context.Background(), c, "default", "gone", time.Minute, PodFinished); err == nil || !strings.Contains(err.Error(), "was deleted") {
		t.Errorf("missing pod: %v", err)
	}
}

func errConflict() error {
	return apierrors.NewConflict(corev1.Resource("pods"), podName, errors.New("the object has been modified"))
}
