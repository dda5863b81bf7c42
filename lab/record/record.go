// Package record owns the lab record, answers/lab-record.json: what a live
// lab check (or lab solve) saw on the lab's cluster, kept beside the
// answers so that grading without that cluster (lab check --offline, the
// Classroom workflow, lab grade) can still check the answers against it.
//
// A record names the assignment it was made for (name and spec digest),
// the lab that wrote it and when; the cluster facts the live checks and
// the spec's cross rules use (context, the API server's host, the pod's
// name, UID, IP, node, runtime, image and digest, the debug containers,
// the node debuggers, the nonce and lab traffic's runs with the Server
// header nginx answered them with); each step's live
// verdict with its evidence; and the SHA-256 of every answers file it
// graded. It never holds a credential: nothing of the kubeconfig but the
// context's name and the server's host.
//
// A record is not a signature: it is JSON a student can edit. What it buys
// is agreement: offline, the recorded facts must agree with the answers
// (the spec's cross rules run against them) and the answers files must be
// the ones the live check graded. It is written atomically, is bounded by
// MaxSize, and is read back strictly: a format this lab does not know, or
// a record of another assignment, is an error saying what to do.
package record

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"time"
	"unicode/utf8"

	corev1 "k8s.io/api/core/v1"

	"github.com/k8s-debug-lab/lab/checks"
	"github.com/k8s-debug-lab/lab/checks/live"
	"github.com/k8s-debug-lab/lab/checks/spec"
	"github.com/k8s-debug-lab/lab/lab/state"
	"github.com/k8s-debug-lab/lab/lab/version"
)

const (
	// FileName is the record's name inside the answers folder: the one
	// file lab ever writes there.
	FileName = checks.RecordFile
	// Format is the record format this lab writes and reads.
	Format = "lab-record/v1"
	// MaxSize bounds a record: Write refuses to write a larger one and
	// Read to read one.
	MaxSize = 64 << 10
)

// Who wrote a record.
const (
	ByCheck = "lab check"
	BySolve = "lab solve"
)

// Bounds on what a record keeps, so that a cluster with a thousand node
// debug pods or a spec with long messages still gives a small file.
const (
	maxItems   = 8   // containers, debug containers, capabilities, node debuggers
	maxName    = 253 // a Kubernetes name's limit
	maxShort   = 64  // an address, a capability, a runtime, a way of traffic
	maxText    = 512 // images, messages, evidence
	maxServer  = 128 // a Server header
	maxTraffic = state.MaxRuns
)

// Record is the lab record.
type Record struct {
	// Format is always Format.
	Format string `json:"format"`
	// Assignment is the assignment the record was made for.
	Assignment Assignment `json:"assignment"`
	// Lab is the version of lab that wrote it.
	Lab string `json:"lab"`
	// By is the command that wrote it (ByCheck, BySolve).
	By string `json:"by"`
	// Recorded is when the cluster was read, in UTC.
	Recorded time.Time `json:"recorded"`
	// Cluster is what the cluster showed.
	Cluster Cluster `json:"cluster"`
	// Steps are every step's live verdict, in the assignment's order.
	Steps []Step `json:"steps"`
	// Files are the answers files that were graded.
	Files []File `json:"files"`
}

// Assignment names the spec a record was made with.
type Assignment struct {
	Name string `json:"name"`
	// Digest is the spec's spec.Assignment.Digest.
	Digest string `json:"digest"`
}

// Cluster is what the lab's cluster showed at the time of the record.
type Cluster struct {
	// Context is the kubeconfig context's name.
	Context string `json:"context"`
	// Server is the API server's host (and port) only: never its URL's
	// user, path or query.
	Server    string `json:"server"`
	Namespace string `json:"namespace"`
	// Pod is the lab's pod; nil when it did not exist.
	Pod *Pod `json:"pod,omitempty"`
	// DebugContainers are the pod's ephemeral containers, newest last.
	DebugContainers []DebugContainer `json:"debugContainers,omitempty"`
	// NodeDebuggers are the node debug pods (kubectl debug node/…) seen.
	NodeDebuggers []NodeDebugger `json:"nodeDebuggers,omitempty"`
	// Nonce marks this lab's traffic; empty when lab traffic never ran.
	Nonce string `json:"nonce,omitempty"`
	// Traffic are lab traffic's runs, oldest first.
	Traffic []Traffic `json:"traffic,omitempty"`
}

