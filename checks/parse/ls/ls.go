// Package ls reads what `ls` printed, so the grader can tell which
// directory a student listed and what was in it.
//
// The step it serves asks for the nginx container's own files, reached
// through /proc/<pid>/root from a debug container. The usual mistake lists
// /proc/1/root, which is the /pause sandbox when the pod shares its PID
// namespace: four files in /etc and nothing of nginx. Telling the two apart
// needs the entry names and, when ls was given a path, the path; both come
// from long listings in every dialect a student meets: GNU coreutils and
// BusyBox (which pad differently), -a/-A/-h/-F/-i/-s/--full-time, localised
// dates and totals, device numbers, ACL and SELinux marks, symlinks, quoted
// names, `dir:` headers of -R or several arguments, entries named by path,
// and the terminal session around them (prompt and command, kubectl
// banners, ls's own error lines). Bare names (ls without -l) are recognised
// too, so the grader can ask for a long listing instead of failing silently.
//
// The parser is streaming and keeps only the current directory between
// lines, so its memory does not grow with the input.
package ls

import (
	"bytes"
	"fmt"
	"iter"
	"strings"

	"github.com/k8s-debug-lab/lab/checks/parse/internal/shell"
)

// Kind says what one line of output was.
type Kind uint8

// The kinds of line ls output is made of.
const (
	// Unknown is a line this parser could not place.
	Unknown Kind = iota
	// Entry is one line of a long listing (ls -l).
	Entry
	// Total is the "total N" line that heads a long listing of a directory,
	// in any language ("итого 20", "总用量 12").
	Total
	// Header is a "dir:" line that names the directory listed below it
	// (ls -R, or several arguments).
	Header
	// Error is an error printed by ls, by the shell that could not run it,
	// or by kubectl.
	Error
	// Bare is a line of names without details: ls without -l.
	Bare
	// Command is an echoed command line, prompt stripped.
	Command
	// Noise is a line that says nothing about the listing: kubectl's
	// banners, a lone prompt, `script` markers.
	Noise
)

var kindNames = [...]string{"unknown", "entry", "total", "header", "error", "bare", "command", "noise"}

// String names the kind for golden files and messages.
func (k Kind) String() string {
	if int(k) < len(kindNames) {
		return kindNames[k]
	}
	return fmt.Sprintf("kind(%d)", k)
}

// Record is one parsed line. Its byte slices point into the line or into the
// parser's buffers: they are valid only during the iteration step that
// yields the record, like the line itself.
type Record struct {
	Kind Kind
	// Line is the line as read.
	Line []byte

	// Type is the file type letter of an Entry: '-', 'd', 'l', 'c', 'b',
	// 'p', 's' (or whatever the mode field starts with).
	Type byte
	// Mode is the whole mode field, with any trailing ACL/SELinux mark.
	Mode []byte
	// Links is the hard link count.
	Links int
	// Owner and Group are empty when ls was told to omit them (-o, -g).
	Owner, Group []byte
	// Size is the size as printed ("4096", "4.0K") or the device numbers
	// of a device file ("1, 3").
	Size []byte
	// Time is the modification time as printed, in whatever format.
	Time []byte
	// Name is the entry's base name: quotes and -F classifier removed,
	// any path prefix moved to Dir.
	Name []byte
	// Target is where a symlink points.
	Target []byte
	// Dir is the directory the entry is in, or that a Total or Header
	// belongs to, when known: from a path given as the entry's name, from
	// the last header, or from the echoed command. It is empty when
	// unknown.
	Dir []byte

	// Total is the number after "total" (as printed, e.g. "76K").
	Total []byte
	// Message is the error text of an Error, without the "ls: " prefix.
	Message []byte
	// Names are the names on a Bare line.
	Names [][]byte
	// Command is the echoed command line of a Command record.
	Command []byte
}

// IsDotEntry reports whether an Entry is "." or "..", which every listing
// with -a has and which say nothing about a directory's contents.
func (r *Record) IsDotEntry() bool {
	return r.Kind == Entry && (string(r.Name) == "." || string(r.Name) == "..")
}

