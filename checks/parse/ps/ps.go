// Package ps reads process listings, so the lab can find the nginx master
// and worker PIDs that a student must trace or whose root must be listed.
//
// In a pod that shares its PID namespace, PID 1 is /pause, not nginx; the
// student (and the autopilot) must read the real PIDs off `ps`. That output
// comes from BusyBox in most debug images (`PID USER TIME COMMAND`, with
// `{comm}` before the arguments when a process renamed itself, as under
// Rosetta emulation) or from procps (`ps aux`, `ps -ef`, `-o` columns, the
// `f` forest), often filtered through grep so that the header is gone.
// Columns are read from the header when there is one and inferred from the
// row's shape when there is not. nginx's process titles ("nginx: master
// process …", "nginx: worker process") decide roles; without them the
// parent PID, the user, and the lowest PID do (see Finder).
//
// Parsing is streaming with a fixed amount of state: the column layout.
package ps

import (
	"bytes"
	"fmt"
	"iter"
	"slices"
	"strings"

	"github.com/k8s-debug-lab/lab/checks/parse/internal/shell"
)

// Kind says what one line was.
type Kind uint8

// The kinds of line in ps output.
const (
	// Unknown is a line that is not a process row, header or echo.
	Unknown Kind = iota
	// Process is one process row.
	Process
	// Header is a column header line.
	Header
	// Command is an echoed command line, prompt removed.
	Command
	// Error is an error printed by ps, the shell or kubectl.
	Error
	// Noise is a banner or lone prompt that says nothing.
	Noise
)

var kindNames = [...]string{"unknown", "process", "header", "command", "error", "noise"}

// String names the kind.
func (k Kind) String() string {
	if int(k) < len(kindNames) {
		return kindNames[k]
	}
	return fmt.Sprintf("kind(%d)", k)
}

// Record is one parsed line. Its slices are valid only during the
// iteration step that yields it.
type Record struct {
	Kind Kind
	// Line is the line as read.
	Line []byte
	// PID is the process ID.
	PID int
	// PPID is the parent's PID, or -1 when the listing does not show it.
	PPID int
	// User is the owner as printed: a name or a numeric UID ("101").
	User []byte
	// Command is the command line or process title, without the tree
	// drawing of `ps f`.
	Command []byte
	// Name is the program: the {comm} BusyBox shows before a renamed
	// process's arguments, a [kernel thread]'s name, or the base name of
	// the first word with a title's trailing colon removed ("nginx").
	Name []byte
	// Message is the text of an Error.
	Message []byte
}

// String formats a record on one line for golden files.
func (r *Record) String() string {
	switch r.Kind {
	case Process:
		return fmt.Sprintf("process pid=%d ppid=%d user=%q name=%q command=%q", r.PID, r.PPID, r.User, r.Name, r.Command)
	case Error:
		return fmt.Sprintf("error message=%q", r.Message)
	case Command:
		return fmt.Sprintf("command %q", r.Command)
	}
	return fmt.Sprintf("%s line=%q", r.Kind, r.Line)
}

// column is what one header column holds, as far as this package cares.
type column uint8

const (
	colOther column = iota
	colPID
	colPPID
	colUser
	colCommand
)

func columnOf(h []byte) (column, bool) {
	switch string(h) {
	case "PID":
		return colPID, true
	case "PPID":
		return colPPID, true
	case "USER", "UID", "RUSER", "EUSER", "UNAME":
		return colUser, true
	case "COMMAND", "CMD", "ARGS", "COMM":
		return colCommand, true
	case "%CPU", "%MEM", "VSZ", "RSS", "TTY", "TT", "STAT", "S", "START", "STIME", "TIME", "C", "PGID", "SID",
		"NI", "PRI", "ADDR", "SZ", "WCHAN", "F", "LWP", "NLWP", "PSR", "ELAPSED", "ETIME", "VSIZE", "GROUP", "RGROUP", "GID", "TID":
		return colOther, true
	}
	return colOther, false
}

// maxCols bounds the header layout kept between lines.
const maxCols = 24

