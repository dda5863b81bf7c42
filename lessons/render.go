package lessons

import (
	"fmt"
	"regexp"
	"strings"
	"unicode"

	"github.com/charmbracelet/glamour"
	"github.com/charmbracelet/glamour/styles"
	"github.com/muesli/termenv"
	"github.com/yuin/goldmark"
	"github.com/yuin/goldmark/ast"
	"github.com/yuin/goldmark/text"
)

// Styles a lesson renders in: glamour's standard style names.
const (
	// StyleNoTTY is plain text without colour, for pipes, files and tests.
	StyleNoTTY = styles.NoTTYStyle
	// StyleAuto picks dark or light from the terminal's background.
	StyleAuto = styles.AutoStyle
)

// DefaultWidth is the wrap width when none is known (not a terminal).
const DefaultWidth = 80

// RenderOptions say how to render a lesson.
type RenderOptions struct {
	// Style is a glamour standard style name: StyleNoTTY, StyleAuto, "dark",
	// "light", … Empty means StyleNoTTY.
	Style string
	// Width wraps prose at this many columns; 0 means DefaultWidth.
	// Commands in code blocks are never wrapped.
	Width int
}

// Render turns personalised markdown into text for a terminal or a pipe.
//
// glamour wraps code blocks like prose (charmbracelet/glamour#479), which
// breaks a long kubectl command into two lines that no longer paste into a
// shell. So each code block is swapped for a one-word marker before
// glamour runs and put back, unwrapped, in the marker's place afterwards,
// with the marker's indentation and colours.
func Render(md string, o RenderOptions) (string, error) {
	if o.Style == "" {
		o.Style = StyleNoTTY
	}
	if o.Width <= 0 {
		o.Width = DefaultWidth
	}
	profile := termenv.EnvColorProfile()
	if o.Style == StyleNoTTY || o.Style == styles.AsciiStyle {
		profile = termenv.Ascii
	}
	r, err := glamour.NewTermRenderer(
		glamour.WithStandardStyle(o.Style),
		glamour.WithWordWrap(o.Width),
		glamour.WithColorProfile(profile),
	)
	if err != nil {
		return "", fmt.Errorf("rendering with style %q: %w", o.Style, err)
	}
	masked, blocks := maskCodeBlocks(md)
	out, err := r.Render(protectHyphens(masked))
	if err != nil {
		return "", fmt.Errorf("rendering markdown: %w", err)
	}
	out = strings.ReplaceAll(out, string(nbHyphen), "-")
	return unmaskCodeBlocks(out, blocks), nil
}

// nbHyphen is U+2011 NON-BREAKING HYPHEN.
const nbHyphen = '\u2011'

// delimiterRow is a table's header delimiter row or a thematic break, whose
// hyphens are markdown syntax.
var delimiterRow = regexp.MustCompile(`^[\s|:*_-]*-[\s|:*_-]*$`)

// protectHyphens swaps each hyphen inside a word ("step-3", "--profile")
// for a non-breaking one. glamour wraps a paragraph twice: first with
// reflow's wordwrap, which breaks at hyphens but does not count the hyphens
// it keeps, so a line with hyphens comes out wider than the width; then
// again for the whole document, which pushes the last word of such a line
// onto a line of its own. A non-breaking hyphen is measured alike by both
// and broken at by neither; Render swaps it back afterwards. List markers
// and table delimiter rows keep their hyphens: they follow a space or the
// start of the line, or are syntax.
func protectHyphens(md string) string {
	var b strings.Builder
	b.Grow(len(md) + len(md)/8)
	for line := range strings.Lines(md) {
		if delimiterRow.MatchString(strings.TrimRight(line, "\r\n")) {
			b.WriteString(line)
			continue
		}
		prev := ' '
		for _, r := range line {
			if r == '-' && !unicode.IsSpace(prev) {
				b.WriteRune(nbHyphen)
			} else {
				b.WriteRune(r)
			}
			prev = r
		}
	}
	return b.String()
}

