// Package live turns what the lab's cluster shows into the checks.Live
// value the grader compares answers with: the verdicts of the live checks
// (the pod shares its PID namespace, an ephemeral debugger targets nginx
// with SYS_PTRACE, a node debugger ran on the pod's node) and the values the
// spec's cross-checks name (${pod.ip}, ${nonce}, …).
//
// It works on a Snapshot of API objects that the caller fetched, so that
// the grader and these rules never talk to a cluster themselves and are
// tested on plain objects.
package live

import (
	"fmt"
	"regexp"
	"slices"
	"strings"

	corev1 "k8s.io/api/core/v1"

	"github.com/k8s-debug-lab/lab/checks"
	"github.com/k8s-debug-lab/lab/checks/spec"
	"github.com/k8s-debug-lab/lab/internal/i18n"
)

// Names of the live checks, as a spec's `live` list writes them.
const (
	PodSharesPID      = "pod-shares-pid"
	EphemeralDebugger = "ephemeral-debugger"
	NodeDebugger      = "node-debugger"
)

// Snapshot is what the caller read from the cluster.
type Snapshot struct {
	// Namespace and PodName say where the lab's pod should be; Container
	// is the one students target (the spec's workload).
	Namespace, PodName, Container string
	// Images are the lab's tools, for the commands the hints suggest.
	Images spec.Images
	// Pod is the lab's pod, nil when it does not exist.
	Pod *corev1.Pod
	// Pods are the other pods that may be node debuggers (kubectl debug
	// node/… names them node-debugger-<node>-<suffix>), from every
	// namespace the caller could list.
	Pods []corev1.Pod
	// Nonce marks this lab's traffic; empty when lab traffic never ran.
	Nonce string
	// TrafficSources are the addresses lab traffic came from, as the pod
	// sees them.
	TrafficSources []string
	// Server is the Server header the lab's server answered lab traffic
	// with ("nginx/1.22.1"); empty when lab traffic never ran or the
	// server sends none.
	Server string
	// Lang is the language of the checks' messages and hints.
	Lang i18n.Lang
}

// For is the snapshot of a's workload in namespace, before anything was
// read: the caller fills in the objects.
func For(a *spec.Assignment, namespace string) Snapshot {
	return Snapshot{Namespace: namespace, PodName: a.Workload.Pod, Container: a.Workload.Container, Images: a.Images}
}

// Evaluate runs every live check on s and collects the live values.
func Evaluate(s Snapshot) *checks.Live {
	l := &checks.Live{
		Checks: map[string]checks.LiveResult{
			PodSharesPID:      podSharesPID(s),
			EphemeralDebugger: ephemeralDebugger(s),
			NodeDebugger:      nodeDebugger(s),
		},
		Vars: map[string][]string{"pod.name": {s.PodName}, "namespace": {s.Namespace}},
	}
	if p := s.Pod; p != nil {
		l.Vars["pod.uid"] = []string{string(p.UID)}
		if p.Status.PodIP != "" {
			l.Vars["pod.ip"] = []string{p.Status.PodIP}
		}
		if p.Spec.NodeName != "" {
			l.Vars["pod.node"] = []string{p.Spec.NodeName}
		}
	}
	if s.Nonce != "" {
		l.Vars["nonce"] = []string{s.Nonce}
	}
	if len(s.TrafficSources) > 0 {
		l.Vars["traffic.sources"] = s.TrafficSources
	}
	if s.Server != "" {
		l.Vars["server"] = []string{s.Server}
		if v, ok := NginxVersion(s.Server); ok {
			l.Vars["nginx.version"] = []string{v}
		}
	}
	return l
}

// nginxServer is the Server header of an nginx that names its version
// (server_tokens on, the default); "nginx" alone (server_tokens off) names
// none.
var nginxServer = regexp.MustCompile(`^nginx/([0-9]+\.[0-9]+\.[0-9]+)(?:$|[ (])`)

// NginxVersion is the version in an nginx's Server header ("nginx/1.22.1"
// gives "1.22.1"), as the answers' nginx.version facts write it. Another
// server's header (BusyBox httpd, Apache) gives none: the nginx rules do
// not apply to it.
func NginxVersion(server string) (string, bool) {
	m := nginxServer.FindStringSubmatch(server)
	if m == nil {
		return "", false
	}
	return m[1], true
}

func missing(s Snapshot) checks.LiveResult {
	p := i18n.For(s.Lang)
	return checks.LiveResult{
		Message: p.Sprintf("the pod %s does not exist in namespace %s", s.PodName, s.Namespace),
		Hint:    p.Sprintf("lab up creates it"),
	}
}