// Parser turns lines of ps output into Records. The zero value is ready.
type Parser struct {
	rec    Record
	cols   [maxCols]column
	ncols  int // 0 until a header is seen
	fields [maxCols + 1][2]int
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
	p.rec = Record{Line: line, PPID: -1}
	r := &p.rec
	switch {
	case p.header(t):
		r.Kind = Header
	case p.process(t):
		r.Kind = Process
	case isNoise(t):
		r.Kind = Noise
	case p.error(t):
		r.Kind = Error
	default:
		if cmd := shell.Command(t, "ps"); cmd != nil {
			r.Kind, r.Command = Command, cmd
		}
	}
	return r
}

// split records the offsets of up to n blank-separated fields of b; the
// last one runs to the end of the line.
func (p *Parser) split(b []byte, n int) int {
	k, i := 0, 0
	for i < len(b) && k < n {
		for i < len(b) && (b[i] == ' ' || b[i] == '\t') {
			i++
		}
		if i >= len(b) {
			break
		}
		s := i
		if k == n-1 {
			p.fields[k] = [2]int{s, len(b)}
			return k + 1
		}
		for i < len(b) && b[i] != ' ' && b[i] != '\t' {
			i++
		}
		p.fields[k] = [2]int{s, i}
		k++
	}
	return k
}

func (p *Parser) header(t []byte) bool {
	n := p.split(t, maxCols+1)
	if n < 2 || n > maxCols {
		return false
	}
	var cols [maxCols]column
	pid, cmd := false, -1
	for i := 0; i < n; i++ {
		c, ok := columnOf(t[p.fields[i][0]:p.fields[i][1]])
		if !ok {
			return false
		}
		cols[i] = c
		pid = pid || c == colPID
		if c == colCommand {
			cmd = i
		}
	}
	if !pid || cmd != n-1 {
		return false
	}
	p.cols, p.ncols = cols, n
	return true
}

func atoi(b []byte) (int, bool) {
	if len(b) == 0 || len(b) > 9 {
		return 0, false
	}
	n := 0
	for _, c := range b {
		if c < '0' || c > '9' {
			return 0, false
		}
		n = n*10 + int(c-'0')
	}
	return n, true
}

// isClock reports whether f is a TIME cell: 0:00, 00:00:00, 1-02:03:04.
func isClock(f []byte) bool {
	return len(f) >= 4 && bytes.IndexByte(f, ':') > 0 && len(bytes.Trim(f, "0123456789:-")) == 0
}

// process parses a row by the header's layout, or by its shape when no
// header was seen (grep removes it).
func (p *Parser) process(t []byte) bool {
	cols := p.cols[:p.ncols]
	if p.ncols == 0 || !p.fits(t, cols) {
		cols = p.guess(t)
		if cols == nil || !p.fits(t, cols) {
			return false
		}
	}
	r := &p.rec
	for i, c := range cols {
		f := t[p.fields[i][0]:p.fields[i][1]]
		switch c {
		case colPID:
			r.PID, _ = atoi(f)
		case colPPID:
			r.PPID, _ = atoi(f)
		case colUser:
			r.User = f
		case colCommand:
			r.Command = untree(f)
			r.Name = programName(r.Command)
		}
	}
	return len(r.Command) > 0
}

// fits reports whether t has a field per column with numbers where the
// layout expects them, splitting it into p.fields.
func (p *Parser) fits(t []byte, cols []column) bool {
	if p.split(t, len(cols)) != len(cols) {
		return false
	}
	for i, c := range cols {
		if c == colPID || c == colPPID {
			if _, ok := atoi(t[p.fields[i][0]:p.fields[i][1]]); !ok {
				return false
			}
		}
	}
	return true
}

// Layouts of rows without a header, by the tool and options that print them.
var (
	busyboxCols     = []column{colPID, colUser, colCommand}                                                                                 // BusyBox ps (no TIME)
	busyboxTimeCols = []column{colPID, colUser, colOther, colCommand}                                                                       // BusyBox ps with TIME
	pidPPIDCols     = []column{colPID, colPPID, colUser, colCommand}                                                                        // ps -o pid,ppid,user,args
	auxCols         = []column{colUser, colPID, colOther, colOther, colOther, colOther, colOther, colOther, colOther, colOther, colCommand} // ps aux
	efCols          = []column{colUser, colPID, colPPID, colOther, colOther, colOther, colOther, colCommand}                                // ps -ef
)