// String formats a record on one line, for golden files and test failures.
func (r *Record) String() string {
	var b strings.Builder
	b.WriteString(r.Kind.String())
	field := func(k string, v []byte) {
		if len(v) > 0 {
			fmt.Fprintf(&b, " %s=%q", k, v)
		}
	}
	switch r.Kind {
	case Entry:
		fmt.Fprintf(&b, " type=%c", r.Type)
		field("mode", r.Mode)
		fmt.Fprintf(&b, " links=%d", r.Links)
		field("owner", r.Owner)
		field("group", r.Group)
		field("size", r.Size)
		field("time", r.Time)
		field("name", r.Name)
		field("target", r.Target)
		field("dir", r.Dir)
	case Total:
		field("total", r.Total)
		field("dir", r.Dir)
	case Header:
		field("dir", r.Dir)
	case Error:
		field("message", r.Message)
	case Bare:
		for _, n := range r.Names {
			fmt.Fprintf(&b, " %q", n)
		}
		field("dir", r.Dir)
	case Command:
		field("command", r.Command)
	default:
		field("line", r.Line)
	}
	return b.String()
}

// maxPath bounds the remembered directory so that a pathological line
// cannot grow the parser's state.
const maxPath = 4096

// Parser turns lines of ls output into Records. The zero value is ready to
// use. It remembers only the current and listed directory between lines.
type Parser struct {
	rec     Record
	cwd     []byte // the shell's directory, learned from an echoed cd
	dir     []byte // the directory being listed
	nameBuf []byte // an unquoted name
	dirBuf  []byte // an entry's directory joined from its path
	words   [][]byte
	toks    []tok
	names   [][]byte
}

// Parse yields a Record for every non-blank line. The record is reused:
// it and its slices are valid only during the step that yields them.
func Parse(lines iter.Seq[[]byte]) iter.Seq[*Record] {
	return func(yield func(*Record) bool) {
		var p Parser
		for line := range lines {
			r := p.Line(line)
			if r == nil {
				continue
			}
			if !yield(r) {
				return
			}
		}
	}
}

// Line parses one line; it returns nil for a blank line, which ends a
// `dir:` section. The returned record is reused by the next call.
func (p *Parser) Line(line []byte) *Record {
	t := bytes.TrimRight(line, " \t")
	if len(bytes.TrimLeft(t, " \t")) == 0 {
		return nil
	}
	p.rec = Record{Line: line}
	r := &p.rec
	switch {
	case p.entry(t):
		r.Kind = Entry
	case p.total(t):
		r.Kind = Total
		r.Dir = p.dir
	case isNoise(t):
		r.Kind = Noise
	case p.error(t):
		r.Kind = Error
	case p.command(t):
		r.Kind = Command
	case p.header(t):
		r.Kind = Header
		r.Dir = p.dir
	case p.bare(t):
		r.Kind = Bare
		r.Dir = p.dir
	default:
		r.Kind = Unknown
	}
	return r
}

// tok is one blank-separated field of a line, by offsets.
type tok struct{ start, end int }

// fields splits b into at most 24 fields; a listing's name may hold
// blanks, so the rest of the line is found by offset, not by field.
func (p *Parser) fields(b []byte) []tok {
	p.toks = p.toks[:0]
	i := 0
	for i < len(b) && len(p.toks) < 24 {
		for i < len(b) && (b[i] == ' ' || b[i] == '\t') {
			i++
		}
		if i >= len(b) {
			break
		}
		s := i
		for i < len(b) && b[i] != ' ' && b[i] != '\t' {
			i++
		}
		p.toks = append(p.toks, tok{s, i})
	}
	return p.toks
}

