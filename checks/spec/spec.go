// Package spec loads and validates an assignment spec (apiVersion lab/v1).
//
// The assignment is data, not code: which steps exist, which answers file
// proves each one, which parser reads it, which matchers must hold, and the
// hint for each known mistake. Instructors write their own specs, so every
// mistake is reported at load time with the file, line and field, the way a
// compiler would, rather than as a wrong verdict in front of forty students.
package spec

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"regexp"
	"slices"
	"strings"

	"go.yaml.in/yaml/v3"

	"github.com/k8s-debug-lab/lab/checks/facts"
	"github.com/k8s-debug-lab/lab/checks/match"
	"github.com/k8s-debug-lab/lab/internal/i18n"
)

// APIVersion is the only spec version this build reads.
const APIVersion = "lab/v1"

// Kind is the spec document's kind.
const Kind = "Assignment"

// FileName is the spec's name inside an assignment folder.
const FileName = "assignment.yaml"

// Assignment is a loaded, validated spec.
type Assignment struct {
	// Name is a short identifier, used in reports.
	Name string `json:"name"`
	// Title is shown to people.
	Title Text `json:"title"`
	// Languages are the languages the spec's texts are written in, the
	// first being the one a plain string is in ([en] when not given).
	Languages []i18n.Lang `json:"languages"`
	// Source says where the spec came from (a path, or "built-in").
	Source string `json:"source"`
	// Digest is "sha256:" and the hex SHA-256 of the spec file's bytes:
	// reports and lab records name the exact spec that graded them, so
	// that two grades can be told apart when the spec changed between.
	Digest string `json:"digest"`
	// Workload is the pod the lab is about: what lab up waits for,
	// students debug, and lab traffic sends requests to.
	Workload Workload `json:"workload"`
	// Images are the images the lab runs besides its manifests'.
	Images Images `json:"images"`
	// Record says whether grading without the lab's cluster needs the
	// lab record a live lab check writes (RecordOptional, RecordRequired).
	Record string `json:"record"`
	// Steps in the order the assignment gives them.
	Steps []Step `json:"steps"`
}

// The values of an assignment's record setting.
const (
	// RecordOptional grades a hand-in without a lab record on its files
	// alone, saying that it was not checked against a cluster.
	RecordOptional = "optional"
	// RecordRequired fails a hand-in graded without the lab's cluster
	// that carries no lab record: an instructor who wants every grade
	// checked against the cluster the answers came from.
	RecordRequired = "required"
)

// RecordSettings lists the record setting's values, the default first.
var RecordSettings = []string{RecordOptional, RecordRequired}

// Workload names the lab's pod inside its manifests.
type Workload struct {
	// Pod is the pod's name (and its Service's, when it has one).
	Pod string `json:"pod"`
	// Container is the container students target with kubectl debug
	// --target, and whose log files they read on the node.
	Container string `json:"container"`
	// Port is the port lab traffic requests, on the pod and its Service.
	Port int `json:"port"`
}

// DefaultWorkload is the built-in lab's pod, and the workload of a spec
// that names none (specs written before the field existed).
var DefaultWorkload = Workload{Pod: "nginx-distroless", Container: "nginx", Port: 80}

// Images are the tools' images: what kubectl debug and lab traffic run.
// lab up --preload and lab bundle carry them with the manifests' images,
// so that a classroom without internet can do every step.
type Images struct {
	// Debugger is the ephemeral debug container's image (kubectl debug
	// --image): tcpdump, strace, ps, ls.
	Debugger string `json:"debugger"`
	// NodeDebugger is the node debug pod's image (kubectl debug node/…
	// --image).
	NodeDebugger string `json:"nodeDebugger"`
	// TrafficClient sends lab traffic --via pod's requests (curl).
	TrafficClient string `json:"trafficClient"`
}

// DefaultImages are the built-in lab's tools, and those of a spec that
// names none.
var DefaultImages = Images{Debugger: "nicolaka/netshoot", NodeDebugger: "ubuntu", TrafficClient: "curlimages/curl"}

// List is the images in a fixed order, without repeats.
func (i Images) List() []string {
	var out []string
	for _, img := range []string{i.Debugger, i.NodeDebugger, i.TrafficClient} {
		if img != "" && !slices.Contains(out, img) {
			out = append(out, img)
		}
	}
	return out
}

