// Package checks is the grader: it takes an assignment spec and an answers
// folder and says, step by step, whether each saved output proves its step.
//
// It needs no cluster. An answer flows: file -> decode (encodings, CRLF,
// escapes) -> the step's facts extractor (a streaming parser) -> the spec's
// diagnose and require rules -> a Result with a verdict, points, a hint and,
// for a failed step with a skeleton, the closest lines of the student's
// output. Live cross-checks against a cluster plug in through the Live
// interface, so that this package never imports the cluster code.
package checks

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"path"
	"slices"
	"strings"
	"sync"
	"time"
	"unicode/utf8"

	"github.com/k8s-debug-lab/lab/checks/coherence"
	"github.com/k8s-debug-lab/lab/checks/decode"
	"github.com/k8s-debug-lab/lab/checks/facts"
	"github.com/k8s-debug-lab/lab/checks/match"
	"github.com/k8s-debug-lab/lab/checks/spec"
	"github.com/k8s-debug-lab/lab/internal/i18n"
)

// Status is a step's verdict.
type Status string

// The verdicts, from best to worst for the exit code.
const (
	// Pass: the answer proves the step.
	Pass Status = "pass"
	// Skip: the step cannot be judged here (a live check while offline).
	Skip Status = "skip"
	// Fail: the answer is missing or does not prove the step.
	Fail Status = "fail"
	// Error: the answer could not be read (binary, unreadable, not a file).
	Error Status = "error"
)

// Result is the verdict on one step.
type Result struct {
	Step      string `json:"step"`
	Title     string `json:"title"`
	Status    Status `json:"status"`
	Points    int    `json:"points"`
	MaxPoints int    `json:"maxPoints"`
	// File is the answers file that was graded, as the student named it.
	File string `json:"file,omitempty"`
	// Format is what the file was recognised as.
	Format string `json:"format,omitempty"`
	// Encoding is the file's text encoding when it was not plain UTF-8.
	Encoding string `json:"encoding,omitempty"`
	// Message says why the step failed, was skipped or could not be read.
	Message string `json:"message,omitempty"`
	// Hint says what to do next.
	Hint string `json:"hint,omitempty"`
	// Closest pairs the expected skeleton with the nearest lines found.
	Closest []Closest `json:"closest,omitempty"`
	// Facts are what the parser saw; kept for --format json and debugging.
	Facts map[string]facts.Fact `json:"facts,omitempty"`
	// Cross reports that the answer disagrees with the cluster's facts (a
	// spec cross rule failed): what a lab record's reader calls a
	// contradiction rather than a wrong answer.
	Cross bool `json:"cross,omitempty"`
}

// Report is the verdict on a whole answers folder.
type Report struct {
	APIVersion string `json:"apiVersion"`
	Kind       string `json:"kind"`
	// Lang is the language of the titles, messages and hints; every
	// other field is a machine name, English whatever the language.
	Lang       i18n.Lang `json:"lang"`
	Assignment string    `json:"assignment"`
	Source     string    `json:"source"`
	// AssignmentDigest and LabVersion name what graded: the spec's bytes
	// and the lab that read them. The same pair gives the same verdicts,
	// points and messages on the same answers.
	AssignmentDigest string `json:"assignmentDigest"`
	LabVersion       string `json:"labVersion"`
	Answers          string `json:"answers"`
	Offline          bool   `json:"offline"`
	// Checked says what the answers were compared with: CheckedCluster,
	// CheckedRecord or CheckedNothing.
	Checked string `json:"checked"`
	// Recorded is when the lab record the answers were compared with was
	// made, with CheckedRecord.
	Recorded *time.Time `json:"recorded,omitempty"`
	// Notes say what a reader must know about the whole report (why it
	// was not checked against a cluster, files changed since the record).
	Notes   []string `json:"notes,omitempty"`
	Summary Summary  `json:"summary"`
	Results []Result `json:"results"`
	// Disagreements are what the answers contradict each other about
	// (checks/coherence); each failed the steps it names.
	Disagreements []coherence.Disagreement `json:"disagreements,omitempty"`
}