// Pod is the lab's pod.
type Pod struct {
	Name  string `json:"name"`
	UID   string `json:"uid"`
	IP    string `json:"ip,omitempty"`
	Node  string `json:"node,omitempty"`
	Phase string `json:"phase"`
	// SharesPID is spec.shareProcessNamespace.
	SharesPID  bool     `json:"sharesPID"`
	Containers []string `json:"containers"`
	// Runtime is the container runtime, from the container's ID
	// (containerd, cri-o, docker).
	Runtime string `json:"runtime,omitempty"`
	// Image and ImageDigest are the workload container's, as the kubelet
	// reported them (the digest is the image ID's sha256).
	Image       string `json:"image,omitempty"`
	ImageDigest string `json:"imageDigest,omitempty"`
}

// DebugContainer is one ephemeral container of the pod.
type DebugContainer struct {
	Name         string   `json:"name"`
	Image        string   `json:"image"`
	Target       string   `json:"target,omitempty"`
	Capabilities []string `json:"capabilities,omitempty"`
	// State is running, terminated or waiting ("" before the kubelet saw it).
	State string `json:"state,omitempty"`
}

// NodeDebugger is one node debug pod.
type NodeDebugger struct {
	Name      string `json:"name"`
	Namespace string `json:"namespace"`
	Node      string `json:"node"`
	// HostRoot: it mounts the node's / at /host.
	HostRoot bool `json:"hostRoot"`
	// Started: a container of it ran.
	Started bool `json:"started"`
}

// Traffic is one run of lab traffic, one way.
type Traffic struct {
	Via    string    `json:"via"`
	Source string    `json:"source,omitempty"`
	Start  time.Time `json:"start"`
	End    time.Time `json:"end"`
	Sent   int       `json:"sent"`
	OK     int       `json:"ok"`
	// Server is the Server header the answers carried ("nginx/1.22.1"):
	// the nginx version the answers' captures must show. Optional: a
	// server that sends none, and records written before it, have none.
	Server string `json:"server,omitempty"`
}

// Step is one step's verdict when the record was made.
type Step struct {
	Step      string        `json:"step"`
	Status    checks.Status `json:"status"`
	Points    int           `json:"points"`
	MaxPoints int           `json:"maxPoints"`
	Message   string        `json:"message,omitempty"`
	// Evidence is what the cluster showed for the step's live checks (the
	// debug container, its target and capabilities, …).
	Evidence string `json:"evidence,omitempty"`
}

// File is one answers file the record graded.
type File struct {
	// Step is the step the file proves.
	Step string `json:"step"`
	// Name is the file's name in the answers folder.
	Name   string `json:"name"`
	SHA256 string `json:"sha256"`
	Size   int64  `json:"size"`
}

// Input is what a live run saw, for New.
type Input struct {
	// By is the command writing the record (ByCheck, BySolve).
	By string
	// Now is when the cluster was read.
	Now time.Time
	// Context is the kubeconfig context; Server its API server's URL, of
	// which only the host is kept.
	Context, Server string
	// Snapshot is what the cluster showed.
	Snapshot live.Snapshot
	// State is the lab's state (the nonce, the traffic runs); may be nil.
	State *state.Lab
	// Report is the live grading of every step.
	Report *checks.Report
	// Answers is the answers folder the report graded.
	Answers fs.FS
}