func podSharesPID(s Snapshot) checks.LiveResult {
	p, pr := s.Pod, i18n.For(s.Lang)
	switch {
	case p == nil:
		return missing(s)
	case p.Spec.ShareProcessNamespace == nil || !*p.Spec.ShareProcessNamespace:
		return checks.LiveResult{
			Message: pr.Sprintf("the pod does not share its PID namespace (shareProcessNamespace is not true)"),
			Hint:    pr.Sprintf("lab reset recreates the pod from the lab's manifest"),
		}
	case !slices.ContainsFunc(p.Spec.Containers, func(c corev1.Container) bool { return c.Name == s.Container }):
		return checks.LiveResult{Message: pr.Sprintf("the pod has no container called %s", s.Container), Hint: pr.Sprintf("lab reset recreates the pod from the lab's manifest")}
	case p.Status.Phase != corev1.PodRunning:
		return checks.LiveResult{
			Message: pr.Sprintf("the pod is %s, not Running", p.Status.Phase),
			Hint:    pr.Sprintf("lab status shows why; lab up waits for it"),
		}
	}
	return checks.LiveResult{OK: true}
}

// generalCaps are what kubectl debug --profile=general adds to an
// ephemeral container; SYS_PTRACE is what strace needs.
const ptrace = corev1.Capability("SYS_PTRACE")

func ephemeralDebugger(s Snapshot) checks.LiveResult {
	p, pr := s.Pod, i18n.For(s.Lang)
	if p == nil {
		return missing(s)
	}
	cmd := fmt.Sprintf("kubectl debug -it %s -n %s --image=%s --target=%s --profile=general -- sh", s.PodName, s.Namespace, s.Images.Debugger, s.Container)
	var targeting []corev1.EphemeralContainer
	for _, e := range p.Spec.EphemeralContainers {
		if e.TargetContainerName == s.Container {
			targeting = append(targeting, e)
		}
	}
	if len(targeting) == 0 {
		msg := pr.Sprintf("no ephemeral container targets %s", s.Container)
		if n := len(p.Spec.EphemeralContainers); n > 0 {
			msg += " " + pr.Sprintf("(%d ephemeral containers, none with --target=%s)", n, s.Container)
		}
		return checks.LiveResult{Message: msg, Hint: cmd}
	}
	var withPtrace []string
	for _, e := range targeting {
		if sc := e.SecurityContext; sc != nil && sc.Capabilities != nil && slices.Contains(sc.Capabilities.Add, ptrace) {
			withPtrace = append(withPtrace, e.Name)
		}
	}
	if len(withPtrace) == 0 {
		return checks.LiveResult{
			Message: pr.Sprintf("the debug container %s targets %s but lacks SYS_PTRACE (it was started without --profile=general)", targeting[len(targeting)-1].Name, s.Container),
			Hint:    pr.Sprintf("start another one with --profile=general (an ephemeral container cannot be changed): %s", cmd),
		}
	}
	for _, st := range p.Status.EphemeralContainerStatuses {
		if slices.Contains(withPtrace, st.Name) && (st.State.Running != nil || st.State.Terminated != nil) {
			return checks.LiveResult{OK: true}
		}
	}
	return checks.LiveResult{
		Message: pr.Sprintf("the debug container %s has not started yet", withPtrace[len(withPtrace)-1]),
		Hint:    pr.Sprintf("lab status shows its state (an image that cannot be pulled keeps it waiting)"),
	}
}

func nodeDebugger(s Snapshot) checks.LiveResult {
	p, pr := s.Pod, i18n.For(s.Lang)
	if p == nil {
		return missing(s)
	}
	node := p.Spec.NodeName
	cmd := fmt.Sprintf("kubectl debug node/%s -it --image=%s -- chroot /host", node, s.Images.NodeDebugger)
	if node == "" {
		return checks.LiveResult{Message: pr.Sprintf("the lab's pod is not scheduled on a node yet"), Hint: pr.Sprintf("lab status shows why")}
	}
	var seen []string
	for _, d := range s.Pods {
		if !strings.HasPrefix(d.Name, "node-debugger-") {
			continue
		}
		seen = append(seen, pr.Sprintf("%s on %s", d.Name, d.Spec.NodeName))
		if d.Spec.NodeName != node || !MountsHostRoot(d) || !Started(d) {
			continue
		}
		return checks.LiveResult{OK: true}
	}
	msg := pr.Sprintf("no node debugger pod ran on %s with the node's / at /host", node)
	if len(seen) > 0 {
		msg += " " + pr.Sprintf("(found %s)", strings.Join(seen, ", "))
	}
	return checks.LiveResult{Message: msg, Hint: cmd}
}

// MountsHostRoot reports whether a pod mounts the node's / at /host, as
// kubectl debug node/… does.
func MountsHostRoot(p corev1.Pod) bool {
	var vol string
	for _, v := range p.Spec.Volumes {
		if v.HostPath != nil && v.HostPath.Path == "/" {
			vol = v.Name
		}
	}
	if vol == "" {
		return false
	}
	for _, c := range p.Spec.Containers {
		for _, m := range c.VolumeMounts {
			if m.Name == vol && m.MountPath == "/host" {
				return true
			}
		}
	}
	return false
}

// Started reports whether a container of the pod ran: a node debugger
// that finished counts, one still pulling its image does not.
func Started(p corev1.Pod) bool {
	for _, st := range p.Status.ContainerStatuses {
		if st.State.Running != nil || st.State.Terminated != nil {
			return true
		}
	}
	return false
}
