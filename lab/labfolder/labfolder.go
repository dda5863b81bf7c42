// Package labfolder opens, validates and starts lab folders: the unit an
// instructor writes, hands out and grades against. One folder holds a whole
// lab:
//
//	DIR/assignment.yaml          the spec (apiVersion lab/v1, see checks/spec):
//	                             steps, checks, live checks, the solution
//	DIR/manifests/*.yaml         what lab up deploys and lab reset recreates
//	DIR/lessons/<lang>/<id>.md   lessons in each language (en, ru, …)
//	DIR/assignment.schema.json   the spec's JSON Schema, for editors (written by New)
//
// The built-in lab is such a folder, embedded (assets.Lab), and is opened
// by the same code, so that an instructor's folder behaves exactly like
// it. Open is what every command taking --assignment runs: the spec's
// verdict (the first mistake with file, line and field). Validate is what
// `lab assignment validate` runs on top: the manifests, the lessons
// folder's shape, and warnings for what loads but will puzzle students.
// New writes a starter folder from the built-in lab and never overwrites a
// file.
package labfolder

import (
	"bytes"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"regexp"
	"slices"
	"sort"
	"strings"
	"sync"
	"unicode/utf8"

	"go.yaml.in/yaml/v3"

	"github.com/k8s-debug-lab/lab/assets"
	"github.com/k8s-debug-lab/lab/checks/spec"
	"github.com/k8s-debug-lab/lab/internal/i18n"
	"github.com/k8s-debug-lab/lab/lessons"
)

// LessonsDir is the lessons folder inside a lab folder; it holds one
// folder per language, each with markdown lessons.
const LessonsDir = "lessons"

// ManifestsDir is the folder of Kubernetes objects lab up deploys.
const ManifestsDir = "manifests"

// SchemaFile is the schema's name inside a folder made by New.
const SchemaFile = assets.SchemaFile

// Lab is an opened lab folder: its spec loaded and valid. Its lessons and
// manifests are read when asked for, so that grading pays only for the
// spec.
type Lab struct {
	// Source names the folder in messages: its path as given, or
	// assets.BuiltinSource.
	Source string
	// Dir is the folder on disk; empty for the built-in lab.
	Dir string
	// FS is the folder's content.
	FS fs.FS
	// Spec is the loaded assignment.yaml.
	Spec *spec.Assignment
}

// Builtin is the lab embedded in lab's binary, opened once per process.
var Builtin = sync.OnceValues(func() (*Lab, error) {
	a, err := spec.Load(assets.Lab(), assets.BuiltinSource)
	if err != nil {
		return nil, fmt.Errorf("the built-in lab does not load (a bug in this build): %w", err)
	}
	return &Lab{Source: assets.BuiltinSource, FS: assets.Lab(), Spec: a}, nil
})

// Open opens the lab folder dir (or the folder of dir when it names the
// spec file itself); an empty dir is the built-in lab. The error is a
// *spec.Error when the mistake has a place in a file.
func Open(dir string) (*Lab, error) {
	if dir == "" {
		return Builtin()
	}
	if fi, err := os.Stat(dir); err == nil && !fi.IsDir() {
		if filepath.Base(dir) != spec.FileName {
			return nil, fmt.Errorf("%s is not a folder: give the lab folder, which holds %s", dir, spec.FileName)
		}
		dir = filepath.Dir(dir)
	} else if err != nil {
		if errors.Is(err, fs.ErrNotExist) {
			return nil, fmt.Errorf("no folder %s: create one with lab assignment new %s", dir, dir)
		}
		return nil, fmt.Errorf("reading %s: %w", dir, err)
	}
	dir = filepath.Clean(dir)
	return OpenFS(os.DirFS(dir), dir)
}

// OpenFS opens a lab folder given as a file system; source names it in
// messages.
func OpenFS(fsys fs.FS, source string) (*Lab, error) {
	a, err := spec.Load(fsys, source)
	if err != nil {
		return nil, err
	}
	return &Lab{Source: source, Dir: source, FS: fsys, Spec: a}, nil
}

// Builtin reports whether l is the embedded lab.
func (l *Lab) Builtin() bool { return l.Dir == "" }

// Lessons are the lab's lessons, read lazily; a folder without any has a
// Book with no languages.
func (l *Lab) Lessons() *lessons.Book {
	sub, err := fs.Sub(l.FS, LessonsDir)
	if err != nil { // cannot happen: LessonsDir is a valid path
		panic(err)
	}
	where := path.Join(l.Source, LessonsDir)
	if l.Builtin() {
		where = lessons.BuiltinSource
	}
	return lessons.Open(sub, where)
}

