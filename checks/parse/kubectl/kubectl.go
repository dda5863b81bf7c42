// Package kubectl reads the tables `kubectl get pod` prints, so the grader
// can see which pods a student listed, their status, IP and node.
//
// Step 6 asks for `kubectl get pod -o wide`: the pod Running, with the IP
// and NODE columns that only -o wide adds. Students paste that table with
// or without its header (the seed has one bare row), from -A (a NAMESPACE
// column first), with label columns (-L, --show-labels), from `kubectl get
// all` (names prefixed "pod/"), from kubectl versions without NOMINATED
// NODE, and with RESTARTS like "2 (3m ago)". Rows are split on blanks and
// given to the header's columns in order, which also survives tables whose
// alignment was broken by hand; without a header the row's shape (READY
// is n/m) places the columns. kubectl's own errors ("No resources found",
// "Error from server (NotFound)") are reported as such.
//
// The parser streams and keeps only the current header between lines.
package kubectl

import (
	"bytes"
	"fmt"
	"iter"
	"strings"

	"github.com/k8s-debug-lab/lab/checks/parse/internal/shell"
)

// Kind says what one line was.
type Kind uint8

// The kinds of line in kubectl get output.
const (
	// Unknown is a line that is not part of a kubectl table.
	Unknown Kind = iota
	// Pod is a row of a pod table.
	Pod
	// Header is the header of a pod table.
	Header
	// Other is a header or row of another resource's table (services,
	// deployments in `kubectl get all`).
	Other
	// Error is a message kubectl printed instead of a table.
	Error
	// Command is an echoed command line, prompt removed.
	Command
	// Noise is a lone prompt or banner.
	Noise
)

var kindNames = [...]string{"unknown", "pod", "header", "other", "error", "command", "noise"}

// String names the kind.
func (k Kind) String() string {
	if int(k) < len(kindNames) {
		return kindNames[k]
	}
	return fmt.Sprintf("kind(%d)", k)
}

// Cell is a column of a row that has no field of its own in Record
// (a label column, READINESS GATES, …).
type Cell struct {
	Column, Value []byte
}

// Record is one parsed line. Its slices are valid only during the
// iteration step that yields it.
type Record struct {
	Kind Kind
	// Line is the line as read.
	Line []byte
	// Namespace is set when the table has a NAMESPACE column (-A).
	Namespace []byte
	// Name is the pod's name, without a "pod/" prefix.
	Name []byte
	// Ready is the READY cell: "1/1".
	Ready []byte
	// Status is the STATUS cell: Running, Pending, CrashLoopBackOff, …
	Status []byte
	// Restarts is the RESTARTS cell, with its "(3m ago)" when present.
	Restarts []byte
	// Age is the AGE cell.
	Age []byte
	// IP and Node are the -o wide columns; "<none>" when not assigned.
	IP, Node []byte
	// Wide is true when the row has the IP and NODE columns.
	Wide bool
	// Extra holds the remaining columns, by header name ("NOMINATED NODE",
	// "READINESS GATES", label columns). A headerless row names them
	// after the standard -o wide header.
	Extra []Cell
	// Message is the text of an Error.
	Message []byte
}

// String formats a record on one line, for golden files.
func (r *Record) String() string {
	switch r.Kind {
	case Pod:
		var b strings.Builder
		fmt.Fprintf(&b, "pod ns=%q name=%q ready=%q status=%q restarts=%q age=%q", r.Namespace, r.Name, r.Ready, r.Status, r.Restarts, r.Age)
		if r.Wide {
			fmt.Fprintf(&b, " ip=%q node=%q", r.IP, r.Node)
		}
		for _, c := range r.Extra {
			fmt.Fprintf(&b, " %q=%q", c.Column, c.Value)
		}
		return b.String()
	case Error:
		return fmt.Sprintf("error message=%q", r.Message)
	}
	return fmt.Sprintf("%s line=%q", r.Kind, r.Line)
}

// HasAddress reports whether a wide row shows an assigned IP and node.
func (r *Record) HasAddress() bool {
	return r.Wide && len(r.IP) > 0 && r.IP[0] != '<' && len(r.Node) > 0 && r.Node[0] != '<'
}

// column roles.
const (
	colExtra = iota
	colNamespace
	colName
	colReady
	colStatus
	colRestarts
	colAge
	colIP
	colNode
)

// maxCols and maxColName bound the remembered header.
const (
	maxCols    = 32
	maxColName = 64
)