// isMode reports whether f is an ls mode field such as "drwxr-xr-x",
// "-rw-r--r--.", "crw-rw----+" or "-rwsr-sr-t@".
func isMode(f []byte) bool {
	if len(f) < 10 || len(f) > 11 {
		return false
	}
	if !bytes.ContainsRune([]byte("-dlcbpsDCMnP?"), rune(f[0])) {
		return false
	}
	for _, c := range f[1:10] {
		switch c {
		case 'r', 'w', 'x', '-', 's', 'S', 't', 'T', 'l', 'L':
		default:
			return false
		}
	}
	if len(f) == 11 {
		switch f[10] {
		case '.', '+', '@', '*':
		default:
			return false
		}
	}
	return true
}

func isDigits(b []byte) bool {
	if len(b) == 0 {
		return false
	}
	for _, c := range b {
		if c < '0' || c > '9' {
			return false
		}
	}
	return true
}

// isSize reports whether f is a size as ls prints it: 4096, 4.0K, 1.5M, 0.
func isSize(f []byte) bool {
	if len(f) == 0 {
		return false
	}
	n := len(f)
	switch f[n-1] {
	case 'K', 'M', 'G', 'T', 'P', 'E', 'k':
		n--
	}
	if n == 0 {
		return false
	}
	dot := false
	for _, c := range f[:n] {
		switch {
		case c >= '0' && c <= '9':
		case (c == '.' || c == ',') && !dot:
			dot = true
		default:
			return false
		}
	}
	return true
}

// isClock reports whether f is a time of day: 10:59, 9:05, 21:02:23,
// 21:02:23.000000000.
func isClock(f []byte) bool {
	c := bytes.IndexByte(f, ':')
	if c < 1 || c > 2 || !isDigits(f[:c]) || len(f) < c+3 || !isDigits(f[c+1:c+3]) {
		return false
	}
	rest := f[c+3:]
	if len(rest) == 0 {
		return true
	}
	if rest[0] != ':' || len(rest) < 3 || !isDigits(rest[1:3]) {
		return false
	}
	rest = rest[3:]
	return len(rest) == 0 || (rest[0] == '.' && isDigits(rest[1:]))
}

// isYear reports whether f is a four-digit year.
func isYear(f []byte) bool { return len(f) == 4 && isDigits(f) }

// isISODate reports whether f is 2026-02-14 or, in `--time-style=iso`, 02-14.
func isISODate(f []byte) bool {
	switch len(f) {
	case 10:
		return isDigits(f[:4]) && f[4] == '-' && isDigits(f[5:7]) && f[7] == '-' && isDigits(f[8:])
	case 5:
		return isDigits(f[:2]) && f[2] == '-' && isDigits(f[3:])
	}
	return false
}

// isDay reports whether f is a day of the month, possibly with a locale's
// suffix ("14", "9日", "14.").
func isDay(f []byte) bool {
	n := 0
	for n < len(f) && n < 2 && f[n] >= '0' && f[n] <= '9' {
		n++
	}
	if n == 0 {
		return false
	}
	rest := f[n:]
	return len(rest) == 0 || string(rest) == "." || (len(rest) <= 4 && rest[0] >= 0x80)
}

// isMonth reports whether f can be a month name in some locale: "Feb",
// "фев", "févr.", "12月". Numbers alone are not months: they are sizes or
// days.
func isMonth(f []byte) bool {
	if len(f) == 0 || len(f) > 16 || isDigits(f) || bytes.IndexByte(f, ':') >= 0 {
		return false
	}
	return true
}

// isZone reports whether f is a numeric time zone, as --full-time prints.
func isZone(f []byte) bool {
	return len(f) == 5 && (f[0] == '+' || f[0] == '-') && isDigits(f[1:])
}