// Validation is what Validate found beyond the spec.
type Validation struct {
	// Lessons are the markdown files under lessons/, by language.
	Lessons map[string][]string
	// Warnings are things that load but that students will trip over.
	Warnings []*spec.Error
}

// Validate checks the whole folder, not only the spec Open loaded: the
// lessons folder's shape and every lesson, and warnings for what will
// puzzle students. The error is a *spec.Error when the mistake has a place
// in a file.
func (l *Lab) Validate() (*Validation, error) {
	v := &Validation{}
	data, err := fs.ReadFile(l.FS, spec.FileName)
	if err != nil { // it just loaded; a race with an editor
		return nil, fmt.Errorf("reading %s: %w", l.Spec.Source, err)
	}
	v.Warnings = warnings(l.Spec, data)
	if _, err := l.Manifests(); err != nil {
		return nil, err
	}
	if _, err := fs.Stat(l.FS, ManifestsDir); errors.Is(err, fs.ErrNotExist) && !l.Builtin() {
		v.Warnings = append(v.Warnings, &spec.Error{File: path.Join(l.Source, ManifestsDir), Msg: "no manifests: lab up --assignment deploys the built-in lab's pod " + l.Spec.Workload.Pod})
	}
	if v.Lessons, err = readLessons(l.FS, l.Source); err != nil {
		return nil, err
	}
	v.Warnings = append(v.Warnings, lessonWarnings(l.Spec, v.Lessons, l.Source)...)
	return v, nil
}

var langTag = regexp.MustCompile(`^[a-z]{2,3}([-_][A-Za-z0-9]{2,8})*$`)

// readLessons checks the lessons folder's shape (one folder per language
// holding readable, non-empty UTF-8 markdown), then reads each language
// lab lesson offers with the lessons package itself, so that what passes
// here is what lab lesson --assignment shows.
func readLessons(fsys fs.FS, source string) (map[string][]string, error) {
	fi, err := fs.Stat(fsys, LessonsDir)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, nil
	}
	where := path.Join(source, LessonsDir)
	if err != nil {
		return nil, fmt.Errorf("reading %s: %w", where, err)
	}
	if !fi.IsDir() {
		return nil, &spec.Error{File: where, Msg: "not a folder: lessons go in " + LessonsDir + "/<lang>/<name>.md"}
	}
	langs, err := fs.ReadDir(fsys, LessonsDir)
	if err != nil {
		return nil, fmt.Errorf("reading %s: %w", where, err)
	}
	out := map[string][]string{}
	for _, l := range langs {
		name := path.Join(where, l.Name())
		if strings.HasPrefix(l.Name(), ".") || (!l.IsDir() && strings.EqualFold(l.Name(), "README.md")) {
			continue
		}
		if !l.IsDir() {
			return nil, &spec.Error{File: name, Msg: "a file directly under " + LessonsDir + "/: put each lesson in a language folder, e.g. " + LessonsDir + "/en/" + l.Name()}
		}
		if !langTag.MatchString(l.Name()) {
			return nil, &spec.Error{File: name, Msg: fmt.Sprintf("%q is not a language code: name the folder after the lessons' language (en, ru, pt-BR, …)", l.Name())}
		}
		files, err := fs.ReadDir(fsys, path.Join(LessonsDir, l.Name()))
		if err != nil {
			return nil, fmt.Errorf("reading %s: %w", name, err)
		}
		for _, file := range files {
			fname := path.Join(name, file.Name())
			if strings.HasPrefix(file.Name(), ".") || file.IsDir() || path.Ext(file.Name()) != ".md" {
				continue
			}
			data, err := fs.ReadFile(fsys, path.Join(LessonsDir, l.Name(), file.Name()))
			if err != nil {
				return nil, fmt.Errorf("reading %s: %w", fname, err)
			}
			switch {
			case len(bytes.TrimSpace(data)) == 0:
				return nil, &spec.Error{File: fname, Msg: "empty lesson"}
			case !utf8.Valid(data):
				return nil, &spec.Error{File: fname, Msg: "not UTF-8: save the lesson as UTF-8 text"}
			}
			out[l.Name()] = append(out[l.Name()], file.Name())
		}
		if len(out[l.Name()]) == 0 {
			return nil, &spec.Error{File: name, Msg: "no lessons (*.md) in this language folder"}
		}
	}
	sub, err := fs.Sub(fsys, LessonsDir)
	if err != nil {
		return nil, err
	}
	book := lessons.Open(sub, where)
	for _, lang := range book.Langs() {
		if _, err := book.List(lang); err != nil {
			return nil, err
		}
	}
	return out, nil
}