// guess picks a layout for a headerless row from the shape of its first
// fields.
func (p *Parser) guess(t []byte) []column {
	n := p.split(t, 4)
	if n < 3 {
		return nil
	}
	f := func(i int) []byte { return t[p.fields[i][0]:p.fields[i][1]] }
	if _, ok := atoi(f(0)); ok {
		switch {
		case n >= 4 && isClock(f(2)):
			return busyboxTimeCols
		case n >= 4 && isNumber(f(1)) && isUserLike(f(2)) && looksLikePPIDRow(f(2)):
			return pidPPIDCols
		}
		return busyboxCols
	}
	if _, ok := atoi(f(1)); !ok || n < 4 {
		return nil
	}
	if bytes.IndexByte(f(2), '.') > 0 {
		return auxCols
	}
	return efCols
}

func isNumber(b []byte) bool { _, ok := atoi(b); return ok }

// isUserLike reports whether f can be a user name or UID.
func isUserLike(f []byte) bool {
	if len(f) == 0 || len(f) > 32 {
		return false
	}
	for _, c := range f {
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '-' || c == '_' || c == '.' || c == '+' || c == '$') {
			return false
		}
	}
	return true
}

// looksLikePPIDRow tells "PID PPID USER CMD" from BusyBox's "PID USER CMD"
// with a numeric user: in the latter, the third field starts the command,
// which a user name rarely resembles when it is a path or a title.
func looksLikePPIDRow(third []byte) bool {
	return third[0] != '/' && third[0] != '{' && third[0] != '['
}

// untree removes the forest drawing of `ps f` ("\_ ", "|  ").
func untree(c []byte) []byte {
	for {
		c = bytes.TrimLeft(c, " ")
		switch {
		case bytes.HasPrefix(c, []byte(`\_ `)):
			c = c[3:]
		case bytes.HasPrefix(c, []byte("| ")):
			c = c[2:]
		default:
			return c
		}
	}
}

// programName finds the program behind a command line or title.
func programName(c []byte) []byte {
	if len(c) > 1 && (c[0] == '{' || c[0] == '[') {
		end := byte('}')
		if c[0] == '[' {
			end = ']'
		}
		if i := bytes.IndexByte(c, end); i > 1 {
			return c[1:i]
		}
	}
	w := c
	if i := bytes.IndexByte(c, ' '); i >= 0 {
		w = c[:i]
	}
	w = bytes.TrimPrefix(w, []byte("-")) // a login shell: -ash
	if i := bytes.LastIndexByte(w, '/'); i >= 0 && i+1 < len(w) {
		w = w[i+1:]
	}
	return bytes.TrimSuffix(w, []byte(":"))
}

var noisePrefixes = []string{
	"Defaulting debug container name to ",
	"If you don't see a command prompt, try pressing enter.",
	"All commands and output from this session will be recorded",
	"Targeting container ",
	"Creating debugging pod ",
	"Session ended, resume using ",
	"Script started on ", "Script done on ",
	"BusyBox v", "Enter 'help' for a list of built-in commands.",
	"Unable to use a TTY", "Warning: ", "^C",
}

func isNoise(t []byte) bool {
	for _, p := range noisePrefixes {
		if bytes.HasPrefix(t, []byte(p)) {
			return true
		}
	}
	if len(t) <= 64 && bytes.IndexByte(t, ' ') < 0 {
		last := t[len(t)-1]
		return last == '#' || last == '$' || last == '>'
	}
	return len(t) <= 8 && (bytes.HasSuffix(t, []byte(" #")) || bytes.HasSuffix(t, []byte(" $")))
}

var errorPrefixes = []string{
	"error: ", "Error from server", "Error: ", "OCI runtime exec failed", "command terminated with exit code",
	"sh: ", "/bin/sh: ", "bash: ", "The connection to the server", "Unable to connect to the server",
}

