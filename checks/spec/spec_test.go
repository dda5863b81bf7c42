package spec_test

import (
	"crypto/sha256"
	"encoding/hex"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"testing/fstest"

	"github.com/google/go-cmp/cmp"

	"github.com/k8s-debug-lab/lab/assets"
	"github.com/k8s-debug-lab/lab/checks/match"
	"github.com/k8s-debug-lab/lab/checks/spec"
	"github.com/k8s-debug-lab/lab/internal/i18n"
)

func TestBuiltinLoads(t *testing.T) {
	a, err := spec.Load(assets.Lab(), assets.BuiltinSource)
	if err != nil {
		t.Fatal(err)
	}
	want := []string{"step-1", "step-2", "step-3", "step-5", "step-6", "step-7", "star"}
	if diff := cmp.Diff(want, a.IDs()); diff != "" {
		t.Errorf("steps (-want +got):\n%s", diff)
	}
	files := map[string][]string{}
	for _, s := range a.Steps {
		files[s.ID] = s.Files
		if s.Graded() && (len(s.Produce) == 0 || len(s.Expect) == 0 || s.Points == 0) {
			t.Errorf("%s: a graded step needs produce, expect and points", s.ID)
		}
		for _, r := range append(append([]spec.Rule{}, s.Diagnose...), s.Require...) {
			if len(r.Message) == 0 || len(r.Hint) == 0 {
				t.Errorf("%s: every rule of the built-in assignment needs a message and a hint: %+v", s.ID, r)
			}
			for _, text := range []spec.Text{r.Message, r.Hint, s.Title} {
				if missing := text.Missing(a.Languages); len(missing) > 0 {
					t.Errorf("%s: %v lacks %v", s.ID, text, missing)
				}
			}
		}
	}
	wantFiles := map[string][]string{
		"step-1": nil, "step-2": nil,
		"step-3": {"step-3.txt"}, "step-5": {"step-5.txt", "step-5.pcap", "step-5.pcapng"},
		"step-6": {"step-6.txt"}, "step-7": {"step-7.txt"}, "star": {"star.txt"},
	}
	if diff := cmp.Diff(wantFiles, files); diff != "" {
		t.Errorf("answers files (-want +got):\n%s", diff)
	}
	if a.MaxPoints() != 13 {
		t.Errorf("MaxPoints() = %d, want 13", a.MaxPoints())
	}
}

const good = `apiVersion: lab/v1
kind: Assignment
metadata:
  name: mini
steps:
  - id: step-3
    points: 2
    files: [step-3.txt]
    parser: ls
    diagnose:
      - when:
          - {fact: entry, match: subsetOf, values: [hostname, hosts]}
        message: pause
    require:
      - fact: entry
        message: no listing
        hint: use ls -l
      - fact: entry
        match: anyOf
        values: [nginx.conf]
        message: not nginx
`

func TestParseGood(t *testing.T) {
	a, err := spec.Parse([]byte(good), "mini.yaml")
	if err != nil {
		t.Fatal(err)
	}
	s := a.Steps[0]
	want := []spec.Rule{
		{When: []match.Matcher{{Fact: "entry", Kind: match.Present}}, Message: spec.Text{"en": "no listing"}, Hint: spec.Text{"en": "use ls -l"}},
		{When: []match.Matcher{{Fact: "entry", Kind: match.AnyOf, Values: []string{"nginx.conf"}}}, Message: spec.Text{"en": "not nginx"}},
	}
	if diff := cmp.Diff(want, s.Require); diff != "" {
		t.Errorf("require (-want +got):\n%s", diff)
	}
	if len(s.Diagnose) != 1 || s.Diagnose[0].When[0].Kind != match.SubsetOf {
		t.Errorf("diagnose = %+v", s.Diagnose)
	}
	// A spec that names no workload or images is about the built-in pod,
	// as every spec was before the fields existed.
	if a.Workload != spec.DefaultWorkload || a.Images != spec.DefaultImages {
		t.Errorf("defaults: workload %+v, images %+v", a.Workload, a.Images)
	}
}

