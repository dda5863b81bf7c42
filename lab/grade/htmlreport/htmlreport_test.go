package htmlreport_test

import (
	"bytes"
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/k8s-debug-lab/lab/assets"
	"github.com/k8s-debug-lab/lab/checks"
	"github.com/k8s-debug-lab/lab/checks/spec"
	"github.com/k8s-debug-lab/lab/internal/golden"
	"github.com/k8s-debug-lab/lab/lab/grade"
	"github.com/k8s-debug-lab/lab/lab/grade/gradetest"
	"github.com/k8s-debug-lab/lab/lab/grade/htmlreport"
)

var repoRoot, _ = filepath.Abs("../../..")

// hostile are student folder names that would run or break a page that
// did not escape them.
var hostile = []string{"<script>alert(1)<", `<img src=x onerror=alert(2)>`, `"quoted' & <b>x`}

func builtin(t testing.TB) *spec.Assignment {
	t.Helper()
	a, err := spec.Load(assets.Lab(), assets.BuiltinSource)
	if err != nil {
		t.Fatal(err)
	}
	return a
}

// gradedClass generates a class of n (with copies, a copy of the write-up
// and broken submissions), adds the hostile names with a good answers
// folder, grades it and writes the usual files into out.
func gradedClass(t testing.TB, n int, out string) *grade.Class {
	t.Helper()
	a := builtin(t)
	dir := filepath.Join(t.TempDir(), "class")
	if _, err := gradetest.Generate(dir, repoRoot, a, gradetest.Config{Students: n, Seed: 3, Copies: max(1, n/50), SeedCopies: max(1, n/200), Broken: max(2, n/40)}); err != nil {
		t.Fatal(err)
	}
	good := filepath.Join(repoRoot, "checks", "testdata", "answers", "good")
	files, err := os.ReadDir(good)
	if err != nil {
		t.Fatal(err)
	}
	for i, name := range hostile {
		ans := filepath.Join(dir, name, "answers")
		if err := os.MkdirAll(ans, 0o755); err != nil {
			t.Fatal(err)
		}
		p := gradetest.NewPersonalizer(uint64(900 + i))
		parsers := map[string]string{"step-3.txt": "ls", "step-5.txt": "tcpdump", "step-6.txt": "pod-table", "step-7.txt": "podlog", "star.txt": "strace"}
		for _, f := range files {
			data, err := os.ReadFile(filepath.Join(good, f.Name()))
			if err != nil {
				t.Fatal(err)
			}
			if err := os.WriteFile(filepath.Join(ans, f.Name()), p.Personalize(parsers[f.Name()], data, false), 0o644); err != nil {
				t.Fatal(err)
			}
		}
	}
	c, err := grade.Run(context.Background(), a, dir, grade.Options{Jobs: 2, Now: time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)})
	if err != nil {
		t.Fatal(err)
	}
	c.Submissions = "class" // the temporary folder's name is not part of the golden
	if _, err := grade.Write(c, out); err != nil {
		t.Fatal(err)
	}
	return c
}

