package record

import (
	"context"
	"fmt"
	"path"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"

	"github.com/k8s-debug-lab/lab/checks"
	"github.com/k8s-debug-lab/lab/checks/live"
	"github.com/k8s-debug-lab/lab/checks/spec"
	"github.com/k8s-debug-lab/lab/lab/state"
)

// Snapshot rebuilds what the cluster showed as the API objects the live
// checks read, holding only the recorded fields: the same rules
// (checks/live) then judge the record as they judged the cluster, and a
// verdict edited into a record without its evidence does not stand.
func (r *Record) Snapshot(a *spec.Assignment) live.Snapshot {
	c := r.Cluster
	s := live.For(a, c.Namespace)
	s.Nonce = c.Nonce
	runs := make([]state.Run, 0, len(c.Traffic))
	for _, t := range c.Traffic {
		runs = append(runs, state.Run{Via: t.Via, Source: t.Source, Start: t.Start, End: t.End, Sent: t.Sent, OK: t.OK, Server: t.Server})
	}
	recorded := &state.Lab{Traffic: runs}
	s.TrafficSources, s.Server = recorded.Sources(), recorded.Server()
	if p := c.Pod; p != nil {
		shares := p.SharesPID
		pod := &corev1.Pod{
			ObjectMeta: metav1.ObjectMeta{Name: p.Name, Namespace: c.Namespace, UID: types.UID(p.UID)},
			Spec:       corev1.PodSpec{ShareProcessNamespace: &shares, NodeName: p.Node},
			Status:     corev1.PodStatus{Phase: corev1.PodPhase(p.Phase), PodIP: p.IP},
		}
		for _, name := range p.Containers {
			pod.Spec.Containers = append(pod.Spec.Containers, corev1.Container{Name: name})
		}
		for _, d := range c.DebugContainers {
			e := corev1.EphemeralContainer{TargetContainerName: d.Target}
			e.Name, e.Image = d.Name, d.Image
			if len(d.Capabilities) > 0 {
				caps := &corev1.Capabilities{}
				for _, cp := range d.Capabilities {
					caps.Add = append(caps.Add, corev1.Capability(cp))
				}
				e.SecurityContext = &corev1.SecurityContext{Capabilities: caps}
			}
			pod.Spec.EphemeralContainers = append(pod.Spec.EphemeralContainers, e)
			pod.Status.EphemeralContainerStatuses = append(pod.Status.EphemeralContainerStatuses, corev1.ContainerStatus{Name: d.Name, State: containerState(d.State)})
		}
		s.Pod = pod
	}
	for _, d := range c.NodeDebuggers {
		p := corev1.Pod{ObjectMeta: metav1.ObjectMeta{Name: d.Name, Namespace: d.Namespace}, Spec: corev1.PodSpec{NodeName: d.Node}}
		ct := corev1.Container{Name: "debugger"}
		if d.HostRoot {
			p.Spec.Volumes = []corev1.Volume{{Name: "host-root", VolumeSource: corev1.VolumeSource{HostPath: &corev1.HostPathVolumeSource{Path: "/"}}}}
			ct.VolumeMounts = []corev1.VolumeMount{{Name: "host-root", MountPath: "/host"}}
		}
		p.Spec.Containers = []corev1.Container{ct}
		if d.Started {
			p.Status.ContainerStatuses = []corev1.ContainerStatus{{Name: ct.Name, State: containerState("terminated")}}
		}
		s.Pods = append(s.Pods, p)
	}
	return s
}

func containerState(name string) corev1.ContainerState {
	switch name {
	case "running":
		return corev1.ContainerState{Running: &corev1.ContainerStateRunning{}}
	case "terminated":
		return corev1.ContainerState{Terminated: &corev1.ContainerStateTerminated{}}
	case "waiting":
		return corev1.ContainerState{Waiting: &corev1.ContainerStateWaiting{}}
	}
	return corev1.ContainerState{}
}

// Live is what the grader compares answers with: the live checks and the
// cross rules' values, judged on the recorded facts.
func (r *Record) Live(a *spec.Assignment) *checks.Live {
	l := live.Evaluate(r.Snapshot(a))
	l.Recorded = r.Recorded
	return l
}

// Outcome is an answers folder graded without its cluster.
type Outcome struct {
	// Report is the grader's report, with the record's verdicts on the
	// live-only steps and the steps whose files changed failed.
	Report *checks.Report
	// Record is the record graded against; nil without one.
	Record *Record
	// Problems say where the answers and the record disagree: files
	// changed since the record, facts the answers contradict, verdicts
	// the record's own facts do not bear out. Empty when they agree.
	Problems []string
}