func (p *Parser) error(t []byte) bool {
	if m, ok := bytes.CutPrefix(t, []byte("ps: ")); ok {
		p.rec.Message = m
		return true
	}
	for _, pre := range errorPrefixes {
		if bytes.HasPrefix(t, []byte(pre)) {
			p.rec.Message = t
			return true
		}
	}
	return false
}

// Role is what a process is to nginx.
type Role uint8

// Roles of the processes Finder looks at.
const (
	NotNginx Role = iota
	// Master is the nginx master process.
	Master
	// Worker is an nginx worker process.
	Worker
	// Helper is another titled nginx process: cache manager or loader.
	Helper
	// Untitled is an nginx process whose title does not say its role
	// (emulation or a ps that shows argv as started).
	Untitled
)

// RoleOf classifies one process by its name and title alone.
func RoleOf(r *Record) Role {
	if string(r.Name) != "nginx" {
		return NotNginx
	}
	switch {
	case bytes.Contains(r.Command, []byte("nginx: master process")):
		return Master
	case bytes.Contains(r.Command, []byte("nginx: worker process")):
		return Worker
	case bytes.HasPrefix(r.Command, []byte("nginx: ")):
		return Helper
	}
	return Untitled
}

// maxNginx bounds how many nginx processes Finder remembers.
const maxNginx = 256

type nginxProc struct {
	pid, ppid int
	root      bool // run by root (user root or 0)
	role      Role
}

// Finder collects nginx processes from records and names the master and
// the workers. Titles decide when present; an untitled nginx process is a
// worker if its parent is an nginx process, or (without parent PIDs) if it
// runs as a user other than root; the rest are masters, and when every
// untitled process looks alike the lowest PID is the master. The zero
// value is ready; it keeps at most 256 processes.
type Finder struct {
	procs []nginxProc
}

// Add looks at one record; any record may be passed.
func (f *Finder) Add(r *Record) {
	if r.Kind != Process || len(f.procs) >= maxNginx {
		return
	}
	role := RoleOf(r)
	if role == NotNginx {
		return
	}
	for _, p := range f.procs {
		if p.pid == r.PID {
			return // the same process in a second listing
		}
	}
	f.procs = append(f.procs, nginxProc{pid: r.PID, ppid: r.PPID, root: string(r.User) == "root" || string(r.User) == "0", role: role})
}

// Result returns the PIDs of the nginx masters and workers found, each
// sorted.
func (f *Finder) Result() (masters, workers []int) {
	isNginx := map[int]bool{}
	var untitled []nginxProc
	parents := false
	for _, p := range f.procs {
		isNginx[p.pid] = true
		switch p.role {
		case Master:
			masters = append(masters, p.pid)
		case Worker:
			workers = append(workers, p.pid)
		case Untitled:
			untitled = append(untitled, p)
			parents = parents || p.ppid >= 0
		}
	}
	var rest []int
	for _, p := range untitled {
		switch {
		case parents && p.ppid >= 0:
			if isNginx[p.ppid] {
				workers = append(workers, p.pid)
			} else {
				masters = append(masters, p.pid)
			}
		case !parents && !p.root:
			workers = append(workers, p.pid)
		default:
			rest = append(rest, p.pid)
		}
	}
	slices.Sort(rest)
	if len(rest) > 0 {
		if !parents && len(masters) == 0 && len(workers) == 0 {
			// all alike (all root): the master starts first
			masters, workers = append(masters, rest[0]), append(workers, rest[1:]...)
		} else {
			masters = append(masters, rest...)
		}
	}
	slices.Sort(masters)
	slices.Sort(workers)
	return masters, workers
}

// IsPause reports whether a process is the pod sandbox's /pause.
func IsPause(r *Record) bool {
	return r.Kind == Process && string(r.Name) == "pause"
}

// String prints the Finder's verdict, for tests and debugging.
func (f *Finder) String() string {
	m, w := f.Result()
	return strings.TrimSpace(fmt.Sprintf("master=%v workers=%v", m, w))
}
