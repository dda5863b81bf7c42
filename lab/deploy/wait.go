package deploy

import (
	"context"
	"errors"
	"fmt"
	"sort"
	"strings"
	"text/tabwriter"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/duration"
	"k8s.io/client-go/kubernetes"

	"github.com/k8s-debug-lab/lab/checks/spec"
	"github.com/k8s-debug-lab/lab/lab/images"
	"github.com/k8s-debug-lab/lab/lab/kube"
)

// stuckReasons are container states that do not fix themselves: waiting
// longer only delays the bad news. ErrImagePull is not among them: the
// kubelet retries it once before backing off, and the back-off follows
// within seconds.
var stuckReasons = map[string]bool{
	"ImagePullBackOff":           true,
	"InvalidImageName":           true,
	"ErrImageNeverPull":          true,
	"CrashLoopBackOff":           true,
	"CreateContainerConfigError": true,
	"CreateContainerError":       true,
	"RunContainerError":          true,
}

// waitReady reads the pod until it is Ready, stuck, or the timeout passes.
func (d *deployer) waitReady(ctx context.Context) (*corev1.Pod, error) {
	start := time.Now()
	wctx, cancel := context.WithTimeout(ctx, d.o.timeout())
	defer cancel()
	var last *corev1.Pod
	for {
		cctx, ccancel := context.WithTimeout(wctx, kube.CallTimeout)
		pod, err := d.c.CoreV1().Pods(d.ns).Get(cctx, d.w.Pod, metav1.GetOptions{})
		ccancel()
		switch {
		case err == nil:
			last = pod
			if kube.PodReady(pod) {
				return pod, nil
			}
			reason := kube.NotReadyReason(pod)
			if stuckReasons[reason] {
				return pod, d.notReady(ctx, pod, time.Since(start), false)
			}
			d.o.status(waitingLine(pod, reason))
		case wctx.Err() == nil:
			return nil, fmt.Errorf("waiting for pod %s/%s: %w", d.ns, d.w.Pod, err)
		}
		select {
		case <-wctx.Done():
			if ctx.Err() != nil {
				return nil, fmt.Errorf("waiting for pod %s/%s to be Ready: %w", d.ns, d.w.Pod, ctx.Err())
			}
			if last == nil {
				return nil, fmt.Errorf("waiting for pod %s/%s: no answer within %s", d.ns, d.w.Pod, d.o.timeout())
			}
			return last, d.notReady(ctx, last, time.Since(start), true)
		case <-time.After(d.o.poll()):
		}
	}
}

func waitingLine(pod *corev1.Pod, reason string) string {
	what := string(pod.Status.Phase)
	if what == "" {
		what = "Pending"
	}
	if reason != "" {
		what += ", " + reason
	} else if pod.Status.Phase == corev1.PodRunning {
		what += ", waiting for nginx to accept connections"
	}
	return fmt.Sprintf("waiting for pod %s to be Ready (%s)", pod.Name, what)
}

// Event is one of the pod's events, as kubectl describe shows them.
type Event struct {
	Type    string    `json:"type"`
	Reason  string    `json:"reason"`
	Age     string    `json:"age"`
	From    string    `json:"from"`
	Message string    `json:"message"`
	Last    time.Time `json:"-"`
}

// NotReadyError is a pod that did not become Ready: what it is stuck on,
// its events, and what to do about it.
type NotReadyError struct {
	Pod kube.PodFacts
	// Reason is the container's waiting reason (ImagePullBackOff, …) or
	// the pod's condition; Message is what the kubelet said about it.
	Reason, Message string
	// TimedOut is true when the wait ran out rather than the pod being stuck.
	TimedOut bool
	// Waited is how long lab waited.
	Waited time.Duration
	// Events are the pod's events, oldest first.
	Events []Event
	// Advice says what to do, one item per line.
	Advice []string
	// Pull explains a failed pull (nil when the pod is stuck on something
	// else).
	Pull *images.PullFailure `json:"pull,omitempty"`
}

