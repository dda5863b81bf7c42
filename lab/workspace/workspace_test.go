package workspace_test

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"go.yaml.in/yaml/v3"

	"github.com/k8s-debug-lab/lab/assets"
	"github.com/k8s-debug-lab/lab/checks/spec"
	"github.com/k8s-debug-lab/lab/internal/golden"
	"github.com/k8s-debug-lab/lab/internal/i18n"
	"github.com/k8s-debug-lab/lab/lab/labfolder"
	"github.com/k8s-debug-lab/lab/lab/workspace"
)

func builtin(t *testing.T) *spec.Assignment {
	t.Helper()
	a, err := spec.Load(assets.Lab(), assets.BuiltinSource)
	if err != nil {
		t.Fatal(err)
	}
	return a
}

func checkGolden(t *testing.T, name string, got []byte) {
	t.Helper()
	golden.Check(t, filepath.Join("testdata", "builtin", name), string(got))
}

var allFiles = []string{"README.md", "answers/README.md", ".github/workflows/classroom.yml", ".gitignore"}

func TestInitBuiltin(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "ws")
	res, err := workspace.Init(dir, workspace.Options{Assignment: builtin(t), Version: "v1.2.3"})
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(allFiles, res.Created); diff != "" || len(res.Kept) != 0 {
		t.Errorf("created (-want +got):\n%s\nkept %v", diff, res.Kept)
	}
	for _, f := range allFiles {
		data, err := os.ReadFile(filepath.Join(dir, f))
		if err != nil {
			t.Fatal(err)
		}
		checkGolden(t, strings.TrimLeft(strings.ReplaceAll(f, "/", "_"), "."), data) // no hidden golden files: a .gitignore there would be obeyed
	}
	readme, _ := os.ReadFile(filepath.Join(dir, "answers/README.md"))
	for _, want := range []string{
		"## step-3:", "- Save: `answers/step-3.txt`", "ls -la /proc/<nginx master PID>/root/etc/nginx/",
		"- Save: `answers/step-5.txt` (or `answers/step-5.pcap`, `answers/step-5.pcapng`)",
		"## step-1:", "Nothing to save", "- Check: `lab check star`",
	} {
		if !bytes.Contains(readme, []byte(want)) {
			t.Errorf("answers/README.md lacks %q", want)
		}
	}
}

// In Russian the READMEs are Russian, the step titles from the spec's ru
// texts, the points in their plural forms; the workflow is the same.
func TestInitRussian(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "ws")
	if _, err := workspace.Init(dir, workspace.Options{Assignment: builtin(t), Version: "v1.2.3", Lang: i18n.Russian}); err != nil {
		t.Fatal(err)
	}
	for _, f := range []string{"README.md", "answers/README.md"} {
		data, err := os.ReadFile(filepath.Join(dir, f))
		if err != nil {
			t.Fatal(err)
		}
		checkGolden(t, "ru_"+strings.ReplaceAll(f, "/", "_"), data)
	}
	readme, _ := os.ReadFile(filepath.Join(dir, "answers/README.md"))
	for _, want := range []string{
		"# Ответы: Отладка в Kubernetes", "## step-1: Под с distroless nginx и общим пространством имён PID (1 балл)",
		"(2 балла)", "- Сохранить: `answers/step-5.txt` (или `answers/step-5.pcap`, `answers/step-5.pcapng`)",
		"- Проверить: `lab check star`",
	} {
		if !bytes.Contains(readme, []byte(want)) {
			t.Errorf("answers/README.md lacks %q:\n%s", want, readme)
		}
	}
}

