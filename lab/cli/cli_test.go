package cli

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/k8s-debug-lab/lab/lab/labfolder"
	"github.com/k8s-debug-lab/lab/lab/version"
)

const seed = "../../checks/testdata/answers/seed"

// labPod is the built-in lab's pod, as the tests' fake clusters name it.
const labPod = "nginx-distroless"

type run struct {
	code          int
	out, err      string
	returnedError error
}

// deps are what lab(t, …) runs with: the machine's own, unless a test
// fakes some of them with useDeps for its own duration.
var deps = func() Deps {
	d := RealDeps()
	// No test asks a real registry; those about platforms fake it.
	d.ImagePlatforms = func(context.Context, string) ([]string, error) {
		return nil, errors.New("no registry in unit tests")
	}
	return d
}()

// useDeps changes the deps lab(t, …) runs with until the test ends.
func useDeps(t *testing.T, change func(*Deps)) {
	saved := deps
	change(&deps)
	t.Cleanup(func() { deps = saved })
}

func lab(t *testing.T, args ...string) run {
	t.Helper()
	return labIn(t, "", args...)
}

// labIn runs lab with stdin.
func labIn(t *testing.T, stdin string, args ...string) run {
	t.Helper()
	var out, errOut bytes.Buffer
	err := RunWith(context.Background(), args, Streams{In: strings.NewReader(stdin), Out: &out, ErrOut: &errOut}, deps)
	return run{code: ExitCode(err), out: out.String(), err: errOut.String(), returnedError: err}
}

func TestCheckText(t *testing.T) {
	r := lab(t, "check", "--answers", seed)
	if r.code != ExitFailed {
		t.Fatalf("exit %d, want 1 (step-3 of the seed fails); error %v", r.code, r.returnedError)
	}
	for _, want := range []string{
		"✗ step-3", "PID 1 is /pause", "(-want +got)",
		"✓ step-5", "✓ step-7", "✓ star", "- step-1",
		"score 9/13 · 4 passed · 1 failed · 2 skipped",
	} {
		if !strings.Contains(r.out, want) {
			t.Errorf("output lacks %q:\n%s", want, r.out)
		}
	}
	if !Silent(r.returnedError) {
		t.Errorf("a failing report must not add an error message: %v", r.returnedError)
	}
	if strings.Contains(r.out, "\x1b[") {
		t.Error("colour codes written to a non-terminal")
	}
}

func TestCheckJSONIsTheOnlyOutput(t *testing.T) {
	r := lab(t, "check", "step-5", "star", "--answers", seed, "--format", "json", "-v")
	if r.code != ExitOK {
		t.Fatalf("exit %d: %v\n%s", r.code, r.returnedError, r.out)
	}
	var doc struct {
		Kind    string `json:"kind"`
		Summary struct {
			Passed, Points int
		} `json:"summary"`
		Results []struct {
			Step  string                     `json:"step"`
			Facts map[string]json.RawMessage `json:"facts"`
		} `json:"results"`
	}
	if err := json.Unmarshal([]byte(r.out), &doc); err != nil {
		t.Fatalf("stdout is not one JSON document: %v\n%s", err, r.out)
	}
	if doc.Kind != "CheckReport" || doc.Summary.Passed != 2 || doc.Summary.Points != 6 {
		t.Errorf("kind %q, %d passed, %d points", doc.Kind, doc.Summary.Passed, doc.Summary.Points)
	}
	if len(doc.Results) != 2 || len(doc.Results[0].Facts) == 0 {
		t.Errorf("-v must add the facts to JSON results: %+v", doc.Results)
	}
}

// Every machine-read report names the lab and the assignment that graded
// it, and a second run over the same answers says exactly the same.
func TestCheckFormats(t *testing.T) {
	l, err := labfolder.Builtin()
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range []string{"json", "junit", "classroom"} {
		r := lab(t, "check", "--answers", seed, "--format", f)
		if r.code != ExitFailed || r.out == "" {
			t.Errorf("%s: exit %d, %d bytes", f, r.code, len(r.out))
		}
		if !strings.Contains(r.out, l.Spec.Digest) || !strings.Contains(r.out, version.String()) {
			t.Errorf("%s: the report does not name lab %s and assignment %s:\n%s", f, version.String(), l.Spec.Digest, r.out)
		}
		if again := lab(t, "check", "--answers", seed, "--format", f); again.out != r.out {
			t.Errorf("%s: a second check of the same answers differs:\n%s", f, cmp.Diff(r.out, again.out))
		}
	}
}

