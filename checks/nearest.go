package checks

import (
	"iter"
	"strings"

	"github.com/sergi/go-diff/diffmatchpatch"
)

// Closest is one expected skeleton line and the student's line nearest to
// it, both in normalised form, with a word diff between them.
type Closest struct {
	Want string `json:"want"`
	// Got is the student's normalised line; empty when the file had no
	// line resembling the skeleton at all.
	Got string `json:"got,omitempty"`
	// Line is Got's line number in the file (1-based).
	Line int `json:"line,omitempty"`
	// Column is where in Got (in bytes) the skeleton's start aligns: a
	// skeleton of the interesting part of a line skips the student's
	// timestamps and link-layer prefix.
	Column int `json:"column,omitempty"`
	// Diff marks what differs, wdiff style: [-wanted-]{+found+}.
	Diff string `json:"diff,omitempty"`
}

// nearestScanLines and nearestScanBytes bound how much of the start of a
// file is kept to be compared with the skeleton: the closest lines of a
// 2 GB capture are not worth reading it twice, and a passing answer (most
// of them) never pays for the comparison at all.
const (
	nearestScanLines = 5000
	nearestScanBytes = 512 << 10
)

// nearestKeep is how many candidates per skeleton line survive the cheap
// token score to be ranked by edit distance.
const nearestKeep = 4

type candidate struct {
	norm  string
	line  int
	score int
}

// nearest keeps, while the lines stream past the parser, a bounded copy of
// the first ones; only when the step fails does it look for the few lines
// closest to each skeleton line.
type nearest struct {
	want   []string
	tokens []map[string]bool
	best   [][]candidate
	n      int
	kept   [][]byte // the first lines, copied (they are reused by decode)
	bytes  int
}

func newNearest(expect []string) *nearest {
	n := &nearest{}
	for _, w := range expect {
		w = Normalize(w)
		if strings.TrimSpace(w) == "" {
			continue
		}
		n.want = append(n.want, w)
		set := map[string]bool{}
		for _, t := range strings.Fields(w) {
			set[t] = true
		}
		n.tokens = append(n.tokens, set)
	}
	n.best = make([][]candidate, len(n.want))
	return n
}

// watch passes lines through unchanged, looking at the first ones.
func (n *nearest) watch(lines iter.Seq[[]byte]) iter.Seq[[]byte] {
	if len(n.want) == 0 {
		return lines
	}
	return func(yield func([]byte) bool) {
		for line := range lines {
			if len(n.kept) < nearestScanLines && n.bytes+len(line) <= nearestScanBytes {
				n.kept = append(n.kept, append([]byte(nil), line...))
				n.bytes += len(line)
			}
			if !yield(line) {
				return
			}
		}
	}
}

func (n *nearest) consider(line []byte) {
	n.n++
	if len(line) == 0 || len(line) > 4096 {
		return
	}
	norm := Normalize(string(line))
	fields := strings.Fields(norm)
	if len(fields) == 0 {
		return
	}
	for i, toks := range n.tokens {
		score := 0
		for _, f := range fields {
			if toks[f] {
				score++
			}
		}
		if score == 0 {
			continue
		}
		b := n.best[i]
		if len(b) < nearestKeep {
			n.best[i] = append(b, candidate{norm, n.n, score})
			continue
		}
		worst := 0
		for j := range b {
			if b[j].score < b[worst].score {
				worst = j
			}
		}
		if score > b[worst].score {
			b[worst] = candidate{norm, n.n, score}
		}
	}
}

// result ranks the surviving candidates by edit distance and renders the
// diffs. It is only called when the step is graded, so its cost is paid
// once per file.
func (n *nearest) result() []Closest {
	if len(n.want) == 0 {
		return nil
	}
	for _, line := range n.kept {
		n.consider(line)
	}
	n.kept = nil
	dmp := diffmatchpatch.New()
	out := make([]Closest, 0, len(n.want))
	for i, want := range n.want {
		c := Closest{Want: want}
		bestDist := -1
		for _, cand := range n.best[i] {
			diffs := dmp.DiffMain(want, cand.norm, false)
			d := dmp.DiffLevenshtein(diffs)
			if bestDist < 0 || d < bestDist || (d == bestDist && cand.line < c.Line) {
				bestDist = d
				diffs = dmp.DiffCleanupSemantic(diffs)
				c.Got, c.Line, c.Diff = cand.norm, cand.line, wdiff(diffs)
				c.Column = alignedStart(diffs)
			}
		}
		out = append(out, c)
	}
	return out
}

