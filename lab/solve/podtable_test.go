package solve

import (
	"bytes"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/utils/ptr"
)

var now = time.Date(2026, 11, 28, 0, 21, 40, 0, time.UTC)

func runningPod(age time.Duration) corev1.Pod {
	return corev1.Pod{
		ObjectMeta: metav1.ObjectMeta{Name: "nginx-distroless", CreationTimestamp: metav1.NewTime(now.Add(-age))},
		Spec:       corev1.PodSpec{NodeName: "lab-e2e-node", Containers: []corev1.Container{{Name: "nginx"}}},
		Status: corev1.PodStatus{
			Phase: corev1.PodRunning, PodIP: "10.244.0.4", PodIPs: []corev1.PodIP{{IP: "10.244.0.4"}},
			Conditions: []corev1.PodCondition{{Type: corev1.PodReady, Status: corev1.ConditionTrue}},
			ContainerStatuses: []corev1.ContainerStatus{{Name: "nginx", Ready: true,
				State: corev1.ContainerState{Running: &corev1.ContainerStateRunning{}}}},
		},
	}
}

// The table is byte for byte what kubectl 1.34 printed for the same pod on
// the end-to-end cluster (test/e2e/testdata/captured/answers/step-6.txt).
func TestWritePodTableMatchesKubectl(t *testing.T) {
	var b bytes.Buffer
	if err := WritePodTable(&b, []corev1.Pod{runningPod(13 * time.Second)}, now); err != nil {
		t.Fatal(err)
	}
	want := "NAME               READY   STATUS    RESTARTS   AGE   IP           NODE           NOMINATED NODE   READINESS GATES\n" +
		"nginx-distroless   1/1     Running   0          13s   10.244.0.4   lab-e2e-node   <none>           <none>\n"
	if diff := cmp.Diff(want, b.String()); diff != "" {
		t.Errorf("(-want +got):\n%s", diff)
	}
}

func TestPodStatusColumns(t *testing.T) {
	waiting := func(reason string) corev1.ContainerState {
		return corev1.ContainerState{Waiting: &corev1.ContainerStateWaiting{Reason: reason}}
	}
	tests := []struct {
		name   string
		change func(p *corev1.Pod)
		want   []string // READY STATUS RESTARTS AGE IP NODE NOMINATED GATES
	}{
		{"running", func(*corev1.Pod) {}, []string{"1/1", "Running", "0", "8m56s", "10.244.0.4", "lab-e2e-node", "<none>", "<none>"}},
		{"pull back-off", func(p *corev1.Pod) {
			p.Status = corev1.PodStatus{Phase: corev1.PodPending, ContainerStatuses: []corev1.ContainerStatus{{Name: "nginx", State: waiting("ImagePullBackOff")}}}
		}, []string{"0/1", "ImagePullBackOff", "0", "8m56s", "<none>", "lab-e2e-node", "<none>", "<none>"}},
		{"crash loop", func(p *corev1.Pod) {
			p.Status.ContainerStatuses[0] = corev1.ContainerStatus{Name: "nginx", RestartCount: 3, State: waiting("CrashLoopBackOff"),
				LastTerminationState: corev1.ContainerState{Terminated: &corev1.ContainerStateTerminated{FinishedAt: metav1.NewTime(now.Add(-2 * time.Minute))}}}
		}, []string{"0/1", "CrashLoopBackOff", "3 (2m ago)", "8m56s", "10.244.0.4", "lab-e2e-node", "<none>", "<none>"}},
		{"unscheduled", func(p *corev1.Pod) {
			p.Spec.NodeName = ""
			p.Status = corev1.PodStatus{Phase: corev1.PodPending, NominatedNodeName: "node-2"}
		}, []string{"0/1", "Pending", "0", "8m56s", "<none>", "<none>", "node-2", "<none>"}},
		{"terminating", func(p *corev1.Pod) {
			p.DeletionTimestamp = ptr.To(metav1.NewTime(now))
		}, []string{"1/1", "Terminating", "0", "8m56s", "10.244.0.4", "lab-e2e-node", "<none>", "<none>"}},
		{"init container", func(p *corev1.Pod) {
			p.Spec.InitContainers = []corev1.Container{{Name: "setup"}}
			p.Status = corev1.PodStatus{Phase: corev1.PodPending, InitContainerStatuses: []corev1.ContainerStatus{{Name: "setup", State: corev1.ContainerState{Running: &corev1.ContainerStateRunning{}}}}}
		}, []string{"0/1", "Init:0/1", "0", "8m56s", "<none>", "lab-e2e-node", "<none>", "<none>"}},
		{"completed with one running", func(p *corev1.Pod) {
			p.Spec.Containers = append(p.Spec.Containers, corev1.Container{Name: "job"})
			p.Status.ContainerStatuses = append(p.Status.ContainerStatuses, corev1.ContainerStatus{Name: "job",
				State: corev1.ContainerState{Terminated: &corev1.ContainerStateTerminated{Reason: "Completed"}}})
			p.Status.Conditions[0].Status = corev1.ConditionFalse
		}, []string{"1/2", "NotReady", "0", "8m56s", "10.244.0.4", "lab-e2e-node", "<none>", "<none>"}},
		{"readiness gates", func(p *corev1.Pod) {
			p.Spec.ReadinessGates = []corev1.PodReadinessGate{{ConditionType: "lb"}, {ConditionType: "dns"}}
			p.Status.Conditions = append(p.Status.Conditions, corev1.PodCondition{Type: "lb", Status: corev1.ConditionTrue})
		}, []string{"1/1", "Running", "0", "8m56s", "10.244.0.4", "lab-e2e-node", "<none>", "1/2"}},
		{"no creation time", func(p *corev1.Pod) { p.CreationTimestamp = metav1.Time{} },
			[]string{"1/1", "Running", "0", "<unknown>", "10.244.0.4", "lab-e2e-node", "<none>", "<none>"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p := runningPod(8*time.Minute + 56*time.Second)
			tt.change(&p)
			got := podRow(&p, now)
			if diff := cmp.Diff(append([]string{"nginx-distroless"}, tt.want...), got); diff != "" {
				t.Errorf("(-want +got):\n%s", diff)
			}
		})
	}
}