func TestParseWorkloadImagesSolve(t *testing.T) {
	src := strings.Replace(good, "steps:", `workload: {pod: web, container: httpd}
images: {debugger: busybox}
steps:`, 1)
	src = strings.Replace(src, "    parser: ls", `    parser: ls
    solve:
      - start: debugger
      - run: ls -la /proc/{{.MasterPID}}/root/
        save: step-3.txt
      - run: tcpdump -l -nn port 80
        while: traffic
        ready: listening on
      - {kubectl: get pod -o wide, save: step-3.txt}
      - {traffic: pod}
      - {run: 'cat /host{{.LogDir}}*.log', in: node, output: stderr}`, 1)
	a, err := spec.Parse([]byte(src), "mini.yaml")
	if err != nil {
		t.Fatal(err)
	}
	if want := (spec.Workload{Pod: "web", Container: "httpd", Port: 80}); a.Workload != want {
		t.Errorf("workload %+v, want %+v", a.Workload, want)
	}
	if want := []string{"busybox", "ubuntu", "curlimages/curl"}; !slices.Equal(a.Images.List(), want) {
		t.Errorf("images %v, want %v", a.Images.List(), want)
	}
	want := []spec.Action{
		{Start: "debugger"},
		{Run: "ls -la /proc/{{.MasterPID}}/root/", Save: "step-3.txt"},
		{Run: "tcpdump -l -nn port 80", While: "traffic", Ready: "listening on"},
		{Kubectl: "get pod -o wide", Save: "step-3.txt"},
		{Traffic: "pod"},
		{Run: "cat /host{{.LogDir}}*.log", In: "node", Output: "stderr"},
	}
	if diff := cmp.Diff(want, a.Steps[0].Solve); diff != "" {
		t.Errorf("solve (-want +got):\n%s", diff)
	}
	if got := spec.Placeholders("a {{.PodIP}} b {{ .LogDir }} {{.PodIP}}"); !slices.Equal(got, []string{"PodIP", "LogDir"}) {
		t.Errorf("Placeholders = %v", got)
	}
}

