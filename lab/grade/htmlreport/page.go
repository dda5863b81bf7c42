// Package htmlreport renders a graded class (lab/grade's Class) as one
// self-contained HTML page for the instructor: the class in numbers with a
// score histogram, each step's pass rate and its most common reasons for
// failing (what to teach again), the likely copies, whether each hand-in
// was checked against a cluster, and a table of every student that sorts
// and filters, each row opening that student's report.
//
// The page is one file that opens from disk with no network: CSS, SVG
// charts and a little JavaScript are inline, every name and message goes
// through html/template's escaping, and the charts are drawn here in Go so
// that the page reads the same with JavaScript off and in print.
//
// Build turns a Class into a Page, the plain data behind the page (its
// tests compare it with goldens); Write renders a Page.
package htmlreport

import (
	"cmp"
	"math"
	"slices"
	"strings"
	"time"

	"github.com/k8s-debug-lab/lab/checks"
	"github.com/k8s-debug-lab/lab/checks/facts/fingerprint"
	"github.com/k8s-debug-lab/lab/lab/grade"
)

// Page is everything the page shows, computed once from a Class.
type Page struct {
	Lang        Lang      `json:"lang"`
	Assignment  string    `json:"assignment"`
	Source      string    `json:"source"`
	Submissions string    `json:"submissions"`
	Graded      time.Time `json:"graded"`
	Offline     bool      `json:"offline"`
	// MaxPoints is what a student can earn; OfflineMaxPoints what an
	// offline run can award, the scale of every score on the page.
	MaxPoints        int `json:"maxPoints"`
	OfflineMaxPoints int `json:"offlineMaxPoints"`

	Numbers   Numbers `json:"numbers"`
	Histogram []Bin   `json:"histogram"`
	Steps     []Step  `json:"steps"`
	Copies    []Copy  `json:"copies"`
	// Seeds are the students whose answers came from the assignment's
	// sample write-up.
	Seeds        []Seed          `json:"seeds"`
	Verification []Verification  `json:"verification"`
	Students     []Student       `json:"students"`
	Ignored      []grade.Ignored `json:"ignored,omitempty"`
}

// Numbers are the class at a glance, scores in points out of
// OfflineMaxPoints.
type Numbers struct {
	Students int     `json:"students"`
	Median   float64 `json:"median"`
	// Q1 and Q3 are the quartiles: half the class scored between them.
	Q1   float64 `json:"q1"`
	Q3   float64 `json:"q3"`
	Min  int     `json:"min"`
	Max  int     `json:"max"`
	Mean float64 `json:"mean"`
	// Full counts the students with every offline point.
	Full int `json:"full"`
	// Copied counts the students in a copy group or copying the write-up.
	Copied   int `json:"copied"`
	Problems int `json:"problems"`
}

// Bin is one bar of the score histogram: the students who scored From to
// To points, both included.
type Bin struct {
	From  int `json:"from"`
	To    int `json:"to"`
	Count int `json:"count"`
}

// Step is one step across the class.
type Step struct {
	ID        string `json:"id"`
	Label     string `json:"label"`
	Title     string `json:"title"`
	MaxPoints int    `json:"maxPoints"`
	// Graded is false for a step that was skipped for everyone (checked
	// only against the student's cluster).
	Graded  bool `json:"graded"`
	Passed  int  `json:"passed"`
	Failed  int  `json:"failed"`
	Errors  int  `json:"errors"`
	Skipped int  `json:"skipped"`
	// PassRate is the percentage of the graded answers that passed.
	PassRate int `json:"passRate"`
	// Failures group the failed and unreadable answers by message, the
	// most common first.
	Failures []Failure `json:"failures"`
}

// Failure is one reason a step failed, with everyone it failed for.
type Failure struct {
	Status   checks.Status `json:"status"`
	Message  string        `json:"message"`
	Hint     string        `json:"hint,omitempty"`
	Count    int           `json:"count"`
	Students []string      `json:"students"`
}

// Copy is a group of likely copies.
type Copy struct {
	ID       int        `json:"id"`
	Students []string   `json:"students"`
	Strength string     `json:"strength"`
	Steps    []CopyStep `json:"steps"`
	More     int        `json:"more,omitempty"`
}

// CopyStep is what one step's answers share: the whole file, how many
// random values, and one of them as an example.
type CopyStep struct {
	Step      string   `json:"step"`
	Label     string   `json:"label"`
	Identical bool     `json:"identical"`
	Values    int      `json:"values"`
	Strength  string   `json:"strength"`
	Example   string   `json:"example,omitempty"`
	Holders   []string `json:"holders,omitempty"`
}