// Step is one graded step.
type Step struct {
	// ID is "step-N" or "star".
	ID string `json:"id"`
	// Title says what the step proves.
	Title Text `json:"title"`
	// Points awarded when the step passes.
	Points int `json:"points"`
	// Files are the answers files that may prove the step, relative to the
	// answers folder, in order of preference; the first present is graded.
	Files []string `json:"files,omitempty"`
	// Produce is the command that writes the answers file, for the message
	// a student sees when it is missing.
	Produce Text `json:"produce,omitempty"`
	// Parser names the facts extractor that reads the file.
	Parser string `json:"parser,omitempty"`
	// Expect is a skeleton of the lines a good answer holds, compared with
	// the closest lines of the student's output when the step fails.
	Expect []string `json:"expect,omitempty"`
	// Diagnose rules are tried first, in order; the first that holds fails
	// the step with its message and hint.
	Diagnose []Rule `json:"diagnose,omitempty"`
	// Require rules must all hold for the step to pass.
	Require []Rule `json:"require,omitempty"`
	// Live names checks run against the lab's cluster (not offline).
	Live []string `json:"live,omitempty"`
	// Cross rules compare the answer with the live cluster once the file
	// passed: the first whose matchers all hold fails the step. Their
	// values and texts may name live values as ${pod.ip} (see LiveVars).
	Cross []Rule `json:"cross,omitempty"`
	// Solve is what lab solve does for this step, in order.
	Solve []Action `json:"solve,omitempty"`
}

// Action is one thing lab solve does, the way a student would: exactly one
// of Start, Run, Kubectl and Traffic is set.
type Action struct {
	// Start is "debugger": add the ephemeral debug container (kubectl
	// debug -it POD --image=<images.debugger> --target=<container>
	// --profile=general), or reuse a running one that fits.
	Start string `json:"start,omitempty"`
	// Run is a shell command run in In; {{.Name}} placeholders (SolveVars)
	// are filled from the lab first.
	Run string `json:"run,omitempty"`
	// In is where Run runs: "debugger" (the ephemeral container, the
	// default) or "node" (a node debug pod with the node's / at /host).
	In string `json:"in,omitempty"`
	// While is "traffic": Run is started, lab traffic sends requests both
	// ways once Run has printed Ready, then Run is interrupted (SIGINT) as
	// a student presses Ctrl-C.
	While string `json:"while,omitempty"`
	// Ready is the text Run prints once it listens (tcpdump's "listening
	// on", strace's "attached"); required with While.
	Ready string `json:"ready,omitempty"`
	// Output is which of Run's streams is saved: "stdout" (the default)
	// or "stderr" (strace writes its trace there).
	Output string `json:"output,omitempty"`
	// Kubectl is "get pod -o wide": what kubectl prints for the lab's pod,
	// rendered by lab with kubectl's columns.
	Kubectl string `json:"kubectl,omitempty"`
	// Traffic sends lab traffic: "both", "port-forward" or "pod".
	Traffic string `json:"traffic,omitempty"`
	// Save is the answers file the output is written to, one of the
	// step's files; empty for an action done for its effect.
	Save string `json:"save,omitempty"`
}

// The values an Action's fields may take.
const (
	StartDebugger  = "debugger"
	InDebugger     = "debugger"
	InNode         = "node"
	WhileTraffic   = "traffic"
	OutputStdout   = "stdout"
	OutputStderr   = "stderr"
	KubectlPodWide = "get pod -o wide"
)

// TrafficWays are the values of Action.Traffic, as lab traffic --via
// takes them.
var TrafficWays = []string{"both", "port-forward", "pod"}

// SolveVars are the placeholders a Run command may use as {{.Name}}: the
// lab's facts, as lab lesson fills them into the lessons' commands.
var SolveVars = []string{
	"Namespace", // the lab's namespace
	"Pod",       // the workload's pod
	"Container", // the workload's container
	"PodUID",    // the pod's UID
	"PodIP",     // the pod's IP
	"Node",      // the node it runs on
	"LogDir",    // its container's log folder on the node, ending in /
	"Debugger",  // the ephemeral debug container's name
	"MasterPID", // the workload's main process, as ps in the debugger shows it
	"WorkerPID", // its first worker (a child of the main process)
}

var solveVar = regexp.MustCompile(`\{\{\s*\.([A-Za-z]+)\s*\}\}`)