// alignedStart is the byte offset in the second text of a diff where the
// first text's first kept character lands; a leading insertion (the
// student's prefix) is skipped.
func alignedStart(diffs []diffmatchpatch.Diff) int {
	off := 0
	for _, d := range diffs {
		switch d.Type {
		case diffmatchpatch.DiffInsert:
			off += len(d.Text)
		case diffmatchpatch.DiffEqual:
			return off
		case diffmatchpatch.DiffDelete:
			// skeleton text missing from the line: keep looking for the
			// first part they share
		}
	}
	return 0
}

// wdiff renders a diff the way wdiff does, readable without colour.
func wdiff(diffs []diffmatchpatch.Diff) string {
	var b strings.Builder
	for _, d := range diffs {
		switch d.Type {
		case diffmatchpatch.DiffEqual:
			b.WriteString(d.Text)
		case diffmatchpatch.DiffDelete:
			b.WriteString("[-" + d.Text + "-]")
		case diffmatchpatch.DiffInsert:
			b.WriteString("{+" + d.Text + "+}")
		}
	}
	return b.String()
}

// Normalize replaces what differs from run to run (addresses, times,
// numbers) with placeholders and folds white space, so that a skeleton
// written once matches every student's output.
func Normalize(s string) string {
	var b strings.Builder
	b.Grow(len(s))
	prevSpace := true
	for i := 0; i < len(s); {
		c := s[i]
		switch {
		case c == ' ' || c == '\t':
			if !prevSpace {
				b.WriteByte(' ')
			}
			prevSpace = true
			i++
			continue
		case isDigit(c) || (isHex(c) && hexRunIsMAC(s[i:])):
			j, kind := scanNumber(s, i)
			b.WriteString(kind)
			i = j
		default:
			b.WriteByte(c)
			i++
		}
		prevSpace = false
	}
	return strings.TrimRight(b.String(), " ")
}

func isDigit(c byte) bool { return c >= '0' && c <= '9' }

func isHex(c byte) bool { return isDigit(c) || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F') }

// hexRunIsMAC reports whether s starts with a MAC address such as
// 5e:43:11:56:d5:e5.
func hexRunIsMAC(s string) bool {
	if len(s) < 17 {
		return false
	}
	for k := 0; k < 17; k++ {
		if k%3 == 2 {
			if s[k] != ':' {
				return false
			}
		} else if !isHex(s[k]) {
			return false
		}
	}
	return len(s) == 17 || !isHex(s[17])
}

// scanNumber reads the run of digits at s[i:] and returns where it ends and
// the placeholder for it: <mac>, <ip>, <ip>.<port>'s address part, <time>
// or <n>.
func scanNumber(s string, i int) (int, string) {
	if hexRunIsMAC(s[i:]) {
		return i + 17, "<mac>"
	}
	j := i
	for j < len(s) && isDigit(s[j]) {
		j++
	}
	// a dotted quad (an IPv4 address), possibly followed by .port
	if dots, k := dottedQuad(s, i); dots == 3 {
		return k, "<ip>"
	}
	if k, ok := clock(s, i); ok {
		return k, "<time>"
	}
	return j, "<n>"
}

// dottedQuad counts the dots of an IPv4 address at s[i:] and returns where
// its fourth number ends.
func dottedQuad(s string, i int) (int, int) {
	dots, k := 0, i
	for {
		start := k
		for k < len(s) && isDigit(s[k]) {
			k++
		}
		if k == start || k-start > 3 {
			return -1, i
		}
		if dots == 3 || k >= len(s) || s[k] != '.' || k+1 >= len(s) || !isDigit(s[k+1]) {
			return dots, k
		}
		dots++
		k++
	}
}

// clock reads a time of day such as 10:59, 15:24:52 or 15:24:52.090511 at
// s[i:]; the range checks keep tcpdump's "seq 1:78" a pair of numbers.
func clock(s string, i int) (int, bool) {
	k, parts := i, 0
	for parts < 3 {
		start := k
		v := 0
		for k < len(s) && isDigit(s[k]) {
			v = v*10 + int(s[k]-'0')
			k++
		}
		n := k - start
		if n < 1 || n > 2 || (parts == 0 && v > 23) || (parts > 0 && (n != 2 || v > 59)) {
			if parts >= 2 {
				k = start - 1 // "hh:mm:" followed by something else: stop before the colon
				break
			}
			return i, false
		}
		parts++
		if parts == 3 || k >= len(s) || s[k] != ':' {
			break
		}
		k++
	}
	if parts < 2 {
		return i, false
	}
	if parts == 3 && k+1 < len(s) && s[k] == '.' && isDigit(s[k+1]) {
		k++
		for k < len(s) && isDigit(s[k]) {
			k++
		}
	}
	return k, true
}