func TestPageGolden(t *testing.T) {
	c := gradedClass(t, 12, t.TempDir())
	p := htmlreport.Build(c, htmlreport.English)
	got, err := json.MarshalIndent(p, "", "  ")
	if err != nil {
		t.Fatal(err)
	}
	golden.Check(t, filepath.Join("testdata", "page.json"), string(got)+"\n")

	// What the golden must say, so that -update cannot bless a
	// regression unnoticed.
	if p.Numbers.Students != len(c.Students) || len(p.Students) != len(c.Students) {
		t.Errorf("students: %d numbers, %d rows, want %d", p.Numbers.Students, len(p.Students), len(c.Students))
	}
	inBins := 0
	for _, b := range p.Histogram {
		inBins += b.Count
	}
	if inBins != len(c.Students) || p.Histogram[len(p.Histogram)-1].To != p.OfflineMaxPoints {
		t.Errorf("histogram holds %d students up to %d points, want %d up to %d", inBins, p.Histogram[len(p.Histogram)-1].To, len(c.Students), p.OfflineMaxPoints)
	}
	for i, s := range p.Steps {
		n := 0
		for _, f := range s.Failures {
			n += f.Count
			if f.Count != len(f.Students) {
				t.Errorf("%s: %q counts %d, lists %d students", s.ID, f.Message, f.Count, len(f.Students))
			}
		}
		if want := c.Steps[i].Failed + c.Steps[i].Errors; n != want {
			t.Errorf("%s: failures group %d answers, want %d failed or unreadable", s.ID, n, want)
		}
	}
	if len(p.Copies) == 0 || len(p.Seeds) == 0 {
		t.Errorf("copies %d, seeds %d: the generated class has both", len(p.Copies), len(p.Seeds))
	}
	for _, s := range p.Steps {
		for _, f := range s.Failures {
			if strings.Contains(f.Message, "student-") {
				t.Errorf("%s: a reason names a student's folder, so it cannot group: %q", s.ID, f.Message)
			}
		}
	}
}

func TestEscaping(t *testing.T) {
	out := t.TempDir()
	c := gradedClass(t, 4, out)
	var b bytes.Buffer
	if err := htmlreport.Write(&b, htmlreport.Build(c, htmlreport.English)); err != nil {
		t.Fatal(err)
	}
	page := b.String()
	if n := strings.Count(page, "<script"); n != 1 {
		t.Errorf("%d <script elements, want the page's own one", n)
	}
	for _, bad := range []string{"<img", "<b>x", "<script>alert"} {
		if strings.Contains(page, bad) {
			t.Errorf("the page holds %q unescaped", bad)
		}
	}
	for _, want := range []string{"&lt;script&gt;alert(1)&lt;", "&lt;img src=x onerror=alert(2)&gt;", "&#34;quoted&#39; &amp; &lt;b&gt;x"} {
		if !strings.Contains(page, want) {
			t.Errorf("the page does not show %q", want)
		}
	}
	// The page names no other resource: it must open from disk alone.
	if m := regexp.MustCompile(`(?i)(src|href)="(https?:)?//`).FindString(page); m != "" {
		t.Errorf("the page loads %s", m)
	}
}

func TestLanguages(t *testing.T) {
	c := gradedClass(t, 2, t.TempDir())
	for _, tc := range []struct {
		lang htmlreport.Lang
		want []string
	}{
		{htmlreport.English, []string{`<html lang="en">`, "Class report", "What to teach again"}},
		{htmlreport.Russian, []string{`<html lang="ru">`, "Отчёт по группе", "Что объяснить ещё раз", "показано 5 из 5"}},
	} {
		t.Run(string(tc.lang), func(t *testing.T) {
			var b bytes.Buffer
			if err := htmlreport.Write(&b, htmlreport.Build(c, tc.lang)); err != nil {
				t.Fatal(err)
			}
			for _, w := range tc.want {
				if !strings.Contains(b.String(), w) {
					t.Errorf("missing %q", w)
				}
			}
			if strings.Contains(b.String(), "%!") {
				t.Error("a word's format does not fit its arguments (%! in the page)")
			}
		})
	}
}

