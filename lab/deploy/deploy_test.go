package deploy

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	clienttesting "k8s.io/client-go/testing"

	"github.com/k8s-debug-lab/lab/checks/spec"
	"github.com/k8s-debug-lab/lab/lab/kube"
	"github.com/k8s-debug-lab/lab/lab/kube/kubetest"
	"github.com/k8s-debug-lab/lab/lab/labfolder"
)

const testNode = kubetest.NodeName

// labPod is the built-in lab's pod and Service.
const labPod = "nginx-distroless"

func newCluster(t *testing.T, objs ...runtime.Object) *kubetest.Cluster {
	return kubetest.New(t, objs...)
}

var writes = kubetest.Writes

func fastOptions() Options {
	return Options{Poll: 5 * time.Millisecond, Timeout: 5 * time.Second}
}

func TestUpDeploysTheLab(t *testing.T) {
	c := newCluster(t)
	res, err := Up(context.Background(), c, fastOptions())
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, ch := range res.Changes {
		got = append(got, ch.String())
	}
	want := []string{"created pod default/nginx-distroless", "created service default/nginx-distroless"}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("changes (-want +got):\n%s", diff)
	}
	if !res.Pod.Ready || res.Pod.Node != testNode || res.Pod.IP != kubetest.PodIP {
		t.Errorf("pod facts %+v", res.Pod)
	}
	pod, err := c.CoreV1().Pods("default").Get(context.Background(), labPod, metav1.GetOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if pod.Spec.ShareProcessNamespace == nil || !*pod.Spec.ShareProcessNamespace {
		t.Error("shareProcessNamespace is not true")
	}
	ctr := pod.Spec.Containers[0]
	if ctr.Name != "nginx" || ctr.Image != "kyos0109/nginx-distroless" || ctr.Ports[0].ContainerPort != 80 {
		t.Errorf("container %s %s %v", ctr.Name, ctr.Image, ctr.Ports)
	}
	if !kube.IsManaged(pod) {
		t.Errorf("pod labels %v lack %s", pod.Labels, kube.ManagedBySelector())
	}
	if len(pod.ManagedFields) == 0 || pod.ManagedFields[0].Manager != kube.FieldManager || pod.ManagedFields[0].Operation != metav1.ManagedFieldsOperationApply {
		t.Errorf("pod not server-side applied by %q: %+v", kube.FieldManager, pod.ManagedFields)
	}
	svc, err := c.CoreV1().Services("default").Get(context.Background(), labPod, metav1.GetOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if svc.Spec.Ports[0].Port != 80 || svc.Spec.Selector["app.kubernetes.io/name"] != pod.Labels["app.kubernetes.io/name"] || !kube.IsManaged(svc) {
		t.Errorf("service %+v does not select the pod on port 80", svc.Spec)
	}
}

func TestUpIsIdempotent(t *testing.T) {
	c := newCluster(t)
	if _, err := Up(context.Background(), c, fastOptions()); err != nil {
		t.Fatal(err)
	}
	c.ClearActions()
	res, err := Up(context.Background(), c, fastOptions())
	if err != nil {
		t.Fatal(err)
	}
	if len(res.Changes) != 0 {
		t.Errorf("second up changed %v", res.Changes)
	}
	if w := writes(c.Actions()); len(w) != 0 {
		t.Errorf("second up wrote to the cluster: %v", w)
	}
	if !res.Pod.Ready {
		t.Error("second up did not report the ready pod")
	}
}

func TestUpRepairsDrift(t *testing.T) {
	tests := []struct {
		name     string
		opts     Options
		mutate   func(*corev1.Pod)
		want     []string
		wantWhy  string
		wantImg  string
		sameUID  bool
		mutateSv func(*corev1.Service)
	}{
		{
			name:    "another image is asked for",
			opts:    Options{NginxImage: "nginx:1.27"},
			want:    []string{"recreated pod"},
			wantWhy: "spec.containers[0].image: want nginx:1.27, have kyos0109/nginx-distroless",
			wantImg: "nginx:1.27",
		},
		{
			name:    "the PID namespace is no longer shared",
			mutate:  func(p *corev1.Pod) { f := false; p.Spec.ShareProcessNamespace = &f },
			want:    []string{"recreated pod"},
			wantWhy: "spec.shareProcessNamespace: want true, have false",
			wantImg: "kyos0109/nginx-distroless",
		},
		{
			name:    "the port was changed",
			mutate:  func(p *corev1.Pod) { p.Spec.Containers[0].Ports[0].ContainerPort = 8080 },
			want:    []string{"recreated pod"},
			wantWhy: "spec.containers[0].ports[0].containerPort: want 80, have 8080",
			wantImg: "kyos0109/nginx-distroless",
		},
		{
			name:    "a label was removed",
			mutate:  func(p *corev1.Pod) { delete(p.Labels, "app.kubernetes.io/name") },
			want:    []string{"updated pod"},
			wantWhy: "metadata.labels.app.kubernetes.io/name: want nginx-distroless, it is not set",
			wantImg: "kyos0109/nginx-distroless",
			sameUID: true,
		},
		{
			name: "ephemeral containers and extra labels are not drift",
			mutate: func(p *corev1.Pod) {
				p.Labels["student"] = "me"
				p.Spec.EphemeralContainers = []corev1.EphemeralContainer{{TargetContainerName: "nginx", EphemeralContainerCommon: corev1.EphemeralContainerCommon{Name: "debugger-abcde", Image: "nicolaka/netshoot"}}}
			},
			wantImg: "kyos0109/nginx-distroless",
			sameUID: true,
		},
		{
			name:     "the service's port was changed",
			mutateSv: func(s *corev1.Service) { s.Spec.Ports[0].Port = 8080 },
			want:     []string{"updated service"},
			wantWhy:  "spec.ports[0].port: want 80, have 8080",
			wantImg:  "kyos0109/nginx-distroless",
			sameUID:  true,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ctx := context.Background()
			c := newCluster(t)
			first, err := Up(ctx, c, fastOptions())
			if err != nil {
				t.Fatal(err)
			}
			if tt.mutate != nil {
				pod, _ := c.CoreV1().Pods("default").Get(ctx, labPod, metav1.GetOptions{})
				tt.mutate(pod)
				c.Update(t, "pods", pod, "default")
			}
			if tt.mutateSv != nil {
				svc, _ := c.CoreV1().Services("default").Get(ctx, labPod, metav1.GetOptions{})
				tt.mutateSv(svc)
				c.Update(t, "services", svc, "default")
			}
			o := fastOptions()
			o.NginxImage = tt.opts.NginxImage
			res, err := Up(ctx, c, o)
			if err != nil {
				t.Fatal(err)
			}
			var got []string
			var why string
			for _, ch := range res.Changes {
				got = append(got, ch.Action+" "+ch.Object.Kind)
				why = ch.Why
			}
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("changes (-want +got):\n%s", diff)
			}
			if !strings.Contains(why, tt.wantWhy) {
				t.Errorf("why %q, want it to contain %q", why, tt.wantWhy)
			}
			pod, _ := c.CoreV1().Pods("default").Get(ctx, labPod, metav1.GetOptions{})
			if pod.Spec.Containers[0].Image != tt.wantImg || !*pod.Spec.ShareProcessNamespace || pod.Spec.Containers[0].Ports[0].ContainerPort != 80 {
				t.Errorf("pod after repair: %s %v %v", pod.Spec.Containers[0].Image, *pod.Spec.ShareProcessNamespace, pod.Spec.Containers[0].Ports)
			}
			if (string(pod.UID) == first.Pod.UID) != tt.sameUID {
				t.Errorf("pod UID %s -> %s; want same UID %v", first.Pod.UID, pod.UID, tt.sameUID)
			}
		})
	}
}