// lessonWarnings: languages lab lesson does not offer, and steps without a
// lesson in a language that has lessons.
func lessonWarnings(a *spec.Assignment, got map[string][]string, source string) []*spec.Error {
	var out []*spec.Error
	langs := make([]string, 0, len(got))
	for l := range got {
		langs = append(langs, l)
	}
	sort.Strings(langs)
	var offered []string
	for _, l := range lessons.Langs {
		offered = append(offered, string(l))
	}
	for _, lang := range langs {
		where := path.Join(source, LessonsDir, lang)
		if !slices.Contains(offered, lang) {
			out = append(out, &spec.Error{File: where, Msg: fmt.Sprintf("lab lesson offers %s; lessons in %s are not shown", strings.Join(offered, ", "), lang)})
			continue
		}
		for _, s := range a.Steps {
			if !slices.Contains(got[lang], s.ID+".md") {
				out = append(out, &spec.Error{File: where, Msg: fmt.Sprintf("no lesson for %s (%s.md)", s.ID, s.ID)})
			}
		}
	}
	return out
}

// warnings lists what loads but will puzzle students, located in data.
func warnings(a *spec.Assignment, data []byte) []*spec.Error {
	var root yaml.Node
	_ = yaml.Unmarshal(data, &root) // it parsed once already
	steps := lookup(&root, "steps")
	at := func(i int, key string) int {
		if steps == nil || i >= len(steps.Content) {
			return 0
		}
		n := steps.Content[i]
		if k := lookupKey(n, key); k != nil {
			return k.Line
		}
		return n.Line
	}
	var out []*spec.Error
	warn := func(i int, key, format string, args ...any) {
		field := fmt.Sprintf("steps[%d]", i)
		if key != "" {
			field += "." + key
		}
		out = append(out, &spec.Error{File: a.Source, Line: at(i, key), Field: field, Msg: fmt.Sprintf(format, args...)})
	}
	owner := map[string]string{}
	for i, s := range a.Steps {
		for _, t := range texts(s) {
			if missing := t.text.Missing(a.Languages); len(missing) > 0 {
				warn(i, t.key, "%s: %s has no %s text (the spec declares languages %s)", s.ID, t.field, i18n.Names(missing), i18n.Names(a.Languages))
			}
		}
		if s.Points == 0 {
			warn(i, "points", "%s awards no points", s.ID)
		}
		if !s.Graded() {
			continue
		}
		if len(s.Produce) == 0 {
			warn(i, "", "%s has no produce: a student whose file is missing is not told which command writes it", s.ID)
		}
		if len(s.Expect) == 0 {
			warn(i, "", "%s has no expect: a failed answer cannot be shown beside the line it should have had", s.ID)
		}
		if !slices.ContainsFunc(s.Solve, func(a spec.Action) bool { return a.Save != "" }) {
			warn(i, "", "%s has no solve that saves its answers file: lab solve cannot prove a cluster fit for this step", s.ID)
		}
		for _, file := range s.Files {
			if prev, ok := owner[file]; ok {
				warn(i, "files", "%s is also %s's answers file: one file cannot prove two steps apart", file, prev)
			}
			owner[file] = s.ID
		}
	}
	return out
}

// stepText is one of a step's texts, named for a warning.
type stepText struct {
	key, field string
	text       spec.Text
}

// texts lists the texts a student reads for step s.
func texts(s spec.Step) []stepText {
	out := []stepText{{"title", "title", s.Title}}
	for _, rs := range []struct {
		key   string
		rules []spec.Rule
	}{{"diagnose", s.Diagnose}, {"require", s.Require}, {"cross", s.Cross}} {
		for j, r := range rs.rules {
			out = append(out,
				stepText{rs.key, fmt.Sprintf("%s[%d].message", rs.key, j), r.Message},
				stepText{rs.key, fmt.Sprintf("%s[%d].hint", rs.key, j), r.Hint})
		}
	}
	return out
}

// lookupKey returns the key node of field key in the mapping n.
func lookupKey(n *yaml.Node, key string) *yaml.Node {
	if n == nil || n.Kind != yaml.MappingNode {
		return nil
	}
	for i := 0; i+1 < len(n.Content); i += 2 {
		if n.Content[i].Value == key {
			return n.Content[i]
		}
	}
	return nil
}

// lookup returns the value node of a top-level field.
func lookup(doc *yaml.Node, key string) *yaml.Node {
	if doc.Kind != yaml.DocumentNode || len(doc.Content) == 0 {
		return nil
	}
	m := doc.Content[0]
	for i := 0; i+1 < len(m.Content); i += 2 {
		if m.Content[i].Value == key {
			return m.Content[i+1]
		}
	}
	return nil
}

// Languages lists the lesson languages, sorted.
func (v *Validation) Languages() []string {
	langs := make([]string, 0, len(v.Lessons))
	for l := range v.Lessons {
		langs = append(langs, l)
	}
	sort.Strings(langs)
	return langs
}