// What a report's answers were compared with.
const (
	// CheckedCluster: the lab's cluster answered (a live lab check).
	CheckedCluster = "cluster"
	// CheckedRecord: the lab record a live lab check wrote earlier.
	CheckedRecord = "record"
	// CheckedNothing: the files alone; nothing says they came from a lab.
	CheckedNothing = "nothing"
)

// NotChecked is the note of a report graded without a cluster or a lab
// record: said plainly in every format, since a grade without it rests
// on the files alone.
const NotChecked = "not checked against a cluster: there is no lab record (answers/lab-record.json, which lab check writes when the lab's cluster answers)"

// Summary counts the verdicts.
type Summary struct {
	Passed    int `json:"passed"`
	Failed    int `json:"failed"`
	Skipped   int `json:"skipped"`
	Errors    int `json:"errors"`
	Points    int `json:"points"`
	MaxPoints int `json:"maxPoints"`
}

// ExitCode maps a report to lab check's documented exit code: 0 when every
// selected step passed or was skipped, 1 when one failed, 2 when an answer
// could not be read.
func (r *Report) ExitCode() int {
	switch {
	case r.Summary.Errors > 0:
		return 2
	case r.Summary.Failed > 0:
		return 1
	}
	return 0
}

// Live is what the lab's cluster said, gathered once before grading (see
// checks/live): the results of the named live checks, and the values the
// spec's cross-checks compare answers with. Gathering it is the caller's
// business, so that this package never talks to a cluster.
type Live struct {
	// Checks holds the result of each live check, by name.
	Checks map[string]LiveResult
	// Vars are the live values cross-checks may name as ${name} (see
	// spec.LiveVars); a list (traffic.sources) is joined with commas.
	Vars map[string][]string
	// Recorded, when set, says the values come from a lab record made
	// live at that time rather than from the cluster now: steps proven
	// only live say so.
	Recorded time.Time
}

// LiveResult is one live check's verdict.
type LiveResult struct {
	OK      bool
	Message string
	Hint    string
}

// Options tell Grade where the answers are.
type Options struct {
	// Answers is the answers folder; lab only ever reads it.
	Answers fs.FS
	// AnswersName is how the folder is named in messages ("answers").
	AnswersName string
	// File, when set, is a name in Answers graded instead of the step's
	// answers files (lab check --file: Answers is then the file's folder);
	// only one step may be selected then.
	File string
	// Live is the cluster's answer; nil means offline.
	Live *Live
	// KeepFacts copies every fact into the results.
	KeepFacts bool
	// Lang is the language of titles, messages and hints (English when
	// empty); a spec text lacking it is given in English.
	Lang i18n.Lang
	// LabVersion is the grading lab's version, recorded in the report
	// (checks cannot know it: the binary it is built into does).
	LabVersion string
}