// New makes the record of a live run: the files the report graded are
// read again for their SHA-256.
func New(a *spec.Assignment, in Input) (*Record, error) {
	r := &Record{
		Format:     Format,
		Assignment: Assignment{Name: a.Name, Digest: a.Digest},
		Lab:        version.String(),
		By:         in.By,
		Recorded:   in.Now.UTC().Truncate(time.Second),
		Cluster:    clusterOf(in),
		Steps:      []Step{},
		Files:      []File{},
	}
	evidence := evidenceOf(in.Snapshot)
	byID := map[string]checks.Result{}
	if in.Report != nil {
		for _, res := range in.Report.Results {
			byID[res.Step] = res
		}
	}
	for _, s := range a.Steps {
		if f, ok := hashAnswer(in.Answers, s); ok {
			r.Files = append(r.Files, f)
		}
		res, ok := byID[s.ID]
		if !ok {
			continue
		}
		st := Step{Step: s.ID, Status: res.Status, Points: res.Points, MaxPoints: res.MaxPoints, Message: clip(res.Message, maxText)}
		var ev []string
		for _, name := range s.Live {
			if e := evidence[name]; e != "" {
				ev = append(ev, e)
			}
		}
		st.Evidence = clip(strings.Join(ev, "; "), maxText)
		r.Steps = append(r.Steps, st)
	}
	return r, nil
}

// hashAnswer hashes the step's answers file the grader picks: the first
// of its files that exists. One that cannot be read is left out: the
// grader's report says why, and a record cannot vouch for it.
func hashAnswer(fsys fs.FS, s spec.Step) (File, bool) {
	if fsys == nil {
		return File{}, false
	}
	for _, name := range s.Files {
		f, err := fsys.Open(name)
		if errors.Is(err, fs.ErrNotExist) {
			continue
		}
		if err != nil {
			return File{}, false
		}
		sum, size, err := hashFile(f)
		f.Close()
		if err != nil {
			return File{}, false
		}
		return File{Step: s.ID, Name: name, SHA256: sum, Size: size}, true
	}
	return File{}, false
}

func hashFile(f fs.File) (string, int64, error) {
	if fi, err := f.Stat(); err == nil && !fi.Mode().IsRegular() {
		return "", 0, fmt.Errorf("not a regular file")
	}
	h := sha256.New()
	n, err := io.Copy(h, f)
	if err != nil {
		return "", 0, err
	}
	return hex.EncodeToString(h.Sum(nil)), n, nil
}

// serverHost keeps the host and port of the API server's URL: never the
// user information, path or query a URL may carry.
func serverHost(server string) string {
	u, err := url.Parse(server)
	if err != nil || u.Host == "" {
		return ""
	}
	return clip(u.Host, maxName)
}

