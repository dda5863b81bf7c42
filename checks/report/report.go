// Package report renders a checks.Report for people and for machines.
//
// Text is for a student at a terminal: a line per step with ✓/✗ and its
// points, then for a failed step what is wrong, what to do, and a short
// (-want +got) of the closest line. JSON (documented in the README), JUnit
// XML and the GitHub Classroom autograding result are for CI; they never
// carry anything but the document, so they can be piped.
package report

import (
	"encoding/json"
	"encoding/xml"
	"fmt"
	"io"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/k8s-debug-lab/lab/internal/choice"
	"github.com/k8s-debug-lab/lab/internal/i18n"

	"github.com/k8s-debug-lab/lab/checks"
)

// Format names an output format.
type Format string

// The formats lab check writes.
const (
	Text      Format = "text"
	JSON      Format = "json"
	JUnit     Format = "junit"
	Classroom Format = "classroom"
)

// Formats lists every format, for help and errors.
var Formats = []Format{Text, JSON, JUnit, Classroom}

// ParseFormat turns a flag's value into a Format.
func ParseFormat(s string) (Format, error) {
	return choice.Parse("format", s, Formats)
}

// Options tune the text format.
type Options struct {
	// Color adds terminal colours (only for text, only on a terminal).
	Color bool
	// Width caps the length of the lines quoted from answers.
	Width int
}

// Write renders rep in format f to w.
func Write(w io.Writer, f Format, rep *checks.Report, o Options) error {
	switch f {
	case JSON:
		return writeJSON(w, rep)
	case JUnit:
		return writeJUnit(w, rep)
	case Classroom:
		return writeClassroom(w, rep)
	default:
		return writeText(w, rep, o)
	}
}

func writeJSON(w io.Writer, v any) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	enc.SetEscapeHTML(false)
	return enc.Encode(v)
}

const (
	green = "\x1b[32m"
	red   = "\x1b[31m"
	dim   = "\x1b[2m"
	bold  = "\x1b[1m"
	reset = "\x1b[0m"
)

func writeText(w io.Writer, rep *checks.Report, o Options) error {
	if o.Width <= 0 {
		o.Width = 100
	}
	paint := func(code, s string) string {
		if !o.Color {
			return s
		}
		return code + s + reset
	}
	p := i18n.For(rep.Lang)
	var b strings.Builder
	mode := p.Sprintf("offline")
	switch {
	case !rep.Offline:
		mode = p.Sprintf("live")
	case rep.Checked == checks.CheckedRecord && rep.Recorded != nil:
		mode = p.Sprintf("offline, against the lab record made %s", rep.Recorded.UTC().Format("2006-01-02 15:04 UTC"))
	}
	b.WriteString(p.Sprintf("lab check: %s · answers in %s · %s", rep.Assignment, rep.Answers, mode) + "\n\n")
	titleWidth := 0
	for _, r := range rep.Results {
		titleWidth = max(titleWidth, utf8.RuneCountInString(r.Step)+1+min(utf8.RuneCountInString(r.Title), 56))
	}
	for _, r := range rep.Results {
		mark, colour := "✓", green
		switch r.Status {
		case checks.Fail:
			mark, colour = "✗", red
		case checks.Error:
			mark, colour = "!", red
		case checks.Skip:
			mark, colour = "-", dim
		}
		label := r.Step + " " + clip(r.Title, 56)
		pad := strings.Repeat(" ", max(0, titleWidth-utf8.RuneCountInString(label)))
		score := fmt.Sprintf("%d/%d", r.Points, r.MaxPoints)
		if r.Status == checks.Skip {
			score = p.Sprintf("skipped")
		}
		if r.Status == checks.Pass && r.Message != "" {
			score += "  " + paint(dim, r.Message) // a live-only step scored from a lab record
		}
		fmt.Fprintf(&b, "%s %s%s  %s\n", paint(colour, mark), label, pad, score)
		if r.Status == checks.Pass {
			continue
		}
		indent := "    "
		what := r.Message
		if r.File != "" && !strings.Contains(what, r.File) {
			what = r.File + ": " + what
		}
		if r.Format != "" && r.Status == checks.Fail {
			what += " " + p.Sprintf("(read as %s)", r.Format)
		}
		fmt.Fprintf(&b, "%s%s\n", indent, what)
		if r.Hint != "" {
			fmt.Fprintf(&b, "%s%s %s\n", indent, paint(bold, p.Sprintf("hint:")), r.Hint)
		}
		shown := map[string]bool{}
		for _, c := range r.Closest {
			if c.Got == c.Want || shown[c.Got] {
				continue // a line closest to two skeletons is shown once
			}
			shown[c.Got] = true
			if c.Got == "" {
				fmt.Fprintf(&b, "%s%s\n%s  %s\n", indent, p.Sprintf("no line resembles the expected one:"), indent, clip(c.Want, o.Width))
				continue
			}
			got := c.Got
			if c.Column > 0 && c.Column < len(got) {
				got = "…" + got[c.Column:]
			}
			want, got := window(c.Want, got, o.Width)
			fmt.Fprintf(&b, "%s%s\n", indent, p.Sprintf("closest line %d (-want +got):", c.Line))
			fmt.Fprintf(&b, "%s%s\n", indent, paint(red, "- "+want))
			fmt.Fprintf(&b, "%s%s\n", indent, paint(green, "+ "+got))
		}
	}
	s := rep.Summary
	b.WriteString("\n" + p.Sprintf("score %d/%d · %d passed · %d failed", s.Points, s.MaxPoints, s.Passed, s.Failed))
	if s.Skipped > 0 {
		b.WriteString(" · " + p.Sprintf("%d skipped", s.Skipped))
	}
	if s.Errors > 0 {
		b.WriteString(" · " + p.Sprintf("%d unreadable", s.Errors))
	}
	b.WriteString("\n")
	for _, n := range rep.Notes {
		fmt.Fprintf(&b, "%s %s\n", paint(bold, p.Sprintf("note:")), n)
	}
	_, err := io.WriteString(w, b.String())
	return err
}

