package kube

import (
	"context"
	"errors"
	"fmt"
	"path"
	"slices"
	"strings"
	"time"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"
)

// Lab's fixed names. The lab's pod and container are its lab folder's
// (spec.Workload), passed in.
const (
	// ManagedByLabel marks everything lab creates; nothing without it is
	// ever deleted.
	ManagedByLabel = "app.kubernetes.io/managed-by"
	// ManagedByValue is ManagedByLabel's value on lab's objects.
	ManagedByValue = "lab"
	// FieldManager is lab's server-side apply field manager.
	FieldManager = "lab"
	// PodLogRoot is where the kubelet keeps pod logs on the node.
	PodLogRoot = "/var/log/pods"
)

// ManagedBySelector selects the objects lab created.
func ManagedBySelector() string { return ManagedByLabel + "=" + ManagedByValue }

// IsManaged reports whether an object carries lab's managed-by label.
func IsManaged(m metav1.Object) bool { return m.GetLabels()[ManagedByLabel] == ManagedByValue }

// kubectl debug's profiles, as they can be recognised on an ephemeral
// container afterwards.
const (
	// ProfileLegacy: no capabilities added. baseline looks the same on an
	// ephemeral container, so it is reported as legacy too.
	ProfileLegacy = "legacy"
	// ProfileGeneral adds SYS_PTRACE: what strace and /proc/<pid>/root need.
	ProfileGeneral = "general"
	// ProfileNetadmin adds NET_ADMIN and NET_RAW.
	ProfileNetadmin = "netadmin"
	// ProfileSysadmin runs the container privileged.
	ProfileSysadmin = "sysadmin"
	// ProfileRestricted runs as non-root with every capability dropped.
	ProfileRestricted = "restricted"
)

// GuessProfile names the kubectl debug profile that would have produced a
// container's securityContext. It is a guess because profiles are not
// recorded on the pod; the capabilities are what matter, and they are
// reported beside it.
func GuessProfile(sc *corev1.SecurityContext) string {
	if sc == nil {
		return ProfileLegacy
	}
	if sc.Privileged != nil && *sc.Privileged {
		return ProfileSysadmin
	}
	var add, drop []corev1.Capability
	if sc.Capabilities != nil {
		add, drop = sc.Capabilities.Add, sc.Capabilities.Drop
	}
	switch {
	case slices.Contains(add, "SYS_PTRACE"):
		return ProfileGeneral
	case slices.Contains(add, "NET_ADMIN") || slices.Contains(add, "NET_RAW"):
		return ProfileNetadmin
	case slices.Contains(drop, "ALL") || (sc.RunAsNonRoot != nil && *sc.RunAsNonRoot):
		return ProfileRestricted
	}
	return ProfileLegacy
}

// Runtime is a node's container runtime and what it implies for the pod's
// log files.
type Runtime struct {
	// Name is containerd, cri-o, docker, or what the node reports.
	Name string `json:"name"`
	// Version is the runtime's version.
	Version string `json:"version,omitempty"`
	// LogFormat is "cri" (containerd, CRI-O: `<time> stdout F <msg>` lines)
	// or "json-file" (docker through cri-dockerd: the files under
	// /var/log/pods are symlinks to docker's json-file logs).
	LogFormat string `json:"logFormat"`
}

// Log formats a runtime implies.
const (
	// LogFormatCRI is the CRI line format of containerd and CRI-O.
	LogFormatCRI = "cri"
	// LogFormatJSONFile is docker's json-file format (cri-dockerd).
	LogFormatJSONFile = "json-file"
)

// ParseRuntime reads a node's containerRuntimeVersion ("containerd://1.7.18",
// "docker://24.0.7", "cri-o://1.30.0").
func ParseRuntime(v string) Runtime {
	name, version, ok := strings.Cut(v, "://")
	if !ok {
		name, version = v, ""
	}
	r := Runtime{Name: name, Version: version, LogFormat: LogFormatCRI}
	if name == "docker" {
		r.LogFormat = LogFormatJSONFile
	}
	return r
}

// NodeFacts are what the lab needs to know about a node.
type NodeFacts struct {
	Name         string  `json:"name"`
	Architecture string  `json:"architecture,omitempty"`
	OS           string  `json:"os,omitempty"`
	Kubelet      string  `json:"kubelet,omitempty"`
	Runtime      Runtime `json:"runtime"`
	// Labels are the node's labels (minikube's minikube.k8s.io/* among them).
	Labels map[string]string `json:"-"`
}

