package live

import (
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/k8s-debug-lab/lab/checks"
	"github.com/k8s-debug-lab/lab/checks/spec"
)

func labPod(mut ...func(*corev1.Pod)) *corev1.Pod {
	share := true
	p := &corev1.Pod{
		ObjectMeta: metav1.ObjectMeta{Name: "nginx-distroless", Namespace: "default", UID: "84d58bd0-ac6b-4cb7-98a3-9b6726cd27ab"},
		Spec: corev1.PodSpec{
			ShareProcessNamespace: &share,
			NodeName:              "lab-node",
			Containers:            []corev1.Container{{Name: "nginx", Image: "kyos0109/nginx-distroless"}},
			EphemeralContainers: []corev1.EphemeralContainer{{
				EphemeralContainerCommon: corev1.EphemeralContainerCommon{
					Name: "debugger-x7k2p", Image: "nicolaka/netshoot",
					SecurityContext: &corev1.SecurityContext{Capabilities: &corev1.Capabilities{Add: []corev1.Capability{"SYS_PTRACE"}}},
				},
				TargetContainerName: "nginx",
			}},
		},
		Status: corev1.PodStatus{
			Phase: corev1.PodRunning, PodIP: "10.88.0.7",
			EphemeralContainerStatuses: []corev1.ContainerStatus{{Name: "debugger-x7k2p", State: corev1.ContainerState{Running: &corev1.ContainerStateRunning{}}}},
		},
	}
	for _, m := range mut {
		m(p)
	}
	return p
}

func nodeDebuggerPod(node string, mountPath string, ran bool) corev1.Pod {
	p := corev1.Pod{
		ObjectMeta: metav1.ObjectMeta{Name: "node-debugger-" + node + "-n47p5", Namespace: "default"},
		Spec: corev1.PodSpec{
			NodeName: node,
			Volumes:  []corev1.Volume{{Name: "host-root", VolumeSource: corev1.VolumeSource{HostPath: &corev1.HostPathVolumeSource{Path: "/"}}}},
			Containers: []corev1.Container{{Name: "debugger", Image: "ubuntu",
				VolumeMounts: []corev1.VolumeMount{{Name: "host-root", MountPath: mountPath}}}},
		},
	}
	if ran {
		p.Status.ContainerStatuses = []corev1.ContainerStatus{{Name: "debugger", State: corev1.ContainerState{Terminated: &corev1.ContainerStateTerminated{ExitCode: 0}}}}
	}
	return p
}