// A class where nothing was graded (every step live-only, or no student
// left) still renders: an instructor gets a page, not a crash.
func TestDegenerateClasses(t *testing.T) {
	for _, tc := range []struct {
		name string
		c    *grade.Class
	}{
		{"no students", &grade.Class{Assignment: "x", Steps: []grade.StepSummary{{Step: "step-1", Title: "one", MaxPoints: 1}}}},
		{"nothing gradable offline", &grade.Class{Assignment: "x", MaxPoints: 1,
			Steps:    []grade.StepSummary{{Step: "step-1", Title: "one", MaxPoints: 1, Skipped: 1}},
			Students: []grade.Student{{Name: "a", MaxPoints: 1, Report: &checks.Report{Results: []checks.Result{{Step: "step-1", Status: checks.Skip}}}}}}},
		{"a report cut short", &grade.Class{Assignment: "x", MaxPoints: 2, OfflineMaxPoints: 2,
			Steps:    []grade.StepSummary{{Step: "step-1", MaxPoints: 1, Failed: 1}, {Step: "step-2", MaxPoints: 1}},
			Students: []grade.Student{{Name: "a", Report: &checks.Report{Results: []checks.Result{{Step: "step-1", Status: checks.Fail, Message: "m"}}}}, {Name: "b"}}}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var b bytes.Buffer
			if err := htmlreport.Write(&b, htmlreport.Build(tc.c, htmlreport.English)); err != nil {
				t.Fatal(err)
			}
			if !strings.HasSuffix(strings.TrimSpace(b.String()), "</html>") {
				t.Error("the page stops short")
			}
		})
	}
}

func TestWriteFile(t *testing.T) {
	dir := t.TempDir()
	p := htmlreport.Build(&grade.Class{Assignment: "x"}, htmlreport.English)
	name := filepath.Join(dir, "new", "report.html")
	if err := htmlreport.WriteFile(name, p); err != nil {
		t.Fatalf("a missing folder is made: %v", err)
	}
	if err := htmlreport.WriteFile(dir, p); err == nil || !strings.Contains(err.Error(), dir) {
		t.Errorf("writing over a folder: %v, want an error naming it", err)
	}
}

func TestDiffSegments(t *testing.T) {
	for _, tc := range []struct {
		name, diff string
		want       []htmlreport.Seg
	}{
		{"none", "", nil},
		{"same", "a b", []htmlreport.Seg{{Text: "a b"}}},
		{"both", "GET [-/index.html-]{+/+} HTTP", []htmlreport.Seg{{Text: "GET "}, {Op: "-", Text: "/index.html"}, {Op: "+", Text: "/"}, {Text: " HTTP"}}},
		{"brackets that are text", "a [b] {c} [-d", []htmlreport.Seg{{Text: "a [b] {c} [-d"}}},
		{"unclosed", "x{+y", []htmlreport.Seg{{Text: "x{+y"}}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c := &grade.Class{Steps: []grade.StepSummary{{Step: "step-1", Failed: 1}}, Students: []grade.Student{{Name: "a",
				Report: &checks.Report{Results: []checks.Result{{Step: "step-1", Status: checks.Fail, Closest: []checks.Closest{{Want: "w", Got: "g", Diff: tc.diff}}}}}}}}
			got := htmlreport.Build(c, htmlreport.English).Students[0].Results[0].Closest[0].Diff
			if diff := cmp.Diff(tc.want, got); diff != "" {
				t.Errorf("(-want +got):\n%s", diff)
			}
		})
	}
}

func TestNumbers(t *testing.T) {
	class := func(points ...int) *grade.Class {
		c := &grade.Class{OfflineMaxPoints: 10}
		for _, p := range points {
			c.Students = append(c.Students, grade.Student{Name: "s", Points: p, Report: &checks.Report{}})
		}
		return c
	}
	for _, tc := range []struct {
		name   string
		points []int
		want   htmlreport.Numbers
	}{
		{"one", []int{7}, htmlreport.Numbers{Students: 1, Median: 7, Q1: 7, Q3: 7, Min: 7, Max: 7, Mean: 7}},
		{"even", []int{0, 10, 4, 6}, htmlreport.Numbers{Students: 4, Median: 5, Q1: 3, Q3: 7, Min: 0, Max: 10, Mean: 5, Full: 1}},
		{"odd", []int{1, 2, 3, 4, 10}, htmlreport.Numbers{Students: 5, Median: 3, Q1: 2, Q3: 4, Min: 1, Max: 10, Mean: 4, Full: 1}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if diff := cmp.Diff(tc.want, htmlreport.Build(class(tc.points...), htmlreport.English).Numbers); diff != "" {
				t.Errorf("(-want +got):\n%s", diff)
			}
		})
	}
}