// Placeholders lists the {{.Name}} placeholders a command uses, in order,
// each once.
func Placeholders(cmd string) []string {
	var out []string
	for _, m := range solveVar.FindAllStringSubmatch(cmd, -1) {
		if !slices.Contains(out, m[1]) {
			out = append(out, m[1])
		}
	}
	return out
}

// Rule is a list of matchers that hold together, with what to tell the
// student when the rule decides the verdict.
type Rule struct {
	When    []match.Matcher `json:"-"`
	Message Text            `json:"message"`
	Hint    Text            `json:"hint,omitempty"`
}

// Text is words shown to people, by language: a spec writes either one
// string (in its first language) or a mapping such as {en: …, ru: …}.
type Text map[i18n.Lang]string

// In returns the text in lang, else in English, else in the first
// language it has (by name, so that the choice is stable).
func (t Text) In(lang i18n.Lang) string {
	if s, ok := t[lang]; ok {
		return s
	}
	if s, ok := t[i18n.English]; ok {
		return s
	}
	langs := make([]string, 0, len(t))
	for l := range t {
		langs = append(langs, string(l))
	}
	slices.Sort(langs)
	if len(langs) == 0 {
		return ""
	}
	return t[i18n.Lang(langs[0])]
}

// String is the English text, so that a Text formatted with %s by
// mistake prints words, not a map.
func (t Text) String() string { return t.In(i18n.English) }

// Missing lists the languages of want that t lacks; an empty text lacks
// none (an absent hint is not an untranslated one).
func (t Text) Missing(want []i18n.Lang) []i18n.Lang {
	if len(t) == 0 {
		return nil
	}
	var out []i18n.Lang
	for _, l := range want {
		if _, ok := t[l]; !ok {
			out = append(out, l)
		}
	}
	return out
}

// Graded reports whether the step reads an answers file.
func (s Step) Graded() bool { return len(s.Files) > 0 }

// Step returns the step called id.
func (a *Assignment) Step(id string) (Step, bool) {
	for _, s := range a.Steps {
		if s.ID == id {
			return s, true
		}
	}
	return Step{}, false
}

// IDs lists the step ids in order.
func (a *Assignment) IDs() []string {
	ids := make([]string, len(a.Steps))
	for i, s := range a.Steps {
		ids[i] = s.ID
	}
	return ids
}

// MaxPoints is the sum of every step's points.
func (a *Assignment) MaxPoints() int {
	n := 0
	for _, s := range a.Steps {
		n += s.Points
	}
	return n
}

// LiveChecks are the names a step's `live` list may use; each is a check
// against the lab's cluster that no answers file can prove.
var LiveChecks = []string{
	"pod-shares-pid",     // the pod has shareProcessNamespace, container nginx, and runs
	"ephemeral-debugger", // an ephemeral container targets nginx with SYS_PTRACE and has run
	"node-debugger",      // a node debugger pod ran on the pod's node with / at /host
}

// LiveVars are the live values a cross rule may name as ${name}. Messages
// may also name ${got}: the student's value that differs.
var LiveVars = []string{
	"pod.name",        // the lab's pod
	"pod.ip",          // its IP
	"pod.node",        // the node it runs on
	"pod.uid",         // its UID
	"namespace",       // its namespace
	"nonce",           // the nonce lab traffic puts in every request
	"traffic.sources", // addresses lab traffic came from, as the pod sees them (a list)
	"server",          // the Server header the lab's server answered lab traffic with
	"nginx.version",   // the version in it, when that server is an nginx that names one
}

var varRef = regexp.MustCompile(`\$\{([a-z.]+)\}`)

// Expand substitutes ${name} in a message; a list is joined with ", ",
// an unknown name is left as written.
func Expand(s string, vars map[string][]string) string {
	return varRef.ReplaceAllStringFunc(s, func(ref string) string {
		if v, ok := vars[ref[2:len(ref)-1]]; ok {
			return strings.Join(v, ", ")
		}
		return ref
	})
}

// ExpandValue substitutes a matcher value. A value that is exactly one
// ${list} becomes every element; ok is false when a named value is missing.
func ExpandValue(s string, vars map[string][]string) (out []string, ok bool) {
	refs := varRef.FindAllStringSubmatch(s, -1)
	for _, r := range refs {
		if _, have := vars[r[1]]; !have {
			return nil, false
		}
	}
	if len(refs) == 1 && refs[0][0] == s {
		return vars[refs[0][1]], true
	}
	return []string{Expand(s, vars)}, true
}

