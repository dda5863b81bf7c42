package kube

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	utilrand "k8s.io/apimachinery/pkg/util/rand"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/util/retry"
)

// The images the assignment's debug commands use; --preload loads them.
const (
	// NodeDebuggerPrefix starts the name kubectl debug node/… gives its pod.
	NodeDebuggerPrefix = "node-debugger-"
	// DebuggerPrefix starts the name kubectl debug gives an ephemeral
	// container.
	DebuggerPrefix = "debugger-"
	// HostMount is where a node debug pod sees the node's /.
	HostMount = "/host"
)

// Suffix is the random five-character name suffix kubectl debug uses
// (debugger-x7k2p, node-debugger-<node>-x7k2p).
func Suffix() string { return utilrand.String(5) }

// DebugContainer is the ephemeral container `kubectl debug -it POD
// --image=IMAGE --target=TARGET --profile=general -- sh` adds: stdin and a
// terminal (so that sh waits for input, and the container keeps running
// until someone attaches and exits), and SYS_PTRACE, which the general
// profile adds to an ephemeral container and strace and
// /proc/<pid>/root need. The pull policy is IfNotPresent so that an image
// loaded with lab up --preload is used without a registry.
func DebugContainer(name, image, target string) corev1.EphemeralContainer {
	return corev1.EphemeralContainer{
		EphemeralContainerCommon: corev1.EphemeralContainerCommon{
			Name:                     name,
			Image:                    image,
			ImagePullPolicy:          corev1.PullIfNotPresent,
			Command:                  []string{"sh"},
			Stdin:                    true,
			TTY:                      true,
			TerminationMessagePolicy: corev1.TerminationMessageReadFile,
			SecurityContext: &corev1.SecurityContext{
				Capabilities: &corev1.Capabilities{Add: []corev1.Capability{"SYS_PTRACE"}},
			},
		},
		TargetContainerName: target,
	}
}

// AddDebugContainer adds an ephemeral container to a pod through the
// pods/ephemeralcontainers subresource, as kubectl debug does, retrying
// when the pod changed in between.
func AddDebugContainer(ctx context.Context, c kubernetes.Interface, namespace, pod string, ec corev1.EphemeralContainer) (*corev1.Pod, error) {
	var out *corev1.Pod
	err := retry.RetryOnConflict(retry.DefaultRetry, func() error {
		cctx, cancel := context.WithTimeout(ctx, CallTimeout)
		defer cancel()
		p, err := c.CoreV1().Pods(namespace).Get(cctx, pod, metav1.GetOptions{})
		if err != nil {
			return err
		}
		p.Spec.EphemeralContainers = append(p.Spec.EphemeralContainers, ec)
		out, err = c.CoreV1().Pods(namespace).UpdateEphemeralContainers(cctx, pod, p, metav1.UpdateOptions{FieldManager: FieldManager})
		return err
	})
	if err != nil {
		var status apierrors.APIStatus
		if errors.As(err, &status) && status.Status().Reason == metav1.StatusReasonNotFound && (status.Status().Details == nil || status.Status().Details.Name == "") {
			// kubectl's reading: a 404 without a name is the subresource
			// missing, not the pod.
			return nil, fmt.Errorf("adding ephemeral container %s to %s/%s: ephemeral containers are disabled in this cluster: %w", ec.Name, namespace, pod, err)
		}
		return nil, fmt.Errorf("adding ephemeral container %s to %s/%s: %w", ec.Name, namespace, pod, err)
	}
	return out, nil
}

// stuckWaiting are container waiting reasons that do not fix themselves.
// ErrImagePull is not among them: the kubelet retries once before backing
// off, and ImagePullBackOff follows within seconds.
var stuckWaiting = map[string]bool{
	"ImagePullBackOff":           true,
	"InvalidImageName":           true,
	"ErrImageNeverPull":          true,
	"CreateContainerConfigError": true,
	"CreateContainerError":       true,
	"RunContainerError":          true,
}

// ContainerStuck says why a container will not start on its own, "" when
// it may still.
func ContainerStuck(st corev1.ContainerState) string {
	if w := st.Waiting; w != nil && stuckWaiting[w.Reason] {
		if w.Message != "" {
			return w.Reason + ": " + w.Message
		}
		return w.Reason
	}
	return ""
}

// ErrPodDeleted is WaitPod's error when the pod it waits for is gone:
// someone else's kubectl delete, not a state the pod reached.
var ErrPodDeleted = errors.New("was deleted")

// PollInterval is how often the wait helpers read the pod.
var PollInterval = 250 * time.Millisecond

// WaitPod reads a pod every PollInterval until done says it is done (or
// fails), ctx ends, or timeout passes. The last pod read is returned with
// any error.
func WaitPod(ctx context.Context, c kubernetes.Interface, namespace, name string, timeout time.Duration, done func(*corev1.Pod) (bool, error)) (*corev1.Pod, error) {
	wctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	var last *corev1.Pod
	for {
		cctx, ccancel := context.WithTimeout(wctx, CallTimeout)
		p, err := c.CoreV1().Pods(namespace).Get(cctx, name, metav1.GetOptions{})
		ccancel()
		switch {
		case err == nil:
			last = p
			ok, err := done(p)
			if err != nil || ok {
				return p, err
			}
		case apierrors.IsNotFound(err):
			return last, fmt.Errorf("pod %s/%s %w", namespace, name, ErrPodDeleted)
		case wctx.Err() == nil:
			return last, fmt.Errorf("reading pod %s/%s: %w", namespace, name, err)
		}
		select {
		case <-wctx.Done():
			if ctx.Err() != nil {
				return last, ctx.Err()
			}
			return last, fmt.Errorf("timed out after %s", timeout)
		case <-time.After(PollInterval):
		}
	}
}