// Seed is a student whose answers came from the sample write-up.
type Seed struct {
	Student string     `json:"student"`
	Steps   []CopyStep `json:"steps"`
}

// Verification counts the students of one verification status, grouped
// by why.
type Verification struct {
	Status  grade.VerificationStatus `json:"status"`
	Count   int                      `json:"count"`
	Reasons []Reason                 `json:"reasons"`
}

// Reason is one thing said of some students, with who they are.
type Reason struct {
	Text     string   `json:"text"`
	Count    int      `json:"count"`
	Students []string `json:"students"`
}

// Student is one row of the student table and the report it opens.
type Student struct {
	Name    string `json:"name"`
	Answers string `json:"answers"`
	Points  int    `json:"points"`
	// Percent is Points of the page's OfflineMaxPoints.
	Percent int `json:"percent"`
	// Marks are the step verdicts in Page.Steps order, one letter each
	// (p pass, f fail, e unreadable, s skipped), which the table filters
	// on.
	Marks    string   `json:"marks"`
	Copy     int      `json:"copy,omitempty"`
	With     []string `json:"with,omitempty"`
	Seed     bool     `json:"seed,omitempty"`
	Problems []string `json:"problems,omitempty"`
	// Verification is the lab record's verdict, with why.
	Verification grade.Verification `json:"verification"`
	ReportFile   string             `json:"reportFile,omitempty"`
	Results      []Result           `json:"results"`
}

// Result is one step of a student's report.
type Result struct {
	Step      string        `json:"step"`
	Label     string        `json:"label"`
	Title     string        `json:"title"`
	Status    checks.Status `json:"status"`
	Points    int           `json:"points"`
	MaxPoints int           `json:"maxPoints"`
	File      string        `json:"file,omitempty"`
	Encoding  string        `json:"encoding,omitempty"`
	Message   string        `json:"message,omitempty"`
	Hint      string        `json:"hint,omitempty"`
	Closest   []Closest     `json:"closest,omitempty"`
}

// Closest is an expected line and the student's line nearest to it, cut
// into what both share and what differs.
type Closest struct {
	Line int    `json:"line,omitempty"`
	Want string `json:"want"`
	// Got is empty when no line of the file resembles Want.
	Got  string `json:"got,omitempty"`
	Diff []Seg  `json:"diff,omitempty"`
}

// Seg is a run of a closest-line diff: Op "-" only wanted, "+" only
// found, "" in both.
type Seg struct {
	Op   string `json:"op,omitempty"`
	Text string `json:"text"`
}

// maxHolders bounds the names listed with a copy group's step: a group
// everyone copied into names them once, at the top.
const maxHolders = 12