// wideHeader and wideHeaderA name the columns of a headerless -o wide
// row, without and with -A.
var (
	wideHeader  = headerOf("NAME", "READY", "STATUS", "RESTARTS", "AGE", "IP", "NODE", "NOMINATED NODE", "READINESS GATES")
	wideHeaderA = headerOf("NAMESPACE", "NAME", "READY", "STATUS", "RESTARTS", "AGE", "IP", "NODE", "NOMINATED NODE", "READINESS GATES")
)

type header struct {
	names [][]byte
	roles []uint8
}

func headerOf(names ...string) header {
	var h header
	for _, n := range names {
		h.names = append(h.names, []byte(n))
		h.roles = append(h.roles, roleOf([]byte(n)))
	}
	return h
}

// Parser turns lines of kubectl get output into Records. The zero value
// is ready.
type Parser struct {
	rec     Record
	names   [maxCols][]byte // header column names, copied
	roles   [maxCols]uint8
	ncols   int  // columns of the current pod header; 0 when none
	other   bool // inside another resource's table
	toks    [][]byte
	extra   []Cell
	nameBuf [maxCols][maxColName]byte
}

// Parse yields a Record per non-blank line; the record is reused.
func Parse(lines iter.Seq[[]byte]) iter.Seq[*Record] {
	return func(yield func(*Record) bool) {
		var p Parser
		for line := range lines {
			if r := p.Line(line); r != nil && !yield(r) {
				return
			}
		}
	}
}

// Line parses one line, returning nil for a blank one. The record is
// reused by the next call.
func (p *Parser) Line(line []byte) *Record {
	t := bytes.TrimSpace(line)
	if len(t) == 0 {
		return nil
	}
	p.rec = Record{Line: line}
	r := &p.rec
	switch {
	case p.header(t):
		r.Kind = Header
	case p.otherHeader(t):
		r.Kind = Other
	case p.row(t):
		r.Kind = Pod
	case p.error(t):
		r.Kind = Error
	case p.other && !bytes.Contains(t, []byte("# ")) && !bytes.Contains(t, []byte("$ ")):
		r.Kind = Other
	case isNoise(t):
		r.Kind = Noise
	default:
		if shell.Command(t) != nil {
			r.Kind = Command
		}
	}
	return r
}

// splitHeader splits a header on runs of two or more blanks, since column
// names such as "NOMINATED NODE" hold one.
func splitHeader(dst [][]byte, t []byte) [][]byte {
	dst = dst[:0]
	i := 0
	for i < len(t) && len(dst) <= maxCols {
		for i < len(t) && t[i] == ' ' || i < len(t) && t[i] == '\t' {
			i++
		}
		if i >= len(t) {
			break
		}
		s := i
		for i < len(t) && t[i] != '\t' && !(t[i] == ' ' && (i+1 >= len(t) || t[i+1] == ' ' || t[i+1] == '\t')) {
			i++
		}
		dst = append(dst, t[s:i])
	}
	return dst
}

func isUpperHeader(b []byte) bool {
	for _, c := range b {
		if !(c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == ' ' || c == '-' || c == '_' || c == '(' || c == ')' || c == '.' || c == '/' || c == '%') {
			return false
		}
	}
	return len(b) > 0
}

// header recognises a pod table's header and remembers its columns.
func (p *Parser) header(t []byte) bool {
	if !bytes.HasPrefix(t, []byte("NAME")) || !bytes.Contains(t, []byte("READY")) || !bytes.Contains(t, []byte("STATUS")) {
		return false
	}
	p.toks = splitHeader(p.toks, t)
	if len(p.toks) < 3 || len(p.toks) > maxCols {
		return false
	}
	for _, h := range p.toks {
		if !isUpperHeader(h) {
			return false
		}
	}
	for i, h := range p.toks {
		n := copy(p.nameBuf[i][:], h)
		p.names[i] = p.nameBuf[i][:n]
		p.roles[i] = roleOf(h)
	}
	p.ncols, p.other = len(p.toks), false
	return true
}

func roleOf(h []byte) uint8 {
	switch string(h) {
	case "NAMESPACE":
		return colNamespace
	case "NAME":
		return colName
	case "READY":
		return colReady
	case "STATUS":
		return colStatus
	case "RESTARTS":
		return colRestarts
	case "AGE":
		return colAge
	case "IP":
		return colIP
	case "NODE":
		return colNode
	}
	return colExtra
}

// otherHeader recognises the header of another resource's table, whose
// rows follow until the next header.
func (p *Parser) otherHeader(t []byte) bool {
	if !bytes.HasPrefix(t, []byte("NAME")) || !isUpperHeader(t) || bytes.IndexByte(t, ' ') < 0 {
		return false
	}
	p.ncols, p.other = 0, true
	return true
}