func (e *NotReadyError) Error() string {
	what := "is not Ready"
	if e.TimedOut {
		what = fmt.Sprintf("is not Ready after %s", e.Waited.Round(time.Second))
	}
	msg := fmt.Sprintf("pod %s/%s %s", e.Pod.Namespace, e.Pod.Name, what)
	if e.Reason != "" {
		msg += ": " + e.Reason
		if e.Message != "" {
			msg += ": " + e.Message
		}
	}
	return msg
}

// Details are the events table and the advice, for the terminal.
func (e *NotReadyError) Details() string {
	var b strings.Builder
	if len(e.Events) == 0 {
		b.WriteString("The pod has no events.\n")
	} else {
		b.WriteString("Events of pod " + e.Pod.Name + ":\n")
		tw := tabwriter.NewWriter(&b, 0, 4, 2, ' ', 0)
		fmt.Fprintln(tw, "  TYPE\tREASON\tAGE\tFROM\tMESSAGE")
		for _, ev := range e.Events {
			fmt.Fprintf(tw, "  %s\t%s\t%s\t%s\t%s\n", ev.Type, ev.Reason, ev.Age, ev.From, oneLine(ev.Message))
		}
		tw.Flush()
	}
	if len(e.Advice) > 0 {
		b.WriteString("What to do:\n")
		for _, a := range e.Advice {
			b.WriteString("  - " + a + "\n")
		}
	}
	return b.String()
}

func oneLine(s string) string { return strings.Join(strings.Fields(s), " ") }

// IsNotReady reports whether err is a NotReadyError.
func IsNotReady(err error) bool {
	var e *NotReadyError
	return errors.As(err, &e)
}

// notReady gathers the events and advice for a pod that is not Ready.
func (d *deployer) notReady(ctx context.Context, pod *corev1.Pod, waited time.Duration, timedOut bool) error {
	e := &NotReadyError{Pod: kube.PodFactsOf(pod, d.w.Container), TimedOut: timedOut, Waited: waited}
	e.Reason, e.Message = reasonAndMessage(pod)
	// The command's context may be what ran out; the events are still
	// worth a few seconds.
	ectx, cancel := context.WithTimeout(context.WithoutCancel(ctx), kube.CallTimeout)
	defer cancel()
	e.Events = podEvents(ectx, d.c, pod)
	var node *kube.NodeFacts
	if pod.Spec.NodeName != "" {
		if n, err := d.c.CoreV1().Nodes().Get(ectx, pod.Spec.NodeName, metav1.GetOptions{}); err == nil {
			nf := kube.NodeFactsOf(n)
			node = &nf
		}
	}
	if e.Message == "" {
		// The kubelet's ErrImagePull message (the registry's own words)
		// is in the events once the state has moved on to the back-off.
		for i := len(e.Events) - 1; i >= 0; i-- {
			if e.Events[i].Type == corev1.EventTypeWarning {
				e.Message = oneLine(e.Events[i].Message)
				break
			}
		}
	}
	e.Advice = advice(e, d.m.Image(), d.ns, d.w, node)
	return e
}

func reasonAndMessage(pod *corev1.Pod) (string, string) {
	for _, s := range pod.Status.ContainerStatuses {
		if w := s.State.Waiting; w != nil && w.Reason != "" && w.Reason != "ContainerCreating" {
			return w.Reason, oneLine(w.Message)
		}
		if t := s.LastTerminationState.Terminated; t != nil && !s.Ready {
			return "container exited: " + t.Reason, fmt.Sprintf("exit code %d %s", t.ExitCode, oneLine(t.Message))
		}
	}
	for _, c := range pod.Status.Conditions {
		if c.Status == corev1.ConditionFalse && c.Reason != "" {
			return c.Reason, oneLine(c.Message)
		}
	}
	return kube.NotReadyReason(pod), ""
}