func clusterOf(in Input) Cluster {
	s := in.Snapshot
	c := Cluster{Context: clip(in.Context, maxName), Server: serverHost(in.Server), Namespace: s.Namespace, Nonce: s.Nonce}
	if p := s.Pod; p != nil {
		rp := &Pod{
			Name: p.Name, UID: string(p.UID), IP: p.Status.PodIP, Node: p.Spec.NodeName,
			Phase:     string(p.Status.Phase),
			SharesPID: p.Spec.ShareProcessNamespace != nil && *p.Spec.ShareProcessNamespace,
		}
		for _, ct := range p.Spec.Containers {
			rp.Containers = append(rp.Containers, clip(ct.Name, maxName))
		}
		rp.Containers = last(rp.Containers, maxItems)
		for _, cs := range p.Status.ContainerStatuses {
			if cs.Name != s.Container {
				continue
			}
			rp.Image = clip(cs.Image, maxText)
			if i := strings.Index(cs.ImageID, "sha256:"); i >= 0 {
				rp.ImageDigest = clip(cs.ImageID[i:], maxName)
			}
			if rt, _, ok := strings.Cut(cs.ContainerID, "://"); ok {
				rp.Runtime = clip(rt, maxShort)
			}
		}
		c.Pod = rp
		states := map[string]string{}
		for _, st := range p.Status.EphemeralContainerStatuses {
			states[st.Name] = stateName(st.State)
		}
		for _, e := range p.Spec.EphemeralContainers {
			d := DebugContainer{Name: clip(e.Name, maxName), Image: clip(e.Image, maxText), Target: clip(e.TargetContainerName, maxName), State: states[e.Name]}
			if sc := e.SecurityContext; sc != nil && sc.Capabilities != nil {
				for _, cp := range last(sc.Capabilities.Add, maxItems) {
					d.Capabilities = append(d.Capabilities, clip(string(cp), maxShort))
				}
			}
			c.DebugContainers = append(c.DebugContainers, d)
		}
		c.DebugContainers = last(c.DebugContainers, maxItems)
	}
	// Node debuggers on the pod's node first: the ones the check reads.
	var on, off []NodeDebugger
	for _, d := range s.Pods {
		nd := NodeDebugger{Name: clip(d.Name, maxName), Namespace: clip(d.Namespace, maxName), Node: clip(d.Spec.NodeName, maxName), HostRoot: live.MountsHostRoot(d), Started: live.Started(d)}
		if c.Pod != nil && nd.Node == c.Pod.Node {
			on = append(on, nd)
		} else {
			off = append(off, nd)
		}
	}
	if nds := append(on, off...); len(nds) > 0 {
		c.NodeDebuggers = nds[:min(len(nds), maxItems)]
	}
	if in.State != nil {
		for _, run := range last(in.State.Traffic, maxTraffic) {
			c.Traffic = append(c.Traffic, Traffic{Via: clip(run.Via, maxShort), Source: clip(run.Source, maxShort), Start: run.Start.UTC(), End: run.End.UTC(), Sent: run.Sent, OK: run.OK, Server: clip(run.Server, maxServer)})
		}
	}
	return c
}

func stateName(s corev1.ContainerState) string {
	switch {
	case s.Running != nil:
		return "running"
	case s.Terminated != nil:
		return "terminated"
	case s.Waiting != nil:
		return "waiting"
	}
	return ""
}

// evidenceOf says, per live check, what the cluster showed for it.
func evidenceOf(s live.Snapshot) map[string]string {
	out := map[string]string{}
	p := s.Pod
	if p == nil {
		return out
	}
	shares := p.Spec.ShareProcessNamespace != nil && *p.Spec.ShareProcessNamespace
	var names []string
	for _, c := range p.Spec.Containers {
		names = append(names, c.Name)
	}
	out[live.PodSharesPID] = fmt.Sprintf("pod %s: shareProcessNamespace %t, containers %s, %s on %s", p.Name, shares, strings.Join(names, ","), p.Status.Phase, p.Spec.NodeName)
	states := map[string]string{}
	for _, st := range p.Status.EphemeralContainerStatuses {
		states[st.Name] = stateName(st.State)
	}
	var eph []string
	for _, e := range p.Spec.EphemeralContainers {
		if e.TargetContainerName != s.Container {
			continue
		}
		var caps []string
		if sc := e.SecurityContext; sc != nil && sc.Capabilities != nil {
			for _, c := range sc.Capabilities.Add {
				caps = append(caps, string(c))
			}
		}
		st := states[e.Name]
		if st == "" {
			st = "not started"
		}
		eph = append(eph, fmt.Sprintf("%s (%s) targets %s, capabilities [%s], %s", e.Name, e.Image, e.TargetContainerName, strings.Join(caps, " "), st))
	}
	if len(eph) > 0 {
		out[live.EphemeralDebugger] = strings.Join(last(eph, 3), "; ")
	}
	var nd []string
	for _, d := range s.Pods {
		if d.Spec.NodeName == p.Spec.NodeName && live.MountsHostRoot(d) && live.Started(d) {
			nd = append(nd, fmt.Sprintf("%s/%s on %s with the node's / at /host", d.Namespace, d.Name, d.Spec.NodeName))
		}
	}
	if len(nd) > 0 {
		out[live.NodeDebugger] = strings.Join(last(nd, 3), "; ")
	}
	return out
}

func last[T any](s []T, n int) []T {
	if len(s) > n {
		return s[len(s)-n:]
	}
	return s
}