// Pin decides the one version a course's workflow installs, whatever
// built the lab that writes it.
func TestPin(t *testing.T) {
	for _, tc := range []struct {
		name, own, requested string
		want                 string
		warn                 bool
		err                  string
	}{
		{name: "a release pins itself", own: "v1.2.3", want: "v1.2.3"},
		{name: "a pre-release pins itself", own: "v1.3.0-rc.1", want: "v1.3.0-rc.1"},
		{name: "the flag wins", own: "v1.2.3", requested: "v1.2.4", want: "v1.2.4"},
		{name: "a dev build with the flag", own: "dev", requested: "v1.2.3", want: "v1.2.3"},
		{name: "a commit given", own: "dev", requested: "6cca3d0", want: "6cca3d0"},
		{name: "go build pins its pseudo-version", own: "v0.0.0-20261205051037-6cca3d0abcde", want: "v0.0.0-20261205051037-6cca3d0abcde", warn: true},
		{name: "make between tags pins the commit", own: "v1.2.3-4-g6cca3d0", want: "6cca3d0", warn: true},
		{name: "make before any tag pins the commit", own: "6cca3d0", want: "6cca3d0", warn: true},
		{name: "latest is refused", own: "v1.2.3", requested: "latest", err: "not one fixed version"},
		{name: "a branch is refused", own: "dev", requested: "main", err: "not one fixed version"},
		{name: "a dirty flag is refused", own: "dev", requested: "v1.2.3-dirty", err: "uncommitted changes"},
		{name: "a dirty build is refused", own: "v1.2.3-4-g6cca3d0-dirty", err: "uncommitted changes"},
		{name: "a dirty go build is refused", own: "v0.0.0-20261205051037-6cca3d0abcde+dirty", err: "uncommitted changes"},
		{name: "a build with no version is refused", own: "dev", err: "--lab-version vX.Y.Z"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			pin, warning, err := workspace.Pin(tc.own, tc.requested)
			if tc.err != "" {
				if err == nil || !strings.Contains(err.Error(), tc.err) {
					t.Fatalf("got %q, %v; want an error with %q", pin, err, tc.err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if pin != tc.want || (warning != "") != tc.warn {
				t.Errorf("got %q (warning %q), want %q (warning %v)", pin, warning, tc.want, tc.warn)
			}
			if tc.warn && !strings.Contains(warning, pin) {
				t.Errorf("the warning does not say what the workflow installs: %s", warning)
			}
		})
	}
}

// Init refuses to write a workflow that installs a moving version.
func TestInitRefusesLatest(t *testing.T) {
	dir := t.TempDir()
	if _, err := workspace.Init(dir, workspace.Options{Assignment: builtin(t), Version: "latest"}); err == nil {
		t.Fatal("a workflow installing lab@latest was written")
	}
	if entries, _ := os.ReadDir(dir); len(entries) != 0 {
		t.Errorf("files were written: %v", entries)
	}
}

// The workflow is what GitHub Classroom runs: valid YAML, lab check in
// classroom format offline, its result handed to the reporter.
func TestWorkflow(t *testing.T) {
	for _, tc := range []struct {
		version, install string
		custom           bool
	}{
		{"v1.2.3", "@v1.2.3", false},
		{"v0.0.0-20261205051037-6cca3d0abcde", "@v0.0.0-20261205051037-6cca3d0abcde", false},
		{"6cca3d0", "@6cca3d0", true},
	} {
		dir := t.TempDir()
		o := workspace.Options{Assignment: builtin(t), Version: tc.version}
		if tc.custom {
			course := filepath.Join(t.TempDir(), "course")
			if _, err := labfolder.New(course); err != nil {
				t.Fatal(err)
			}
			os.MkdirAll(filepath.Join(course, "lessons", "en"), 0o755)
			os.WriteFile(filepath.Join(course, "lessons", "en", "step-3.md"), []byte("# Step 3\n"), 0o644)
			os.WriteFile(filepath.Join(course, "notes.txt"), []byte("private"), 0o644)
			o.AssignmentDir = course
		}
		if _, err := workspace.Init(dir, o); err != nil {
			t.Fatal(err)
		}
		data, err := os.ReadFile(filepath.Join(dir, workspace.WorkflowFile))
		if err != nil {
			t.Fatal(err)
		}
		var wf struct {
			Name string
			Jobs map[string]struct {
				Name  string
				Steps []struct {
					ID   string `yaml:"id"`
					Uses string
					Run  string
					Env  map[string]string
					With map[string]string
				}
			}
		}
		if err := yaml.Unmarshal(data, &wf); err != nil {
			t.Fatalf("the workflow is not YAML: %v", err)
		}
		job, ok := wf.Jobs["run-autograding-tests"]
		if !ok || job.Name != "Autograding Tests" {
			t.Fatalf("no job named Autograding Tests (the reporter looks its check run up by that name): %+v", wf.Jobs)
		}
		var install, check, reporter bool
		for _, s := range job.Steps {
			if strings.Contains(s.Run, "go install "+workspace.Module+"/cmd/lab"+tc.install) {
				install = true
			}
			if s.ID == "lab" && strings.Contains(s.Run, "check --format classroom --offline") && strings.Contains(s.Run, "GITHUB_OUTPUT") {
				check = true
				if got := strings.Contains(s.Run, "--assignment assignment"); got != tc.custom {
					t.Errorf("custom %v: --assignment in the workflow: %v", tc.custom, got)
				}
			}
			if strings.HasPrefix(s.Uses, "classroom-resources/autograding-grading-reporter@") &&
				s.With["runners"] == "lab" && s.Env["LAB_RESULTS"] == "${{ steps.lab.outputs.result }}" {
				reporter = true
			}
		}
		if !install || !check || !reporter {
			t.Errorf("%s: install %v, check %v, reporter %v:\n%s", tc.version, install, check, reporter, data)
		}
		if tc.custom {
			for _, f := range []string{"assignment/assignment.yaml", "assignment/assignment.schema.json", "assignment/lessons/en/step-3.md"} {
				if _, err := os.Stat(filepath.Join(dir, f)); err != nil {
					t.Errorf("the custom assignment was not copied: %v", err)
				}
			}
			if _, err := os.Stat(filepath.Join(dir, "assignment", "notes.txt")); err == nil {
				t.Error("files other than the spec and lessons were copied")
			}
			if _, err := labfolder.Open(filepath.Join(dir, "assignment")); err != nil {
				t.Errorf("the copied assignment does not load: %v", err)
			}
		}
	}
}

func TestInitNeverOverwrites(t *testing.T) {
	dir := t.TempDir()
	mine := map[string]string{"README.md": "# my notes\n", "answers/step-3.txt": "total 8\n"}
	for f, data := range mine {
		os.MkdirAll(filepath.Dir(filepath.Join(dir, f)), 0o755)
		os.WriteFile(filepath.Join(dir, f), []byte(data), 0o644)
	}
	res, err := workspace.Init(dir, workspace.Options{Assignment: builtin(t), Version: "v1.2.3"})
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff([]string{"answers/", "README.md"}, res.Kept); diff != "" {
		t.Errorf("kept (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff([]string{".github/workflows/classroom.yml", ".gitignore"}, res.Created); diff != "" {
		t.Errorf("created (-want +got):\n%s", diff)
	}
	for f, data := range mine {
		if got, _ := os.ReadFile(filepath.Join(dir, f)); string(got) != data {
			t.Errorf("%s was changed", f)
		}
	}
	entries, _ := os.ReadDir(filepath.Join(dir, "answers"))
	if len(entries) != 1 {
		t.Errorf("lab init wrote into an existing answers folder: %v", entries)
	}
	// A second run keeps everything.
	res, err = workspace.Init(dir, workspace.Options{Assignment: builtin(t), Version: "v1.2.3"})
	if err != nil || len(res.Created) != 0 {
		t.Errorf("second run created %v (%v)", res.Created, err)
	}

	file := filepath.Join(t.TempDir(), "file")
	os.WriteFile(file, nil, 0o644)
	if _, err := workspace.Init(file, workspace.Options{Assignment: builtin(t), Version: "v1.2.3"}); err == nil || !strings.Contains(err.Error(), "is a file") {
		t.Errorf("Init into a file: %v", err)
	}
}

// The workflow's grading script, run as GitHub would run it, with the lab
// this test builds: its output is the base64 of a classroom result that
// the reporter decodes.
func TestWorkflowScriptRuns(t *testing.T) {
	if testing.Short() {
		t.Skip("builds lab")
	}
	bash, err := exec.LookPath("bash")
	if err != nil {
		t.Skip("no bash")
	}
	gopath := t.TempDir()
	build := exec.Command("go", "build", "-o", filepath.Join(gopath, "bin", "lab"), "../../cmd/lab")
	if out, err := build.CombinedOutput(); err != nil {
		t.Fatalf("building lab: %v\n%s", err, out)
	}
	dir := t.TempDir()
	if _, err := workspace.Init(dir, workspace.Options{Assignment: builtin(t), Version: "v1.2.3"}); err != nil {
		t.Fatal(err)
	}
	seed, _ := filepath.Abs("../../checks/testdata/answers/seed")
	for _, f := range []string{"step-5.txt", "star.txt", "step-3.txt"} {
		data, _ := os.ReadFile(filepath.Join(seed, f))
		os.WriteFile(filepath.Join(dir, "answers", f), data, 0o644)
	}
	data, _ := os.ReadFile(filepath.Join(dir, workspace.WorkflowFile))
	var wf struct {
		Jobs map[string]struct {
			Steps []struct {
				ID  string `yaml:"id"`
				Run string
			}
		}
	}
	if err := yaml.Unmarshal(data, &wf); err != nil {
		t.Fatal(err)
	}
	var script string
	for _, s := range wf.Jobs["run-autograding-tests"].Steps {
		if s.ID == "lab" {
			script = s.Run
		}
	}
	// A stand-in for `go env GOPATH` on the runner.
	fakeBin := t.TempDir()
	os.WriteFile(filepath.Join(fakeBin, "go"), []byte("#!/bin/sh\necho "+gopath+"\n"), 0o755)
	output := filepath.Join(t.TempDir(), "github_output")
	cmd := exec.Command(bash, "-e", "-c", script) // GitHub runs run: steps with bash -e
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), "PATH="+fakeBin+":"+os.Getenv("PATH"), "GITHUB_OUTPUT="+output)
	log, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("the grading step failed: %v\n%s", err, log)
	}
	if !bytes.Contains(log, []byte("✓ step-5")) {
		t.Errorf("the log lacks lab's report:\n%s", log)
	}
	out, _ := os.ReadFile(output)
	b64, ok := strings.CutPrefix(strings.TrimSpace(string(out)), "result=")
	if !ok {
		t.Fatalf("GITHUB_OUTPUT: %q", out)
	}
	raw, err := base64.StdEncoding.DecodeString(b64)
	if err != nil {
		t.Fatal(err)
	}
	var res struct {
		Version  int    `json:"version"`
		Status   string `json:"status"`
		MaxScore int    `json:"max_score"`
		Tests    []struct {
			Name   string `json:"name"`
			Status string `json:"status"`
			Score  int    `json:"score"`
		} `json:"tests"`
	}
	if err := json.Unmarshal(raw, &res); err != nil {
		t.Fatalf("the result is not the classroom JSON: %v\n%s", err, raw)
	}
	var passed []string
	for _, tc := range res.Tests {
		if tc.Status == "pass" {
			passed = append(passed, strings.SplitN(tc.Name, ":", 2)[0])
		}
	}
	if res.Version != 1 || res.Status != "fail" || res.MaxScore != 11 || !slices.Equal(passed, []string{"not checked against a cluster", "step-5", "star"}) {
		t.Errorf("classroom result: %+v", res)
	}
}