// fields splits a row on blanks, keeping a RESTARTS cell's "(3m ago)" with
// its count.
func (p *Parser) fields(t []byte) [][]byte {
	p.toks = p.toks[:0]
	i := 0
	for i < len(t) && len(p.toks) < 2*maxCols {
		for i < len(t) && (t[i] == ' ' || t[i] == '\t') {
			i++
		}
		if i >= len(t) {
			break
		}
		s := i
		for i < len(t) && t[i] != ' ' && t[i] != '\t' {
			i++
		}
		if t[s] == '(' && len(p.toks) > 0 {
			if e := bytes.IndexByte(t[s:], ')'); e > 0 {
				i = s + e + 1
				p.toks[len(p.toks)-1] = extend(t, p.toks[len(p.toks)-1], i)
				continue
			}
		}
		p.toks = append(p.toks, t[s:i])
	}
	return p.toks
}

// extend returns the part of t from where prev starts to end; prev is a
// subslice of t.
func extend(t, prev []byte, end int) []byte {
	off := cap(t) - cap(prev)
	return t[off:end]
}

func isReady(b []byte) bool {
	i := bytes.IndexByte(b, '/')
	return i > 0 && isDigits(b[:i]) && isDigits(b[i+1:])
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

// isRestarts reports whether b is "0" or "2 (3m ago)".
func isRestarts(b []byte) bool {
	n := bytes.IndexByte(b, ' ')
	if n < 0 {
		return isDigits(b)
	}
	return isDigits(b[:n]) && bytes.HasSuffix(b, []byte(" ago)"))
}

// row parses a pod row by the header, or by its shape without one.
func (p *Parser) row(t []byte) bool {
	toks := p.fields(t)
	if len(toks) < 4 {
		return false
	}
	r := &p.rec
	roles, names := p.roles[:p.ncols], p.names[:p.ncols]
	if p.ncols == 0 {
		// READY (n/m) is the second cell, or the third after a namespace
		ready := -1
		for i := 1; i <= 2 && i < len(toks); i++ {
			if isReady(toks[i]) {
				ready = i
				break
			}
		}
		if ready < 0 || len(toks) < ready+4 || !isRestarts(toks[ready+2]) {
			return false
		}
		h := wideHeader
		if ready == 2 {
			h = wideHeaderA
		}
		roles, names = h.roles, h.names
	}
	p.extra = p.extra[:0]
	ip, node := false, false
	for i, tok := range toks {
		role := uint8(colExtra)
		if i < len(roles) {
			role = roles[i]
		}
		switch role {
		case colNamespace:
			r.Namespace = tok
		case colName:
			r.Name = bytes.TrimPrefix(bytes.TrimPrefix(tok, []byte("pods/")), []byte("pod/"))
		case colReady:
			r.Ready = tok
		case colStatus:
			r.Status = tok
		case colRestarts:
			r.Restarts = tok
		case colAge:
			r.Age = tok
		case colIP:
			r.IP, ip = tok, true
		case colNode:
			r.Node, node = tok, true
		default:
			var col []byte
			if i < len(names) {
				col = names[i]
			}
			if len(p.extra) < maxCols {
				p.extra = append(p.extra, Cell{Column: col, Value: tok})
			}
		}
	}
	if len(r.Name) == 0 || !isReady(r.Ready) || len(r.Status) == 0 {
		return false
	}
	r.Wide = ip && node
	if len(p.extra) > 0 {
		r.Extra = p.extra
	}
	return true
}

// errorPrefixes start what kubectl prints instead of a table.
var errorPrefixes = []string{
	"No resources found", "Error from server", "error: ", "Error: ", "The connection to the server",
	"Unable to connect to the server", "E0", "W0", "error validating", "Unable to use a TTY",
}

func (p *Parser) error(t []byte) bool {
	for _, pre := range errorPrefixes {
		if bytes.HasPrefix(t, []byte(pre)) {
			p.rec.Message = t
			return true
		}
	}
	return false
}

func isNoise(t []byte) bool {
	if bytes.HasPrefix(t, []byte("^C")) || bytes.HasPrefix(t, []byte("Script started on ")) || bytes.HasPrefix(t, []byte("Script done on ")) {
		return true
	}
	if len(t) <= 64 && bytes.Count(t, []byte(" ")) <= 1 {
		last := t[len(t)-1]
		return last == '#' || last == '$' || last == '>' || last == '%'
	}
	return false
}