// Required is the message of a step failed because the assignment (or
// --require-record) requires a lab record and there is none.
const Required = "no lab record (answers/" + FileName + "), which this assignment requires: " +
	"run lab check where the lab's cluster answers, which writes it, and hand it in with the answers"

// Grade grades the selected steps of an answers folder without a cluster:
// against rec when there is one (nil: none), the record's facts standing
// in for the cluster's. opts.Live is ignored. With required, a missing
// record fails every step that would otherwise pass or be skipped.
func Grade(ctx context.Context, a *spec.Assignment, ids []string, opts checks.Options, rec *Record, required bool) (*Outcome, error) {
	opts.Live = nil
	if rec != nil {
		opts.Live = rec.Live(a)
	}
	rep, err := checks.Grade(ctx, a, ids, opts)
	if err != nil {
		return nil, err
	}
	out := &Outcome{Report: rep, Record: rec}
	if rec == nil {
		if required {
			for i := range rep.Results {
				if res := &rep.Results[i]; res.Status == checks.Pass || res.Status == checks.Skip {
					res.Status, res.Points, res.Message, res.Hint = checks.Fail, 0, Required, ""
				}
			}
			rep.Notes = []string{Required}
			rep.Recount()
		}
		return out, nil
	}
	out.compare(a, opts)
	return out, nil
}

// compare fails the steps whose files are not those the record graded and
// collects every disagreement.
func (o *Outcome) compare(a *spec.Assignment, opts checks.Options) {
	rep, rec := o.Report, o.Record
	answersName := opts.AnswersName
	if answersName == "" {
		answersName = "answers"
	}
	recorded := map[string]File{}
	for _, f := range rec.Files {
		recorded[f.Step] = f
	}
	verdicts := map[string]Step{}
	for _, s := range rec.Steps {
		verdicts[s.Step] = s
	}
	changed := false
	for i := range rep.Results {
		res := &rep.Results[i]
		s, _ := a.Step(res.Step)
		if res.Cross {
			o.Problems = append(o.Problems, fmt.Sprintf("%s: %s", res.Step, res.Message))
		}
		if !s.Graded() {
			if v, ok := verdicts[s.ID]; ok && (v.Status == checks.Pass) != (res.Status == checks.Pass) && res.Status != checks.Skip {
				o.Problems = append(o.Problems, fmt.Sprintf("%s: the record says %s, but the facts it holds say %s", s.ID, v.Status, res.Status))
			}
			continue
		}
		cur, ok := current(opts, s)
		if !ok {
			continue // missing or unreadable: the grader said so already
		}
		was, had := recorded[s.ID]
		name := path.Join(answersName, cur.Name)
		if opts.File != "" {
			name = path.Join(answersName, opts.File)
			if had {
				cur.Name = was.Name // --file stands in for the step's file: its bytes must be the recorded ones
			}
		}
		var why string
		switch {
		case had && was.Name == cur.Name && was.SHA256 == cur.SHA256:
			continue
		case had && was.Name == cur.Name:
			why = fmt.Sprintf("%s changed after the lab record was made (%s)", name, rec.Recorded.Format("2006-01-02 15:04 UTC"))
		case had:
			why = fmt.Sprintf("%s is not the file the lab record graded (%s)", name, path.Join(answersName, was.Name))
		default:
			why = fmt.Sprintf("%s was added after the lab record was made (%s)", name, rec.Recorded.Format("2006-01-02 15:04 UTC"))
		}
		changed = true
		o.Problems = append(o.Problems, why)
		rep.Notes = append(rep.Notes, why)
		if res.Status == checks.Pass {
			res.Status, res.Points, res.Cross = checks.Fail, 0, false
			res.Message = why + ": " + again + " with this file"
			res.Hint = "lab check, where the lab's cluster answers, grades the file against it and records it"
		}
	}
	if changed {
		rep.Recount()
	}
}

// current hashes the file the grader read for step s: --file's (a name in
// opts.Answers, its folder), or the first of the step's files in the
// answers folder.
func current(opts checks.Options, s spec.Step) (File, bool) {
	if opts.File == "" || opts.Answers == nil {
		f, ok := hashAnswer(opts.Answers, s)
		return f, ok
	}
	f, err := opts.Answers.Open(opts.File)
	if err != nil {
		return File{}, false
	}
	defer f.Close()
	sum, size, err := hashFile(f)
	if err != nil {
		return File{}, false
	}
	return File{Step: s.ID, Name: path.Base(opts.File), SHA256: sum, Size: size}, true
}