// window cuts two long lines to width runes around where they first
// differ, at the same offset in both so that they stay aligned: the
// interesting part of a tcpdump line is at its end.
func window(want, got string, width int) (string, string) {
	w, g := []rune(want), []rune(got)
	if len(w) <= width && len(g) <= width {
		return want, got
	}
	p := 0
	for p < len(w) && p < len(g) && w[p] == g[p] {
		p++
	}
	start := max(0, p-width/3)
	cut := func(r []rune) string {
		if start >= len(r) {
			return "…"
		}
		s := string(r[start:])
		if start > 0 {
			s = "…" + s
		}
		return clip(s, width)
	}
	return cut(w), cut(g)
}

// clip shortens s to n runes, marking the cut.
func clip(s string, n int) string {
	if utf8.RuneCountInString(s) <= n {
		return s
	}
	r := []rune(s)
	return string(r[:n-1]) + "…"
}

// JUnit XML, as CI systems (GitLab, Jenkins, GitHub test reporters) read it.
type junitSuites struct {
	XMLName  xml.Name     `xml:"testsuites"`
	Name     string       `xml:"name,attr"`
	Tests    int          `xml:"tests,attr"`
	Failures int          `xml:"failures,attr"`
	Errors   int          `xml:"errors,attr"`
	Skipped  int          `xml:"skipped,attr"`
	Suites   []junitSuite `xml:"testsuite"`
}

type junitSuite struct {
	Name       string          `xml:"name,attr"`
	Tests      int             `xml:"tests,attr"`
	Failures   int             `xml:"failures,attr"`
	Errors     int             `xml:"errors,attr"`
	Skipped    int             `xml:"skipped,attr"`
	Properties []junitProperty `xml:"properties>property,omitempty"`
	Cases      []junitCase     `xml:"testcase"`
	SystemOut  string          `xml:"system-out,omitempty"`
}

type junitProperty struct {
	Name  string `xml:"name,attr"`
	Value string `xml:"value,attr"`
}

type junitCase struct {
	Name      string        `xml:"name,attr"`
	Classname string        `xml:"classname,attr"`
	Failure   *junitProblem `xml:"failure,omitempty"`
	Error     *junitProblem `xml:"error,omitempty"`
	Skipped   *junitProblem `xml:"skipped,omitempty"`
}

type junitProblem struct {
	Message string `xml:"message,attr"`
	Body    string `xml:",chardata"`
}