// Grade checks the selected steps (all when ids is empty).
func Grade(ctx context.Context, a *spec.Assignment, ids []string, opts Options) (*Report, error) {
	steps, err := SelectIn(a, ids, opts.Lang)
	if err != nil {
		return nil, err
	}
	if opts.File != "" && len(steps) != 1 {
		return nil, errors.New(i18n.For(opts.Lang).Sprintf("--file grades one step: name it, e.g. lab check step-5 --file %s", opts.File))
	}
	if opts.Answers == nil {
		opts.Answers = NoAnswers
	}
	if opts.AnswersName == "" {
		opts.AnswersName = AnswersDir
	}
	if opts.Lang == "" {
		opts.Lang = i18n.English
	}
	rep := &Report{
		APIVersion: spec.APIVersion, Kind: "CheckReport", Lang: opts.Lang,
		Assignment: a.Name, Source: a.Source, AssignmentDigest: a.Digest, LabVersion: opts.LabVersion,
		Answers: opts.AnswersName, Offline: true, Checked: CheckedNothing,
	}
	switch {
	case opts.Live == nil:
		rep.Notes = []string{i18n.For(opts.Lang).Sprintf(NotChecked)}
	case !opts.Live.Recorded.IsZero():
		at := opts.Live.Recorded
		rep.Checked, rep.Recorded = CheckedRecord, &at
	default:
		rep.Checked, rep.Offline = CheckedCluster, false
	}
	var (
		results []Result
		answers []coherence.Answer
	)
	for _, s := range steps {
		if err := ctx.Err(); err != nil {
			return nil, err
		}
		var set *facts.Set
		results = append(results, gradeStep(s, opts, &set))
		if set != nil && results[len(results)-1].Status == Pass {
			answers = append(answers, coherence.Answer{Step: s.ID, Parser: s.Parser, Facts: set})
		}
	}
	rep.Disagreements = coherence.Check(answers, coherence.Options{Pod: a.Workload.Pod})
	if opts.Live != nil && len(opts.Live.Vars["nginx.version"]) == 1 {
		// The version lab traffic's answers named (their Server header),
		// live or as the lab record kept it.
		source := i18n.For(opts.Lang).Sprintf("the lab's nginx answered lab traffic with")
		if !opts.Live.Recorded.IsZero() {
			source = i18n.For(opts.Lang).Sprintf("the lab record says the lab's nginx answered lab traffic with")
		}
		claims := coherence.Claims(answers, coherence.Options{Pod: a.Workload.Pod})
		rep.Disagreements = append(rep.Disagreements, coherence.Against(claims, coherence.ClaimNginxVersion, opts.Live.Vars["nginx.version"][0], source)...)
	}
	disagree(results, rep.Disagreements)
	for _, r := range results {
		rep.add(r)
	}
	return rep, nil
}

// disagree fails every passing step a disagreement involves, with its
// message; a step that failed on its own keeps its own reason.
func disagree(results []Result, ds []coherence.Disagreement) {
	failed := map[string]bool{}
	for _, d := range ds {
		for _, id := range d.Steps {
			for i := range results {
				r := &results[i]
				if r.Step != id || r.Status != Pass && !failed[id] {
					continue
				}
				if failed[id] {
					r.Message += "; " + d.Message
					continue
				}
				failed[id] = true
				r.Status, r.Points, r.Message, r.Hint = Fail, 0, d.Message, d.Hint
			}
		}
	}
}

func (rep *Report) add(r Result) {
	rep.Results = append(rep.Results, r)
	rep.count(r)
}

// Recount sums the verdicts again after results were changed (a lab
// record's reader failing a step whose file changed since the record).
func (rep *Report) Recount() {
	rep.Summary = Summary{}
	for _, r := range rep.Results {
		rep.count(r)
	}
}

func (rep *Report) count(r Result) {
	rep.Summary.MaxPoints += r.MaxPoints
	rep.Summary.Points += r.Points
	switch r.Status {
	case Pass:
		rep.Summary.Passed++
	case Fail:
		rep.Summary.Failed++
	case Skip:
		rep.Summary.Skipped++
	case Error:
		rep.Summary.Errors++
	}
}

// Select resolves step ids ("all", "step-3", "3", "star") to steps, in the
// assignment's order.
func Select(a *spec.Assignment, ids []string) ([]spec.Step, error) {
	return SelectIn(a, ids, i18n.English)
}

// SelectIn is Select with its error in lang.
func SelectIn(a *spec.Assignment, ids []string, lang i18n.Lang) ([]spec.Step, error) {
	if len(ids) == 0 {
		return a.Steps, nil
	}
	want := map[string]bool{}
	for _, id := range ids {
		if id == "all" {
			return a.Steps, nil
		}
		if _, ok := a.Step(id); !ok {
			if _, ok := a.Step("step-" + id); ok {
				id = "step-" + id
			} else {
				return nil, errors.New(i18n.For(lang).Sprintf("unknown step %q (this assignment has %s)", id, strings.Join(a.IDs(), ", ")))
			}
		}
		want[id] = true
	}
	var out []spec.Step
	for _, s := range a.Steps {
		if want[s.ID] {
			out = append(out, s)
		}
	}
	return out, nil
}