// Each mistake is reported with file, line and field.
func TestParseErrors(t *testing.T) {
	tests := []struct {
		name, old, new, want string
	}{
		{"version", "lab/v1", "lab/v2", `mini.yaml:1: apiVersion: unsupported version "lab/v2" (this lab reads lab/v1)`},
		{"kind", "kind: Assignment", "kind: Pod", `mini.yaml:2: kind: want "Assignment", got "Pod"`},
		{"unknown top field", "metadata:", "metdata:", `mini.yaml:3: metdata: unknown field (known: apiVersion, kind, metadata, languages, workload, images, record, steps)`},
		{"text in an undeclared language", "        message: pause", "        message: {en: pause, ru: пауза}", `mini.yaml:13: steps[0].diagnose[0].message.ru: not one of the spec's languages (en): declare it in languages`},
		{"unknown language", "steps:", "languages: [en, de]\nsteps:", `mini.yaml:5: languages[1]: unknown language: de (want en or ru)`},
		{"language twice", "steps:", "languages: [ru, ru]\nsteps:", `mini.yaml:5: languages[1]: ru given twice`},
		{"text not a string", "        message: pause", "        message: {en: [pause]}", `mini.yaml:13: steps[0].diagnose[0].message.en: want a string, got a list`},
		{"workload without container", "steps:", "workload: {pod: web}\nsteps:", `mini.yaml:5: workload.container: required`},
		{"workload not a name", "steps:", "workload: {pod: Web_1, container: web}\nsteps:", `mini.yaml:5: workload.pod: "Web_1" is not a Kubernetes name`},
		{"workload port", "steps:", "workload: {pod: web, container: web, port: 70000}\nsteps:", `mini.yaml:5: workload.port: 70000 is not a port (1-65535)`},
		{"record setting", "steps:", "record: always\nsteps:", `mini.yaml:5: record: unknown record setting "always" (want optional or required)`},
		{"images typo", "steps:", "images: {debuger: busybox}\nsteps:", `mini.yaml:5: images.debuger: unknown field (known: debugger, nodeDebugger, trafficClient)`},
		{"solve two things", "    parser: ls", "    parser: ls\n    solve:\n      - {start: debugger, run: ls}", `mini.yaml:11: steps[0].solve[0]: an action does one thing: give exactly one of start, run, kubectl, traffic (got start, run)`},
		{"solve nothing", "    parser: ls", "    parser: ls\n    solve:\n      - {save: step-3.txt}", `mini.yaml:11: steps[0].solve[0]: an action does one thing: give exactly one of start, run, kubectl, traffic (got none)`},
		{"solve unknown place", "    parser: ls", "    parser: ls\n    solve:\n      - {run: ls, in: host}", `mini.yaml:11: steps[0].solve[0].in: unknown in: host (want debugger or node)`},
		{"solve saves another file", "    parser: ls", "    parser: ls\n    solve:\n      - {run: ls, save: step-4.txt}", `mini.yaml:11: steps[0].solve[0].save: "step-4.txt" is not one of this step's files (step-3.txt)`},
		{"solve while without ready", "    parser: ls", "    parser: ls\n    solve:\n      - {run: tcpdump, while: traffic}", `mini.yaml:11: steps[0].solve[0]: while and ready go together`},
		{"solve unknown placeholder", "    parser: ls", "    parser: ls\n    solve:\n      - {run: 'ls /proc/{{.NginxPID}}/root'}", `mini.yaml:11: steps[0].solve[0].run: unknown placeholder {{.NginxPID}} (want one of Namespace, Pod, `},
		{"solve kubectl", "    parser: ls", "    parser: ls\n    solve:\n      - {kubectl: get pods}", `mini.yaml:11: steps[0].solve[0].kubectl: unknown kubectl: get pods (want get pod -o wide)`},
		{"solve traffic way", "    parser: ls", "    parser: ls\n    solve:\n      - {traffic: curl}", `mini.yaml:11: steps[0].solve[0].traffic: unknown traffic: curl (want both or port-forward or pod)`},
		{"ready without run", "    parser: ls", "    parser: ls\n    solve:\n      - {traffic: both, ready: ok}", `mini.yaml:11: steps[0].solve[0].ready: ready goes with run`},
		{"step id", "id: step-3", "id: three", `mini.yaml:6: steps[0].id: "three" is not a step id (want step-N or star)`},
		{"unknown parser", "parser: ls", "parser: dir", `mini.yaml:9: steps[0].parser: unknown parser "dir" (want one of `},
		{"unknown fact", "- fact: entry\n        message: no listing", "- fact: entries\n        message: no listing", `mini.yaml:15: steps[0].require[0].fact: parser ls reports no fact "entries" (it reports: `},
		{"unknown matcher", "match: anyOf", "match: oneOf", `mini.yaml:19: steps[0].require[1].match: unknown matcher "oneOf" (want one of present, absent, anyOf, noneOf, subsetOf, contains)`},
		{"values missing", "        values: [nginx.conf]\n", "", `mini.yaml:18: steps[0].require[1].values: matcher anyOf needs values`},
		{"points not a number", "points: 2", "points: two", `mini.yaml:7: steps[0].points: want a whole number, got "two"`},
		{"negative points", "points: 2", "points: -1", `mini.yaml:7: steps[0].points: must not be negative`},
		{"escaping file", "files: [step-3.txt]", "files: [../etc/passwd]", `mini.yaml:8: steps[0].files[0]: "../etc/passwd" must be a plain name inside the answers folder`},
		{"message missing", "        message: pause\n", "", `mini.yaml:11: steps[0].diagnose[0].message: required`},
		{"typo in rule", "hint: use ls -l", "hnit: use ls -l", `mini.yaml:17: steps[0].require[0].hnit: unknown field (known: fact, match, min, values, message, hint)`},
		{"min on absent", "      - fact: entry\n        message: no listing", "      - fact: entry\n        match: absent\n        min: 2\n        message: no listing", `mini.yaml:17: steps[0].require[0].min: only the present matcher takes min`},
		{"bad yaml", "    points: 2", "   points: 2", `mini.yaml:5: did not find expected '-' indicator`},
		{"live unknown", "    points: 2", "    points: 2\n    live: [pod-ready]", `mini.yaml:8: steps[0].live[0]: unknown live check "pod-ready" (want one of pod-shares-pid, ephemeral-debugger, node-debugger)`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			src := strings.Replace(good, tt.old, tt.new, 1)
			if src == good {
				t.Fatalf("test edit %q did not apply", tt.old)
			}
			_, err := spec.Parse([]byte(src), "mini.yaml")
			if err == nil || !strings.HasPrefix(err.Error(), tt.want) {
				t.Errorf("error = %v\nwant prefix %s", err, tt.want)
			}
		})
	}
}

