package grade

import (
	"fmt"
	"io"
	"strings"
	"unicode"
	"unicode/utf8"
)

// Printable shows s, a name that comes from a submission (a folder or file
// name), so that it cannot act on what displays it: a newline cannot start
// a table row or CSV record of its own, a tab cannot shift the columns, an
// escape sequence cannot recolour, retitle or clear the instructor's
// terminal, a bidi override cannot reverse what follows. Such characters
// are written as Go escapes (\n, \t, \x1b, \u202e); bytes that are not
// UTF-8 as \xff; a backslash as \\ so that the escaped form reads back
// unambiguously. Letters of every script, marks, digits, punctuation,
// symbols and spaces are kept as they are: "Дмитрий" stays "Дмитрий".
//
// Every output of lab grade uses it for submission names: the table, the
// CSV, the reports; other renderers of a class (HTML) should too, before
// their own escaping.
func Printable(s string) string {
	if !needsEscape(s) {
		return s
	}
	var b strings.Builder
	for i := 0; i < len(s); {
		r, n := utf8.DecodeRuneInString(s[i:])
		switch {
		case r == utf8.RuneError && n == 1:
			fmt.Fprintf(&b, `\x%02x`, s[i])
		case r == '\\':
			b.WriteString(`\\`)
		case printable(r):
			b.WriteRune(r)
		case r == '\n':
			b.WriteString(`\n`)
		case r == '\t':
			b.WriteString(`\t`)
		case r == '\r':
			b.WriteString(`\r`)
		case r < 0x80:
			fmt.Fprintf(&b, `\x%02x`, r)
		default:
			fmt.Fprintf(&b, `\u%04x`, r)
		}
		i += n
	}
	return b.String()
}

func needsEscape(s string) bool {
	for i := 0; i < len(s); {
		r, n := utf8.DecodeRuneInString(s[i:])
		if (r == utf8.RuneError && n == 1) || r == '\\' || !printable(r) {
			return true
		}
		i += n
	}
	return false
}

// printable: graphic runes (letters, marks, numbers, punctuation, symbols,
// spaces), never a control or format character (Cc, Cf: bidi overrides,
// zero-width joiners) nor a line or paragraph separator.
func printable(r rune) bool { return unicode.IsGraphic(r) }

// printableAll is Printable of each name.
func printableAll(names []string) []string {
	out := make([]string, len(names))
	for i, n := range names {
		out[i] = Printable(n)
	}
	return out
}

// jsonSafe passes JSON through, writing the runes Printable escapes that
// encoding/json leaves raw (bidi overrides and other format characters, C1
// controls) as \u escapes: the JSON means the same, and a grades.json shown
// in a terminal cannot reorder or recolour it. In JSON such runes can only
// stand inside strings, where \u is their escape. A rune split between two
// writes is held back until the rest comes.
type jsonSafe struct {
	w    io.Writer
	tail []byte
}

func (j *jsonSafe) Write(p []byte) (int, error) {
	n := len(p)
	if len(j.tail) > 0 {
		p = append(j.tail, p...)
		j.tail = nil
	}
	var out []byte
	last := 0
	for i := 0; i < len(p); {
		if p[i] < utf8.RuneSelf {
			i++
			continue
		}
		if !utf8.FullRune(p[i:]) {
			j.tail = append([]byte(nil), p[i:]...)
			p = p[:i]
			break
		}
		r, size := utf8.DecodeRune(p[i:])
		if r != utf8.RuneError && !printable(r) {
			out = append(out, p[last:i]...)
			out = fmt.Appendf(out, `\u%04x`, r)
			last = i + size
		}
		i += size
	}
	if out == nil {
		_, err := j.w.Write(p)
		return n, err
	}
	_, err := j.w.Write(append(out, p[last:]...))
	return n, err
}

// Close writes what is held back.
func (j *jsonSafe) Close() error {
	if len(j.tail) == 0 {
		return nil
	}
	_, err := j.w.Write(j.tail)
	j.tail = nil
	return err
}