// gradeStep grades one step and hands back, in *kept, the facts its file
// gave (for the coherence rules).
func gradeStep(s spec.Step, opts Options, kept **facts.Set) Result {
	p := i18n.For(opts.Lang)
	r := Result{Step: s.ID, Title: s.Title.In(opts.Lang), MaxPoints: s.Points}
	var set *facts.Set
	if s.Graded() {
		set = gradeFile(&r, s, opts)
		*kept = set
		if r.Status != Pass {
			return r
		}
	}
	if opts.Live == nil {
		if !s.Graded() {
			r.Status = Skip
			r.Message = p.Sprintf("proven only against the lab's cluster; skipped offline")
			r.Hint = p.Sprintf("run lab check without --offline where the lab's cluster answers")
		}
		return r // a graded step whose file passed keeps its pass offline
	}
	// The answer is compared with the cluster first: naming what differs
	// in a student's own file helps more than a missing debugger pod.
	if set != nil {
		for _, rule := range s.Cross {
			when, ok := expandRule(rule.When, opts.Live.Vars)
			if !ok || !match.All(when, set) {
				continue // a value the cluster did not give cannot be compared
			}
			vars := opts.Live.Vars
			if got := firstOutside(when, set); got != "" {
				vars = withGot(vars, got)
			}
			r.Status, r.Points, r.Cross = Fail, 0, true
			r.Message, r.Hint = spec.Expand(rule.Message.In(opts.Lang), vars), spec.Expand(rule.Hint.In(opts.Lang), vars)
			return r
		}
	}
	for _, name := range s.Live {
		lr, ok := opts.Live.Checks[name]
		if !ok {
			r.Status, r.Points = Skip, 0
			r.Message = p.Sprintf("live check %s was not run", name)
			r.Hint = p.Sprintf("run lab status to see whether the lab's cluster answers")
			return r
		}
		if !lr.OK {
			r.Status, r.Points, r.Message, r.Hint = Fail, 0, lr.Message, lr.Hint
			if at := opts.Live.Recorded; !at.IsZero() {
				r.Message += " (" + RecordedAt(at) + ")"
			}
			return r
		}
	}
	r.Status, r.Points = Pass, s.Points
	if at := opts.Live.Recorded; !at.IsZero() && !s.Graded() {
		r.Message = RecordedAt(at)
	}
	return r
}

// RecordedAt says when a live-only step's verdict was made: a report
// graded from a lab record shows it on those steps.
func RecordedAt(t time.Time) string {
	return "recorded live at " + t.UTC().Format("2006-01-02 15:04:05 UTC")
}

// expandRule substitutes live values into a rule's matcher values; a ${var}
// the cluster did not provide makes the whole rule inapplicable.
func expandRule(ms []match.Matcher, vars map[string][]string) ([]match.Matcher, bool) {
	out := make([]match.Matcher, len(ms))
	for i, m := range ms {
		m.Values = nil
		for _, v := range ms[i].Values {
			vs, ok := spec.ExpandValue(v, vars)
			if !ok {
				return nil, false
			}
			m.Values = append(m.Values, vs...)
		}
		out[i] = m
	}
	return out, true
}

// firstOutside names the student's values that the matcher's values do not
// list (at most three): what differs from the cluster, for the message.
func firstOutside(when []match.Matcher, set *facts.Set) string {
	m := when[0]
	for _, w := range when {
		if w.Kind.NeedsValues() {
			m = w
			break
		}
	}
	var out []string
	for _, v := range set.Get(m.Fact).Values {
		if !slices.Contains(m.Values, v) {
			out = append(out, v)
			if len(out) == 3 {
				break
			}
		}
	}
	return strings.Join(out, ", ")
}