func TestUpRefusesForeignObjects(t *testing.T) {
	foreign := &corev1.Pod{
		ObjectMeta: metav1.ObjectMeta{Name: labPod, Namespace: "default", Labels: map[string]string{"app": "mine"}},
		Spec:       corev1.PodSpec{Containers: []corev1.Container{{Name: "web", Image: "nginx"}}},
	}
	c := newCluster(t, foreign)
	_, err := Up(context.Background(), c, fastOptions())
	var fe *ForeignError
	if !errors.As(err, &fe) {
		t.Fatalf("error %v, want a ForeignError", err)
	}
	if !strings.Contains(err.Error(), "lab did not create it") || !strings.Contains(err.Error(), "--namespace") {
		t.Errorf("message %q does not say what to do", err)
	}
	if w := writes(c.Actions()); len(w) != 0 {
		t.Errorf("up wrote despite the foreign pod: %v", w)
	}
}

func TestUpCreatesItsNamespace(t *testing.T) {
	c := newCluster(t)
	o := fastOptions()
	o.Namespace = "lab-course"
	res, err := Up(context.Background(), c, o)
	if err != nil {
		t.Fatal(err)
	}
	if res.Changes[0].String() != "created namespace lab-course" {
		t.Errorf("first change %v", res.Changes[0])
	}
	ns, _ := c.CoreV1().Namespaces().Get(context.Background(), "lab-course", metav1.GetOptions{})
	if !kube.IsManaged(ns) {
		t.Errorf("namespace labels %v", ns.Labels)
	}
	if res.Pod.Namespace != "lab-course" || res.Pod.LogDir != "/var/log/pods/lab-course_nginx-distroless_"+res.Pod.UID {
		t.Errorf("pod facts %+v", res.Pod)
	}
}

