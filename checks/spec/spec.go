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
	Title string `json:"title"`
	// Source says where the spec came from (a path, or "built-in").
	Source string `json:"source"`
	// Digest is "sha256:" and the hex SHA-256 of the spec file's bytes:
	// reports and lab records name the exact spec that graded them, so
	// that two grades can be told apart when the spec changed between.
	Digest string `json:"digest"`
	// Steps in the order the assignment gives them.
	Steps []Step `json:"steps"`
}

// Step is one graded step.
type Step struct {
	// ID is "step-N" or "star".
	ID string `json:"id"`
	// Title says what the step proves.
	Title string `json:"title"`
	// Points awarded when the step passes.
	Points int `json:"points"`
	// Files are the answers files that may prove the step, relative to the
	// answers folder, in order of preference; the first present is graded.
	Files []string `json:"files,omitempty"`
	// Produce is the command that writes the answers file, for the message
	// a student sees when it is missing.
	Produce string `json:"produce,omitempty"`
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
}

// Rule is a list of matchers that hold together, with what to tell the
// student when the rule decides the verdict.
type Rule struct {
	When    []match.Matcher `json:"-"`
	Message string          `json:"message"`
	Hint    string          `json:"hint,omitempty"`
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
	file string
	err  error
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
	f := l.fields(n, "", "apiVersion", "kind", "metadata", "steps")
	if v := l.str(l.required(f, n, "", "apiVersion"), "apiVersion"); l.err == nil && v != APIVersion {
		l.fail(f["apiVersion"], "apiVersion", "unsupported version %q (this lab reads %s)", v, APIVersion)
	}
	if v := l.str(l.required(f, n, "", "kind"), "kind"); l.err == nil && v != Kind {
		l.fail(f["kind"], "kind", "want %q, got %q", Kind, v)
	}
	a := &Assignment{}
	if md := l.required(f, n, "", "metadata"); md != nil {
		m := l.fields(md, "metadata", "name", "title")
		a.Name = l.str(l.required(m, md, "metadata", "name"), "metadata.name")
		a.Title = l.str(m["title"], "metadata.title")
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
	f := l.fields(n, field, "id", "title", "points", "files", "produce", "parser", "expect", "diagnose", "require", "live", "cross")
	s := Step{
		ID:      l.str(l.required(f, n, field, "id"), field+".id"),
		Title:   l.str(f["title"], field+".title"),
		Points:  l.int(f["points"], field+".points"),
		Files:   l.strs(f["files"], field+".files"),
		Produce: l.str(f["produce"], field+".produce"),
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
	return s
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
		check(i, r.Message, true)
		check(i, r.Hint, true)
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
			r.Message = l.str(l.required(f, rn, rf, "message"), rf+".message")
			r.Hint = l.str(f["hint"], rf+".hint")
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
			r.Message = l.str(l.required(f, rn, rf, "message"), rf+".message")
			r.Hint = l.str(f["hint"], rf+".hint")
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