func TestUsageErrors(t *testing.T) {
	dir := t.TempDir()
	badSpec := filepath.Join(dir, "course")
	os.Mkdir(badSpec, 0o755)
	os.WriteFile(filepath.Join(badSpec, "assignment.yaml"), []byte("apiVersion: lab/v1\nkind: Assignment\nmetadata: {name: x}\nsteps:\n  - id: step-3\n    files: [a.txt]\n    parser: nope\n    require: [{fact: line, message: m}]\n"), 0o644)
	notDir := filepath.Join(dir, "file.txt")
	os.WriteFile(notDir, []byte("x"), 0o644)
	tests := []struct {
		name string
		args []string
		want string
	}{
		{"unknown flag", []string{"check", "--answer", seed}, "unknown flag: --answer"},
		{"unknown step", []string{"check", "step-9", "--answers", seed}, `unknown step "step-9"`},
		{"unknown format", []string{"check", "--answers", seed, "--format", "xml"}, "unknown format: xml (want text, json, junit or classroom)"},
		{"no answers folder", []string{"check", "--answers", filepath.Join(dir, "nope")}, "no answers folder at"},
		{"answers is a file", []string{"check", "--answers", notDir}, "is not a folder"},
		{"file needs one step", []string{"check", "--file", notDir}, "--file grades one step"},
		{"file on a live step", []string{"check", "step-1", "--file", notDir}, "step-1 has no answers file"},
		{"assignment not a folder", []string{"check", "--assignment", notDir}, "not a folder"},
		{"bad spec", []string{"check", "--assignment", badSpec, "--answers", seed}, "assignment.yaml:7: steps[0].parser: unknown parser \"nope\""},
		{"unknown command", []string{"chek"}, `unknown command "chek"`},
		{"version takes no args", []string{"version", "x"}, "unknown command"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := lab(t, tt.args...)
			if r.code != ExitUsage {
				t.Errorf("exit %d, want 2 (%v)", r.code, r.returnedError)
			}
			if r.returnedError == nil || !strings.Contains(r.returnedError.Error(), tt.want) {
				t.Errorf("error %v, want it to contain %q", r.returnedError, tt.want)
			}
		})
	}
}

func TestVersion(t *testing.T) {
	r := lab(t, "version")
	if r.code != 0 || !strings.HasPrefix(r.out, "lab ") || !strings.Contains(r.out, "lab/v1") {
		t.Errorf("version: exit %d, %q", r.code, r.out)
	}
	r = lab(t, "version", "-o", "json")
	var v map[string]string
	if err := json.Unmarshal([]byte(r.out), &v); err != nil || v["version"] == "" {
		t.Errorf("version -o json: %v %q", err, r.out)
	}
}

func TestCompletion(t *testing.T) {
	r := lab(t, "completion", "bash")
	if r.code != 0 || !strings.Contains(r.out, "__start_lab") {
		t.Errorf("completion bash: exit %d, %d bytes", r.code, len(r.out))
	}
	r = lab(t, "__complete", "check", "st")
	if !strings.Contains(r.out, "step-5") || !strings.Contains(r.out, "star") {
		t.Errorf("step completion: %q", r.out)
	}
	for _, tt := range []struct{ args, want []string }{
		{[]string{"check", "--format", ""}, []string{"text", "json", "junit", "classroom"}},
		{[]string{"lesson", "--lang", ""}, []string{"en", "ru"}},
		{[]string{"traffic", "--via", ""}, []string{"port-forward", "pod", "both"}},
	} {
		r := lab(t, append([]string{"__complete"}, tt.args...)...)
		for _, w := range tt.want {
			if !strings.Contains(r.out, w+"\n") {
				t.Errorf("completing %v: %q lacks %s", tt.args, r.out, w)
			}
		}
	}
}

// The --nginx-image help names the embedded manifest's image, found only
// when help is printed (every start would pay for rendering it otherwise).
func TestNginxImageHelp(t *testing.T) {
	want := map[string]string{
		"up":     "the pod's image (default " + builtinImage() + ", or the one an earlier lab up was given)",
		"doctor": "the nginx image to check (default " + builtinImage() + ")",
	}
	if builtinImage() == "" {
		t.Fatal("the embedded manifests name no nginx image")
	}
	for verb, usage := range want {
		for _, args := range [][]string{{verb, "--help"}, {verb, "-h"}, {"help", verb}} {
			r := lab(t, args...)
			if r.code != ExitOK || !strings.Contains(r.out, usage) {
				t.Errorf("lab %s: exit %d, no %q in:\n%s", strings.Join(args, " "), r.code, usage, r.out)
			}
		}
	}
}

// A Ctrl-C while a command waits on a cluster that has stopped answering
// is exit 1, "interrupted", never 3: the student cut it short.
func TestInterruptedIsExitOne(t *testing.T) {
	noCluster(t)
	hang := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { <-r.Context().Done() }))
	defer hang.Close()
	kc := kubeconfigFor(t, hang.URL)
	ctx, cancel := context.WithCancel(context.Background())
	time.AfterFunc(300*time.Millisecond, cancel)
	var out, errOut bytes.Buffer
	err := RunWith(ctx, []string{"status", "--kubeconfig", kc}, Streams{In: strings.NewReader(""), Out: &out, ErrOut: &errOut}, deps)
	if ExitCode(err) != ExitFailed || err == nil || !strings.HasPrefix(err.Error(), "interrupted") {
		t.Errorf("interrupted lab status: exit %d, %v", ExitCode(err), err)
	}
	for _, tc := range []struct {
		name string
		err  error
		want string
	}{
		{"plain", errors.New("reading pod default/x: context canceled"), "interrupted: reading pod default/x: context canceled"},
		{"a cluster error", &ExitError{Code: ExitCluster, Err: errors.New("cannot reach the cluster")}, "interrupted: cannot reach the cluster"},
		{"said already", &ExitError{Code: ExitFailed, Err: errors.New("interrupted after 1 of 3 steps")}, "interrupted after 1 of 3 steps"},
		{"silent", &ExitError{Code: ExitCluster}, "interrupted"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got := interrupted(tc.err)
			if ExitCode(got) != ExitFailed || got.Error() != tc.want {
				t.Errorf("interrupted(%v) = exit %d, %q; want 1, %q", tc.err, ExitCode(got), got, tc.want)
			}
		})
	}
}