// A text is a string in the spec's first language or one per language;
// the grader asks for one and falls back to English.
func TestText(t *testing.T) {
	src := strings.Replace(good, "steps:", "languages: [ru, en]\nsteps:", 1)
	src = strings.Replace(src, "        message: pause", "        message: пауза", 1)
	src = strings.Replace(src, "        message: no listing\n        hint: use ls -l", "        message: {en: no listing, ru: нет листинга}\n        hint: use ls -l", 1)
	a, err := spec.Parse([]byte(src), "mini.yaml")
	if err != nil {
		t.Fatal(err)
	}
	s := a.Steps[0]
	tests := []struct {
		name string
		text spec.Text
		lang i18n.Lang
		want string
	}{
		{"plain string in the first language", s.Diagnose[0].Message, i18n.Russian, "пауза"},
		{"plain string asked in another", s.Diagnose[0].Message, i18n.English, "пауза"},
		{"mapping", s.Require[0].Message, i18n.Russian, "нет листинга"},
		{"mapping in English", s.Require[0].Message, i18n.English, "no listing"},
		{"lacking the language", s.Require[0].Hint, i18n.English, "use ls -l"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := tt.text.In(tt.lang); got != tt.want {
				t.Errorf("In(%s) = %q, want %q", tt.lang, got, tt.want)
			}
		})
	}
	if got := s.Require[0].Hint.Missing(a.Languages); !slices.Equal(got, []i18n.Lang{i18n.English}) {
		t.Errorf("Missing = %v, want [en]", got)
	}
}

func TestRecordSetting(t *testing.T) {
	for _, tt := range []struct{ edit, want string }{
		{"", spec.RecordOptional},
		{"record: optional\n", spec.RecordOptional},
		{"record: required\n", spec.RecordRequired},
	} {
		t.Run(tt.want+tt.edit, func(t *testing.T) {
			a, err := spec.Parse([]byte(strings.Replace(good, "steps:", tt.edit+"steps:", 1)), "mini.yaml")
			if err != nil {
				t.Fatal(err)
			}
			if a.Record != tt.want {
				t.Errorf("record = %q, want %q", a.Record, tt.want)
			}
		})
	}
}

func TestParseEmptyAndMissing(t *testing.T) {
	if _, err := spec.Parse(nil, "empty.yaml"); err == nil || err.Error() != "empty.yaml: empty spec" {
		t.Errorf("empty: %v", err)
	}
	if _, err := spec.Parse([]byte("steps: 3\napiVersion: lab/v1\nkind: Assignment\nmetadata: {name: x}\n"), "s.yaml"); err == nil || !strings.Contains(err.Error(), "s.yaml:1: steps: want a non-empty list of steps") {
		t.Errorf("steps not a list: %v", err)
	}
	_, err := spec.Load(fstest.MapFS{}, "course")
	if err == nil || !strings.Contains(err.Error(), "course: no assignment.yaml here") {
		t.Errorf("missing: %v", err)
	}
}

func TestLoadFromFolder(t *testing.T) {
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, spec.FileName), []byte(good), 0o644); err != nil {
		t.Fatal(err)
	}
	a, err := spec.Load(os.DirFS(dir), dir)
	if err != nil {
		t.Fatal(err)
	}
	if a.Name != "mini" || a.Source != dir+"/assignment.yaml" || a.MaxPoints() != 2 {
		t.Errorf("loaded %q from %q with %d points", a.Name, a.Source, a.MaxPoints())
	}
	// The digest names the spec's bytes: the same bytes give the same
	// digest, one byte more gives another.
	sum := sha256.Sum256([]byte(good))
	if want := "sha256:" + hex.EncodeToString(sum[:]); a.Digest != want {
		t.Errorf("Digest = %q, want %q", a.Digest, want)
	}
	b, err := spec.Parse([]byte(good+"\n"), "x")
	if err != nil {
		t.Fatal(err)
	}
	if b.Digest == a.Digest {
		t.Errorf("a changed spec kept the digest %s", a.Digest)
	}
}

func FuzzParse(f *testing.F) {
	f.Add([]byte(good))
	if b, err := os.ReadFile("../../assets/labs/kubernetes-debug/assignment.yaml"); err == nil {
		f.Add(b)
	}
	f.Add([]byte("apiVersion: lab/v1\nsteps: [{id: star}]"))
	f.Fuzz(func(t *testing.T, data []byte) {
		a, err := spec.Parse(data, "fuzz.yaml")
		if err == nil && (a == nil || len(a.Steps) == 0) {
			t.Fatal("a spec without steps loaded")
		}
	})
}