// entry parses a long-listing line into p.rec.
func (p *Parser) entry(b []byte) bool {
	ts := p.fields(b)
	// skip -i inode and -s block columns before the mode
	m := -1
	for i := 0; i < len(ts) && i < 3; i++ {
		f := b[ts[i].start:ts[i].end]
		if isMode(f) {
			m = i
			break
		}
		if !isSize(f) {
			return false
		}
	}
	if m < 0 || m+3 >= len(ts) {
		return false
	}
	links := b[ts[m+1].start:ts[m+1].end]
	if !isDigits(links) {
		return false
	}
	// find the date: the first place after the size where a time of day
	// or year closes a month-and-day pair, or an ISO date stands
	dateStart, nameFrom := -1, -1
	for i := m + 3; i < len(ts); i++ {
		f := b[ts[i].start:ts[i].end]
		switch {
		case isClock(f) && isISODate(b[ts[i-1].start:ts[i-1].end]):
			dateStart, nameFrom = i-1, i+1
		case (isClock(f) || isYear(f)) && i-2 > m+1 &&
			((isDay(b[ts[i-1].start:ts[i-1].end]) && isMonth(b[ts[i-2].start:ts[i-2].end])) ||
				(isMonth(b[ts[i-1].start:ts[i-1].end]) && isDay(b[ts[i-2].start:ts[i-2].end]))):
			dateStart, nameFrom = i-2, i+1
		case isISODate(f) && len(f) == 10 && (i+1 >= len(ts) || !isClock(b[ts[i+1].start:ts[i+1].end])):
			dateStart, nameFrom = i, i+1
		}
		if dateStart >= 0 {
			if dateStart-1 <= m+1 || !isSize(b[ts[dateStart-1].start:ts[dateStart-1].end]) {
				dateStart, nameFrom = -1, -1
				continue
			}
			break
		}
	}
	if dateStart < 0 || nameFrom >= len(ts) {
		return false
	}
	timeEnd := ts[nameFrom-1].end
	if isZone(b[ts[nameFrom].start:ts[nameFrom].end]) && nameFrom+1 < len(ts) {
		timeEnd = ts[nameFrom].end
		nameFrom++
	} else if isClock(b[ts[nameFrom-1].start:ts[nameFrom-1].end]) && nameFrom+1 < len(ts) &&
		isYear(b[ts[nameFrom].start:ts[nameFrom].end]) && bytes.Count(b[ts[nameFrom-1].start:ts[nameFrom-1].end], []byte(":")) == 2 {
		// BusyBox -e: "Sat Feb 14 10:59:00 2026 name"
		timeEnd = ts[nameFrom].end
		nameFrom++
	}
	r := &p.rec
	r.Mode = b[ts[m].start:ts[m].end]
	r.Type = r.Mode[0]
	for _, c := range links {
		r.Links = r.Links*10 + int(c-'0')
		if r.Links > 1<<30 {
			break
		}
	}
	sizeStart := dateStart - 1
	if sizeStart-1 > m+1 && bytes.HasSuffix(b[ts[sizeStart-1].start:ts[sizeStart-1].end], []byte(",")) {
		sizeStart-- // device: "1, 3"
	}
	r.Size = b[ts[sizeStart].start:ts[dateStart-1].end]
	if ids := sizeStart - (m + 2); ids >= 1 {
		r.Owner = b[ts[m+2].start:ts[m+2].end]
		if ids >= 2 {
			r.Group = b[ts[m+3].start:ts[m+3].end]
		}
	}
	r.Time = b[ts[dateStart].start:timeEnd]
	p.name(b[ts[nameFrom].start:])
	return true
}

// name splits the name part of an entry into name, target and directory.
func (p *Parser) name(s []byte) {
	r := &p.rec
	var name, target []byte
	if isQuoted(s) {
		// GNU quotes names on a terminal: 'my file' -> 'tar get'
		var rest []byte
		p.nameBuf, rest = unquote(p.nameBuf[:0], s)
		end := len(p.nameBuf)
		if r.Type == 'l' {
			target, _ = bytes.CutPrefix(rest, []byte(" -> "))
		}
		if isQuoted(target) {
			p.nameBuf, _ = unquote(p.nameBuf, target)
			target = p.nameBuf[end:]
		}
		name = p.nameBuf[:end]
	} else {
		name = s
		if r.Type == 'l' {
			if i := bytes.Index(s, []byte(" -> ")); i >= 0 {
				name, target = s[:i], s[i+4:]
			}
		}
		if isQuoted(target) {
			p.nameBuf, _ = unquote(p.nameBuf[:0], target)
			target = p.nameBuf
		}
	}
	name = stripClassifier(name, r.Type, r.Mode)
	r.Target = target
	r.Dir = p.dir
	if len(name) > 1 {
		if trimmed := bytes.TrimRight(name, "/"); len(trimmed) > 0 {
			name = trimmed
		}
	}
	if i := bytes.LastIndexByte(name, '/'); i >= 0 && len(name) > 1 {
		d := name[:i]
		if i == 0 {
			d = name[:1]
		}
		p.dirBuf = p.join(p.dirBuf[:0], d)
		r.Dir = p.dirBuf
		name = name[i+1:]
	}
	r.Name = name
}