// EphemeralRunning is a WaitPod condition: the named ephemeral container
// runs. It fails when the container cannot start or has ended.
func EphemeralRunning(name string) func(*corev1.Pod) (bool, error) {
	return func(p *corev1.Pod) (bool, error) {
		for _, st := range p.Status.EphemeralContainerStatuses {
			if st.Name != name {
				continue
			}
			switch {
			case st.State.Running != nil:
				return true, nil
			case st.State.Terminated != nil:
				t := st.State.Terminated
				return false, fmt.Errorf("ephemeral container %s ended (%s, exit code %d) before it could be used", name, t.Reason, t.ExitCode)
			}
			if why := ContainerStuck(st.State); why != "" {
				return false, fmt.Errorf("ephemeral container %s cannot start: %s", name, why)
			}
		}
		return false, nil
	}
}

// PodFinished is a WaitPod condition: the pod succeeded or failed; a pod
// whose container cannot start fails at once.
func PodFinished(p *corev1.Pod) (bool, error) {
	switch p.Status.Phase {
	case corev1.PodSucceeded, corev1.PodFailed:
		return true, nil
	}
	for _, st := range p.Status.ContainerStatuses {
		if why := ContainerStuck(st.State); why != "" {
			return false, fmt.Errorf("pod %s cannot start: %s", p.Name, why)
		}
	}
	return false, nil
}

// PodStarted is a WaitPod condition: the pod's containers run or have
// already finished.
func PodStarted(p *corev1.Pod) (bool, error) {
	switch p.Status.Phase {
	case corev1.PodRunning, corev1.PodSucceeded, corev1.PodFailed:
		return true, nil
	}
	return PodFinished(p)
}

// ReusableDebugger names a running ephemeral container of the pod that the
// assignment's later steps can use as they are: it targets target, can
// ptrace, and runs image. "" when there is none.
func ReusableDebugger(p *corev1.Pod, image, target string) string {
	running := map[string]bool{}
	for _, st := range p.Status.EphemeralContainerStatuses {
		running[st.Name] = st.State.Running != nil
	}
	best := ""
	for _, e := range p.Spec.EphemeralContainers {
		sc := e.SecurityContext
		if e.TargetContainerName != target || !running[e.Name] || e.Image != image ||
			sc == nil || sc.Capabilities == nil || !slices.Contains(sc.Capabilities.Add, "SYS_PTRACE") {
			continue
		}
		best = e.Name // the newest wins: later ones are appended
	}
	return best
}

// NodeDebugPod is the pod `kubectl debug node/NODE --image=IMAGE
// --profile=general -- COMMAND…` creates: pinned to the node, tolerating
// every taint, in the node's PID, network and IPC namespaces, with the
// node's / mounted at /host, no securityContext of its own (the general
// profile clears it) and restartPolicy Never. Unlike kubectl's it carries
// lab's managed-by label, so that lab down may remove it.
func NodeDebugPod(namespace, node, image string, command []string) *corev1.Pod {
	const volume = "host-root"
	return &corev1.Pod{
		ObjectMeta: metav1.ObjectMeta{
			Name:      NodeDebugPodName(node, Suffix()),
			Namespace: namespace,
			Labels:    map[string]string{ManagedByLabel: ManagedByValue, "app.kubernetes.io/part-of": "lab"},
		},
		Spec: corev1.PodSpec{
			Containers: []corev1.Container{{
				Name:                     "debugger",
				Image:                    image,
				ImagePullPolicy:          corev1.PullIfNotPresent,
				Command:                  command,
				TerminationMessagePolicy: corev1.TerminationMessageReadFile,
				VolumeMounts:             []corev1.VolumeMount{{Name: volume, MountPath: HostMount}},
			}},
			NodeName:      node,
			RestartPolicy: corev1.RestartPolicyNever,
			HostNetwork:   true,
			HostPID:       true,
			HostIPC:       true,
			Tolerations:   []corev1.Toleration{{Operator: corev1.TolerationOpExists}},
			Volumes: []corev1.Volume{{
				Name:         volume,
				VolumeSource: corev1.VolumeSource{HostPath: &corev1.HostPathVolumeSource{Path: "/"}},
			}},
		},
	}
}

// NodeDebugPodName is kubectl's name for a node debug pod. A node name
// long enough to overflow a pod name is cut, as the API would refuse it.
func NodeDebugPodName(node, suffix string) string {
	name := NodeDebuggerPrefix + node + "-" + suffix
	if len(name) > 253 {
		name = strings.TrimRight(name[:253-len(suffix)-1], "-.") + "-" + suffix
	}
	return name
}