// NodeFactsOf reads a node object.
func NodeFactsOf(n *corev1.Node) NodeFacts {
	info := n.Status.NodeInfo
	return NodeFacts{
		Name:         n.Name,
		Architecture: info.Architecture,
		OS:           info.OperatingSystem,
		Kubelet:      info.KubeletVersion,
		Runtime:      ParseRuntime(info.ContainerRuntimeVersion),
		Labels:       n.Labels,
	}
}

// EphemeralFacts describe one ephemeral container in the lab's pod.
type EphemeralFacts struct {
	Name string `json:"name"`
	// Image is the debugger's image (nicolaka/netshoot, …).
	Image string `json:"image"`
	// Target is the container whose namespaces it joined ("" for none).
	Target string `json:"target,omitempty"`
	// Profile is the kubectl debug profile its securityContext suggests.
	Profile string `json:"profile"`
	// Capabilities are the capabilities it added.
	Capabilities []string `json:"capabilities,omitempty"`
	// State is waiting, running or terminated ("" before the kubelet saw it).
	State string `json:"state,omitempty"`
	// Started is when it started running, if it did.
	Started *time.Time `json:"started,omitempty"`
}

// PodFacts are the facts about the lab's pod that lessons personalise
// commands with and live checks compare answers against.
type PodFacts struct {
	Namespace string `json:"namespace"`
	Name      string `json:"name"`
	UID       string `json:"uid"`
	// Node is the node's name ("" while unscheduled).
	Node string `json:"node,omitempty"`
	// IP is the pod's IP ("" before it has one).
	IP    string `json:"ip,omitempty"`
	Phase string `json:"phase"`
	Ready bool   `json:"ready"`
	// Reason explains a pod that is not ready (ImagePullBackOff, …).
	Reason string `json:"reason,omitempty"`
	// Container is the workload's container, the one students target.
	Container string `json:"container"`
	// Image is the workload container's image.
	Image string `json:"image,omitempty"`
	// ShareProcessNamespace is true for the lab's pod: PID 1 is /pause.
	ShareProcessNamespace bool `json:"shareProcessNamespace"`
	// Managed reports the managed-by label: the pod is lab's.
	Managed bool `json:"managed"`
	// LogDir is the pod's log folder on the node:
	// /var/log/pods/<namespace>_<name>_<uid>; a container's files are in
	// LogDir/<container>/.
	LogDir string `json:"logDir"`
	// NodeFacts are the node's, when it could be read (it needs permission
	// to get nodes, which a namespaced user may lack).
	NodeFacts *NodeFacts `json:"nodeFacts,omitempty"`
	// Ephemeral are the ephemeral containers added to the pod, oldest first.
	// They can never be removed: only recreating the pod clears them.
	Ephemeral []EphemeralFacts `json:"ephemeral,omitempty"`
	// Created is when the pod was created.
	Created time.Time `json:"created"`
	// Restarts counts the workload container's restarts.
	Restarts int32 `json:"restarts"`
}

// ContainerLogDir is the folder holding the workload container's log
// files.
func (p PodFacts) ContainerLogDir() string { return path.Join(p.LogDir, p.Container) }

// ErrNotDeployed means the lab's pod does not exist in the namespace.
var ErrNotDeployed = errors.New("the lab's pod does not exist")

// LabPod reads the lab's pod (name, with the workload's container) in
// namespace and, when allowed, its node. A missing pod is ErrNotDeployed;
// any other failure is wrapped with what was being read.
func LabPod(ctx context.Context, c kubernetes.Interface, namespace, name, container string) (PodFacts, error) {
	cctx, cancel := context.WithTimeout(ctx, CallTimeout)
	defer cancel()
	pod, err := c.CoreV1().Pods(namespace).Get(cctx, name, metav1.GetOptions{})
	if apierrors.IsNotFound(err) {
		return PodFacts{}, fmt.Errorf("pod %s/%s: %w", namespace, name, ErrNotDeployed)
	}
	if err != nil {
		return PodFacts{}, fmt.Errorf("reading pod %s/%s: %w", namespace, name, err)
	}
	f := PodFactsOf(pod, container)
	if pod.Spec.NodeName != "" {
		nctx, cancel := context.WithTimeout(ctx, CallTimeout)
		defer cancel()
		if n, err := c.CoreV1().Nodes().Get(nctx, pod.Spec.NodeName, metav1.GetOptions{}); err == nil {
			nf := NodeFactsOf(n)
			f.NodeFacts = &nf
		}
	}
	return f, nil
}