// isQuoted reports whether s starts with GNU's shell-escape quoting.
func isQuoted(s []byte) bool {
	return len(s) > 1 && (s[0] == '\'' || s[0] == '"' || (s[0] == '$' && s[1] == '\''))
}

// stripClassifier removes the mark `ls -F` appends, but only the one that
// matches the entry's type, so a name that really ends in '*' keeps it.
func stripClassifier(name []byte, typ byte, mode []byte) []byte {
	n := len(name)
	if n < 2 {
		return name
	}
	var want byte
	switch typ {
	case 'd':
		want = '/'
	case 'p':
		want = '|'
	case 's':
		want = '='
	case 'l':
		want = '@'
	case 'D':
		want = '>'
	case '-':
		if isExec(mode[3]) || isExec(mode[6]) || isExec(mode[9]) {
			want = '*'
		}
	}
	if want != 0 && name[n-1] == want {
		return name[:n-1]
	}
	return name
}

func isExec(c byte) bool { return c == 'x' || c == 's' || c == 't' }

// unquote decodes a GNU shell-escaped word ('a b', "it's", $'\n', and
// concatenations of them) into dst, returning the rest of s after it.
func unquote(dst, s []byte) ([]byte, []byte) {
	i := 0
	for i < len(s) {
		switch {
		case s[i] == '\'':
			j := bytes.IndexByte(s[i+1:], '\'')
			if j < 0 {
				return append(dst, s[i+1:]...), nil
			}
			dst = append(dst, s[i+1:i+1+j]...)
			i += j + 2
		case s[i] == '"':
			i++
			for i < len(s) && s[i] != '"' {
				if s[i] == '\\' && i+1 < len(s) {
					i++
				}
				dst = append(dst, s[i])
				i++
			}
			i++
		case s[i] == '$' && i+1 < len(s) && s[i+1] == '\'':
			i += 2
			for i < len(s) && s[i] != '\'' {
				if s[i] == '\\' && i+1 < len(s) {
					i++
					switch s[i] {
					case 'n':
						dst = append(dst, '\n')
					case 't':
						dst = append(dst, '\t')
					case 'r':
						dst = append(dst, '\r')
					default:
						if s[i] >= '0' && s[i] <= '7' && i+2 < len(s) {
							v := 0
							k := 0
							for k < 3 && s[i+k] >= '0' && s[i+k] <= '7' {
								v = v*8 + int(s[i+k]-'0')
								k++
							}
							dst = append(dst, byte(v))
							i += k
							continue
						}
						dst = append(dst, s[i])
					}
					i++
					continue
				}
				dst = append(dst, s[i])
				i++
			}
			i++
		case s[i] == '\\' && i+1 < len(s):
			dst = append(dst, s[i+1])
			i += 2
		case s[i] == ' ':
			return dst, s[i:]
		default:
			dst = append(dst, s[i])
			i++
		}
	}
	if i > len(s) {
		i = len(s)
	}
	return dst, s[i:]
}