func TestUpExplainsImagePullBackOff(t *testing.T) {
	c := newCluster(t)
	c.FailImage("example.org/amd64-only")
	o := fastOptions()
	o.NginxImage = "example.org/amd64-only"
	_, err := Up(context.Background(), c, o)
	var nr *NotReadyError
	if !errors.As(err, &nr) {
		t.Fatalf("error %v, want a NotReadyError", err)
	}
	if nr.Reason != "ImagePullBackOff" || nr.TimedOut {
		t.Errorf("reason %q, timed out %v", nr.Reason, nr.TimedOut)
	}
	details := nr.Details()
	for _, want := range []string{
		"Failed to pull image", "kubelet", // the events
		"example.org/amd64-only", "(platform)", "linux/arm64", "--nginx-image", // the advice
	} {
		if !strings.Contains(details, want) {
			t.Errorf("details lack %q:\n%s", want, details)
		}
	}
	// The pod stays for the student to inspect: lab up did not fail because
	// of an interrupt.
	if _, err := c.CoreV1().Pods("default").Get(context.Background(), labPod, metav1.GetOptions{}); err != nil {
		t.Errorf("the failing pod was removed: %v", err)
	}
}

// A pull that fails for want of a network names the cause and the ways
// out that need none.
func TestAdviceExplainsOfflinePull(t *testing.T) {
	e := &NotReadyError{Pod: kube.PodFacts{Node: "lab-control-plane"}, Reason: "ImagePullBackOff",
		Message: `Back-off pulling image "kyos0109/nginx-distroless"`,
		Events: []Event{{Type: "Warning", Reason: "Failed", From: "kubelet",
			Message: `Failed to pull image "kyos0109/nginx-distroless": failed to pull and unpack image "docker.io/kyos0109/nginx-distroless:latest": failed to resolve reference "docker.io/kyos0109/nginx-distroless:latest": failed to do request: Head "https://registry-1.docker.io/v2/kyos0109/nginx-distroless/manifests/latest": dial tcp: lookup registry-1.docker.io on 10.96.0.10:53: no such host`}}}
	got := strings.Join(advice(e, "kyos0109/nginx-distroless", "default", spec.Workload{}, nil), "\n")
	for _, want := range []string{"(dns)", "does not resolve", "HTTPS_PROXY", "lab bundle save", "lab up --preload", "--image-archive"} {
		if !strings.Contains(got, want) {
			t.Errorf("advice lacks %q:\n%s", want, got)
		}
	}
	if e.Pull == nil || e.Pull.Cause != "dns" {
		t.Errorf("pull %+v, want the dns cause", e.Pull)
	}
}