// Error is a spec mistake, located in its file.
type Error struct {
	File  string
	Line  int
	Field string
	Msg   string
}

func (e *Error) Error() string {
	loc := e.File
	if e.Line > 0 {
		loc = fmt.Sprintf("%s:%d", e.File, e.Line)
	}
	if e.Field != "" {
		return fmt.Sprintf("%s: %s: %s", loc, e.Field, e.Msg)
	}
	return fmt.Sprintf("%s: %s", loc, e.Msg)
}

// Load reads FileName from fsys, naming it source in errors and reports.
func Load(fsys fs.FS, source string) (*Assignment, error) {
	data, err := fs.ReadFile(fsys, FileName)
	if err != nil {
		if errors.Is(err, fs.ErrNotExist) {
			return nil, fmt.Errorf("%s: no %s here: an assignment folder holds %s (see `lab assignment new`)", source, FileName, FileName)
		}
		return nil, fmt.Errorf("reading %s: %w", source, err)
	}
	return Parse(data, source+"/"+FileName)
}

// Parse decodes and validates one spec document; file names it in errors.
func Parse(data []byte, file string) (*Assignment, error) {
	var doc yaml.Node
	dec := yaml.NewDecoder(bytes.NewReader(data))
	if err := dec.Decode(&doc); err != nil {
		if errors.Is(err, io.EOF) {
			return nil, &Error{File: file, Msg: "empty spec"}
		}
		line := yamlErrLine(err)
		msg := lineInErr.ReplaceAllString(strings.TrimPrefix(err.Error(), "yaml: "), "")
		return nil, &Error{File: file, Line: line, Msg: strings.TrimLeft(msg, ": ")}
	}
	if len(doc.Content) == 0 {
		return nil, &Error{File: file, Msg: "empty spec"}
	}
	l := &loader{file: file}
	a := l.assignment(doc.Content[0])
	if l.err != nil {
		return nil, l.err
	}
	a.Source = file
	sum := sha256.Sum256(data)
	a.Digest = "sha256:" + hex.EncodeToString(sum[:])
	return a, nil
}

var lineInErr = regexp.MustCompile(`line (\d+):? ?`)

func yamlErrLine(err error) int {
	m := lineInErr.FindStringSubmatch(err.Error())
	if m == nil {
		return 0
	}
	n := 0
	fmt.Sscan(m[1], &n)
	return n
}

// loader walks the YAML nodes, keeping the first error with its line.
type loader struct {
	file  string
	err   error
	langs []i18n.Lang
}

func (l *loader) fail(n *yaml.Node, field, format string, args ...any) {
	if l.err == nil {
		line := 0
		if n != nil {
			line = n.Line
		}
		l.err = &Error{File: l.file, Line: line, Field: field, Msg: fmt.Sprintf(format, args...)}
	}
}

// fields checks that n is a mapping with only the allowed keys and returns
// its values by key.
func (l *loader) fields(n *yaml.Node, field string, allowed ...string) map[string]*yaml.Node {
	out := map[string]*yaml.Node{}
	if n.Kind != yaml.MappingNode {
		l.fail(n, field, "want a mapping, got %s", kindName(n))
		return out
	}
	for i := 0; i+1 < len(n.Content); i += 2 {
		k, v := n.Content[i], n.Content[i+1]
		if !slices.Contains(allowed, k.Value) {
			l.fail(k, join(field, k.Value), "unknown field (known: %s)", strings.Join(allowed, ", "))
			continue
		}
		if _, dup := out[k.Value]; dup {
			l.fail(k, join(field, k.Value), "given twice")
		}
		out[k.Value] = v
	}
	return out
}

func (l *loader) str(n *yaml.Node, field string) string {
	if n == nil {
		return ""
	}
	if n.Kind != yaml.ScalarNode || n.Tag == "!!null" {
		l.fail(n, field, "want a string, got %s", kindName(n))
		return ""
	}
	return n.Value
}