// join puts d (relative to the shell's directory when known) into dst.
func (p *Parser) join(dst, d []byte) []byte {
	if len(d) > 0 && d[0] != '/' && d[0] != '~' && len(p.cwd) > 0 {
		dst = append(dst, p.cwd...)
		if dst[len(dst)-1] != '/' {
			dst = append(dst, '/')
		}
		if bytes.HasPrefix(d, []byte("./")) {
			d = d[2:]
		}
		if string(d) == "." {
			return bytes.TrimSuffix(dst, []byte("/"))
		}
	}
	dst = append(dst, d...)
	if len(dst) > maxPath {
		dst = dst[:maxPath]
	}
	return dst
}

// setDir makes d the directory being listed.
func (p *Parser) setDir(d []byte) {
	if len(d) > 1 {
		d = bytes.TrimRight(d, "/")
	}
	tmp := p.join(nil, d)
	p.dir = append(p.dir[:0], tmp...)
}

// total recognises "total 20", "total 76K", "итого 20", "总用量 53212".
func (p *Parser) total(b []byte) bool {
	ts := p.fields(b)
	if len(ts) != 2 {
		return false
	}
	w, n := b[ts[0].start:ts[0].end], b[ts[1].start:ts[1].end]
	if !isSize(n) || isDigits(w) || isMode(w) {
		return false
	}
	if string(w) != "total" {
		// another language's word: letters only, and not ASCII punctuation
		for _, c := range w {
			if c < 0x80 && !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z') {
				return false
			}
		}
	}
	p.rec.Total = n
	return true
}

// noisePrefixes start lines that kubectl, `script` or a terminal print
// around a session and that say nothing about the listing.
var noisePrefixes = []string{
	"Defaulting debug container name to ",
	"If you don't see a command prompt, try pressing enter.",
	"All commands and output from this session will be recorded",
	"Creating debugging pod ",
	"Targeting container ",
	"Session ended, resume using ",
	"pod \"",
	"Script started on ",
	"Script done on ",
	"Unable to use a TTY",
	"Warning: ",
	"--profile=legacy is deprecated",
	"^C",
	"BusyBox v",
	"Enter 'help' for a list of built-in commands.",
}

func isNoise(b []byte) bool {
	t := bytes.TrimLeft(b, " \t")
	for _, p := range noisePrefixes {
		if bytes.HasPrefix(t, []byte(p)) {
			return true
		}
	}
	// a prompt alone: "/ #", "root@node:/#", "$"
	if len(t) <= 64 {
		last := t[len(t)-1]
		if (last == '#' || last == '$' || last == '>') && bytes.IndexByte(t, ' ') < 0 {
			return true
		}
		if (last == '#' || last == '$') && bytes.Count(t, []byte(" ")) == 1 && len(t) <= 8 {
			return true // "/ #", "~ #", "~ $"
		}
	}
	return false
}

// errorPrefixes start error lines of the shell, the container runtime or
// kubectl, which replace a listing when the command could not run.
var errorPrefixes = []string{
	"error: ", "Error from server", "Error: ", "OCI runtime exec failed", "command terminated with exit code",
	"sh: ", "/bin/sh: ", "bash: ", "exec: ", "chroot: ", "nsenter: ", "kubectl: ",
	"The connection to the server", "Unable to connect to the server",
}

// error recognises ls's own error lines and those of whatever ran it.
func (p *Parser) error(b []byte) bool {
	t := bytes.TrimLeft(b, " \t")
	for _, pre := range [][]byte{[]byte("ls: "), []byte("/bin/ls: "), []byte("/usr/bin/ls: "), []byte("busybox: ")} {
		if m, ok := bytes.CutPrefix(t, pre); ok {
			p.rec.Message = m
			return true
		}
	}
	for _, pre := range errorPrefixes {
		if bytes.HasPrefix(t, []byte(pre)) {
			p.rec.Message = t
			return true
		}
	}
	return false
}