func TestEvaluate(t *testing.T) {
	base := Snapshot{Namespace: "default", PodName: "nginx-distroless", Container: "nginx", Images: spec.DefaultImages}
	with := func(f func(*Snapshot)) Snapshot { s := base; s.Pod = labPod(); f(&s); return s }
	tests := []struct {
		name  string
		snap  Snapshot
		check string
		ok    bool
		msg   string // a substring
	}{
		{"pod missing", base, PodSharesPID, false, "the pod nginx-distroless does not exist in namespace default"},
		{"pod fine", with(func(*Snapshot) {}), PodSharesPID, true, ""},
		{"no shared pid", with(func(s *Snapshot) { s.Pod.Spec.ShareProcessNamespace = nil }), PodSharesPID, false, "does not share its PID namespace"},
		{"pending", with(func(s *Snapshot) { s.Pod.Status.Phase = corev1.PodPending }), PodSharesPID, false, "the pod is Pending, not Running"},
		{"no nginx container", with(func(s *Snapshot) { s.Pod.Spec.Containers[0].Name = "web" }), PodSharesPID, false, "no container called nginx"},
		{"debugger fine", with(func(*Snapshot) {}), EphemeralDebugger, true, ""},
		{"no debugger", with(func(s *Snapshot) { s.Pod.Spec.EphemeralContainers = nil }), EphemeralDebugger, false, "no ephemeral container targets nginx"},
		{"no target", with(func(s *Snapshot) { s.Pod.Spec.EphemeralContainers[0].TargetContainerName = "" }), EphemeralDebugger, false, "(1 ephemeral container, not with --target=nginx)"},
		{"legacy profile", with(func(s *Snapshot) { s.Pod.Spec.EphemeralContainers[0].SecurityContext = nil }), EphemeralDebugger, false, "lacks SYS_PTRACE"},
		{"not started", with(func(s *Snapshot) {
			s.Pod.Status.EphemeralContainerStatuses[0].State = corev1.ContainerState{Waiting: &corev1.ContainerStateWaiting{Reason: "ErrImagePull"}}
		}), EphemeralDebugger, false, "has not started yet"},
		{"node debugger ran", with(func(s *Snapshot) { s.Pods = []corev1.Pod{nodeDebuggerPod("lab-node", "/host", true)} }), NodeDebugger, true, ""},
		{"node debugger elsewhere", with(func(s *Snapshot) { s.Pods = []corev1.Pod{nodeDebuggerPod("minikube", "/host", true)} }), NodeDebugger, false, "(found node-debugger-minikube-n47p5 on minikube)"},
		{"node debugger never ran", with(func(s *Snapshot) { s.Pods = []corev1.Pod{nodeDebuggerPod("lab-node", "/host", false)} }), NodeDebugger, false, "no node debugger pod ran on lab-node"},
		{"no host mount", with(func(s *Snapshot) { s.Pods = []corev1.Pod{nodeDebuggerPod("lab-node", "/mnt", true)} }), NodeDebugger, false, "with the node's / at /host"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := Evaluate(tt.snap).Checks[tt.check]
			if r.OK != tt.ok || !strings.Contains(r.Message, tt.msg) {
				t.Errorf("%s: ok %v %q, want ok %v %q", tt.check, r.OK, r.Message, tt.ok, tt.msg)
			}
			if !r.OK && r.Hint == "" {
				t.Error("a failing live check needs a hint")
			}
		})
	}
}

func TestVars(t *testing.T) {
	l := Evaluate(Snapshot{Namespace: "default", PodName: "nginx-distroless", Container: "nginx", Images: spec.DefaultImages, Pod: labPod(), Nonce: "k3x9abcdef", TrafficSources: []string{"127.0.0.1", "10.88.0.9"}})
	want := map[string][]string{
		"pod.name": {"nginx-distroless"}, "namespace": {"default"}, "pod.uid": {"84d58bd0-ac6b-4cb7-98a3-9b6726cd27ab"},
		"pod.ip": {"10.88.0.7"}, "pod.node": {"lab-node"}, "nonce": {"k3x9abcdef"}, "traffic.sources": {"127.0.0.1", "10.88.0.9"},
	}
	if diff := cmp.Diff(want, l.Vars); diff != "" {
		t.Errorf("vars (-want +got):\n%s", diff)
	}
	var _ *checks.Live = l
}

// TestServerVars: the Server header lab traffic's answers carried becomes
// the lab's nginx version; a server that is not nginx, or an nginx that
// hides its version, gives none and the nginx rules do not apply.
func TestServerVars(t *testing.T) {
	tests := []struct {
		server  string
		version []string
	}{
		{"nginx/1.22.1", []string{"1.22.1"}},          // Debian 12's nginx, as the e2e lab answers
		{"nginx/1.18.0 (Ubuntu)", []string{"1.18.0"}}, // Ubuntu's build names its OS
		{"nginx", nil},                  // server_tokens off
		{"", nil},                       // BusyBox httpd sends no Server header
		{"Apache/2.4.57 (Debian)", nil}, // not nginx
		{"nginx/1.22.", nil},
		{"xnginx/1.22.1", nil},
	}
	for _, tt := range tests {
		t.Run(tt.server, func(t *testing.T) {
			l := Evaluate(Snapshot{Namespace: "default", PodName: "nginx-distroless", Container: "nginx", Pod: labPod(), Server: tt.server})
			if diff := cmp.Diff(tt.version, l.Vars["nginx.version"]); diff != "" {
				t.Errorf("nginx.version (-want +got):\n%s", diff)
			}
			var server []string
			if tt.server != "" {
				server = []string{tt.server}
			}
			if diff := cmp.Diff(server, l.Vars["server"]); diff != "" {
				t.Errorf("server (-want +got):\n%s", diff)
			}
		})
	}
}