// clip cuts s to at most n bytes on a rune boundary.
func clip(s string, n int) string {
	if len(s) <= n {
		return s
	}
	s = s[:n-len("…")]
	for !utf8.ValidString(s) {
		s = s[:len(s)-1]
	}
	return s + "…"
}

// Marshal encodes the record; one that would exceed MaxSize loses its
// steps' messages and evidence (the verdicts stay), and is an error if
// it still does.
func (r *Record) Marshal() ([]byte, error) {
	data, err := json.MarshalIndent(r, "", "  ")
	if err != nil {
		return nil, err
	}
	if len(data) < MaxSize {
		return append(data, '\n'), nil
	}
	short := *r
	short.Steps = slices.Clone(r.Steps)
	for i := range short.Steps {
		short.Steps[i].Message, short.Steps[i].Evidence = "", ""
	}
	if data, err = json.MarshalIndent(&short, "", "  "); err != nil {
		return nil, err
	}
	if len(data) >= MaxSize {
		return nil, fmt.Errorf("the lab record would take %d bytes, more than the %d a record may", len(data), MaxSize)
	}
	return append(data, '\n'), nil
}

// Write writes the record into the answers folder dir, replacing an
// earlier one: a temporary file in dir renamed over FileName, so that a
// Ctrl-C never leaves half a record. Nothing else in dir is touched.
func (r *Record) Write(dir string) error {
	data, err := r.Marshal()
	if err != nil {
		return fmt.Errorf("writing the lab record: %w", err)
	}
	tmp, err := os.CreateTemp(dir, "."+FileName+".*.tmp")
	if err != nil {
		return fmt.Errorf("writing the lab record: %w", err)
	}
	done := false
	defer func() {
		if !done {
			os.Remove(tmp.Name()) // our own temporary file, nothing else
		}
	}()
	if _, err := tmp.Write(data); err != nil {
		tmp.Close()
		return fmt.Errorf("writing the lab record: %w", err)
	}
	if err := tmp.Chmod(0o644); err != nil {
		tmp.Close()
		return fmt.Errorf("writing the lab record: %w", err)
	}
	if err := tmp.Close(); err != nil {
		return fmt.Errorf("writing the lab record: %w", err)
	}
	if err := os.Rename(tmp.Name(), filepath.Join(dir, FileName)); err != nil {
		return fmt.Errorf("writing the lab record: %w", err)
	}
	done = true
	return nil
}

// ErrNone means the answers folder holds no lab record.
var ErrNone = errors.New("no lab record")

// again is what every refusal to read a record tells the student.
const again = "run lab check where the lab's cluster answers to write it again"

// Read reads the record in the answers folder fsys and checks that it is
// one this lab reads, made for a: a missing record is ErrNone; anything
// else that is wrong says what and to run lab check live again.
func Read(fsys fs.FS, a *spec.Assignment) (*Record, error) {
	fi, err := fs.Stat(fsys, FileName)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, ErrNone
	}
	if err != nil {
		return nil, fmt.Errorf("reading the lab record %s: %w", FileName, err)
	}
	if !fi.Mode().IsRegular() {
		return nil, fmt.Errorf("the lab record %s is not a regular file; remove it and %s", FileName, again)
	}
	if fi.Size() > MaxSize {
		return nil, fmt.Errorf("the lab record %s holds %d bytes, more than a record may (%d): it was not written by lab; %s", FileName, fi.Size(), MaxSize, again)
	}
	f, err := fsys.Open(FileName)
	if err != nil {
		return nil, fmt.Errorf("reading the lab record %s: %w", FileName, err)
	}
	defer f.Close()
	data, err := io.ReadAll(io.LimitReader(f, MaxSize+1))
	if err != nil {
		return nil, fmt.Errorf("reading the lab record %s: %w", FileName, err)
	}
	r, err := Decode(data, a)
	if err != nil {
		return nil, fmt.Errorf("the lab record %s: %w", FileName, err)
	}
	return r, nil
}