// Build computes the page of a graded class.
func Build(c *grade.Class, lang Lang) *Page {
	p := &Page{
		Lang: lang, Assignment: c.Assignment, Source: c.Source, Submissions: c.Submissions,
		Graded: c.Graded, Offline: c.Offline, MaxPoints: c.MaxPoints, OfflineMaxPoints: c.OfflineMaxPoints,
		Copies: []Copy{}, Seeds: []Seed{}, Students: make([]Student, 0, len(c.Students)), Ignored: c.Ignored,
	}
	index := map[string]int{}
	for i, s := range c.Steps {
		index[s.Step] = i
		graded := s.Passed + s.Failed + s.Errors
		st := Step{ID: s.Step, Label: label(s.Step), Title: s.Title, MaxPoints: s.MaxPoints, Graded: graded > 0,
			Passed: s.Passed, Failed: s.Failed, Errors: s.Errors, Skipped: s.Skipped, Failures: []Failure{}}
		if graded > 0 {
			st.PassRate = int(math.Round(100 * float64(s.Passed) / float64(graded)))
		}
		p.Steps = append(p.Steps, st)
	}
	failures := make([]map[string]*Failure, len(p.Steps))
	for i := range failures {
		failures[i] = map[string]*Failure{}
	}
	verified := map[grade.VerificationStatus]int{}
	why := map[grade.VerificationStatus]map[string]*Reason{}
	scores := make([]int, 0, len(c.Students))
	for _, cs := range c.Students {
		st := student(cs, p.Steps, index, p.OfflineMaxPoints)
		p.Students = append(p.Students, st)
		scores = append(scores, st.Points)
		verified[st.Verification.Status]++
		for _, text := range st.Verification.Problems {
			m := why[st.Verification.Status]
			if m == nil {
				m = map[string]*Reason{}
				why[st.Verification.Status] = m
			}
			r := m[text]
			if r == nil {
				r = &Reason{Text: text}
				m[text] = r
			}
			r.Count++
			r.Students = append(r.Students, st.Name)
		}
		if st.Copy > 0 || st.Seed {
			p.Numbers.Copied++
		}
		if len(st.Problems) > 0 {
			p.Numbers.Problems++
		}
		for _, r := range st.Results {
			if r.Status != checks.Fail && r.Status != checks.Error {
				continue
			}
			i, ok := index[r.Step]
			if !ok {
				continue
			}
			msg := sameForAll(r.Message, cs.Report.Answers)
			key := string(r.Status) + "\x00" + msg
			f := failures[i][key]
			if f == nil {
				f = &Failure{Status: r.Status, Message: msg, Hint: r.Hint}
				failures[i][key] = f
			}
			f.Count++
			f.Students = append(f.Students, st.Name)
		}
	}
	for i, m := range failures {
		for _, f := range m {
			p.Steps[i].Failures = append(p.Steps[i].Failures, *f)
		}
		slices.SortFunc(p.Steps[i].Failures, func(a, b Failure) int {
			return cmp.Or(b.Count-a.Count, cmp.Compare(a.Message, b.Message), cmp.Compare(a.Status, b.Status))
		})
	}
	for _, s := range []grade.VerificationStatus{grade.Verified, grade.Incoherent, grade.Unverified} {
		v := Verification{Status: s, Count: verified[s], Reasons: []Reason{}}
		for _, r := range why[s] {
			v.Reasons = append(v.Reasons, *r)
		}
		slices.SortFunc(v.Reasons, func(a, b Reason) int { return cmp.Or(b.Count-a.Count, cmp.Compare(a.Text, b.Text)) })
		p.Verification = append(p.Verification, v)
	}
	p.Numbers.Students = len(scores)
	p.numbers(scores)
	p.Histogram = histogram(scores, p.OfflineMaxPoints)

	for _, g := range c.Copies {
		cp := Copy{ID: g.ID, Students: g.Students, Steps: copySteps(g.Match), More: g.MoreEvidence, Strength: fingerprint.Weak.String()}
		for _, s := range g.Steps {
			if s.Strength == fingerprint.Strong {
				cp.Strength = fingerprint.Strong.String()
			}
		}
		p.Copies = append(p.Copies, cp)
	}
	for _, cs := range c.Students {
		if cs.Seed != nil {
			p.Seeds = append(p.Seeds, Seed{Student: cs.Name, Steps: copySteps(*cs.Seed)})
		}
	}
	return p
}

func student(cs grade.Student, steps []Step, index map[string]int, full int) Student {
	st := Student{Name: cs.Name, Answers: cs.Answers, Points: cs.Points, Problems: cs.Problems,
		Verification: cs.Verification, ReportFile: cs.ReportFile, Seed: cs.Seed != nil, Results: []Result{}}
	if full > 0 {
		st.Percent = int(math.Round(100 * float64(cs.Points) / float64(full)))
	}
	if cs.Copy != nil {
		st.Copy, st.With = cs.Copy.Group, cs.Copy.With
	}
	marks := []byte(strings.Repeat("-", len(steps)))
	if cs.Report != nil {
		for _, r := range cs.Report.Results {
			if i, ok := index[r.Step]; ok {
				marks[i] = mark(r.Status)
			}
			st.Results = append(st.Results, Result{Step: r.Step, Label: label(r.Step), Title: r.Title, Status: r.Status,
				Points: r.Points, MaxPoints: r.MaxPoints, File: r.File, Encoding: r.Encoding, Message: r.Message, Hint: r.Hint,
				Closest: closest(r.Closest)})
		}
	}
	st.Marks = string(marks)
	return st
}

// mark is a verdict's letter in Student.Marks; "-" is a step missing from
// a report cut short.
func mark(s checks.Status) byte {
	switch s {
	case checks.Pass:
		return 'p'
	case checks.Fail:
		return 'f'
	case checks.Error:
		return 'e'
	}
	return 's'
}

// sameForAll takes the student's own folder out of a message ("alice/
// answers/step-3.txt not found"), so that one mistake made by many is one
// reason to teach again, not one per student.
func sameForAll(msg, answers string) string {
	if answers == "" {
		return msg
	}
	return strings.ReplaceAll(msg, answers+"/", "")
}

