package grade

import (
	"bufio"
	"bytes"
	"encoding/csv"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"text/tabwriter"
	"time"
	"unicode/utf8"

	"github.com/k8s-debug-lab/lab/checks"
	"github.com/k8s-debug-lab/lab/checks/report"
	"github.com/k8s-debug-lab/lab/internal/i18n"
)

// The files Write creates in the output folder.
const (
	CSVFile    = "grades.csv"
	JSONFile   = "grades.json"
	ReportsDir = "reports"
)

// Written lists what Write created, relative to the output folder.
type Written struct {
	Files   []string
	Reports int
}

// Write puts the class's CSV and JSON and every student's own report (the
// text lab check prints, with its hints) into dir, creating it. It
// replaces the files of an earlier run of the same names and touches
// nothing else there.
func Write(c *Class, dir string) (Written, error) {
	var w Written
	if err := os.MkdirAll(filepath.Join(dir, ReportsDir), 0o755); err != nil {
		return w, fmt.Errorf("creating the output folder: %w", err)
	}
	used := map[string]bool{}
	for i := range c.Students {
		st := &c.Students[i]
		file := filepath.ToSlash(filepath.Join(ReportsDir, reportName(st.Name, used)+".txt"))
		var b bytes.Buffer
		if err := studentReport(&b, st); err != nil {
			return w, fmt.Errorf("rendering %s's report: %w", Printable(st.Name), err)
		}
		if err := os.WriteFile(filepath.Join(dir, file), b.Bytes(), 0o644); err != nil {
			return w, fmt.Errorf("writing %s's report: %w", Printable(st.Name), err)
		}
		st.ReportFile = file
		w.Reports++
	}
	for _, f := range []struct {
		name  string
		write func(io.Writer, *Class) error
	}{{CSVFile, WriteCSV}, {JSONFile, WriteJSON}} {
		if err := writeFile(filepath.Join(dir, f.name), func(out io.Writer) error { return f.write(out, c) }); err != nil {
			return w, err
		}
		w.Files = append(w.Files, f.name)
	}
	return w, nil
}

// writeFile streams a document into a file: a class's JSON is written as
// it is encoded, not held in memory a second time.
func writeFile(name string, write func(io.Writer) error) error {
	f, err := os.Create(name)
	if err != nil {
		return fmt.Errorf("writing %s: %w", name, err)
	}
	bw := bufio.NewWriterSize(f, 64<<10)
	err = write(bw)
	if err == nil {
		err = bw.Flush()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return fmt.Errorf("writing %s: %w", name, err)
	}
	return nil
}

// studentReport is lab check's text report, preceded by what was wrong
// with the submission as a whole.
func studentReport(w io.Writer, st *Student) error {
	var b strings.Builder
	fmt.Fprintf(&b, "student: %s\n", Printable(st.Name))
	fmt.Fprintf(&b, "graded by: %s\n", gradedBy(st.Report.LabVersion, st.Report.AssignmentDigest))
	for _, p := range st.Problems {
		fmt.Fprintf(&b, "problem: %s\n", p)
	}
	b.WriteString("\n")
	if _, err := io.WriteString(w, b.String()); err != nil {
		return err
	}
	return report.Write(w, report.Text, st.Report, report.Options{})
}

// gradedBy names what gave a grade: regrading with the same lab and the
// same assignment gives the same one.
func gradedBy(labVersion, digest string) string {
	if labVersion == "" {
		labVersion = "(unknown version)"
	}
	if digest == "" {
		digest = "(unknown digest)"
	}
	return "lab " + labVersion + ", assignment " + digest
}

// reportName turns a student's name into a file name that is safe on
// every system and unique in the class.
func reportName(name string, used map[string]bool) string {
	var b strings.Builder
	for _, r := range name {
		switch {
		case r >= 'a' && r <= 'z', r >= 'A' && r <= 'Z', r >= '0' && r <= '9', r == '-', r == '_', r == '.':
			b.WriteRune(r)
		default:
			b.WriteByte('_')
		}
	}
	base := strings.TrimLeft(b.String(), ".")
	if base == "" {
		base = "student"
	}
	out := base
	for n := 2; used[strings.ToLower(out)]; n++ {
		out = base + "-" + strconv.Itoa(n)
	}
	used[strings.ToLower(out)] = true
	return out
}