// Written says what New (or another writer that never overwrites) did,
// each path relative to the folder it wrote into.
type Written struct {
	Created []string
	Kept    []string
}

// newHeader goes above the copy of the built-in spec. The modeline tells
// the YAML language server (VS Code, Neovim, JetBrains) where the schema
// is, so the editor completes fields, parsers, facts and matchers.
const newHeader = `# yaml-language-server: $schema=./` + SchemaFile + `
#
# An assignment for lab (apiVersion lab/v1), started from lab's built-in one
# by ` + "`lab assignment new`" + `. Edit the steps, then check the folder with
#
#   lab assignment validate <this folder>
#
# and use it with lab check/grade/init --assignment <this folder>. Each field
# is described in README.md beside this file and in ` + SchemaFile + `
# (your editor shows those descriptions when the YAML extension is installed).
#
`

// New writes a starter lab folder into dir: a copy of the built-in lab
// (its spec with a header pointing editors at the schema, its manifests
// and its lessons), the schema, and a README on the folder's layout, so
// that the new folder is complete and every command taking --assignment
// works on it at once. Existing files are kept, never overwritten.
func New(dir string) (Written, error) {
	var w Written
	if fi, err := os.Stat(dir); err == nil && !fi.IsDir() {
		return w, fmt.Errorf("%s is a file: give a folder for the new lab", dir)
	}
	schema, err := fs.ReadFile(assets.Schema(), assets.SchemaFile)
	if err != nil {
		return w, fmt.Errorf("reading the schema (a bug in this build): %w", err)
	}
	type file struct {
		name string
		data []byte
	}
	builtin, err := fs.ReadFile(assets.Lab(), spec.FileName)
	if err != nil {
		return w, fmt.Errorf("reading the built-in lab (a bug in this build): %w", err)
	}
	// The spec and what explains it first, as the list of created files
	// is read.
	files := []file{
		{spec.FileName, append([]byte(newHeader), builtin...)},
		{SchemaFile, schema},
		{"README.md", []byte(readme)},
	}
	err = fs.WalkDir(assets.Lab(), ".", func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() || p == spec.FileName {
			return err
		}
		data, err := fs.ReadFile(assets.Lab(), p)
		files = append(files, file{p, data})
		return err
	})
	if err != nil {
		return w, fmt.Errorf("reading the built-in lab (a bug in this build): %w", err)
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return w, fmt.Errorf("creating %s: %w", dir, err)
	}
	for _, f := range files {
		p := filepath.Join(dir, filepath.FromSlash(f.name))
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			return w, fmt.Errorf("creating %s: %w", filepath.Dir(p), err)
		}
		created, err := WriteNew(p, f.data, 0o644)
		if err != nil {
			return w, err
		}
		if created {
			w.Created = append(w.Created, f.name)
		} else {
			w.Kept = append(w.Kept, f.name)
		}
	}
	return w, nil
}

// WriteNew creates file with data unless something already exists at that
// path, and reports whether it did. O_EXCL makes "never overwrite" hold
// even against a file created between a check and the write.
func WriteNew(file string, data []byte, perm fs.FileMode) (bool, error) {
	f, err := os.OpenFile(file, os.O_WRONLY|os.O_CREATE|os.O_EXCL, perm)
	if errors.Is(err, fs.ErrExist) {
		return false, nil
	}
	if err != nil {
		return false, fmt.Errorf("creating %s: %w", file, err)
	}
	if _, err := f.Write(data); err != nil {
		f.Close()
		return false, fmt.Errorf("writing %s: %w", file, err)
	}
	if err := f.Close(); err != nil {
		return false, fmt.Errorf("writing %s: %w", file, err)
	}
	return true, nil
}

// Summary describes a validated folder in one line per fact, for people.
func (l *Lab) Summary(v *Validation) []string {
	a := l.Spec
	graded := 0
	for _, s := range a.Steps {
		if s.Graded() {
			graded++
		}
	}
	lines := []string{
		fmt.Sprintf("%s: %s (%s), %d steps (%s), %d points, %d graded from answers files",
			a.Source, a.Name, spec.APIVersion, len(a.Steps), strings.Join(a.IDs(), ", "), a.MaxPoints(), graded),
	}
	if len(v.Lessons) == 0 {
		lines = append(lines, fmt.Sprintf("%s: no lessons: lab lesson --assignment needs %s/<lang>/<step>.md", l.Source, LessonsDir))
	}
	for _, lang := range v.Languages() {
		names := slices.Clone(v.Lessons[lang])
		sort.Strings(names)
		lines = append(lines, fmt.Sprintf("%s: %d lessons (%s)", path.Join(l.Source, LessonsDir, lang), len(names), strings.Join(names, ", ")))
	}
	return lines
}
