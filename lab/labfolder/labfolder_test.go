package labfolder_test

import (
	"bytes"
	"encoding/json"
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/santhosh-tekuri/jsonschema/v6"
	"go.yaml.in/yaml/v3"

	"github.com/k8s-debug-lab/lab/assets"
	"github.com/k8s-debug-lab/lab/checks/facts"
	"github.com/k8s-debug-lab/lab/checks/match"
	"github.com/k8s-debug-lab/lab/checks/spec"
	"github.com/k8s-debug-lab/lab/lab/labfolder"
)

const schemaPath = "../../assets/schema/" + assets.SchemaFile

// The lists an editor completes from are the lists the loader accepts.
func TestSchemaEnumsMatchCode(t *testing.T) {
	var doc struct {
		Defs map[string]struct {
			Enum []string `json:"enum"`
		} `json:"$defs"`
	}
	data, err := fs.ReadFile(assets.Schema(), assets.SchemaFile)
	if err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(data, &doc); err != nil {
		t.Fatal(err)
	}
	var kinds []string
	for _, k := range match.Kinds {
		kinds = append(kinds, string(k))
	}
	check := func(def string, want []string) {
		t.Helper()
		if diff := cmp.Diff(want, doc.Defs[def].Enum); diff != "" {
			t.Errorf("$defs.%s.enum (-code +schema):\n%s", def, diff)
		}
	}
	check("parser", facts.Names())
	check("match", kinds)
	check("liveCheck", spec.LiveChecks)
	for _, n := range facts.Names() {
		e, _ := facts.Lookup(n)
		var names []string
		for _, d := range e.Facts() {
			names = append(names, d.Name)
		}
		check("facts-"+n, names)
	}
}

func compileSchema(t *testing.T) *jsonschema.Schema {
	t.Helper()
	data, err := fs.ReadFile(assets.Schema(), assets.SchemaFile)
	if err != nil {
		t.Fatal(err)
	}
	doc, err := jsonschema.UnmarshalJSON(bytes.NewReader(data))
	if err != nil {
		t.Fatal(err)
	}
	c := jsonschema.NewCompiler()
	c.DefaultDraft(jsonschema.Draft2020)
	c.AssertFormat()
	if err := c.AddResource("assignment.schema.json", doc); err != nil {
		t.Fatal(err)
	}
	s, err := c.Compile("assignment.schema.json")
	if err != nil {
		t.Fatalf("the schema does not compile: %v", err)
	}
	return s
}

// yamlToJSON turns a spec into the JSON value a schema validator takes.
func yamlToJSON(t *testing.T, data []byte) any {
	t.Helper()
	var v any
	if err := yaml.Unmarshal(data, &v); err != nil {
		t.Fatal(err)
	}
	// Round-trip through encoding/json: yaml ints become json.Number-free
	// float64s, which the validator accepts, and maps get string keys.
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	doc, err := jsonschema.UnmarshalJSON(bytes.NewReader(b))
	if err != nil {
		t.Fatal(err)
	}
	return doc
}

func builtinSpec(t *testing.T) []byte {
	t.Helper()
	data, err := fs.ReadFile(assets.Lab(), spec.FileName)
	if err != nil {
		t.Fatal(err)
	}
	return data
}

func TestSchemaAcceptsBuiltinAndNew(t *testing.T) {
	s := compileSchema(t)
	if err := s.Validate(yamlToJSON(t, builtinSpec(t))); err != nil {
		t.Errorf("the built-in assignment does not validate against the schema:\n%v", err)
	}
	dir := t.TempDir()
	if _, err := labfolder.New(dir); err != nil {
		t.Fatal(err)
	}
	data, err := os.ReadFile(filepath.Join(dir, spec.FileName))
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Validate(yamlToJSON(t, data)); err != nil {
		t.Errorf("lab assignment new's spec does not validate against the schema:\n%v", err)
	}
}

// edit changes the built-in spec's text: a mistake the loader refuses.
func edit(t *testing.T, old, new string) []byte {
	t.Helper()
	data := builtinSpec(t)
	if !bytes.Contains(data, []byte(old)) {
		t.Fatalf("the built-in spec no longer holds %q", old)
	}
	return bytes.Replace(data, []byte(old), []byte(new), 1)
}