// Decode parses and validates a record's bytes for assignment a.
func Decode(data []byte, a *spec.Assignment) (*Record, error) {
	if len(data) > MaxSize {
		return nil, fmt.Errorf("%d bytes, more than a record may (%d); %s", len(data), MaxSize, again)
	}
	// The format and assignment first, leniently: a newer format with
	// fields this lab does not know must be named as such.
	var head struct {
		Format     string     `json:"format"`
		Assignment Assignment `json:"assignment"`
	}
	if err := json.Unmarshal(data, &head); err != nil {
		return nil, fmt.Errorf("not a lab record (%v); %s", err, again)
	}
	switch {
	case head.Format == "":
		return nil, fmt.Errorf("not a lab record: it has no format; %s", again)
	case head.Format != Format:
		return nil, fmt.Errorf("format %q, which this lab (%s) does not read (it reads %s); %s with this lab", head.Format, version.String(), Format, again)
	case head.Assignment.Name != a.Name:
		return nil, fmt.Errorf("made for the assignment %q, not %q; %s for this assignment", head.Assignment.Name, a.Name, again)
	case head.Assignment.Digest != a.Digest:
		return nil, fmt.Errorf("made with another version of the assignment %q (spec %s, this one is %s); %s", a.Name, short(head.Assignment.Digest), short(a.Digest), again)
	}
	var r Record
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&r); err != nil {
		return nil, fmt.Errorf("damaged (%v); %s", err, again)
	}
	if dec.More() {
		return nil, fmt.Errorf("damaged (data after the record); %s", again)
	}
	if err := r.validate(a); err != nil {
		return nil, fmt.Errorf("damaged (%v); %s", err, again)
	}
	return &r, nil
}

func short(digest string) string {
	if d, ok := strings.CutPrefix(digest, "sha256:"); ok && len(d) > 12 {
		return "sha256:" + d[:12]
	}
	return digest
}

var hexSHA256 = regexp.MustCompile(`^[0-9a-f]{64}$`)

// validate checks what decoding cannot: the fields a reader relies on.
func (r *Record) validate(a *spec.Assignment) error {
	switch {
	case r.Recorded.IsZero():
		return errors.New("no time")
	case r.By != ByCheck && r.By != BySolve:
		return fmt.Errorf("written by %q, not lab check or lab solve", r.By)
	case r.Cluster.Namespace == "":
		return errors.New("no namespace")
	case r.Cluster.Pod != nil && r.Cluster.Pod.Name != a.Workload.Pod:
		return fmt.Errorf("the pod %q is not the assignment's %q", r.Cluster.Pod.Name, a.Workload.Pod)
	}
	seen := map[string]bool{}
	for _, s := range r.Steps {
		if _, ok := a.Step(s.Step); !ok {
			return fmt.Errorf("a verdict on step %q, which the assignment does not have", s.Step)
		}
		if seen[s.Step] {
			return fmt.Errorf("step %q given twice", s.Step)
		}
		seen[s.Step] = true
		if !slices.Contains([]checks.Status{checks.Pass, checks.Fail, checks.Skip, checks.Error}, s.Status) {
			return fmt.Errorf("step %s: unknown status %q", s.Step, s.Status)
		}
	}
	files := map[string]bool{}
	for _, f := range r.Files {
		st, ok := a.Step(f.Step)
		switch {
		case !ok:
			return fmt.Errorf("a file of step %q, which the assignment does not have", f.Step)
		case !slices.Contains(st.Files, f.Name):
			return fmt.Errorf("the file %q is not one of step %s's", f.Name, f.Step)
		case !hexSHA256.MatchString(f.SHA256):
			return fmt.Errorf("the file %s: %q is not a SHA-256", f.Name, f.SHA256)
		case f.Size < 0:
			return fmt.Errorf("the file %s: a negative size", f.Name)
		case files[f.Step]:
			return fmt.Errorf("two files of step %s", f.Step)
		}
		files[f.Step] = true
	}
	return nil
}