func writeJUnit(w io.Writer, rep *checks.Report) error {
	s := rep.Summary
	suite := junitSuite{Name: rep.Assignment, Tests: len(rep.Results), Failures: s.Failed, Errors: s.Errors, Skipped: s.Skipped,
		Properties: []junitProperty{{"lab.version", rep.LabVersion}, {"lab.assignmentDigest", rep.AssignmentDigest}, {Name: "checked", Value: rep.Checked}},
		SystemOut:  strings.Join(rep.Notes, "\n")}
	if rep.Recorded != nil {
		suite.Properties = append(suite.Properties, junitProperty{Name: "recorded", Value: rep.Recorded.UTC().Format(time.RFC3339)})
	}
	for _, r := range rep.Results {
		c := junitCase{Name: r.Step + ": " + r.Title, Classname: "lab." + rep.Assignment}
		p := &junitProblem{Message: r.Message, Body: detail(i18n.For(rep.Lang), r)}
		switch r.Status {
		case checks.Fail:
			c.Failure = p
		case checks.Error:
			c.Error = p
		case checks.Skip:
			c.Skipped = p
		}
		suite.Cases = append(suite.Cases, c)
	}
	doc := junitSuites{Name: "lab check", Tests: suite.Tests, Failures: s.Failed, Errors: s.Errors, Skipped: s.Skipped, Suites: []junitSuite{suite}}
	if _, err := io.WriteString(w, xml.Header); err != nil {
		return err
	}
	enc := xml.NewEncoder(w)
	enc.Indent("", "  ")
	if err := enc.Encode(doc); err != nil {
		return err
	}
	_, err := io.WriteString(w, "\n")
	return err
}

// detail is the plain-text body of a failure: file, hint, closest lines.
func detail(p *i18n.Printer, r checks.Result) string {
	var b strings.Builder
	if r.File != "" {
		fmt.Fprintf(&b, "%s %s\n", p.Sprintf("file:"), r.File)
	}
	if r.Hint != "" {
		fmt.Fprintf(&b, "%s %s\n", p.Sprintf("hint:"), r.Hint)
	}
	for _, c := range r.Closest {
		if c.Got != "" && c.Got != c.Want {
			fmt.Fprintf(&b, "%s\n- %s\n+ %s\n", p.Sprintf("closest line %d (-want +got):", c.Line), c.Want, c.Got)
		}
	}
	return b.String()
}

// The GitHub Classroom autograding result, as its reporter action reads it
// (base64-encoded into the <RUNNER>_RESULTS variable).
type classroom struct {
	Version  int             `json:"version"`
	Status   string          `json:"status"`
	MaxScore int             `json:"max_score"`
	Tests    []classroomTest `json:"tests"`
	// What graded, for a teacher reading the result later; the reporter
	// reads only the fields above.
	LabVersion       string `json:"lab_version"`
	AssignmentDigest string `json:"assignment_digest"`
}

type classroomTest struct {
	Name          string `json:"name"`
	Status        string `json:"status"`
	Score         int    `json:"score"`
	Message       string `json:"message"`
	TestCode      string `json:"test_code"`
	Filename      string `json:"filename"`
	LineNo        int    `json:"line_no"`
	ExecutionTime string `json:"execution_time"`
}

// writeClassroom leaves skipped steps out: a step that can only be proven
// live cannot earn points in an offline classroom run, and counting it in
// max_score would cap every student below full marks. The report's notes
// (not checked against a cluster, files changed since the lab record)
// come first, as tests worth no points, since the reporter shows nothing
// else.
func writeClassroom(w io.Writer, rep *checks.Report) error {
	doc := classroom{Version: 1, Status: "pass", Tests: []classroomTest{}, LabVersion: rep.LabVersion, AssignmentDigest: rep.AssignmentDigest}
	for _, n := range rep.Notes {
		doc.Tests = append(doc.Tests, classroomTest{Name: clip(n, 80), Status: "pass", Message: n, TestCode: "lab check", ExecutionTime: "0s"})
	}
	for _, r := range rep.Results {
		if r.Status == checks.Skip {
			continue
		}
		t := classroomTest{
			Name: r.Step + ": " + r.Title, Status: string(r.Status), Score: r.Points,
			TestCode: "lab check " + r.Step, Filename: r.File, ExecutionTime: "0s",
		}
		if r.Status != checks.Pass {
			t.Message = strings.TrimSpace(r.Message + "\n" + detail(i18n.For(rep.Lang), r))
		}
		doc.MaxScore += r.MaxPoints
		switch r.Status {
		case checks.Fail:
			if doc.Status == "pass" {
				doc.Status = "fail"
			}
		case checks.Error:
			doc.Status = "error"
		}
		doc.Tests = append(doc.Tests, t)
	}
	return writeJSON(w, doc)
}
