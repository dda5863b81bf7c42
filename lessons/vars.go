package lessons

import (
	"fmt"
	"slices"
	"strconv"
	"strings"
	"text/template"
)

// DefaultDebugger is the name the lessons give the ephemeral debug
// container (kubectl debug -c debugger), so that later commands can
// `kubectl exec -c debugger` into it.
const DefaultDebugger = "debugger"

// DefaultPod and DefaultContainer are the built-in lab's workload, for
// Vars that do not name one.
const (
	DefaultPod       = "nginx-distroless"
	DefaultContainer = "nginx"
)

// Vars are the facts about one student's lab that lessons put into their
// commands. An empty field is unknown: its placeholder stays in the text in
// a form that says how to find the value, e.g.
// <POD_UID: kubectl get pod nginx-distroless -o jsonpath='{.metadata.uid}'>.
type Vars struct {
	// Namespace holds the lab's pod.
	Namespace string
	// Pod is the lab's pod; empty means DefaultPod, the name the lab's
	// manifest gives it.
	Pod string
	// Container is the workload's container, the one students target;
	// empty means DefaultContainer.
	Container string
	// PodUID is the pod's metadata.uid: part of its log folder's name.
	PodUID string
	// Node runs the pod.
	Node string
	// PodIP is the pod's status.podIP.
	PodIP string
	// Runtime is the node's status.nodeInfo.containerRuntimeVersion
	// ("containerd://1.7.18", "docker://27.4.0"): it decides the log
	// file's format.
	Runtime string
	// Debugger is the running ephemeral container to exec into; empty
	// means DefaultDebugger, the name the lessons create it with.
	Debugger string
	// MasterPID and WorkerPID are nginx's processes as the debug container
	// sees them; 0 is unknown.
	MasterPID, WorkerPID int
}

// Placeholders are the names a lesson may use as {{.Name}}.
var Placeholders = []string{
	"Namespace", "Pod", "Container", "PodUID", "Node", "PodIP", "LogDir", "Runtime", "LogFormat",
	"Debugger", "MasterPID", "WorkerPID",
}

// hints say, per language, how to find a value that is unknown. %[1]s is
// the pod and %[2]s the namespace flag (" -n ns" when it is known).
var hints = map[Lang]map[string]string{
	English: {
		"Namespace": "<NAMESPACE: default, or the one you gave lab up --namespace>",
		"PodUID":    "<POD_UID: kubectl get pod %[1]s%[2]s -o jsonpath='{.metadata.uid}'>",
		"Node":      "<NODE: the NODE column of kubectl get pod %[1]s%[2]s -o wide>",
		"PodIP":     "<POD_IP: the IP column of kubectl get pod %[1]s%[2]s -o wide>",
		"Runtime":   "<RUNTIME: the CONTAINER-RUNTIME column of kubectl get nodes -o wide>",
		"LogFormat": "<LOG_FORMAT: CRI lines on containerd and CRI-O, json-file lines on docker>",
		"MasterPID": `<MASTER_PID: the PID of "nginx: master process" in ps>`,
		"WorkerPID": `<WORKER_PID: the PID of "nginx: worker process" in ps>`,
	},
	Russian: {
		"Namespace": "<NAMESPACE: default или тот, что вы дали lab up --namespace>",
		"PodUID":    "<POD_UID: kubectl get pod %[1]s%[2]s -o jsonpath='{.metadata.uid}'>",
		"Node":      "<NODE: колонка NODE в kubectl get pod %[1]s%[2]s -o wide>",
		"PodIP":     "<POD_IP: колонка IP в kubectl get pod %[1]s%[2]s -o wide>",
		"Runtime":   "<RUNTIME: колонка CONTAINER-RUNTIME в kubectl get nodes -o wide>",
		"LogFormat": "<LOG_FORMAT: строки CRI у containerd и CRI-O, строки json-file у docker>",
		"MasterPID": `<MASTER_PID: PID процесса "nginx: master process" в выводе ps>`,
		"WorkerPID": `<WORKER_PID: PID процесса "nginx: worker process" в выводе ps>`,
	},
}

// Data is what the placeholders stand for in lang: the value where it is
// known, otherwise a hint that says how to find it.
func (v Vars) Data(lang Lang) map[string]string {
	h := hints[lang]
	if h == nil {
		h = hints[English]
	}
	pod := v.Pod
	if pod == "" {
		pod = DefaultPod
	}
	nsFlag := ""
	if v.Namespace != "" {
		nsFlag = " -n " + v.Namespace
	}
	or := func(val, key string) string {
		if val != "" {
			return val
		}
		if strings.Contains(h[key], "%[") {
			return fmt.Sprintf(h[key], pod, nsFlag)
		}
		return h[key]
	}
	pid := func(n int, key string) string {
		if n > 0 {
			return strconv.Itoa(n)
		}
		return h[key]
	}
	container := v.Container
	if container == "" {
		container = DefaultContainer
	}
	d := map[string]string{
		"Namespace": or(v.Namespace, "Namespace"),
		"Pod":       pod,
		"Container": container,
		"PodUID":    or(v.PodUID, "PodUID"),
		"Node":      or(v.Node, "Node"),
		"PodIP":     or(v.PodIP, "PodIP"),
		"Runtime":   or(v.Runtime, "Runtime"),
		"LogFormat": or(LogFormat(v.Runtime), "LogFormat"),
		"Debugger":  v.Debugger,
		"MasterPID": pid(v.MasterPID, "MasterPID"),
		"WorkerPID": pid(v.WorkerPID, "WorkerPID"),
	}
	if d["Debugger"] == "" {
		d["Debugger"] = DefaultDebugger
	}
	// The kubelet names a pod's log folder <namespace>_<pod>_<uid>, and the
	// container's inside it.
	d["LogDir"] = "/var/log/pods/" + d["Namespace"] + "_" + d["Pod"] + "_" + d["PodUID"] + "/" + container + "/"
	return d
}

// LogFormat names the format of the pod's log files that a container
// runtime writes, from the node's containerRuntimeVersion; "" when the
// runtime is unknown.
func LogFormat(runtime string) string {
	name, _, _ := strings.Cut(runtime, "://")
	switch name {
	case "":
		return ""
	case "docker":
		// cri-dockerd links /var/log/pods/…/0.log to docker's own json-file log.
		return "json-file"
	}
	// containerd, CRI-O and other CRI runtimes write the CRI format.
	return "CRI"
}

// Personalise fills the lesson's placeholders from v. A placeholder that is
// not one of Placeholders is an error naming the file and line: a typo must
// never reach a student as an empty command.
func (l Lesson) Personalise(v Vars) (string, error) {
	t, err := template.New(l.Path).Option("missingkey=error").Parse(l.Markdown)
	if err != nil {
		return "", fmt.Errorf("%w (a lesson may use %s)", err, placeholderList())
	}
	var b strings.Builder
	if err := t.Execute(&b, v.Data(l.Lang)); err != nil {
		return "", fmt.Errorf("%w (a lesson may use %s)", err, placeholderList())
	}
	return b.String(), nil
}

func placeholderList() string {
	names := slices.Clone(Placeholders)
	for i, n := range names {
		names[i] = "{{." + n + "}}"
	}
	return strings.Join(names, ", ")
}