// Each mistake the loader refuses, the schema refuses too, so that the
// editor underlines it before lab is run.
func TestSchemaRejectsWhatTheLoaderRefuses(t *testing.T) {
	s := compileSchema(t)
	for _, tc := range []struct {
		name string
		data []byte
	}{
		{"unknown version", edit(t, "apiVersion: lab/v1", "apiVersion: lab/v2")},
		{"unknown top-level field", edit(t, "kind: Assignment", "kind: Assignment\nauthor: me")},
		{"no name", edit(t, "  name: kubernetes-debug\n", "")},
		{"bad step id", edit(t, "id: step-3", "id: third")},
		{"negative points", edit(t, "points: 2", "points: -2")},
		{"unknown parser", edit(t, "parser: ls", "parser: dir")},
		{"fact the parser does not report", edit(t, "{fact: entry, match: absent}", "{fact: entries, match: absent}")},
		{"unknown matcher", edit(t, "{fact: entry, match: absent}", "{fact: entry, match: missing}")},
		{"values without a matcher that takes them", edit(t, "{fact: entry, match: absent}", "{fact: entry, match: absent, values: [x]}")},
		{"anyOf without values", edit(t, "{fact: entry, match: subsetOf, values: [root]}", "{fact: entry, match: subsetOf}")},
		{"min with absent", edit(t, "{fact: entry, match: absent}", "{fact: entry, match: absent, min: 2}")},
		{"unknown live check", edit(t, "live: [pod-shares-pid]", "live: [pod-runs]")},
		{"require without message", edit(t, "        message: no long listing (ls -l) found\n", "")},
		{"file outside answers", edit(t, "files: [step-3.txt]", "files: [../step-3.txt]")},
		{"files without parser", edit(t, "    parser: ls\n", "")},
		{"a step with nothing to check", edit(t, "    live: [pod-shares-pid]\n", "")},
		{"cross rule naming an unknown live value", edit(t, "${nonce}", "${lab.nonce}")},
		{"cross without files", edit(t, "    live: [pod-shares-pid]\n", "    live: [pod-shares-pid]\n    cross:\n      - when: [{fact: x}]\n        message: m\n")},
		{"empty when", edit(t, "      - when:\n          - {fact: entry, match: absent}\n          - {fact: error, match: present}\n", "      - when: []\n")},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if _, err := spec.Parse(tc.data, "assignment.yaml"); err == nil {
				t.Fatal("the loader accepts this mistake; the test's edit is wrong")
			}
			if err := s.Validate(yamlToJSON(t, tc.data)); err == nil {
				t.Error("the schema accepts a spec the loader refuses")
			}
		})
	}
}