func podEvents(ctx context.Context, c kubernetes.Interface, pod *corev1.Pod) []Event {
	l, err := c.CoreV1().Events(pod.Namespace).List(ctx, metav1.ListOptions{
		FieldSelector: "involvedObject.kind=Pod,involvedObject.name=" + pod.Name,
	})
	if err != nil {
		return []Event{{Type: "Warning", Reason: "EventsUnreadable", From: "lab", Message: err.Error()}}
	}
	var out []Event
	now := time.Now()
	for _, ev := range l.Items {
		// The field selector is not honoured everywhere (fakes, old
		// servers), and an earlier pod of the same name has other events.
		if ev.InvolvedObject.Name != pod.Name || (ev.InvolvedObject.UID != "" && ev.InvolvedObject.UID != pod.UID) {
			continue
		}
		last := ev.LastTimestamp.Time
		if last.IsZero() {
			last = ev.EventTime.Time
		}
		if last.IsZero() {
			last = ev.CreationTimestamp.Time
		}
		from := ev.Source.Component
		if from == "" {
			from = ev.ReportingController
		}
		age := "<unknown>"
		if !last.IsZero() {
			age = duration.HumanDuration(now.Sub(last))
		}
		if ev.Count > 1 {
			age += fmt.Sprintf(" (x%d)", ev.Count)
		}
		out = append(out, Event{Type: ev.Type, Reason: ev.Reason, Age: age, From: from, Message: ev.Message, Last: last})
	}
	sort.SliceStable(out, func(i, j int) bool { return out[i].Last.Before(out[j].Last) })
	return out
}

// pullMessage is the kubelet's reason for a failed pull: the latest
// "Failed to pull image" event (the container's own message says only
// "Back-off pulling image" once the back-off started), else the message.
func pullMessage(e *NotReadyError) string {
	for i := len(e.Events) - 1; i >= 0; i-- {
		if m := e.Events[i].Message; e.Events[i].Type == corev1.EventTypeWarning && strings.Contains(m, "ailed to pull") {
			return m
		}
	}
	return e.Message
}

// advice says what a student can do about a pod that is not Ready.
func advice(e *NotReadyError, image, ns string, w spec.Workload, node *kube.NodeFacts) []string {
	arch := "the node's architecture"
	nodeName := e.Pod.Node
	if node != nil && node.Architecture != "" {
		arch = node.OS + "/" + node.Architecture
	}
	reason := e.Reason
	switch {
	case reason == "ImagePullBackOff" || reason == "ErrImagePull" || (reason == "" && strings.Contains(e.Message, "pull")):
		f := images.ClassifyPull(image, pullMessage(e))
		e.Pull = &f
		out := []string{fmt.Sprintf("node %s could not pull the image %s (%s): %s", nodeName, image, f.Cause, f.Why)}
		if f.Cause == images.Platform || f.Cause == images.Unknown {
			out = append(out, fmt.Sprintf("the image must be published for the node's platform, %s; lab doctor checks this", arch))
		}
		out = append(out, f.WaysOut(true)...)
		if f.Cause != images.NotFound && f.Cause != images.Unauthorized && f.Cause != images.Platform {
			out = append(out, "a tarball from docker save also works: lab up --image-archive FILE (kind); on minikube: minikube image load "+image)
		}
		return out
	case reason == "InvalidImageName":
		return []string{fmt.Sprintf("%q is not a valid image reference: pass a valid one with lab up --nginx-image", image)}
	case reason == "CrashLoopBackOff" || strings.HasPrefix(reason, "container exited"):
		return []string{
			fmt.Sprintf("%[2]s keeps exiting: kubectl logs %[1]s -c %[2]s -n %[3]s --previous shows why", w.Pod, w.Container, ns),
			fmt.Sprintf("an image given with --nginx-image must run in the foreground, listening on port %d", w.Port),
		}
	case reason == "Unschedulable":
		return []string{
			"no node can run the pod: " + e.Message,
			"kubectl describe nodes shows their taints and free resources",
		}
	case reason == "CreateContainerConfigError" || reason == "CreateContainerError" || reason == "RunContainerError":
		return []string{fmt.Sprintf("the container runtime could not start %s: %s", w.Container, e.Message)}
	}
	return []string{
		fmt.Sprintf("kubectl describe pod %s -n %s shows everything the cluster knows", w.Pod, ns),
		"run lab up again once it is fixed (or with a longer --timeout on a slow network); lab doctor checks the usual causes",
	}
}