// WriteJSON writes the class report as one JSON document.
func WriteJSON(w io.Writer, c *Class) error {
	js := &jsonSafe{w: w}
	enc := json.NewEncoder(js)
	enc.SetIndent("", "  ")
	enc.SetEscapeHTML(false)
	if err := enc.Encode(c); err != nil {
		return err
	}
	return js.Close()
}

// WriteCSV writes one row per student: the points of each step (empty for
// a step skipped offline), the totals, and the flags.
func WriteCSV(w io.Writer, c *Class) error {
	cw := csv.NewWriter(w)
	head := []string{"student", "answers"}
	for _, s := range c.Steps {
		head = append(head, s.Step)
	}
	head = append(head, "points", "max_points", "passed", "failed", "skipped", "unreadable", "copy_group", "copied_with", "seed_copy", "problems", "verification", "recorded", "verification_problems", "lab_version", "assignment_digest")
	if err := cw.Write(head); err != nil {
		return err
	}
	for _, st := range c.Students {
		row := []string{cell(Printable(st.Name)), cell(Printable(st.Answers))}
		for _, r := range st.Report.Results {
			if r.Status == checks.Skip {
				row = append(row, "")
			} else {
				row = append(row, strconv.Itoa(r.Points))
			}
		}
		for len(row) < 2+len(c.Steps) { // a report cut short by a crash
			row = append(row, "")
		}
		s := st.Report.Summary
		group, with := "", ""
		if st.Copy != nil {
			group = "#" + strconv.Itoa(st.Copy.Group)
			with = strings.Join(printableAll(st.Copy.With), " ")
		}
		var seedSteps []string
		if st.Seed != nil {
			for _, sm := range st.Seed.Steps {
				seedSteps = append(seedSteps, sm.Step)
			}
		}
		row = append(row,
			strconv.Itoa(st.Points), strconv.Itoa(st.MaxPoints),
			strconv.Itoa(s.Passed), strconv.Itoa(s.Failed), strconv.Itoa(s.Skipped), strconv.Itoa(s.Errors),
			group, cell(with), strings.Join(seedSteps, " "), cell(strings.Join(st.Problems, "; ")),
			string(st.Verification.Status), recordedCell(st.Verification), cell(strings.Join(st.Verification.Problems, "; ")),
			cell(st.Report.LabVersion), st.Report.AssignmentDigest)
		if err := cw.Write(row); err != nil {
			return err
		}
	}
	cw.Flush()
	return cw.Error()
}

func recordedCell(v Verification) string {
	if v.Recorded.IsZero() {
		return ""
	}
	return v.Recorded.UTC().Format(time.RFC3339)
}

// recordMark is the table's record column: what the lab record says.
func recordMark(v Verification) string {
	if v.Status == Unverified {
		return "-"
	}
	return string(v.Status)
}

// cell keeps a spreadsheet from reading a student's folder name as a
// formula.
func cell(s string) string {
	if s != "" && strings.ContainsRune("=+-@\t\r", rune(s[0])) {
		return "'" + s
	}
	return s
}

// stepLabel is a step's column header: "3" for step-3, "★" for star.
func stepLabel(id string) string {
	if id == "star" {
		return "★"
	}
	return strings.TrimPrefix(id, "step-")
}

func mark(s checks.Status) string {
	switch s {
	case checks.Pass:
		return "✓"
	case checks.Fail:
		return "✗"
	case checks.Error:
		return "!"
	}
	return "-"
}

// clip shortens s to n runes, marking the cut.
func clip(s string, n int) string {
	if utf8.RuneCountInString(s) <= n {
		return s
	}
	r := []rune(s)
	return string(r[:n-1]) + "…"
}

// TableOptions tune the table.
type TableOptions struct {
	// NameWidth caps the student column (default 24 runes).
	NameWidth int
	// Lang is the table's language (English when empty).
	Lang i18n.Lang
}