// PodFactsOf reads the facts a pod object holds by itself (no node);
// container is the workload's.
func PodFactsOf(pod *corev1.Pod, container string) PodFacts {
	f := PodFacts{
		Container:             container,
		Namespace:             pod.Namespace,
		Name:                  pod.Name,
		UID:                   string(pod.UID),
		Node:                  pod.Spec.NodeName,
		IP:                    pod.Status.PodIP,
		Phase:                 string(pod.Status.Phase),
		Ready:                 PodReady(pod),
		Reason:                NotReadyReason(pod),
		ShareProcessNamespace: pod.Spec.ShareProcessNamespace != nil && *pod.Spec.ShareProcessNamespace,
		Managed:               IsManaged(pod),
		LogDir:                path.Join(PodLogRoot, pod.Namespace+"_"+pod.Name+"_"+string(pod.UID)),
		Created:               pod.CreationTimestamp.Time,
	}
	if f.Phase == "" {
		f.Phase = string(corev1.PodPending)
	}
	for _, c := range pod.Spec.Containers {
		if c.Name == container {
			f.Image = c.Image
		}
	}
	for _, s := range pod.Status.ContainerStatuses {
		if s.Name == container {
			f.Restarts = s.RestartCount
		}
	}
	states := map[string]corev1.ContainerState{}
	for _, s := range pod.Status.EphemeralContainerStatuses {
		states[s.Name] = s.State
	}
	for _, e := range pod.Spec.EphemeralContainers {
		ef := EphemeralFacts{
			Name:    e.Name,
			Image:   e.Image,
			Target:  e.TargetContainerName,
			Profile: GuessProfile(e.SecurityContext),
		}
		if sc := e.SecurityContext; sc != nil && sc.Capabilities != nil {
			for _, c := range sc.Capabilities.Add {
				ef.Capabilities = append(ef.Capabilities, string(c))
			}
		}
		if st, ok := states[e.Name]; ok {
			switch {
			case st.Running != nil:
				ef.State = "running"
				t := st.Running.StartedAt.Time
				ef.Started = &t
			case st.Terminated != nil:
				ef.State = "terminated"
				t := st.Terminated.StartedAt.Time
				ef.Started = &t
			case st.Waiting != nil:
				ef.State = "waiting"
			}
		}
		f.Ephemeral = append(f.Ephemeral, ef)
	}
	return f
}

// PodReady reports the pod's Ready condition.
func PodReady(pod *corev1.Pod) bool {
	for _, c := range pod.Status.Conditions {
		if c.Type == corev1.PodReady {
			return c.Status == corev1.ConditionTrue
		}
	}
	return false
}

// ReasonTerminating is NotReadyReason's word for a pod being deleted, as
// kubectl get pod shows it.
const ReasonTerminating = "Terminating"

// NotReadyReason is the most telling reason a pod is not ready: a
// container's waiting or terminated reason (ImagePullBackOff,
// CrashLoopBackOff, …), else the unschedulable condition, else "".
func NotReadyReason(pod *corev1.Pod) string {
	if pod.DeletionTimestamp != nil {
		return ReasonTerminating
	}
	for _, s := range append(slices.Clone(pod.Status.InitContainerStatuses), pod.Status.ContainerStatuses...) {
		if w := s.State.Waiting; w != nil && w.Reason != "" && w.Reason != "ContainerCreating" && w.Reason != "PodInitializing" {
			return w.Reason
		}
		if t := s.State.Terminated; t != nil && t.Reason != "" {
			return t.Reason
		}
	}
	for _, c := range pod.Status.Conditions {
		if c.Type == corev1.PodScheduled && c.Status == corev1.ConditionFalse && c.Reason != "" {
			return c.Reason
		}
	}
	if pod.Status.Reason != "" {
		return pod.Status.Reason
	}
	for _, s := range pod.Status.ContainerStatuses {
		if w := s.State.Waiting; w != nil && w.Reason != "" {
			return w.Reason
		}
	}
	return ""
}