// languages reads the spec's languages: known ones, each once; [en] when
// the spec names none.
func (l *loader) languages(n *yaml.Node) []i18n.Lang {
	if n == nil {
		return []i18n.Lang{i18n.English}
	}
	names := l.strs(n, "languages")
	if l.err == nil && len(names) == 0 {
		l.fail(n, "languages", "want at least one language (%s)", i18n.Names(i18n.Langs))
	}
	var out []i18n.Lang
	for i, name := range names {
		lang, err := i18n.Parse(name)
		if err != nil {
			l.fail(n, fmt.Sprintf("languages[%d]", i), "%v", err)
			continue
		}
		if slices.Contains(out, lang) {
			l.fail(n, fmt.Sprintf("languages[%d]", i), "%s given twice", lang)
		}
		out = append(out, lang)
	}
	return out
}

// text reads words for people: a string, in the spec's first language, or
// a mapping from the spec's languages to strings.
func (l *loader) text(n *yaml.Node, field string) Text {
	if n == nil {
		return nil
	}
	first := i18n.English
	if len(l.langs) > 0 {
		first = l.langs[0]
	}
	if n.Kind != yaml.MappingNode {
		return Text{first: l.str(n, field)}
	}
	out := Text{}
	for i := 0; i+1 < len(n.Content); i += 2 {
		k, v := n.Content[i], n.Content[i+1]
		lang := i18n.Lang(k.Value)
		if !slices.Contains(l.langs, lang) {
			l.fail(k, join(field, k.Value), "not one of the spec's languages (%s): declare it in languages", i18n.Names(l.langs))
			continue
		}
		if _, dup := out[lang]; dup {
			l.fail(k, join(field, k.Value), "given twice")
		}
		out[lang] = l.str(v, join(field, k.Value))
	}
	return out
}

func (l *loader) strs(n *yaml.Node, field string) []string {
	if n == nil {
		return nil
	}
	if n.Kind == yaml.ScalarNode {
		return []string{l.str(n, field)}
	}
	if n.Kind != yaml.SequenceNode {
		l.fail(n, field, "want a list of strings, got %s", kindName(n))
		return nil
	}
	out := make([]string, 0, len(n.Content))
	for i, c := range n.Content {
		out = append(out, l.str(c, fmt.Sprintf("%s[%d]", field, i)))
	}
	return out
}

func (l *loader) int(n *yaml.Node, field string) int {
	if n == nil {
		return 0
	}
	var v int
	if n.Kind != yaml.ScalarNode || n.Tag != "!!int" || n.Decode(&v) != nil {
		l.fail(n, field, "want a whole number, got %q", n.Value)
		return 0
	}
	if v < 0 {
		l.fail(n, field, "must not be negative")
	}
	return v
}

func (l *loader) required(m map[string]*yaml.Node, parent *yaml.Node, field, key string) *yaml.Node {
	v, ok := m[key]
	if !ok {
		l.fail(parent, join(field, key), "required")
	}
	return v
}

func (l *loader) assignment(n *yaml.Node) *Assignment {
	f := l.fields(n, "", "apiVersion", "kind", "metadata", "languages", "workload", "images", "record", "steps")
	if v := l.str(l.required(f, n, "", "apiVersion"), "apiVersion"); l.err == nil && v != APIVersion {
		l.fail(f["apiVersion"], "apiVersion", "unsupported version %q (this lab reads %s)", v, APIVersion)
	}
	if v := l.str(l.required(f, n, "", "kind"), "kind"); l.err == nil && v != Kind {
		l.fail(f["kind"], "kind", "want %q, got %q", Kind, v)
	}
	a := &Assignment{Languages: l.languages(f["languages"])}
	l.langs = a.Languages
	if md := l.required(f, n, "", "metadata"); md != nil {
		m := l.fields(md, "metadata", "name", "title")
		a.Name = l.str(l.required(m, md, "metadata", "name"), "metadata.name")
		a.Title = l.text(m["title"], "metadata.title")
	}
	a.Workload = l.workload(f["workload"])
	a.Images = l.images(f["images"])
	a.Record = RecordOptional
	if v, ok := f["record"]; ok {
		a.Record = l.str(v, "record")
		if !slices.Contains(RecordSettings, a.Record) {
			l.fail(v, "record", "unknown record setting %q (want %s)", a.Record, strings.Join(RecordSettings, " or "))
		}
	}
	steps := l.required(f, n, "", "steps")
	if steps == nil {
		return a
	}
	if steps.Kind != yaml.SequenceNode || len(steps.Content) == 0 {
		l.fail(steps, "steps", "want a non-empty list of steps")
		return a
	}
	seen := map[string]bool{}
	for i, sn := range steps.Content {
		field := fmt.Sprintf("steps[%d]", i)
		s := l.step(sn, field)
		if s.ID != "" && seen[s.ID] {
			l.fail(sn, field+".id", "step %q given twice", s.ID)
		}
		seen[s.ID] = true
		a.Steps = append(a.Steps, s)
	}
	return a
}