func writeFolder(t *testing.T, files map[string]string) string {
	t.Helper()
	dir := t.TempDir()
	for name, data := range files {
		p := filepath.Join(dir, filepath.FromSlash(name))
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(data), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return dir
}

func TestLoad(t *testing.T) {
	good := string(builtinSpec(t))
	for _, tc := range []struct {
		name     string
		files    map[string]string
		wantErr  string // substring after the folder's path
		lessons  map[string][]string
		warnings []string // after the folder's path
	}{
		{name: "built-in, no lessons", files: map[string]string{"assignment.yaml": good}},
		{name: "lessons in two languages", files: map[string]string{
			"assignment.yaml": warnSpec, "lessons/en/step-1.md": "# Step 1\n", "lessons/en/step-2.md": "# Step 2\n", "lessons/en/star.md": "# Star\n",
			"lessons/ru/step-1.md": "# Шаг 1\n", "lessons/ru/intro.md": "# Введение\n",
			"lessons/en/notes.txt": "not a lesson, ignored", "lessons/README.md": "about the lessons",
		}, lessons: map[string][]string{"en": {"star.md", "step-1.md", "step-2.md"}, "ru": {"intro.md", "step-1.md"}},
			warnings: []string{"/lessons/ru: no lesson for step-2 (step-2.md)", "/lessons/ru: no lesson for star (star.md)"}},
		{name: "a language lab lesson does not offer", files: map[string]string{
			"assignment.yaml": warnSpec, "lessons/de/step-1.md": "# Schritt 1\n",
		}, lessons: map[string][]string{"de": {"step-1.md"}}, warnings: []string{"/lessons/de: lab lesson offers en, ru; lessons in de are not shown"}},
		{name: "lesson without a title", files: map[string]string{"assignment.yaml": good, "lessons/en/step-3.md": "Step 3, no heading\n"},
			wantErr: "/lessons: en/step-3.md: no title"},
		{name: "spec mistake with its place", files: map[string]string{"assignment.yaml": strings.Replace(warnSpec, "parser: ls", "parser: dir", 1)},
			wantErr: `/assignment.yaml:13: steps[1].parser: unknown parser "dir"`},
		{name: "no spec", files: map[string]string{"README.md": "x"}, wantErr: ": no assignment.yaml here"},
		{name: "lessons is a file", files: map[string]string{"assignment.yaml": good, "lessons": "x"}, wantErr: "/lessons: not a folder"},
		{name: "lesson outside a language folder", files: map[string]string{"assignment.yaml": good, "lessons/step-3.md": "# x"},
			wantErr: "/lessons/step-3.md: a file directly under lessons/"},
		{name: "not a language", files: map[string]string{"assignment.yaml": good, "lessons/English/step-3.md": "# x"},
			wantErr: `/lessons/English: "English" is not a language code`},
		{name: "empty lesson", files: map[string]string{"assignment.yaml": good, "lessons/en/step-3.md": " \n"},
			wantErr: "/lessons/en/step-3.md: empty lesson"},
		{name: "lesson not UTF-8", files: map[string]string{"assignment.yaml": good, "lessons/ru/step-3.md": "\xcf\xf0\xe8\xe2\xe5\xf2"},
			wantErr: "/lessons/ru/step-3.md: not UTF-8"},
		{name: "language without lessons", files: map[string]string{"assignment.yaml": good, "lessons/en/x.txt": "x"},
			wantErr: "/lessons/en: no lessons"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			dir := writeFolder(t, tc.files)
			_, f, err := load(dir)
			if tc.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), dir+tc.wantErr) {
					t.Fatalf("error %v, want one containing %q", err, dir+tc.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(tc.lessons, f.Lessons); diff != "" && !(len(tc.lessons) == 0 && len(f.Lessons) == 0) {
				t.Errorf("lessons (-want +got):\n%s", diff)
			}
			var warnings []string
			for _, w := range f.Warnings {
				if msg := strings.TrimPrefix(w.Error(), dir); strings.HasPrefix(msg, "/lessons") {
					warnings = append(warnings, msg)
				} else if tc.files["assignment.yaml"] == good && !strings.HasPrefix(msg, "/manifests: no manifests") {
					t.Errorf("the built-in spec draws a warning: %v", w)
				}
			}
			if diff := cmp.Diff(tc.warnings, warnings); diff != "" {
				t.Errorf("lesson warnings (-want +got):\n%s", diff)
			}
		})
	}
}

func TestLoadGivenTheSpecFile(t *testing.T) {
	dir := writeFolder(t, map[string]string{"assignment.yaml": string(builtinSpec(t))})
	if _, _, err := load(filepath.Join(dir, "assignment.yaml")); err != nil {
		t.Fatal(err)
	}
	if _, _, err := load(filepath.Join(dir, "nothing")); err == nil || !strings.Contains(err.Error(), "lab assignment new") {
		t.Errorf("a missing folder: %v", err)
	}
}

const warnSpec = `apiVersion: lab/v1
kind: Assignment
metadata: {name: warn}
steps:
  - id: step-1
    title: live only
    points: 1
    live: [pod-shares-pid]
  - id: step-2
    title: no produce, no expect
    points: 2
    files: [a.txt]
    parser: ls
    require:
      - {fact: entry, message: no listing}
  - id: star
    title: nothing to earn, and a file another step reads
    points: 0
    files: [a.txt]
    parser: ls
    produce: ls -la > answers/a.txt
    expect: "-rw-r--r-- 1 root root 1 Feb 14 10:59 nginx.conf"
    require:
      - {fact: entry, message: no listing}
`