func TestUpInterruptedRemovesWhatItCreated(t *testing.T) {
	c := newCluster(t)
	c.HoldImage("slow/image")
	ctx, cancel := context.WithCancel(context.Background())
	o := fastOptions()
	o.NginxImage = "slow/image"
	o.Status = func(msg string) {
		if strings.HasPrefix(msg, "waiting for pod") {
			cancel() // Ctrl-C while waiting for Ready
		}
	}
	_, err := Up(ctx, c, o)
	if !errors.Is(err, context.Canceled) {
		t.Fatalf("error %v, want context.Canceled", err)
	}
	if !strings.Contains(err.Error(), "removed what this command created: [service default/nginx-distroless pod default/nginx-distroless]") {
		t.Errorf("error %q does not say what was removed", err)
	}
	for _, get := range []func() error{
		func() error {
			_, err := c.CoreV1().Pods("default").Get(context.Background(), labPod, metav1.GetOptions{})
			return err
		},
		func() error {
			_, err := c.CoreV1().Services("default").Get(context.Background(), labPod, metav1.GetOptions{})
			return err
		},
	} {
		if err := get(); !apierrors.IsNotFound(err) {
			t.Errorf("an object created before the interrupt is still there (%v)", err)
		}
	}
}

// A Ctrl-C while the pod's creation is on the wire: the API server made it,
// lab never heard back. The pod still goes, so that no half-applied lab (a
// pod without its Service) outlives the interrupt; a pod that is not lab's
// is never touched.
func TestUpInterruptedMidCreate(t *testing.T) {
	for _, managed := range []bool{true, false} {
		t.Run(fmt.Sprintf("managed=%v", managed), func(t *testing.T) {
			c := newCluster(t)
			ctx, cancel := context.WithCancel(context.Background())
			c.PrependReactor("patch", "pods", func(clienttesting.Action) (bool, runtime.Object, error) {
				labels := map[string]string{}
				if managed {
					labels[kube.ManagedByLabel] = kube.ManagedByValue
				}
				pod := &corev1.Pod{ObjectMeta: metav1.ObjectMeta{Name: labPod, Namespace: "default", UID: "made-while-cut-off", Labels: labels}}
				if err := c.Tracker().Add(pod); err != nil {
					t.Error(err)
				}
				cancel()
				return true, nil, context.Canceled
			})
			_, err := Up(ctx, c, fastOptions())
			if !errors.Is(err, context.Canceled) {
				t.Fatalf("error %v, want context.Canceled", err)
			}
			_, gerr := c.CoreV1().Pods("default").Get(context.Background(), labPod, metav1.GetOptions{})
			switch {
			case managed && !apierrors.IsNotFound(gerr):
				t.Errorf("the pod whose creation was cut off is still there (%v); %v", gerr, err)
			case managed && !strings.Contains(err.Error(), "removed what this command created: [pod default/nginx-distroless]"):
				t.Errorf("error %q does not say what was removed", err)
			case !managed && gerr != nil:
				t.Errorf("a pod that is not lab's was removed: %v", gerr)
			}
		})
	}
}

func TestUpInterruptedKeepsWhatWasThere(t *testing.T) {
	c := newCluster(t)
	if _, err := Up(context.Background(), c, fastOptions()); err != nil {
		t.Fatal(err)
	}
	c.HoldImage("slow/image")
	ctx, cancel := context.WithCancel(context.Background())
	o := fastOptions()
	o.NginxImage = "slow/image"
	o.Status = func(msg string) {
		if strings.HasPrefix(msg, "waiting for pod") {
			cancel()
		}
	}
	if _, err := Up(ctx, c, o); !errors.Is(err, context.Canceled) {
		t.Fatalf("error %v, want context.Canceled", err)
	}
	// The recreated pod was this command's and went; the Service was
	// there before and stays.
	if _, err := c.CoreV1().Services("default").Get(context.Background(), labPod, metav1.GetOptions{}); err != nil {
		t.Errorf("the service that existed before was removed: %v", err)
	}
}

func TestResetRecreatesThePod(t *testing.T) {
	ctx := context.Background()
	c := newCluster(t)
	first, err := Up(ctx, c, fastOptions())
	if err != nil {
		t.Fatal(err)
	}
	res, err := Reset(ctx, c, fastOptions())
	if err != nil {
		t.Fatal(err)
	}
	if len(res.Changes) != 1 || res.Changes[0].String() != "recreated pod default/nginx-distroless (lab reset)" {
		t.Errorf("changes %v", res.Changes)
	}
	if res.Pod.UID == first.Pod.UID {
		t.Error("reset kept the pod's UID")
	}
}