var stepID = regexp.MustCompile(`^(step-[1-9][0-9]*|star)$`)

func (l *loader) step(n *yaml.Node, field string) Step {
	f := l.fields(n, field, "id", "title", "points", "files", "produce", "parser", "expect", "diagnose", "require", "live", "cross", "solve")
	s := Step{
		ID:      l.str(l.required(f, n, field, "id"), field+".id"),
		Title:   l.text(f["title"], field+".title"),
		Points:  l.int(f["points"], field+".points"),
		Files:   l.strs(f["files"], field+".files"),
		Produce: l.text(f["produce"], field+".produce"),
		Parser:  l.str(f["parser"], field+".parser"),
		Expect:  l.lines(f["expect"], field+".expect"),
		Live:    l.strs(f["live"], field+".live"),
	}
	if s.ID != "" && !stepID.MatchString(s.ID) {
		l.fail(f["id"], field+".id", "%q is not a step id (want step-N or star)", s.ID)
	}
	for i, file := range s.Files {
		if file == "" || strings.HasPrefix(file, "/") || strings.Contains(file, "..") || strings.Contains(file, "\\") {
			l.fail(f["files"], fmt.Sprintf("%s.files[%d]", field, i), "%q must be a plain name inside the answers folder", file)
		}
	}
	for i, name := range s.Live {
		if !slices.Contains(LiveChecks, name) {
			l.fail(f["live"], fmt.Sprintf("%s.live[%d]", field, i), "unknown live check %q (want one of %s)", name, strings.Join(LiveChecks, ", "))
		}
	}
	if len(s.Files) == 0 && len(s.Live) == 0 {
		l.fail(n, field, "a step needs files to grade or live checks")
	}
	var ex facts.Extractor
	if len(s.Files) > 0 {
		if s.Parser == "" {
			l.fail(n, field+".parser", "required when files are given (one of %s)", strings.Join(facts.Names(), ", "))
		} else if e, ok := facts.Lookup(s.Parser); ok {
			ex = e
		} else {
			l.fail(f["parser"], field+".parser", "unknown parser %q (want one of %s)", s.Parser, strings.Join(facts.Names(), ", "))
		}
		if len(children(f["require"])) == 0 {
			l.fail(n, field+".require", "a graded step needs at least one require rule, or any file would pass")
		}
	} else if f["parser"] != nil || f["require"] != nil || f["diagnose"] != nil || f["cross"] != nil {
		l.fail(n, field, "parser, require, diagnose and cross need files")
	}
	s.Diagnose = l.rules(f["diagnose"], field+".diagnose", ex, true)
	s.Require = l.rules(f["require"], field+".require", ex, false)
	s.Cross = l.rules(f["cross"], field+".cross", ex, true)
	l.checkVars(f["cross"], field+".cross", s.Cross)
	s.Solve = l.solve(f["solve"], field+".solve", s.Files)
	return s
}

// k8sName is what Kubernetes accepts as a pod or container name.
var k8sName = regexp.MustCompile(`^[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?$`)

func (l *loader) workload(n *yaml.Node) Workload {
	if n == nil {
		return DefaultWorkload
	}
	f := l.fields(n, "workload", "pod", "container", "port")
	w := Workload{
		Pod:       l.str(l.required(f, n, "workload", "pod"), "workload.pod"),
		Container: l.str(l.required(f, n, "workload", "container"), "workload.container"),
		Port:      l.int(f["port"], "workload.port"),
	}
	for _, c := range []struct {
		key, v string
	}{{"pod", w.Pod}, {"container", w.Container}} {
		if c.v != "" && !k8sName.MatchString(c.v) {
			l.fail(f[c.key], "workload."+c.key, "%q is not a Kubernetes name (lower-case letters, digits and -, at most 63)", c.v)
		}
	}
	switch {
	case f["port"] == nil:
		w.Port = DefaultWorkload.Port
	case w.Port < 1 || w.Port > 65535:
		l.fail(f["port"], "workload.port", "%d is not a port (1-65535)", w.Port)
	}
	return w
}

