package cli

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/k8s-debug-lab/lab/lab/labfolder"
)

// class writes two submissions: one from the seed write-up, one empty.
func class(t *testing.T) string {
	t.Helper()
	dir := t.TempDir()
	ans := filepath.Join(dir, "anna", "answers")
	os.MkdirAll(ans, 0o755)
	for _, f := range []string{"step-3.txt", "step-5.txt", "star.txt"} {
		data, err := os.ReadFile(filepath.Join(seed, f))
		if err != nil {
			t.Fatal(err)
		}
		os.WriteFile(filepath.Join(ans, f), data, 0o644)
	}
	os.MkdirAll(filepath.Join(dir, "boris"), 0o755)
	return dir
}

func TestGradeTable(t *testing.T) {
	subs := class(t)
	out := filepath.Join(t.TempDir(), "grades")
	r := lab(t, "grade", subs, "--out", out)
	if r.code != ExitOK {
		t.Fatalf("exit %d (students failing steps is not an error): %v\n%s", r.code, r.returnedError, r.out)
	}
	for _, want := range []string{
		"lab grade: kubernetes-debug · 2 submissions", "anna", "boris", "6/13", "0/13",
		"Copied from the assignment's sample write-up", "step-5: the whole file is identical",
		"boris: no answers folder", "wrote " + filepath.Join(out, "grades.csv"),
	} {
		if !strings.Contains(r.out, want) {
			t.Errorf("output lacks %q:\n%s", want, r.out)
		}
	}
	for _, f := range []string{"grades.csv", "grades.json", "reports/anna.txt", "reports/boris.txt", "report.html"} {
		if _, err := os.Stat(filepath.Join(out, f)); err != nil {
			t.Error(err)
		}
	}
	report, _ := os.ReadFile(filepath.Join(out, "reports", "anna.txt"))
	if !strings.Contains(string(report), "hint: PID 1 is /pause") {
		t.Errorf("the student's report lacks the grader's hint:\n%s", report)
	}
}

func TestGradeJSONAndCSVAreTheOnlyOutput(t *testing.T) {
	subs := class(t)
	r := lab(t, "grade", subs, "--out", t.TempDir(), "-o", "json", "-v")
	if r.code != ExitOK {
		t.Fatalf("exit %d: %v", r.code, r.returnedError)
	}
	var doc struct {
		Kind     string `json:"kind"`
		Students []struct {
			Name string `json:"name"`
		} `json:"students"`
	}
	if err := json.Unmarshal([]byte(r.out), &doc); err != nil || doc.Kind != "ClassReport" || len(doc.Students) != 2 {
		t.Errorf("stdout is not the class JSON (%v):\n%.300s", err, r.out)
	}
	if !strings.Contains(r.err, "wrote") {
		t.Errorf("-v should say on stderr what was written: %q", r.err)
	}
	r = lab(t, "grade", subs, "--out", t.TempDir(), "-o", "csv")
	if r.code != ExitOK || !strings.HasPrefix(r.out, "student,answers,step-1,") || strings.Count(r.out, "\n") != 3 {
		t.Errorf("csv: exit %d:\n%s", r.code, r.out)
	}
}

// The HTML report goes where --html says, in --lang's language, else in
// the locale's, as lab lesson's does.
func TestGradeHTML(t *testing.T) {
	subs := class(t)
	for _, tc := range []struct {
		name, lang string
		args       []string
		want       string
	}{
		{"flag", "", []string{"--lang", "ru"}, `<html lang="ru">`},
		{"flag over locale", "ru_RU.UTF-8", []string{"--lang", "EN"}, `<html lang="en">`},
		{"locale", "ru_RU.UTF-8", nil, `<html lang="ru">`},
		{"default", "C", nil, `<html lang="en">`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Setenv("LC_ALL", "")
			t.Setenv("LC_MESSAGES", "")
			t.Setenv("LANG", tc.lang)
			page := filepath.Join(t.TempDir(), "week 3", "class.html")
			r := lab(t, append([]string{"grade", subs, "--out", t.TempDir(), "--html", page}, tc.args...)...)
			if r.code != ExitOK || !strings.Contains(r.out, page) {
				t.Fatalf("exit %d: %v\n%s", r.code, r.returnedError, r.out)
			}
			data, err := os.ReadFile(page)
			if err != nil || !strings.Contains(string(data), tc.want) || !strings.Contains(string(data), "boris") {
				t.Errorf("%s: %v; want %s and every student", page, err, tc.want)
			}
		})
	}
}