// codeBlock is one code block's lines and the marker standing in for it.
type codeBlock struct {
	marker string
	lines  []string
}

// maskCodeBlocks replaces the content of every code block with a marker
// word, keeping the fences, so that glamour still renders a code block.
func maskCodeBlocks(md string) (string, []codeBlock) {
	src := []byte(md)
	doc := goldmark.New().Parser().Parse(text.NewReader(src))
	type span struct{ start, stop int }
	var spans []span
	var blocks []codeBlock
	_ = ast.Walk(doc, func(n ast.Node, entering bool) (ast.WalkStatus, error) {
		if !entering {
			return ast.WalkContinue, nil
		}
		switch n.Kind() {
		case ast.KindFencedCodeBlock, ast.KindCodeBlock:
		default:
			return ast.WalkContinue, nil
		}
		segs := n.Lines()
		if segs.Len() == 0 {
			return ast.WalkSkipChildren, nil
		}
		var code strings.Builder
		for i := 0; i < segs.Len(); i++ {
			seg := segs.At(i)
			code.Write(seg.Value(src))
		}
		blocks = append(blocks, codeBlock{
			marker: marker(len(blocks)),
			lines:  strings.Split(strings.TrimRight(code.String(), "\n"), "\n"),
		})
		spans = append(spans, span{segs.At(0).Start, segs.At(segs.Len() - 1).Stop})
		return ast.WalkSkipChildren, nil
	})
	var b strings.Builder
	last := 0
	for i, s := range spans {
		b.WriteString(md[last:s.start])
		b.WriteString(blocks[i].marker)
		b.WriteString("\n")
		last = s.stop
	}
	b.WriteString(md[last:])
	return b.String(), blocks
}

// marker is a word no lesson contains and no syntax highlighter splits:
// letters only.
func marker(i int) string {
	var s []byte
	for {
		s = append(s, byte('a'+i%26))
		i /= 26
		if i == 0 {
			break
		}
	}
	return "zqxlabcodeblock" + string(s) + "zqx"
}

// unmaskCodeBlocks puts each block's lines where its marker was rendered,
// each line with the marker's prefix (indentation, colour) and suffix
// (colour reset), and drops the padding glamour adds to fill the width.
func unmaskCodeBlocks(out string, blocks []codeBlock) string {
	byMarker := make(map[string][]string, len(blocks))
	for _, cb := range blocks {
		byMarker[cb.marker] = cb.lines
	}
	var b strings.Builder
	for line := range strings.Lines(out) {
		line = strings.TrimRight(line, "\n")
		i := strings.Index(line, "zqxlabcodeblock")
		if i >= 0 {
			end := strings.Index(line[i+len("zqxlabcodeblock"):], "zqx")
			if end >= 0 {
				m := line[i : i+len("zqxlabcodeblock")+end+len("zqx")]
				if lines, ok := byMarker[m]; ok {
					// After the marker glamour writes only styles and the
					// padding up to the width; a command longer than the
					// width must not get that padding too.
					prefix, suffix := line[:i], strings.Join(sgr.FindAllString(line[i+len(m):], -1), "")
					for _, l := range lines {
						b.WriteString(trimPadding(prefix + l + suffix))
						b.WriteString("\n")
					}
					continue
				}
			}
		}
		b.WriteString(trimPadding(line))
		b.WriteString("\n")
	}
	return b.String()
}

// sgr is a terminal colour sequence (Select Graphic Rendition).
var sgr = regexp.MustCompile(`\x1b\[[0-9;]*m`)

// padding is the run of spaces, each maybe wrapped in colour sequences,
// that glamour adds to fill a line to the width.
var padding = regexp.MustCompile(`(?:\x1b\[[0-9;]*m| )+$`)

// trimPadding drops a line's trailing padding, resetting the colours if
// the padding held any.
func trimPadding(line string) string {
	tail := padding.FindString(line)
	if tail == "" {
		return line
	}
	line = line[:len(line)-len(tail)]
	if strings.Contains(tail, "\x1b[") {
		line += "\x1b[0m"
	}
	return line
}