// WriteTable writes the class as a table for people: a row per student
// with ✓/✗ per step and the points, each step's pass count, then the
// likely copies with their evidence and the submissions with problems.
func WriteTable(w io.Writer, c *Class, o TableOptions) error {
	if o.NameWidth <= 0 {
		o.NameWidth = 24
	}
	p := i18n.For(o.Lang)
	var b, rows bytes.Buffer
	b.WriteString(p.Sprintf("lab grade: %s · %d submissions in %s · offline", c.Assignment, len(c.Students), Printable(c.Submissions)) + "\n")
	b.WriteString(p.Sprintf("graded by: %s", gradedBy(c.LabVersion, c.AssignmentDigest)) + "\n\n")
	tw := tabwriter.NewWriter(&rows, 0, 0, 2, ' ', 0)
	head := []string{p.Sprintf("student")}
	for _, s := range c.Steps {
		head = append(head, stepLabel(s.Step))
	}
	head = append(head, p.Sprintf("points"), p.Sprintf("record"), p.Sprintf("copy"))
	fmt.Fprintln(tw, strings.Join(head, "\t"))
	for _, st := range c.Students {
		row := []string{clip(Printable(st.Name), o.NameWidth)}
		for i := range c.Steps {
			m := " "
			if i < len(st.Report.Results) {
				m = mark(st.Report.Results[i].Status)
			}
			row = append(row, m)
		}
		row = append(row, fmt.Sprintf("%d/%d", st.Points, st.MaxPoints), recordMark(st.Verification))
		var flags []string
		if st.Copy != nil {
			flags = append(flags, "#"+strconv.Itoa(st.Copy.Group))
		}
		if st.Seed != nil {
			flags = append(flags, "seed")
		}
		if len(st.Problems) > 0 {
			flags = append(flags, "problem")
		}
		row = append(row, strings.Join(flags, " "))
		fmt.Fprintln(tw, strings.Join(row, "\t"))
	}
	passed := []string{p.Sprintf("passed")}
	for _, s := range c.Steps {
		if s.Skipped == len(c.Students) {
			passed = append(passed, "-")
		} else {
			passed = append(passed, strconv.Itoa(s.Passed))
		}
	}
	fmt.Fprintln(tw, strings.Join(append(passed, "", "", ""), "\t"))
	if err := tw.Flush(); err != nil {
		return err
	}
	// The last column is often empty: no padding at the ends of lines.
	for line := range strings.Lines(rows.String()) {
		b.WriteString(strings.TrimRight(line, " \n"))
		b.WriteByte('\n')
	}
	b.WriteString("\n" + p.Sprintf("✓ pass  ✗ fail  ! unreadable  - skipped offline (checked only against the student's cluster)") + "\n")
	v := c.Verification
	b.WriteString(p.Sprintf("lab records: %d verified (a record that agrees with the answers) · %d unverified (no record: not checked against a cluster) · %d incoherent", v.Verified, v.Unverified, v.Incoherent) + "\n")
	var incoherent []Student
	for _, st := range c.Students {
		if st.Verification.Status == Incoherent {
			incoherent = append(incoherent, st)
		}
	}
	if len(incoherent) > 0 {
		b.WriteString("\n" + p.Sprintf("Incoherent: the answers and the lab record disagree") + "\n")
		for _, st := range incoherent {
			fmt.Fprintf(&b, "  %s\n", st.Name)
			for _, q := range st.Verification.Problems {
				fmt.Fprintf(&b, "     %s\n", q)
			}
		}
	}

	if len(c.Copies) > 0 {
		b.WriteString("\n" + p.Sprintf("Likely copies: these submissions share values that each cluster picks at random") + "\n")
		for _, g := range c.Copies {
			fmt.Fprintf(&b, "  #%d %s\n", g.ID, strings.Join(printableAll(g.Students), ", "))
			for _, line := range g.Lines() {
				fmt.Fprintf(&b, "     %s\n", line)
			}
		}
	}
	var seeds []Student
	for _, st := range c.Students {
		if st.Seed != nil {
			seeds = append(seeds, st)
		}
	}
	if len(seeds) > 0 {
		b.WriteString("\n" + p.Sprintf("Copied from %s", SeedSource) + "\n")
		for _, st := range seeds {
			fmt.Fprintf(&b, "  %s\n", Printable(st.Name))
			for _, line := range st.Seed.Lines() {
				fmt.Fprintf(&b, "     %s\n", line)
			}
		}
	}
	var problems []Student
	for _, st := range c.Students {
		if len(st.Problems) > 0 {
			problems = append(problems, st)
		}
	}
	if len(problems) > 0 || len(c.Ignored) > 0 {
		b.WriteString("\n" + p.Sprintf("Problems (graded as far as they go)") + "\n")
		for _, st := range problems {
			fmt.Fprintf(&b, "  %s: %s\n", Printable(st.Name), strings.Join(st.Problems, "; "))
		}
		for _, ig := range c.Ignored {
			b.WriteString("  " + p.Sprintf("%s: ignored, %s", Printable(ig.Name), ig.Reason) + "\n")
		}
	}
	_, err := w.Write(b.Bytes())
	return err
}