func TestWarnings(t *testing.T) {
	dir := writeFolder(t, map[string]string{"assignment.yaml": warnSpec})
	_, f, err := load(dir)
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, w := range f.Warnings {
		got = append(got, strings.TrimPrefix(w.Error(), dir+"/"))
	}
	want := []string{
		"assignment.yaml:9: steps[1]: step-2 has no produce: a student whose file is missing is not told which command writes it",
		"assignment.yaml:9: steps[1]: step-2 has no expect: a failed answer cannot be shown beside the line it should have had",
		"assignment.yaml:9: steps[1]: step-2 has no solve that saves its answers file: lab solve cannot prove a cluster fit for this step",
		"assignment.yaml:18: steps[2].points: star awards no points",
		"assignment.yaml:16: steps[2]: star has no solve that saves its answers file: lab solve cannot prove a cluster fit for this step",
		"assignment.yaml:19: steps[2].files: a.txt is also step-2's answers file: one file cannot prove two steps apart",
		"manifests: no manifests: lab up --assignment deploys the built-in lab's pod nginx-distroless",
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("warnings (-want +got):\n%s", diff)
	}
}

func TestNewNeverOverwrites(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "course")
	w, err := labfolder.New(dir)
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"assignment.yaml", "assignment.schema.json", "README.md", "lessons/en/step-3.md", "lessons/ru/star.md", "manifests/pod.yaml"} {
		if !slices.Contains(w.Created, want) {
			t.Errorf("created %v, not %s", w.Created, want)
		}
	}
	l, f, err := load(dir)
	if err != nil {
		t.Fatalf("the new folder does not validate: %v", err)
	}
	if len(f.Warnings) != 0 || len(f.Lessons["en"]) == 0 || len(f.Lessons["ru"]) == 0 {
		t.Errorf("the new folder: warnings %v, lessons %v", f.Warnings, f.Lessons)
	}
	if l.Spec.Name != "kubernetes-debug" || len(l.Spec.Steps) != 7 {
		t.Errorf("new spec: %s with %d steps", l.Spec.Name, len(l.Spec.Steps))
	}
	data, _ := os.ReadFile(filepath.Join(dir, "assignment.yaml"))
	if !bytes.HasPrefix(data, []byte("# yaml-language-server: $schema=./assignment.schema.json\n")) {
		t.Errorf("no editor modeline on the first line:\n%.200s", data)
	}

	mine := []byte("# my own spec\n")
	if err := os.WriteFile(filepath.Join(dir, "assignment.yaml"), mine, 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.Remove(filepath.Join(dir, "README.md")); err != nil {
		t.Fatal(err)
	}
	w, err = labfolder.New(dir)
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(w.Created, []string{"README.md"}) || !slices.Equal(w.Kept[:2], []string{"assignment.yaml", "assignment.schema.json"}) {
		t.Errorf("second run: created %v, kept %v", w.Created, w.Kept)
	}
	if got, _ := os.ReadFile(filepath.Join(dir, "assignment.yaml")); !bytes.Equal(got, mine) {
		t.Error("New overwrote an existing assignment.yaml")
	}

	file := filepath.Join(t.TempDir(), "f")
	os.WriteFile(file, nil, 0o644)
	if _, err := labfolder.New(file); err == nil {
		t.Error("New into a file: no error")
	}
}

func TestWriteNewRefusesToFollowAnExistingPath(t *testing.T) {
	dir := t.TempDir()
	target := filepath.Join(dir, "target")
	os.WriteFile(target, []byte("keep"), 0o644)
	link := filepath.Join(dir, "link")
	if err := os.Symlink(target, link); err != nil {
		t.Skip(err)
	}
	created, err := labfolder.WriteNew(link, []byte("x"), 0o644)
	if err != nil || created {
		t.Fatalf("created %v, err %v", created, err)
	}
	if got, _ := os.ReadFile(target); string(got) != "keep" {
		t.Error("WriteNew wrote through a symlink")
	}
	dangling := filepath.Join(dir, "dangling")
	os.Symlink(filepath.Join(dir, "nowhere"), dangling)
	if created, err := labfolder.WriteNew(dangling, []byte("x"), 0o644); created || err != nil {
		t.Errorf("dangling link: created %v, err %v", created, err)
	}
	if _, err := os.Stat(filepath.Join(dir, "nowhere")); !errors.Is(err, fs.ErrNotExist) {
		t.Error("WriteNew created the target of a dangling symlink")
	}
}

// load opens and validates a lab folder, as lab assignment validate does.
func load(dir string) (*labfolder.Lab, *labfolder.Validation, error) {
	l, err := labfolder.Open(dir)
	if err != nil {
		return nil, nil, err
	}
	v, err := l.Validate()
	return l, v, err
}