func (l *loader) images(n *yaml.Node) Images {
	i := DefaultImages
	if n == nil {
		return i
	}
	f := l.fields(n, "images", "debugger", "nodeDebugger", "trafficClient")
	for key, into := range map[string]*string{"debugger": &i.Debugger, "nodeDebugger": &i.NodeDebugger, "trafficClient": &i.TrafficClient} {
		if v, ok := f[key]; ok {
			if *into = l.str(v, "images."+key); *into == "" {
				l.fail(v, "images."+key, "empty: name an image, or leave the field out for %s", key)
			}
		}
	}
	return i
}

// solve reads a step's solution: each action does one thing, and what it
// saves is one of the step's answers files.
func (l *loader) solve(n *yaml.Node, field string, files []string) []Action {
	if n == nil {
		return nil
	}
	if n.Kind != yaml.SequenceNode || len(n.Content) == 0 {
		l.fail(n, field, "want a non-empty list of actions (start, run, kubectl or traffic)")
		return nil
	}
	var out []Action
	for i, an := range n.Content {
		af := fmt.Sprintf("%s[%d]", field, i)
		f := l.fields(an, af, "start", "run", "in", "while", "ready", "output", "kubectl", "traffic", "save")
		a := Action{
			Start: l.str(f["start"], af+".start"), Run: l.str(f["run"], af+".run"),
			In: l.str(f["in"], af+".in"), While: l.str(f["while"], af+".while"),
			Ready: l.str(f["ready"], af+".ready"), Output: l.str(f["output"], af+".output"),
			Kubectl: l.str(f["kubectl"], af+".kubectl"), Traffic: l.str(f["traffic"], af+".traffic"),
			Save: l.str(f["save"], af+".save"),
		}
		var kinds []string
		for _, k := range []string{"start", "run", "kubectl", "traffic"} {
			if f[k] != nil {
				kinds = append(kinds, k)
			}
		}
		if len(kinds) != 1 {
			l.fail(an, af, "an action does one thing: give exactly one of start, run, kubectl, traffic (got %s)", orNone(kinds))
			continue
		}
		oneOf := func(key, v string, want ...string) {
			if f[key] != nil && !slices.Contains(want, v) {
				l.fail(f[key], af+"."+key, "unknown %s: %s (want %s)", key, v, strings.Join(want, " or "))
			}
		}
		oneOf("start", a.Start, StartDebugger)
		oneOf("in", a.In, InDebugger, InNode)
		oneOf("while", a.While, WhileTraffic)
		oneOf("output", a.Output, OutputStdout, OutputStderr)
		oneOf("kubectl", a.Kubectl, KubectlPodWide)
		oneOf("traffic", a.Traffic, TrafficWays...)
		for _, key := range []string{"in", "while", "ready", "output"} {
			if f[key] != nil && a.Run == "" && f["run"] == nil {
				l.fail(f[key], af+"."+key, "%s goes with run", key)
			}
		}
		if (a.While == "") != (a.Ready == "") {
			l.fail(an, af, "while and ready go together: lab solve starts the traffic once the command prints ready")
		}
		if f["save"] != nil {
			switch {
			case a.Run == "" && a.Kubectl == "":
				l.fail(f["save"], af+".save", "only run and kubectl print something to save")
			case !slices.Contains(files, a.Save):
				l.fail(f["save"], af+".save", "%q is not one of this step's files (%s)", a.Save, orNone(files))
			}
		}
		for _, v := range Placeholders(a.Run) {
			if !slices.Contains(SolveVars, v) {
				l.fail(f["run"], af+".run", "unknown placeholder {{.%s}} (want one of %s)", v, strings.Join(SolveVars, ", "))
			}
		}
		out = append(out, a)
	}
	return out
}

func orNone(s []string) string {
	if len(s) == 0 {
		return "none"
	}
	return strings.Join(s, ", ")
}