func TestGradeUsageErrors(t *testing.T) {
	subs := class(t)
	parent := t.TempDir()
	reports := filepath.Join(parent, "reports")
	os.MkdirAll(filepath.Join(reports, "anna"), 0o755)
	file := filepath.Join(t.TempDir(), "f")
	os.WriteFile(file, nil, 0o644)
	for _, tc := range []struct {
		name string
		args []string
		want string
	}{
		{"no argument", []string{"grade"}, "accepts 1 arg"},
		{"missing folder", []string{"grade", filepath.Join(subs, "nope")}, "no folder"},
		{"a file", []string{"grade", file}, "is not a folder"},
		{"one student's answers", []string{"grade", filepath.Join(subs, "anna", "answers")}, "looks like one student's work"},
		{"output inside the submissions", []string{"grade", subs, "--out", filepath.Join(subs, "grades")}, "lab never writes into the submissions"},
		{"submissions where reports go", []string{"grade", reports, "--out", parent}, "lab never writes into the submissions"},
		{"the same folder by another name", []string{"grade", subs, "--out", filepath.Join(subs, "anna", "..")}, "lab never writes into the submissions"},
		{"output is a file", []string{"grade", subs, "--out", file}, "is a file"},
		{"unknown format", []string{"grade", subs, "-o", "xml"}, "unknown format: xml (want text, json or csv)"},
		{"no jobs", []string{"grade", subs, "--jobs", "0"}, "at least one"},
		{"page inside the submissions", []string{"grade", subs, "--out", parent, "--html", filepath.Join(subs, "anna", "r.html")}, "lab never writes into the submissions"},
		{"page is a folder", []string{"grade", subs, "--out", t.TempDir(), "--html", parent}, "is a folder"},
		{"unknown language", []string{"grade", subs, "--lang", "de"}, "unknown language: de (want en or ru)"},
		{"bad assignment", []string{"grade", subs, "--assignment", subs}, "no assignment.yaml"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := lab(t, tc.args...)
			if r.code != ExitUsage || r.returnedError == nil || !strings.Contains(r.returnedError.Error(), tc.want) {
				t.Errorf("exit %d, error %v; want exit 2 saying %q", r.code, r.returnedError, tc.want)
			}
		})
	}
	entries, _ := os.ReadDir(subs)
	if len(entries) != 2 {
		t.Errorf("something was written into the submissions: %v", entries)
	}
	entries, _ = os.ReadDir(filepath.Join(subs, "anna"))
	if len(entries) != 1 {
		t.Errorf("something was written into a submission: %v", entries)
	}
}

func TestInit(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "ws")
	// The test binary is a development build that knows no version: it
	// must be told which lab the workflow installs.
	r := lab(t, "init", dir)
	if r.code != ExitUsage || !strings.Contains(r.returnedError.Error(), "--lab-version vX.Y.Z") {
		t.Fatalf("init from a build with no version: exit %d: %v", r.code, r.returnedError)
	}
	if _, err := os.Stat(dir); err == nil {
		t.Errorf("a refused init wrote %s", dir)
	}
	for _, moving := range []string{"latest", "main", "v1.2.3-dirty"} {
		if r := lab(t, "init", "--lab-version", moving, dir); r.code != ExitUsage {
			t.Errorf("--lab-version %s: exit %d", moving, r.code)
		}
	}
	r = lab(t, "init", "--lab-version", "v1.2.3", dir)
	if r.code != ExitOK || !strings.Contains(r.out, "created "+filepath.Join(dir, ".github/workflows/classroom.yml")) ||
		!strings.Contains(r.out, "installs lab v1.2.3") || r.err != "" {
		t.Fatalf("exit %d: %v\n%s\nstderr: %s", r.code, r.returnedError, r.out, r.err)
	}
	workflow, _ := os.ReadFile(filepath.Join(dir, ".github/workflows/classroom.yml"))
	if !strings.Contains(string(workflow), "/cmd/lab@v1.2.3\n") {
		t.Errorf("the workflow does not install v1.2.3:\n%s", workflow)
	}
	r = lab(t, "init", "--lab-version", "v1.2.3", dir)
	if r.code != ExitOK || strings.Contains(r.out, "created") || !strings.Contains(r.out, "kept    "+filepath.Join(dir, "answers/")) {
		t.Errorf("second run: exit %d\n%s", r.code, r.out)
	}
	// The workspace grades with lab check from inside it.
	r = lab(t, "check", "--answers", filepath.Join(dir, "answers"), "--format", "classroom")
	if r.code != ExitFailed || !strings.Contains(r.out, `"max_score": 11`) {
		t.Errorf("lab check on an empty workspace: exit %d\n%s", r.code, r.out)
	}
	file := filepath.Join(t.TempDir(), "f")
	os.WriteFile(file, nil, 0o644)
	if r := lab(t, "init", "--lab-version", "v1.2.3", file); r.code != ExitUsage {
		t.Errorf("init into a file: exit %d", r.code)
	}
	if r := lab(t, "init", "a", "b"); r.code != ExitUsage {
		t.Errorf("two folders: exit %d", r.code)
	}
}