func withGot(vars map[string][]string, got string) map[string][]string {
	out := make(map[string][]string, len(vars)+1)
	for k, v := range vars {
		out[k] = v
	}
	out["got"] = []string{got}
	return out
}

// gradeFile finds, reads and judges the step's answers file, and returns
// the facts it read for the cross-checks.
func gradeFile(r *Result, s spec.Step, opts Options) *facts.Set {
	p := i18n.For(opts.Lang)
	f, name, err := openAnswer(s, opts)
	if err != nil {
		r.Status, r.File = Fail, name
		var ie *inputError
		if errors.As(err, &ie) {
			r.Status = ie.status
			r.Message, r.Hint = ie.msg, ie.hint
			return nil
		}
		r.Status, r.Message = Error, err.Error()
		return nil
	}
	defer f.Close()
	r.File = name

	ex, _ := facts.Lookup(s.Parser) // validated when the spec loaded
	set := facts.NewSet()
	br := readers.Get().(*bufio.Reader)
	br.Reset(f)
	defer func() { br.Reset(nil); readers.Put(br) }()
	head, _ := br.Peek(64)
	var lines int
	var near *nearest // nil for a capture: its records are not lines
	if cx, ok := ex.(facts.CaptureExtractor); ok && cx.IsCapture(head) {
		if err := cx.ExtractCapture(br, set); err != nil {
			r.Status, r.Message = Error, fmt.Sprintf("%s: %v", name, err)
			r.Hint = p.Sprintf("save the capture again with tcpdump -w, or save tcpdump's text output instead")
			return nil
		}
		lines = set.Get("packet").Count
	} else {
		d := decode.New(br)
		decoded := d.Lines()
		if isLarge(f) {
			decoded = d.LinesAhead()
		}
		near = newNearest(s.Expect)
		// Emptiness is judged here, not by each extractor: a file of blank
		// lines is empty whatever the parser. Most lines start with a
		// printable ASCII byte, which settles it without trimming.
		counted := func(yield func([]byte) bool) {
			for l := range near.watch(decoded) {
				if len(l) > 0 && l[0] > ' ' && l[0] < utf8.RuneSelf || len(bytes.TrimSpace(l)) > 0 {
					lines++
				}
				if !yield(l) {
					return
				}
			}
		}
		ex.Extract(counted, set)
		if err := d.Err(); err != nil {
			r.Status = Error
			if errors.Is(err, decode.ErrBinary) {
				r.Message = p.Sprintf("%s holds binary data, not the text a command prints", name)
				r.Hint = p.Sprintf("save the command's text output: %s", produceOr(p, s, name))
				if _, isCapture := ex.(facts.CaptureExtractor); isCapture {
					r.Hint += " " + p.Sprintf("(a tcpdump -w capture must be a pcap or pcapng file)")
				}
			} else {
				r.Message = p.Sprintf("reading %s: %v", name, err)
			}
			return nil
		}
		if enc := d.Encoding(); enc != decode.UTF8 {
			r.Encoding = enc
		}
	}
	r.Format = set.Format
	if opts.KeepFacts {
		r.Facts = set.All()
	}
	if lines == 0 {
		r.Status = Fail
		r.Message = p.Sprintf("%s is empty", name)
		r.Hint = p.Sprintf("save the output again: %s", produceOr(p, s, name))
		return nil
	}
	closest := func() []Closest {
		if near == nil {
			return nil
		}
		return near.result()
	}
	for _, rule := range s.Diagnose {
		if match.All(rule.When, set) {
			r.Status, r.Message, r.Hint, r.Closest = Fail, rule.Message.In(opts.Lang), rule.Hint.In(opts.Lang), closest()
			return nil
		}
	}
	for _, rule := range s.Require {
		if !match.All(rule.When, set) {
			r.Status, r.Message, r.Hint, r.Closest = Fail, rule.Message.In(opts.Lang), rule.Hint.In(opts.Lang), closest()
			return nil
		}
	}
	r.Status, r.Points = Pass, s.Points
	return set
}