// checkVars refuses a ${name} that is not a live value; ${got} may stand
// in a message or hint, never in a value.
func (l *loader) checkVars(n *yaml.Node, field string, rules []Rule) {
	check := func(i int, text string, allowGot bool) {
		for _, ref := range varRef.FindAllStringSubmatch(text, -1) {
			if slices.Contains(LiveVars, ref[1]) || (allowGot && ref[1] == "got") {
				continue
			}
			l.fail(children(n)[i], fmt.Sprintf("%s[%d]", field, i), "unknown live value ${%s} (want one of %s; a message may also use ${got})", ref[1], strings.Join(LiveVars, ", "))
		}
	}
	for i, r := range rules {
		for _, text := range []Text{r.Message, r.Hint} {
			for _, s := range text {
				check(i, s, true)
			}
		}
		for _, m := range r.When {
			for _, v := range m.Values {
				check(i, v, false)
			}
		}
	}
}

// children is nil-safe access to a node's children.
func children(n *yaml.Node) []*yaml.Node {
	if n == nil {
		return nil
	}
	return n.Content
}

func (l *loader) lines(n *yaml.Node, field string) []string {
	if n == nil {
		return nil
	}
	if n.Kind == yaml.ScalarNode {
		return strings.Split(strings.TrimRight(l.str(n, field), "\n"), "\n")
	}
	return l.strs(n, field)
}

func (l *loader) rules(n *yaml.Node, field string, ex facts.Extractor, diagnose bool) []Rule {
	if n == nil {
		return nil
	}
	if n.Kind != yaml.SequenceNode {
		l.fail(n, field, "want a list of rules, got %s", kindName(n))
		return nil
	}
	var out []Rule
	for i, rn := range n.Content {
		rf := fmt.Sprintf("%s[%d]", field, i)
		var r Rule
		if diagnose {
			f := l.fields(rn, rf, "when", "message", "hint")
			r.Message = l.text(l.required(f, rn, rf, "message"), rf+".message")
			r.Hint = l.text(f["hint"], rf+".hint")
			when := l.required(f, rn, rf, "when")
			if when != nil && (when.Kind != yaml.SequenceNode || len(when.Content) == 0) {
				l.fail(when, rf+".when", "want a non-empty list of matchers")
				continue
			}
			if when != nil {
				for j, mn := range when.Content {
					mf := fmt.Sprintf("%s.when[%d]", rf, j)
					r.When = append(r.When, l.matcher(mn, l.fields(mn, mf, "fact", "match", "min", "values"), mf, ex))
				}
			}
		} else {
			// A require rule is a single matcher with its message inline.
			f := l.fields(rn, rf, "fact", "match", "min", "values", "message", "hint")
			r.Message = l.text(l.required(f, rn, rf, "message"), rf+".message")
			r.Hint = l.text(f["hint"], rf+".hint")
			r.When = []match.Matcher{l.matcher(rn, f, rf, ex)}
		}
		out = append(out, r)
	}
	return out
}

func (l *loader) matcher(n *yaml.Node, f map[string]*yaml.Node, field string, ex facts.Extractor) match.Matcher {
	m := match.Matcher{
		Fact:   l.str(l.required(f, n, field, "fact"), field+".fact"),
		Min:    l.int(f["min"], field+".min"),
		Values: l.strs(f["values"], field+".values"),
	}
	k, err := match.ParseKind(l.str(f["match"], field+".match"))
	if err != nil {
		l.fail(f["match"], field+".match", "%v", err)
	}
	m.Kind = k
	if ex != nil && m.Fact != "" && !facts.Documents(ex, m.Fact) {
		l.fail(f["fact"], field+".fact", "parser %s reports no fact %q (it reports: %s)", ex.Name(), m.Fact, facts.FactNames(ex))
	}
	if k.NeedsValues() && len(m.Values) == 0 {
		l.fail(n, field+".values", "matcher %s needs values", k)
	}
	if !k.NeedsValues() && f["values"] != nil {
		l.fail(f["values"], field+".values", "matcher %s takes no values", k)
	}
	if f["min"] != nil && k != match.Present {
		l.fail(f["min"], field+".min", "only the present matcher takes min")
	}
	return m
}

func kindName(n *yaml.Node) string {
	switch n.Kind {
	case yaml.MappingNode:
		return "a mapping"
	case yaml.SequenceNode:
		return "a list"
	case yaml.ScalarNode:
		if n.Tag == "!!null" {
			return "nothing"
		}
		return fmt.Sprintf("%q", n.Value)
	}
	return "something else"
}

func join(parent, key string) string {
	if parent == "" {
		return key
	}
	return parent + "." + key
}