// command recognises an echoed command line and learns from it the
// directory the following listing belongs to.
func (p *Parser) command(b []byte) bool {
	cmd := shell.Command(b, "ls")
	if cmd == nil {
		return false
	}
	p.rec.Command = cmd
	p.words = shell.Words(p.words, cmd)
	ws := p.words
	// the last ls (or cd) of the line is what printed the output
	lsAt, cdAt := -1, -1
	for i, w := range ws {
		switch {
		case string(w) == "ls" || bytes.HasSuffix(w, []byte("/ls")):
			lsAt, cdAt = i, -1
		case string(w) == "cd":
			cdAt = i
		}
	}
	if cdAt >= 0 && cdAt+1 < len(ws) && !shell.IsSeparator(ws[cdAt+1]) {
		tmp := p.join(nil, ws[cdAt+1])
		p.cwd = append(p.cwd[:0], tmp...)
	}
	if lsAt < 0 {
		return true
	}
	var arg []byte
	args, dirOnly := 0, false
	for _, w := range ws[lsAt+1:] {
		if shell.IsSeparator(w) {
			break
		}
		if len(w) > 1 && w[0] == '-' {
			if string(w) == "--directory" || (w[1] != '-' && bytes.IndexByte(w, 'd') > 0) {
				dirOnly = true
			}
			continue
		}
		arg = w
		args++
	}
	switch {
	case dirOnly || args > 1:
		p.dir = p.dir[:0] // headers or the names themselves will say
	case args == 1:
		p.setDir(arg)
	default:
		p.dir = append(p.dir[:0], p.cwd...)
	}
	return true
}

// header recognises "dir:" above a directory's part of the output.
func (p *Parser) header(b []byte) bool {
	t := bytes.TrimLeft(b, " \t")
	n := len(t)
	if n < 2 || t[n-1] != ':' || bytes.Contains(t[:n-1], []byte(": ")) || bytes.IndexByte(t, '\t') >= 0 {
		return false
	}
	d := t[:n-1]
	if d[0] == '\'' || d[0] == '"' {
		p.nameBuf, _ = unquote(p.nameBuf[:0], d)
		d = p.nameBuf
	}
	// a header names a path: one word with a slash, or a plain name
	if bytes.Count(d, []byte(" ")) > 2 {
		return false
	}
	p.setDir(d)
	return true
}

// bare recognises a line of names as `ls` or `ls -a` print them: one per
// line, or in columns separated by tabs or two or more spaces. Only lines
// made of plausible file names count, so prose is not taken for names.
func (p *Parser) bare(b []byte) bool {
	p.names = p.names[:0]
	i := 0
	for i < len(b) {
		for i < len(b) && (b[i] == ' ' || b[i] == '\t') {
			i++
		}
		if i >= len(b) {
			break
		}
		s := i
		for i < len(b) && b[i] != '\t' && !(b[i] == ' ' && (i+1 >= len(b) || b[i+1] == ' ' || b[i+1] == '\t')) {
			i++
		}
		n := b[s:i]
		if !plausibleName(n) || len(p.names) == 64 {
			return false
		}
		p.names = append(p.names, n)
	}
	if len(p.names) == 0 {
		return false
	}
	if len(p.names) > 1 {
		// in columns a name with a blank would be quoted by GNU ls and is
		// too ambiguous in BusyBox's output; a ps header is not names
		for _, n := range p.names {
			if bytes.IndexByte(n, ' ') >= 0 || string(n) == "PID" || string(n) == "UID" {
				return false
			}
		}
	}
	p.rec.Names = p.names
	return true
}

// plausibleName reports whether n looks like a file name and not like a
// fragment of prose or another tool's output.
func plausibleName(n []byte) bool {
	if len(n) == 0 || len(n) > 255 {
		return false
	}
	spaces := 0
	for _, c := range n {
		switch {
		case c >= 'a' && c <= 'z', c >= 'A' && c <= 'Z', c >= '0' && c <= '9', c >= 0x80:
		case c == '.', c == '_', c == '-', c == '+', c == '@', c == '~', c == '%', c == '/', c == '*', c == '|', c == '=', c == '#', c == ',':
		case c == ' ':
			spaces++
		default:
			return false
		}
	}
	return spaces <= 1
}