// A development build made by make pins its own commit, and says so on
// stderr where a teacher sees it.
func TestInitDevelopmentBuild(t *testing.T) {
	l, err := labfolder.Builtin()
	if err != nil {
		t.Fatal(err)
	}
	var out, errOut bytes.Buffer
	dir := t.TempDir()
	o := &initOptions{streams: Streams{Out: &out, ErrOut: &errOut}, globals: &globals{}, own: "v1.2.3-4-g6cca3d0", dir: dir, lab: l}
	if err := o.validate(); err != nil {
		t.Fatal(err)
	}
	if err := o.run(); err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(errOut.String(), "WARNING: this lab is a development build") || !strings.Contains(errOut.String(), "@6cca3d0") {
		t.Errorf("stderr: %q", errOut.String())
	}
	workflow, _ := os.ReadFile(filepath.Join(dir, ".github/workflows/classroom.yml"))
	if !strings.Contains(string(workflow), "/cmd/lab@6cca3d0\n") {
		t.Errorf("the workflow does not install the build's commit:\n%s", workflow)
	}
}

func TestAssignment(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "course")
	r := lab(t, "assignment", "new", dir)
	if r.code != ExitOK || !strings.Contains(r.out, "created "+filepath.Join(dir, "assignment.yaml")) {
		t.Fatalf("new: exit %d: %v\n%s", r.code, r.returnedError, r.out)
	}
	r = lab(t, "assignment", "validate", dir)
	if r.code != ExitOK || !strings.Contains(r.out, "kubernetes-debug") || !strings.Contains(r.out, "ok: use it with --assignment "+dir) || r.err != "" {
		t.Errorf("validate: exit %d: %v\n%s\nstderr: %s", r.code, r.returnedError, r.out, r.err)
	}
	// The custom folder drives check and grade like the built-in one.
	if r := lab(t, "check", "--assignment", dir, "--answers", seed); r.code != ExitFailed || !strings.Contains(r.out, "✓ step-5") {
		t.Errorf("check --assignment: exit %d\n%s", r.code, r.out)
	}

	spec := filepath.Join(dir, "assignment.yaml")
	data, _ := os.ReadFile(spec)
	os.WriteFile(spec, []byte(strings.Replace(string(data), "parser: tcpdump", "parser: tcpdunp", 1)), 0o644)
	r = lab(t, "assignment", "validate", dir)
	if r.code != ExitUsage || r.returnedError == nil || !strings.Contains(r.returnedError.Error(), spec+":") ||
		!strings.Contains(r.returnedError.Error(), `.parser: unknown parser "tcpdunp"`) {
		t.Errorf("a mistake: exit %d, %v", r.code, r.returnedError)
	}
	r = lab(t, "assignment", "new", dir)
	if r.code != ExitOK || !strings.Contains(r.out, "kept    "+spec) {
		t.Errorf("new over an existing folder: exit %d\n%s", r.code, r.out)
	}
	if got, _ := os.ReadFile(spec); !strings.Contains(string(got), "tcpdunp") {
		t.Error("new overwrote the instructor's spec")
	}

	r = lab(t, "assignment", "schema")
	var schema map[string]any
	if r.code != ExitOK || json.Unmarshal([]byte(r.out), &schema) != nil || schema["$schema"] != "https://json-schema.org/draft/2020-12/schema" {
		t.Errorf("schema: exit %d\n%.200s", r.code, r.out)
	}
	for _, args := range [][]string{{"assignment"}, {"assignment", "bogus"}, {"assignment", "validate"}, {"assignment", "validate", filepath.Join(dir, "nope")}} {
		if r := lab(t, args...); r.code != ExitUsage {
			t.Errorf("lab %s: exit %d, want 2", strings.Join(args, " "), r.code)
		}
	}
}