// A pod its node never stops (a kubelet gone, a network namespace it
// cannot remove) stays Terminating: lab says where to look, and it is not
// taken for a cluster that stopped answering (exit 3).
func TestResetSaysWhenTheOldPodStaysTerminating(t *testing.T) {
	ctx := context.Background()
	c := newCluster(t)
	if _, err := Up(ctx, c, fastOptions()); err != nil {
		t.Fatal(err)
	}
	c.PrependReactor("delete", "pods", func(clienttesting.Action) (bool, runtime.Object, error) {
		return true, nil, nil // accepted, never gone
	})
	o := fastOptions()
	o.Timeout = 50 * time.Millisecond
	_, err := Reset(ctx, c, o)
	if err == nil || !strings.Contains(err.Error(), "pod default/nginx-distroless is still being deleted after 50ms; kubectl describe pod nginx-distroless -n default shows why") {
		t.Errorf("reset with a pod that never goes: %v", err)
	}
	if kube.LostCluster(err) {
		t.Errorf("LostCluster(%v) = true: a slow node is not a lost cluster", err)
	}
}

func TestDownDeletesOnlyLabsObjects(t *testing.T) {
	ctx := context.Background()
	other := &corev1.Pod{ObjectMeta: metav1.ObjectMeta{Name: "students-own", Namespace: "default"}}
	c := newCluster(t, other)
	if _, err := Up(ctx, c, fastOptions()); err != nil {
		t.Fatal(err)
	}
	plan, err := PlanDown(ctx, c, fastOptions())
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, o := range plan.Delete {
		got = append(got, o.String())
	}
	if diff := cmp.Diff([]string{"pod default/nginx-distroless", "service default/nginx-distroless"}, got); diff != "" {
		t.Errorf("plan (-want +got):\n%s", diff)
	}
	if plan.DeleteNamespace {
		t.Error("plan deletes the default namespace")
	}
	if _, err := Down(ctx, c, plan, fastOptions()); err != nil {
		t.Fatal(err)
	}
	if _, err := c.CoreV1().Pods("default").Get(ctx, "students-own", metav1.GetOptions{}); err != nil {
		t.Errorf("down deleted a pod lab did not create: %v", err)
	}
	if _, err := c.CoreV1().Pods("default").Get(ctx, labPod, metav1.GetOptions{}); !apierrors.IsNotFound(err) {
		t.Errorf("lab's pod survived down: %v", err)
	}
}

func TestDownRefusesForeignObjects(t *testing.T) {
	ctx := context.Background()
	foreignPod := &corev1.Pod{ObjectMeta: metav1.ObjectMeta{Name: labPod, Namespace: "default"}}
	foreignSvc := &corev1.Service{ObjectMeta: metav1.ObjectMeta{Name: labPod, Namespace: "default", Labels: map[string]string{kube.ManagedByLabel: "helm"}}}
	c := newCluster(t, foreignPod, foreignSvc)
	plan, err := PlanDown(ctx, c, fastOptions())
	if err != nil {
		t.Fatal(err)
	}
	if len(plan.Delete) != 0 || len(plan.Foreign) != 2 || !plan.Empty() {
		t.Fatalf("plan %+v: want nothing to delete and two foreign objects", plan)
	}
	if _, err := Down(ctx, c, plan, fastOptions()); err != nil {
		t.Fatal(err)
	}
	if w := writes(c.Actions()); len(w) != 0 {
		t.Errorf("down wrote: %v", w)
	}
}

func TestDownSparesAReplacedObject(t *testing.T) {
	ctx := context.Background()
	c := newCluster(t)
	if _, err := Up(ctx, c, fastOptions()); err != nil {
		t.Fatal(err)
	}
	plan, err := PlanDown(ctx, c, fastOptions())
	if err != nil {
		t.Fatal(err)
	}
	// Between the plan and the deletion, someone replaced lab's pod.
	_ = c.CoreV1().Pods("default").Delete(ctx, labPod, metav1.DeleteOptions{})
	_, _ = c.CoreV1().Pods("default").Create(ctx, &corev1.Pod{ObjectMeta: metav1.ObjectMeta{Name: labPod, Namespace: "default", UID: "someone-elses"}}, metav1.CreateOptions{})
	if _, err := Down(ctx, c, plan, fastOptions()); err != nil {
		t.Fatal(err)
	}
	if p, err := c.CoreV1().Pods("default").Get(ctx, labPod, metav1.GetOptions{}); err != nil || p.UID != "someone-elses" {
		t.Errorf("the replacing pod was deleted (%v)", err)
	}
}

