package solve

import (
	"fmt"
	"io"
	"strconv"
	"strings"
	"text/tabwriter"
	"time"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/util/duration"
)

// wideColumns are the columns of `kubectl get pod -o wide`.
var wideColumns = []string{"NAME", "READY", "STATUS", "RESTARTS", "AGE", "IP", "NODE", "NOMINATED NODE", "READINESS GATES"}

// WritePodTable writes pods as `kubectl get pod -o wide` prints them: the
// same columns, the same STATUS and RESTARTS wording, ages in kubectl's
// short form, and kubectl's column layout (cells padded to the widest with
// three spaces between), so that the reference answer reads exactly like
// the one a student saves.
func WritePodTable(w io.Writer, pods []corev1.Pod, now time.Time) error {
	// kubectl's tabwriter: minimum width 6, tab width 4, padding 3.
	tw := tabwriter.NewWriter(w, 6, 4, 3, ' ', 0)
	fmt.Fprintln(tw, strings.Join(wideColumns, "\t"))
	for i := range pods {
		fmt.Fprintln(tw, strings.Join(podRow(&pods[i], now), "\t"))
	}
	return tw.Flush()
}

func podRow(p *corev1.Pod, now time.Time) []string {
	ready, status, restarts := podStatus(p, now)
	ip := p.Status.PodIP
	if len(p.Status.PodIPs) > 0 {
		ip = p.Status.PodIPs[0].IP
	}
	return []string{
		p.Name,
		ready,
		status,
		restarts,
		since(p.CreationTimestamp.Time, now),
		orNone(ip),
		orNone(p.Spec.NodeName),
		orNone(p.Status.NominatedNodeName),
		readinessGates(p),
	}
}

func orNone(s string) string {
	if s == "" {
		return "<none>"
	}
	return s
}

// since is kubectl's age: "<unknown>" for no time, else its short human
// duration ("13s", "8m56s", "3d4h").
func since(t, now time.Time) string {
	if t.IsZero() {
		return "<unknown>"
	}
	return duration.HumanDuration(now.Sub(t))
}

// podStatus computes READY, STATUS and RESTARTS the way kubectl's pod
// printer does: the phase (or the pod's reason), overridden by a failing
// or unfinished init container, then by the last container's waiting or
// terminated reason; a pod whose containers completed while one still runs
// reads Running or NotReady; a deleted pod reads Terminating.
func podStatus(p *corev1.Pod, now time.Time) (ready, status, restarts string) {
	total := len(p.Spec.Containers)
	sidecars := map[string]bool{}
	for _, c := range p.Spec.InitContainers {
		if c.RestartPolicy != nil && *c.RestartPolicy == corev1.ContainerRestartPolicyAlways {
			sidecars[c.Name] = true
			total++
		}
	}
	reason := string(p.Status.Phase)
	if p.Status.Reason != "" {
		reason = p.Status.Reason
	}
	for _, c := range p.Status.Conditions {
		if c.Type == corev1.PodScheduled && c.Reason == corev1.PodReasonSchedulingGated {
			reason = corev1.PodReasonSchedulingGated
		}
	}
	nReady, nRestarts := 0, 0
	var lastRestart, lastSidecarRestart time.Time
	sidecarRestarts := 0
	later := func(t *time.Time, st corev1.ContainerStatus) {
		if lt := st.LastTerminationState.Terminated; lt != nil && lt.FinishedAt.After(*t) {
			*t = lt.FinishedAt.Time
		}
	}
	initializing := false
	for i, st := range p.Status.InitContainerStatuses {
		nRestarts += int(st.RestartCount)
		later(&lastRestart, st)
		if sidecars[st.Name] {
			sidecarRestarts += int(st.RestartCount)
			later(&lastSidecarRestart, st)
		}
		t, w := st.State.Terminated, st.State.Waiting
		switch {
		case t != nil && t.ExitCode == 0:
			continue
		case sidecars[st.Name] && st.Started != nil && *st.Started:
			if st.Ready {
				nReady++
			}
			continue
		case t != nil:
			reason = "Init:" + terminatedReason(t)
		case w != nil && w.Reason != "" && w.Reason != "PodInitializing":
			reason = "Init:" + w.Reason
		default:
			reason = fmt.Sprintf("Init:%d/%d", i, len(p.Spec.InitContainers))
		}
		initializing = true
		break
	}
	if !initializing || initialized(p) {
		nRestarts, lastRestart = sidecarRestarts, lastSidecarRestart
		running := false
		for i := len(p.Status.ContainerStatuses) - 1; i >= 0; i-- {
			st := p.Status.ContainerStatuses[i]
			nRestarts += int(st.RestartCount)
			later(&lastRestart, st)
			switch {
			case st.State.Waiting != nil && st.State.Waiting.Reason != "":
				reason = st.State.Waiting.Reason
			case st.State.Terminated != nil:
				reason = terminatedReason(st.State.Terminated)
			case st.Ready && st.State.Running != nil:
				running = true
				nReady++
			}
		}
		if reason == "Completed" && running {
			reason = "NotReady"
			if hasCondition(p, corev1.PodReady) {
				reason = "Running"
			}
		}
	}
	if p.DeletionTimestamp != nil {
		switch {
		case p.Status.Reason == "NodeLost":
			reason = "Unknown"
		case p.Status.Phase != corev1.PodSucceeded && p.Status.Phase != corev1.PodFailed:
			reason = "Terminating"
		}
	}
	restarts = strconv.Itoa(nRestarts)
	if nRestarts != 0 && !lastRestart.IsZero() {
		restarts = fmt.Sprintf("%d (%s ago)", nRestarts, since(lastRestart, now))
	}
	return fmt.Sprintf("%d/%d", nReady, total), reason, restarts
}

func terminatedReason(t *corev1.ContainerStateTerminated) string {
	switch {
	case t.Reason != "":
		return t.Reason
	case t.Signal != 0:
		return fmt.Sprintf("Signal:%d", t.Signal)
	}
	return fmt.Sprintf("ExitCode:%d", t.ExitCode)
}

func initialized(p *corev1.Pod) bool { return hasCondition(p, corev1.PodInitialized) }

// hasCondition reports a condition that is True.
func hasCondition(p *corev1.Pod, t corev1.PodConditionType) bool {
	for _, c := range p.Status.Conditions {
		if c.Type == t {
			return c.Status == corev1.ConditionTrue
		}
	}
	return false
}

func readinessGates(p *corev1.Pod) string {
	if len(p.Spec.ReadinessGates) == 0 {
		return "<none>"
	}
	n := 0
	for _, g := range p.Spec.ReadinessGates {
		if hasCondition(p, g.ConditionType) {
			n++
		}
	}
	return fmt.Sprintf("%d/%d", n, len(p.Spec.ReadinessGates))
}
