// Package kubetest is a fake cluster for the lab's tests: client-go's fake
// clientset (with server-side apply) holding one node and the default
// namespace, and a tiny kubelet that schedules pods onto the node and makes
// them Ready, or makes them fail to pull, or leaves them Pending, per image.
// It also gives the fake what the API server does and the fake tracker does
// not: UIDs for new pods and 409 Conflict for a delete whose UID
// precondition is stale.
package kubetest

import (
	"fmt"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/client-go/kubernetes/fake"
	k8stesting "k8s.io/client-go/testing"
)

// The fake cluster's fixed facts.
const (
	// NodeName is the one node's name.
	NodeName = "lab-control-plane"
	// PodIP is the IP every Ready pod gets.
	PodIP = "10.244.0.7"
)

// Cluster is a fake clientset with a kubelet. Stop it with t.Cleanup,
// which New arranges.
type Cluster struct {
	*fake.Clientset

	mu      sync.Mutex
	failing map[string]bool
	holding map[string]bool

	stop chan struct{}
	wg   sync.WaitGroup
}

var uids atomic.Int64

// Node is the node New adds: arm64, containerd, so that tests see an
// architecture other than the usual amd64.
func Node() *corev1.Node {
	return &corev1.Node{
		ObjectMeta: metav1.ObjectMeta{Name: NodeName, Labels: map[string]string{"kubernetes.io/hostname": NodeName}},
		Status: corev1.NodeStatus{NodeInfo: corev1.NodeSystemInfo{
			Architecture: "arm64", OperatingSystem: "linux", KubeletVersion: "v1.34.4",
			ContainerRuntimeVersion: "containerd://1.7.18",
		}},
	}
}

// New starts a fake cluster holding Node(), the default namespace and objs.
func New(t testing.TB, objs ...runtime.Object) *Cluster {
	t.Helper()
	def := &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: "default"}}
	c := &Cluster{
		Clientset: fake.NewClientset(append([]runtime.Object{Node(), def}, objs...)...),
		failing:   map[string]bool{},
		holding:   map[string]bool{},
		stop:      make(chan struct{}),
	}
	c.PrependReactor("delete", "*", c.deletePrecondition)
	c.wg.Add(1)
	go c.kubelet()
	t.Cleanup(func() { close(c.stop); c.wg.Wait() })
	return c
}

// FailImage makes pods with this image back off pulling it
// (ImagePullBackOff, with the kubelet's Failed event).
func (c *Cluster) FailImage(image string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.failing[image] = true
}

// HoldImage leaves pods with this image Pending, as a slow pull would.
func (c *Cluster) HoldImage(image string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.holding[image] = true
}

// deletePrecondition answers a stale UID precondition with 409 Conflict,
// as the API server does; the fake tracker ignores preconditions.
func (c *Cluster) deletePrecondition(a k8stesting.Action) (bool, runtime.Object, error) {
	d, ok := a.(k8stesting.DeleteActionImpl)
	if !ok || d.DeleteOptions.Preconditions == nil || d.DeleteOptions.Preconditions.UID == nil {
		return false, nil, nil
	}
	obj, err := c.Tracker().Get(d.GetResource(), d.GetNamespace(), d.GetName())
	if err != nil {
		return false, nil, nil
	}
	want := *d.DeleteOptions.Preconditions.UID
	if m, ok := obj.(metav1.Object); ok && m.GetUID() != want {
		return true, nil, apierrors.NewConflict(d.GetResource().GroupResource(), d.GetName(),
			fmt.Errorf("the UID in the precondition (%s) does not match the UID in record (%s)", want, m.GetUID()))
	}
	return false, nil, nil
}

var podsGVR = corev1.SchemeGroupVersion.WithResource("pods")

func (c *Cluster) kubelet() {
	defer c.wg.Done()
	for {
		select {
		case <-c.stop:
			return
		case <-time.After(2 * time.Millisecond):
		}
		list, err := c.Tracker().List(podsGVR, corev1.SchemeGroupVersion.WithKind("Pod"), "")
		if err != nil {
			continue
		}
		for _, p := range list.(*corev1.PodList).Items {
			if p.Status.Phase != "" || len(p.Spec.Containers) == 0 {
				continue
			}
			image := p.Spec.Containers[0].Image
			c.mu.Lock()
			hold, fail := c.holding[image], c.failing[image]
			c.mu.Unlock()
			if hold {
				continue
			}
			pod := p.DeepCopy()
			if pod.UID == "" { // the fake API server assigns none
				pod.UID = types.UID(fmt.Sprintf("0000-uid-%d", uids.Add(1)))
			}
			pod.Spec.NodeName = NodeName
			if fail {
				c.failPull(pod, image)
			} else {
				c.run(pod)
			}
			_ = c.Tracker().Update(podsGVR, pod, pod.Namespace)
		}
	}
}

func (c *Cluster) run(pod *corev1.Pod) {
	now := metav1.Now()
	pod.Status = corev1.PodStatus{
		Phase: corev1.PodRunning, PodIP: PodIP, StartTime: &now,
		Conditions: []corev1.PodCondition{{Type: corev1.PodReady, Status: corev1.ConditionTrue}},
	}
	for _, ctr := range pod.Spec.Containers {
		pod.Status.ContainerStatuses = append(pod.Status.ContainerStatuses, corev1.ContainerStatus{
			Name: ctr.Name, Image: ctr.Image, ImageID: "docker.io/" + ctr.Image + "@sha256:0123", Ready: true,
			State: corev1.ContainerState{Running: &corev1.ContainerStateRunning{StartedAt: now}},
		})
	}
}

func (c *Cluster) failPull(pod *corev1.Pod, image string) {
	pod.Status = corev1.PodStatus{Phase: corev1.PodPending, ContainerStatuses: []corev1.ContainerStatus{{
		Name: pod.Spec.Containers[0].Name, Image: image,
		State: corev1.ContainerState{Waiting: &corev1.ContainerStateWaiting{
			Reason: "ImagePullBackOff", Message: `Back-off pulling image "` + image + `"`,
		}},
	}}}
	_ = c.Tracker().Add(&corev1.Event{
		ObjectMeta:     metav1.ObjectMeta{Name: pod.Name + ".pull", Namespace: pod.Namespace},
		InvolvedObject: corev1.ObjectReference{Kind: "Pod", Name: pod.Name, Namespace: pod.Namespace, UID: pod.UID},
		Type:           corev1.EventTypeWarning, Reason: "Failed", Source: corev1.EventSource{Component: "kubelet"},
		Message:       `Failed to pull image "` + image + `": no matching manifest for linux/arm64 in the manifest list entries`,
		LastTimestamp: metav1.Now(), Count: 3,
	})
}

// Writes lists the actions that changed something ("patch pods",
// "delete services"), for asserting that a command only read.
func Writes(actions []k8stesting.Action) []string {
	var out []string
	for _, a := range actions {
		switch a.GetVerb() {
		case "get", "list", "watch":
			continue
		}
		out = append(out, a.GetVerb()+" "+a.GetResource().Resource)
	}
	return out
}

// Update replaces an object in the tracker, bypassing the API's rules (a
// pod's spec is immutable through the API): for drifting an object.
func (c *Cluster) Update(t testing.TB, resource string, obj runtime.Object, namespace string) {
	t.Helper()
	if err := c.Tracker().Update(corev1.SchemeGroupVersion.WithResource(resource), obj, namespace); err != nil {
		t.Fatal(err)
	}
}