func TestDownRemovesItsNamespaceOnlyWhenEmpty(t *testing.T) {
	for _, extra := range []bool{false, true} {
		t.Run(map[bool]string{false: "empty", true: "holding a student's config map"}[extra], func(t *testing.T) {
			ctx := context.Background()
			c := newCluster(t)
			o := fastOptions()
			o.Namespace = "lab-x"
			if _, err := Up(ctx, c, o); err != nil {
				t.Fatal(err)
			}
			if extra {
				_, _ = c.CoreV1().ConfigMaps("lab-x").Create(ctx, &corev1.ConfigMap{ObjectMeta: metav1.ObjectMeta{Name: "notes"}}, metav1.CreateOptions{})
			}
			plan, err := PlanDown(ctx, c, o)
			if err != nil {
				t.Fatal(err)
			}
			res, err := Down(ctx, c, plan, o)
			if err != nil {
				t.Fatal(err)
			}
			_, nerr := c.CoreV1().Namespaces().Get(ctx, "lab-x", metav1.GetOptions{})
			if extra {
				if nerr != nil || !strings.Contains(res.KeptNamespace, "configmap notes") {
					t.Errorf("namespace: %v; kept: %q", nerr, res.KeptNamespace)
				}
			} else if !apierrors.IsNotFound(nerr) {
				t.Errorf("empty lab namespace kept: %v %q", nerr, res.KeptNamespace)
			}
		})
	}
}

func TestTheChosenImageStaysChosen(t *testing.T) {
	ctx := context.Background()
	c := newCluster(t)
	o := fastOptions()
	o.NginxImage = "registry.example/nginx-distroless:arm64"
	if _, err := Up(ctx, c, o); err != nil {
		t.Fatal(err)
	}
	c.ClearActions()
	res, err := Up(ctx, c, fastOptions())
	if err != nil {
		t.Fatal(err)
	}
	if len(res.Changes) != 0 || res.Image != o.NginxImage || !res.ImageKept {
		t.Errorf("up without --nginx-image: changes %v, image %s", res.Changes, res.Image)
	}
	// Changed by hand (a pod's image is mutable): repaired to lab's choice.
	pod, _ := c.CoreV1().Pods("default").Get(ctx, labPod, metav1.GetOptions{})
	pod.Spec.Containers[0].Image = "nginx:latest"
	c.Update(t, "pods", pod, "default")
	if res, err = Reset(ctx, c, fastOptions()); err != nil {
		t.Fatal(err)
	}
	pod, _ = c.CoreV1().Pods("default").Get(ctx, labPod, metav1.GetOptions{})
	if pod.Spec.Containers[0].Image != o.NginxImage {
		t.Errorf("after reset the image is %s, want %s", pod.Spec.Containers[0].Image, o.NginxImage)
	}
}

func TestAMistypedImageIsNotKept(t *testing.T) {
	ctx := context.Background()
	c := newCluster(t)
	c.FailImage("nginx-distroles")
	o := fastOptions()
	o.NginxImage = "nginx-distroles"
	if _, err := Up(ctx, c, o); !IsNotReady(err) {
		t.Fatalf("error %v, want NotReady", err)
	}
	res, err := Up(ctx, c, fastOptions())
	if err != nil {
		t.Fatal(err)
	}
	if res.Image != DefaultImage(builtinLab(t)) || res.ImageKept || len(res.Changes) != 1 || res.Changes[0].Action != "recreated" {
		t.Errorf("image %s (kept %v), changes %v", res.Image, res.ImageKept, res.Changes)
	}
}

