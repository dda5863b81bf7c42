// Package lessons holds the lab's lessons, one markdown file per step and
// language, and turns them into what a student reads: personalised with the
// facts of the student's own cluster (Vars) and rendered for a terminal
// (Render).
//
// Lessons live in a lab folder, DIR/lessons/<lang>/<id>.md (lab/labfolder
// opens it, the built-in lab's embedded or an instructor's on disk), and
// are read through the same fs.FS code (Open), so that an instructor's
// folder behaves exactly like the built-in one.
//
// A lesson's id is the id of the step it teaches ("step-3", "star"), or a
// name of its own for a lesson that is not a graded step ("intro",
// "step-4"). Its title is its first "# " heading.
package lessons

import (
	"errors"
	"fmt"
	"io/fs"
	"path"
	"slices"
	"strconv"
	"strings"

	"github.com/k8s-debug-lab/lab/internal/i18n"
)

// BuiltinSource names the embedded lessons in messages.
const BuiltinSource = "built-in lessons"

// Lang is a language lessons are written in: lab's one language choice
// (internal/i18n), so that the lesson and the grader's hints agree.
type Lang = i18n.Lang

// The languages lab's lessons come in.
const (
	English = i18n.English
	Russian = i18n.Russian
)

// Langs lists the languages a lesson may be written in, the default first.
var Langs = i18n.Langs

// ParseLang resolves a --lang value.
func ParseLang(s string) (Lang, error) { return i18n.Parse(s) }

// LangFromEnv picks the language from the locale (see i18n.FromEnv).
func LangFromEnv(getenv func(string) string) Lang { return i18n.FromEnv(getenv) }

// Lesson is one lesson before personalisation.
type Lesson struct {
	// ID is the step the lesson teaches ("step-3", "star") or its own name
	// ("intro").
	ID string
	// Lang is the language it is written in.
	Lang Lang
	// Title is its first "# " heading, without the marker and backquotes.
	Title string
	// Path names the file in messages: "en/step-3.md" inside its source.
	Path string
	// Markdown is the text, with placeholders such as {{.PodUID}}.
	Markdown string
}

// Book is the lessons of one assignment, in every language it has.
type Book struct {
	fsys   fs.FS
	source string
}

// Open reads lessons from fsys, which holds one folder per language;
// source names it in messages (a folder's path, or BuiltinSource).
func Open(fsys fs.FS, source string) *Book { return &Book{fsys: fsys, source: source} }

// Source names where the lessons come from.
func (b *Book) Source() string { return b.source }

// Langs lists the languages that have at least one lesson, in Langs order.
func (b *Book) Langs() []Lang {
	var out []Lang
	for _, l := range Langs {
		if m, _ := fs.Glob(b.fsys, string(l)+"/*.md"); len(m) > 0 {
			out = append(out, l)
		}
	}
	return out
}

// ErrNoLessons means a book has no lessons in the asked language.
var ErrNoLessons = errors.New("no lessons")

// List returns every lesson in lang, in teaching order: intro, the numbered
// steps by number, star, then any other lesson by name.
func (b *Book) List(lang Lang) ([]Lesson, error) {
	names, err := fs.Glob(b.fsys, string(lang)+"/*.md")
	if err != nil {
		return nil, fmt.Errorf("%s: %w", b.source, err)
	}
	if len(names) == 0 {
		return nil, fmt.Errorf("%s: %w in %s (%s/*.md)", b.source, ErrNoLessons, lang, lang)
	}
	out := make([]Lesson, 0, len(names))
	for _, name := range names {
		l, err := b.read(lang, name)
		if err != nil {
			return nil, err
		}
		out = append(out, l)
	}
	slices.SortFunc(out, func(a, b Lesson) int { return compareIDs(a.ID, b.ID) })
	return out, nil
}

// UnknownLessonError is a lesson id the book does not have.
type UnknownLessonError struct {
	// ID is what was asked for.
	ID string
	// IDs are the lessons there are, in teaching order.
	IDs []string
}

func (e *UnknownLessonError) Error() string {
	return fmt.Sprintf("unknown lesson %q (lessons: %s)", e.ID, strings.Join(e.IDs, ", "))
}

// Lesson returns the lesson called id in lang. A bare number names a step:
// "5" is "step-5".
func (b *Book) Lesson(lang Lang, id string) (Lesson, error) {
	all, err := b.List(lang)
	if err != nil {
		return Lesson{}, err
	}
	want := strings.ToLower(strings.TrimSpace(id))
	if _, err := strconv.Atoi(want); err == nil {
		want = "step-" + want
	}
	ids := make([]string, len(all))
	for i, l := range all {
		if l.ID == want {
			return l, nil
		}
		ids[i] = l.ID
	}
	return Lesson{}, &UnknownLessonError{ID: id, IDs: ids}
}

func (b *Book) read(lang Lang, name string) (Lesson, error) {
	data, err := fs.ReadFile(b.fsys, name)
	if err != nil {
		return Lesson{}, fmt.Errorf("%s: reading %s: %w", b.source, name, err)
	}
	l := Lesson{
		ID:       strings.TrimSuffix(path.Base(name), ".md"),
		Lang:     lang,
		Path:     name,
		Markdown: string(data),
	}
	l.Title = title(l.Markdown)
	if l.Title == "" {
		return Lesson{}, fmt.Errorf("%s: %s: no title: a lesson starts with a \"# Title\" line", b.source, name)
	}
	return l, nil
}

// title is the text of the first level-one heading.
func title(md string) string {
	for line := range strings.Lines(md) {
		line = strings.TrimRight(line, "\r\n")
		if t, ok := strings.CutPrefix(line, "# "); ok {
			// A title may hold code spans, e.g. `/proc/<pid>/root`, so that
			// markdown keeps the angle brackets; a list shows it plain.
			return strings.TrimSpace(strings.ReplaceAll(t, "`", ""))
		}
	}
	return ""
}

// compareIDs orders lessons the way a course runs: intro first, step-N by
// number (so step-10 follows step-9), star after the steps, anything else
// last by name.
func compareIDs(a, b string) int {
	ra, na := rank(a)
	rb, nb := rank(b)
	if ra != rb {
		return ra - rb
	}
	if na != nb {
		return na - nb
	}
	return strings.Compare(a, b)
}

func rank(id string) (group, n int) {
	switch {
	case id == "intro":
		return 0, 0
	case id == "star":
		return 2, 0
	}
	if s, ok := strings.CutPrefix(id, "step-"); ok {
		if n, err := strconv.Atoi(s); err == nil {
			return 1, n
		}
	}
	return 3, 0
}