// label is a step's short name: "3" for step-3, "★" for star.
func label(id string) string {
	if id == "star" {
		return "★"
	}
	return strings.TrimPrefix(id, "step-")
}

func (p *Page) numbers(scores []int) {
	if len(scores) == 0 {
		return
	}
	s := slices.Sorted(slices.Values(scores))
	n := &p.Numbers
	n.Min, n.Max = s[0], s[len(s)-1]
	n.Q1, n.Median, n.Q3 = quantile(s, 0.25), quantile(s, 0.5), quantile(s, 0.75)
	sum := 0
	for _, v := range s {
		sum += v
		if p.OfflineMaxPoints > 0 && v >= p.OfflineMaxPoints {
			n.Full++
		}
	}
	n.Mean = math.Round(10*float64(sum)/float64(len(s))) / 10
}

// quantile interpolates between the nearest ranks of sorted (the method
// spreadsheets use), rounded to a tenth.
func quantile(sorted []int, q float64) float64 {
	pos := q * float64(len(sorted)-1)
	lo := int(math.Floor(pos))
	hi := min(lo+1, len(sorted)-1)
	v := float64(sorted[lo]) + (pos-float64(lo))*float64(sorted[hi]-sorted[lo])
	return math.Round(10*v) / 10
}

// maxBins bounds the histogram's bars: one per score while scores are
// few, ranges of scores beyond.
const maxBins = 20

func histogram(scores []int, full int) []Bin {
	top := full
	for _, s := range scores {
		top = max(top, s)
	}
	width := 1
	if top+1 > maxBins {
		width = (top + maxBins) / maxBins
	}
	bins := make([]Bin, 0, top/width+1)
	for from := 0; from <= top; from += width {
		bins = append(bins, Bin{From: from, To: min(from+width-1, top)})
	}
	for _, s := range scores {
		if s >= 0 {
			bins[s/width].Count++
		}
	}
	return bins
}

func copySteps(m grade.Match) []CopyStep {
	var out []CopyStep
	for _, sm := range m.Steps {
		cs := CopyStep{Step: sm.Step, Label: label(sm.Step), Identical: sm.Identical, Values: sm.Values, Strength: sm.Strength.String()}
		holders := map[string]bool{}
		for _, e := range m.Evidence {
			if e.Step != sm.Step {
				continue
			}
			if cs.Example == "" && e.Kind != fingerprint.KindFile {
				cs.Example = strings.TrimSpace(e.What + " " + e.Value)
			}
			for _, h := range e.Students {
				holders[h] = true
			}
		}
		if len(holders) <= maxHolders {
			cs.Holders = slices.Sorted(func(yield func(string) bool) {
				for h := range holders {
					if !yield(h) {
						return
					}
				}
			})
		}
		out = append(out, cs)
	}
	return out
}

// closest keeps the closest lines worth showing, the way lab check's text
// report does: a line that matched is no news, and a line nearest to two
// expected ones is shown once.
func closest(cs []checks.Closest) []Closest {
	var out []Closest
	shown := map[string]bool{}
	for _, c := range cs {
		if c.Got == c.Want || (c.Got != "" && shown[c.Got]) {
			continue
		}
		shown[c.Got] = true
		out = append(out, Closest{Line: c.Line, Want: c.Want, Got: c.Got, Diff: segments(c.Diff)})
	}
	return out
}

// segments cuts a wdiff-style diff ("same [-wanted-]{+found+}") into runs.
// Text that only looks like a marker is kept as it is: a diff the page
// cannot cut is shown whole rather than wrong.
func segments(d string) []Seg {
	if d == "" {
		return nil
	}
	var out []Seg
	add := func(op, text string) {
		if text == "" {
			return
		}
		if n := len(out); n > 0 && out[n-1].Op == op {
			out[n-1].Text += text
			return
		}
		out = append(out, Seg{Op: op, Text: text})
	}
	for d != "" {
		i := strings.IndexAny(d, "[{")
		if i < 0 {
			add("", d)
			break
		}
		add("", d[:i])
		d = d[i:]
		open, end, op := "[-", "-]", "-"
		if d[0] == '{' {
			open, end, op = "{+", "+}", "+"
		}
		j := strings.Index(d[min(2, len(d)):], end)
		if !strings.HasPrefix(d, open) || j < 0 {
			add("", d[:1])
			d = d[1:]
			continue
		}
		add(op, d[2:2+j])
		d = d[2+j+2:]
	}
	return out
}