// On a cluster made seconds ago, admission refuses pods until the
// namespace's default service account exists: lab up waits for it.
func TestUpWaitsForTheDefaultServiceAccount(t *testing.T) {
	serviceAccountPoll = time.Millisecond
	c := newCluster(t)
	refusals := 0
	c.PrependReactor("patch", "pods", func(action clienttesting.Action) (bool, runtime.Object, error) {
		if refusals < 3 {
			refusals++
			return true, nil, apierrors.NewForbidden(corev1.Resource("pods"), labPod,
				errors.New(`error looking up service account default/default: serviceaccount "default" not found`))
		}
		return false, nil, nil
	})
	if _, err := Up(context.Background(), c, fastOptions()); err != nil {
		t.Fatalf("lab up did not wait for the service account: %v", err)
	}
	if refusals != 3 {
		t.Errorf("refused %d times, want 3", refusals)
	}
	// Any other refusal is not waited for.
	c2 := newCluster(t)
	c2.PrependReactor("patch", "pods", func(clienttesting.Action) (bool, runtime.Object, error) {
		return true, nil, apierrors.NewForbidden(corev1.Resource("pods"), labPod, errors.New("exceeded quota"))
	})
	if _, err := Up(context.Background(), c2, fastOptions()); err == nil || !strings.Contains(err.Error(), "exceeded quota") {
		t.Errorf("a quota refusal: %v", err)
	}
}

func builtinLab(t *testing.T) *labfolder.Lab {
	t.Helper()
	l, err := labfolder.Builtin()
	if err != nil {
		t.Fatal(err)
	}
	return l
}

// A lab folder's own manifests: its pod, Service and ConfigMap are
// deployed with lab's label in the lab's namespace, and down removes the
// three and nothing else.
func TestUpAndDownALabFolder(t *testing.T) {
	ctx := context.Background()
	l, err := labfolder.Open("../../test/labs/httpd")
	if err != nil {
		t.Fatal(err)
	}
	other := &corev1.ConfigMap{ObjectMeta: metav1.ObjectMeta{Name: "students-own", Namespace: "lab-httpd"}}
	c := newCluster(t, other)
	o := fastOptions()
	o.Lab, o.Namespace = l, "lab-httpd"
	res, err := Up(ctx, c, o)
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, ch := range res.Changes {
		got = append(got, ch.String())
	}
	// The ConfigMap before the pod that mounts it.
	want := []string{"created namespace lab-httpd", "created configmap lab-httpd/web-content", "created pod lab-httpd/web", "created service lab-httpd/web"}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("changes (-want +got):\n%s", diff)
	}
	cm, err := c.CoreV1().ConfigMaps("lab-httpd").Get(ctx, "web-content", metav1.GetOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if !kube.IsManaged(cm) || !strings.Contains(cm.Data["index.html"], "BusyBox httpd") {
		t.Errorf("configmap %v %q", cm.Labels, cm.Data)
	}
	pod, err := c.CoreV1().Pods("lab-httpd").Get(ctx, "web", metav1.GetOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if ctr := pod.Spec.Containers[0]; ctr.Name != "httpd" || ctr.Ports[0].ContainerPort != 8080 || !kube.IsManaged(pod) {
		t.Errorf("pod %v, container %s %v", pod.Labels, ctr.Name, ctr.Ports)
	}
	// A second up changes nothing, the ConfigMap included.
	res, err = Up(ctx, c, o)
	if err != nil {
		t.Fatal(err)
	}
	if len(res.Changes) != 0 {
		t.Errorf("second up changed %v", res.Changes)
	}
	plan, err := PlanDown(ctx, c, o)
	if err != nil {
		t.Fatal(err)
	}
	got = nil
	for _, d := range plan.Delete {
		got = append(got, d.String())
	}
	if diff := cmp.Diff([]string{"pod lab-httpd/web", "service lab-httpd/web", "configmap lab-httpd/web-content"}, got); diff != "" {
		t.Errorf("down's plan (-want +got):\n%s", diff)
	}
	if _, err := Down(ctx, c, plan, o); err != nil {
		t.Fatal(err)
	}
	if _, err := c.CoreV1().ConfigMaps("lab-httpd").Get(ctx, "students-own", metav1.GetOptions{}); err != nil {
		t.Errorf("down deleted a ConfigMap lab did not create: %v", err)
	}
	if _, err := c.CoreV1().ConfigMaps("lab-httpd").Get(ctx, "web-content", metav1.GetOptions{}); !apierrors.IsNotFound(err) {
		t.Errorf("the lab's ConfigMap survived down: %v", err)
	}
}