// readAheadSize is the answer size from which its lines are decoded on a
// goroutine of their own (decode.LinesAhead), overlapping reading and
// decoding with the parser on a second core; below it, the extra copy and
// goroutine cost more than they save.
const readAheadSize = 4 << 20

// isLarge reports whether f is a file of at least readAheadSize bytes.
func isLarge(f io.Reader) bool {
	st, ok := f.(interface{ Stat() (fs.FileInfo, error) })
	if !ok {
		return false
	}
	fi, err := st.Stat()
	return err == nil && fi.Size() >= readAheadSize
}

// readers recycles the read buffers: a class of a thousand submissions
// would otherwise allocate one per answers file. decode.New reuses a
// *bufio.Reader of its own size instead of wrapping it.
var readers = sync.Pool{New: func() any { return bufio.NewReaderSize(nil, decode.BufferSize) }}

// produceOr is the command that writes the step's answers file name: the
// spec's produce, else a placeholder saying so.
func produceOr(p *i18n.Printer, s spec.Step, name string) string {
	if p := s.Produce.In(p.Lang()); p != "" {
		return p
	}
	return p.Sprintf("the command > %s", name)
}

// inputError is a problem with the answer itself, phrased for the student.
type inputError struct {
	status    Status
	msg, hint string
}

func (e *inputError) Error() string { return e.msg }

// openAnswer opens the first of the step's files that exists (or the file
// given with --file, which the CLI opens the same way, through its
// folder), refusing anything that is not a regular file (a FIFO would
// block, a directory cannot be graded) and any link out of the folder.
func openAnswer(s spec.Step, opts Options) (io.ReadCloser, string, error) {
	p := i18n.For(opts.Lang)
	files, hint := s.Files, p.Sprintf("check the file's permissions")
	if opts.File != "" {
		files, hint = []string{opts.File}, p.Sprintf("check the path given to --file")
	}
	for _, file := range files {
		name := path.Join(opts.AnswersName, file)
		fi, err := fs.Stat(opts.Answers, file)
		if errors.Is(err, fs.ErrNotExist) && opts.File == "" {
			continue
		}
		if leavesFolder(err) {
			return nil, name, &inputError{Error, p.Sprintf("%s is a link that leads out of the %s folder", name, AnswersDir), p.Sprintf("copy the file itself into the folder: lab reads only what is in it, as lab grade does")}
		}
		if err != nil {
			return nil, name, &inputError{Error, describeOpenErr(p, name, err), hint}
		}
		if !fi.Mode().IsRegular() {
			if opts.File != "" {
				return nil, name, &inputError{Error, p.Sprintf("%s is not a regular file", name), p.Sprintf("give --file the answers file itself")}
			}
			return nil, name, &inputError{Error, p.Sprintf("%s is not a regular file", name), p.Sprintf("save the output as a plain file: %s", produceOr(p, s, name))}
		}
		f, err := opts.Answers.Open(file)
		if err != nil {
			return nil, name, &inputError{Error, describeOpenErr(p, name, err), hint}
		}
		return f, name, nil
	}
	first := path.Join(opts.AnswersName, s.Files[0])
	msg := p.Sprintf("%s not found", first)
	if len(s.Files) > 1 {
		alts := make([]string, 0, len(s.Files)-1)
		for _, f := range s.Files[1:] {
			alts = append(alts, path.Join(opts.AnswersName, f))
		}
		msg = p.Sprintf("%s not found (nor %s)", first, strings.Join(alts, ", "))
	}
	return nil, first, &inputError{Fail, msg, p.Sprintf("save it with: %s", produceOr(p, s, first))}
}

func describeOpenErr(p *i18n.Printer, name string, err error) string {
	switch {
	case errors.Is(err, fs.ErrNotExist):
		return p.Sprintf("%s not found", name)
	case errors.Is(err, fs.ErrPermission):
		return p.Sprintf("cannot read %s: permission denied", name)
	}
	return p.Sprintf("cannot read %s: %v", name, err)
}
