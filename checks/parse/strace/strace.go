// Package strace reads the text that strace prints and yields one typed
// record per event: a system call (with its return value, errno, decoded peer
// address and first string argument), a signal, an exit, an attach or detach,
// an attach failure, or a row of a -c summary table.
//
// Students save strace output in many shapes: with or without -f (the
// "[pid N]" prefix), -t/-tt/-ttt/-r timestamps, -T durations, -yy fd
// decorations, -s string lengths, the old "[112->16]" and the new
// "[112 => 16]" socklen notation, calls split by "<unfinished ...>" and
// "<... resumed>" when several processes are traced, lines torn by strace's
// own "Process N attached" message, and the -c table instead of a trace. The
// grader needs only a few facts out of all that ("did the worker accept a
// connection, read a request, write a response or a log line?"), but it must
// get them from any of these shapes, from files of any size, without
// panicking on a line it has never seen. So the parser is line-driven with a
// small bounded state: the pending halves of unfinished calls, at most
// MaxPending of them, each cut to MaxPendingLen bytes.
package strace

import (
	"bytes"
	"iter"
	"strconv"
)

// MaxPending bounds how many unfinished calls wait for their resumption; a
// trace of thousands of threads must not grow memory without end. The oldest
// waiting call is forgotten first.
const MaxPending = 64

// MaxPendingLen bounds the kept first half of an unfinished call.
const MaxPendingLen = 4 << 10

// Kind says what a Record describes.
type Kind uint8

// The kinds of records. Unknown is the zero value so that a Record that was
// not filled in is never mistaken for a system call.
const (
	// Unknown is a line the parser did not recognise.
	Unknown Kind = iota
	// Syscall is a finished system call with its return value. Joined says
	// whether it was put together from an unfinished and a resumed line.
	Syscall
	// Unfinished is a call whose end is not on its line: "<unfinished ...>",
	// a line torn by strace's own message, or a last line cut by ^C. If it
	// is resumed later, a Syscall record with Joined set follows.
	Unfinished
	// Signal is "--- SIGCHLD {...} ---".
	Signal
	// Exit is "+++ exited with 0 +++" or "+++ killed by SIGKILL +++".
	Exit
	// Attached is "strace: Process N attached".
	Attached
	// Detached is "strace: Process N detached".
	Detached
	// AttachError is a failed ptrace attach, e.g.
	// "strace: attach: ptrace(PTRACE_SEIZE, 13): Operation not permitted".
	AttachError
	// ToolError is any other error strace (or the shell running it) printed.
	ToolError
	// SummaryHeader is the "% time     seconds  usecs/call ..." line of -c.
	SummaryHeader
	// SummaryRow is one syscall row of a -c table.
	SummaryRow
	// SummaryTotal is the "total" row of a -c table.
	SummaryTotal
)

var kindNames = [...]string{"unknown", "syscall", "unfinished", "signal", "exit", "attached", "detached", "attach-error", "tool-error", "summary-header", "summary-row", "summary-total"}

// String names the kind for golden files and messages.
func (k Kind) String() string {
	if int(k) < len(kindNames) {
		return kindNames[k]
	}
	return "kind(" + strconv.Itoa(int(k)) + ")"
}

// Record is one event. Its byte slices point into the current line or into
// buffers the parser reuses: they are valid only during the iteration step
// that yields the record.
type Record struct {
	Kind Kind
	// PID comes from a "[pid N]" prefix, an attach or detach message, or an
	// attach error; 0 when the line carries none.
	PID int
	// Time is the timestamp as printed (-t, -tt, -ttt or -r), if any.
	Time []byte
	// Name is the system call, or the signal for Signal records.
	Name []byte
	// Args is the raw argument text between the call's parentheses (for a
	// joined call, both halves), or the signal's details.
	Args []byte
	// Ret is the integer return value; RetOK is false when strace printed
	// "?" or nothing could be read.
	Ret   int64
	RetOK bool
	// RetDecor is the -yy decoration of the returned descriptor, without
	// its angle brackets: "TCP:[10.244.0.12:80->10.244.0.1:33154]".
	RetDecor []byte
	// Errno is the error name after a failed call ("EAGAIN"), ErrText its
	// explanation ("Resource temporarily unavailable").
	Errno   []byte
	ErrText []byte
	// Duration is the -T time spent in the call, without brackets.
	Duration []byte
	// Joined is set on a Syscall put together from an unfinished and a
	// resumed line; Resumed on any Syscall that came from a resumed line,
	// even when its first half was never seen.
	Joined  bool
	Resumed bool
	// Peer is the decoded address of an accept/accept4 peer (or any
	// sockaddr in the arguments), PeerPort its port (0 if unknown).
	Peer     []byte
	PeerPort int
	// Str is the first string argument with its C escapes decoded; StrCut
	// says strace cut it ("..."...) at its -s length.
	Str    []byte
	StrCut bool
	// Message is the text of strace's own messages (attach errors, tool
	// errors) and of exits ("exited with 0").
	Message []byte
	// Summary rows: the number of calls and errors, and the share of time.
	Calls, Errors int64
	Percent       []byte
	// Line is the whole input line.
	Line []byte
}

// Failed reports whether the call returned an error.
func (r *Record) Failed() bool { return len(r.Errno) > 0 || (r.RetOK && r.Ret < 0) }

type pending struct {
	pid    int
	name   []byte
	args   []byte // first half, copied
	time   []byte
	broken bool // torn by strace's own message, not by <unfinished ...>
	seq    uint64
}

// Parser is the push-style form of Parse for callers that already loop over
// lines. It is not safe for concurrent use.
type Parser struct {
	pend      []pending
	seq       uint64
	lastTorn  int // index+1 in pend of the call torn by a message, 0 if none
	inSummary bool
	joinBuf   []byte
	strBuf    []byte
	tornBuf   []byte
}

// Parse yields a Record for every non-blank line (and one more for each call
// that a resumed line completes).
func Parse(lines iter.Seq[[]byte]) iter.Seq[Record] {
	return func(yield func(Record) bool) {
		var p Parser
		for line := range lines {
			if !p.Line(line, yield) {
				return
			}
		}
	}
}

// Line parses one line and hands its records to yield; it returns false when
// yield asked to stop.
func (p *Parser) Line(line []byte, yield func(Record) bool) bool {
	if len(bytes.TrimSpace(line)) == 0 {
		return true
	}
	// A call torn by strace's own message continues on the next line:
	// "clone(...|SIGCHLDstrace: Process 8670 attached" / ", child_tidptr=...) = 8670"
	// or "epoll_wait(9, strace: Process 6011 detached" / " <detached ...>".
	if p.lastTorn > 0 {
		idx := p.lastTorn - 1
		p.lastTorn = 0
		if idx < len(p.pend) && p.pend[idx].broken {
			t := bytes.TrimLeft(line, " ")
			if bytes.HasPrefix(t, []byte("strace: ")) {
				// more messages may come between the halves (one per traced process)
				p.lastTorn = idx + 1
			} else if bytes.HasPrefix(t, []byte("<detached ...>")) {
				p.drop(idx)
				rest := t[len("<detached ...>"):]
				if len(bytes.TrimSpace(rest)) == 0 {
					return true
				}
				line = rest // whatever the terminal printed after it
			} else if len(t) > 0 && (t[0] == ',' || t[0] == ')') {
				pd := p.pend[idx]
				p.joinBuf = append(append(append(p.joinBuf[:0], pd.name...), '('), pd.args...)
				p.joinBuf = append(p.joinBuf, line...)
				p.drop(idx)
				var r Record
				r.Line = line
				r.PID = pd.pid
				r.Time = pd.time
				if p.syscall(&r, p.joinBuf) && r.Kind == Syscall {
					r.Joined = true
				}
				return yield(r)
			}
		}
	}

	var r Record
	r.Line = line
	rest := line
	if msgAt := indexTornMessage(line); msgAt > 0 {
		// strace's own message glued to the end of an unfinished call.
		head, msg := line[:msgAt], line[msgAt:]
		var hr Record
		hr.Line = line
		body := p.prefix(&hr, head)
		if p.syscall(&hr, body) && hr.Kind == Unfinished {
			idx := p.push(hr.PID, hr.Name, hr.Args, hr.Time, true)
			p.lastTorn = idx + 1
			if !yield(hr) {
				return false
			}
		}
		var mr Record
		mr.Line = line
		p.message(&mr, msg)
		return yield(mr)
	}

	if p.inSummary || bytes.HasPrefix(bytes.TrimLeft(line, " "), []byte("% time")) {
		if p.summary(&r, line) {
			return yield(r)
		}
	}

	t := bytes.TrimLeft(rest, " ")
	if bytes.Equal(bytes.TrimRight(t, " "), []byte("<detached ...>")) {
		r.Kind = Detached // the end of a call whose first half we never saw
		return yield(r)
	}
	if bytes.HasPrefix(t, []byte("strace: ")) || bytes.HasPrefix(t, []byte("Process ")) {
		p.message(&r, t)
		return yield(r)
	}
	if isShellError(t) {
		r.Kind = ToolError
		r.Message = t
		return yield(r)
	}

	body := p.prefix(&r, rest)
	switch {
	case bytes.HasPrefix(body, []byte("--- ")):
		p.signal(&r, body)
	case bytes.HasPrefix(body, []byte("+++ ")):
		p.exit(&r, body)
	case bytes.HasPrefix(body, []byte("<... ")):
		return p.resumed(&r, body, yield)
	default:
		p.syscall(&r, body)
		if r.Kind == Unfinished && bytes.HasSuffix(bytes.TrimRight(body, " "), []byte("<unfinished ...>")) {
			p.push(r.PID, r.Name, r.Args, r.Time, false)
		}
	}
	return yield(r)
}

// prefix strips "[pid N] " and a timestamp, filling r, and returns the rest.
func (p *Parser) prefix(r *Record, b []byte) []byte {
	b = bytes.TrimLeft(b, " ")
	if bytes.HasPrefix(b, []byte("[pid ")) {
		end := bytes.IndexByte(b, ']')
		if end > 0 {
			num := bytes.TrimSpace(b[5:end])
			if lt := bytes.IndexByte(num, '<'); lt > 0 { // --pidns-translation: "13<1234>"
				num = num[:lt]
			}
			if n, ok := atoi(num); ok {
				r.PID = n
				b = bytes.TrimLeft(b[end+1:], " ")
			}
		}
	}
	// -t "23:56:01", -tt "23:55:57.176800", -ttt "1795823760.336240", -r "0.000123".
	i := 0
	digits := 0
	for i < len(b) && (isDigit(b[i]) || b[i] == ':' || b[i] == '.') {
		if isDigit(b[i]) {
			digits++
		}
		i++
	}
	if digits > 0 && i < len(b) && b[i] == ' ' {
		r.Time = b[:i]
		b = bytes.TrimLeft(b[i:], " ")
	}
	return b
}

// syscall reads "name(args) = ret ..." or an unfinished "name(args".
func (p *Parser) syscall(r *Record, b []byte) bool {
	open := bytes.IndexByte(b, '(')
	if open <= 0 || !isName(b[:open]) {
		r.Kind = Unknown
		return false
	}
	r.Name = b[:open]
	rest := b[open+1:]
	trimmed := bytes.TrimRight(rest, " ")
	if bytes.HasSuffix(trimmed, []byte("<unfinished ...>")) {
		r.Kind = Unfinished
		r.Args = bytes.TrimRight(trimmed[:len(trimmed)-len("<unfinished ...>")], " ")
		p.decodeArgs(r)
		return true
	}
	close, ret := findReturn(rest)
	if close < 0 {
		r.Kind = Unfinished // cut by ^C or by the end of the file
		r.Args = trimmed
		p.decodeArgs(r)
		return true
	}
	r.Kind = Syscall
	r.Args = rest[:close]
	parseReturn(r, ret)
	p.decodeArgs(r)
	return true
}

// findReturn finds the ")  = " that ends the arguments: the last " = "
// preceded (after padding) by ')'. Strings in the arguments may hold ") = "
// themselves, but never after the real one.
func findReturn(b []byte) (closeParen int, ret []byte) {
	end := len(b)
	for end > 0 {
		i := bytes.LastIndex(b[:end], []byte(" = "))
		if i < 0 {
			return -1, nil
		}
		j := i
		for j > 0 && b[j-1] == ' ' {
			j--
		}
		if j > 0 && b[j-1] == ')' {
			return j - 1, b[i+3:]
		}
		end = i
	}
	return -1, nil
}

// parseReturn reads "7<TCP:[...]> <0.000025>", "-1 EAGAIN (Resource ...)",
// "? ERESTARTNOHAND (To be restarted ...)", "0x7f...", "0 (Timeout)".
func parseReturn(r *Record, b []byte) {
	b = bytes.TrimSpace(b)
	// -T duration: a last " <digits.digits>".
	if n := len(b); n > 2 && b[n-1] == '>' {
		if lt := bytes.LastIndexByte(b, '<'); lt >= 0 && (lt == 0 || b[lt-1] == ' ') && isDuration(b[lt+1:n-1]) {
			r.Duration = b[lt+1 : n-1]
			b = bytes.TrimRight(b[:lt], " ")
		}
	}
	i := 0
	if i < len(b) && b[i] == '?' {
		i++
	} else {
		neg := false
		if i < len(b) && b[i] == '-' {
			neg = true
			i++
		}
		start := i
		if i+1 < len(b) && b[i] == '0' && (b[i+1] == 'x' || b[i+1] == 'X') {
			i += 2
			for i < len(b) && isHex(b[i]) {
				i++
			}
			if v, err := strconv.ParseUint(string(b[start+2:i]), 16, 64); err == nil {
				r.Ret, r.RetOK = int64(v), true
			}
		} else {
			for i < len(b) && isDigit(b[i]) {
				i++
			}
			if v, ok := atoi64(b[start:i]); ok {
				r.Ret, r.RetOK = v, true
			}
		}
		if neg && r.RetOK {
			r.Ret = -r.Ret
		}
	}
	if i < len(b) && b[i] == '<' {
		end := matchAngle(b, i)
		if end > i {
			r.RetDecor = b[i+1 : end]
			i = end + 1
		}
	}
	tail := bytes.TrimLeft(b[i:], " ")
	if len(tail) > 1 && tail[0] == 'E' && isUpper(tail[1]) {
		j := 0
		for j < len(tail) && (isUpper(tail[j]) || isDigit(tail[j]) || tail[j] == '_') {
			j++
		}
		r.Errno = tail[:j]
		tail = bytes.TrimLeft(tail[j:], " ")
	}
	if r.Errno != nil && len(tail) > 1 && tail[0] == '(' {
		if c := bytes.LastIndexByte(tail, ')'); c > 0 {
			r.ErrText = tail[1:c]
		}
	}
}

// matchAngle returns the index of the '>' closing the '<' at i, honouring
// nesting ("<TCPv6:[[::1]:80->[::1]:5]>" has a '>' inside "->").
func matchAngle(b []byte, i int) int {
	depth := 0
	for j := i; j < len(b); j++ {
		switch b[j] {
		case '<':
			depth++
		case '>':
			if j > 0 && b[j-1] == '-' { // the "->" of a connection
				continue
			}
			depth--
			if depth == 0 {
				return j
			}
		}
	}
	return -1
}

// decodeArgs fills Peer, PeerPort, Str and StrCut from r.Args, and the peer
// from the -yy decoration when the address argument was NULL.
func (p *Parser) decodeArgs(r *Record) {
	a := r.Args
	if ip := between(a, `inet_addr("`, '"'); ip != nil {
		r.Peer = ip
	} else if ip := between(a, `inet_pton(AF_INET6, "`, '"'); ip != nil {
		r.Peer = ip
	} else if ip := between(a, `inet_pton(AF_INET, "`, '"'); ip != nil {
		r.Peer = ip
	}
	if port := between(a, "_port=htons(", ')'); port != nil {
		r.PeerPort, _ = atoi(port)
	}
	if r.Peer == nil && len(r.RetDecor) > 0 && isAccept(r.Name) {
		r.Peer, r.PeerPort = remoteFromDecor(r.RetDecor)
	}
	q := firstStringArg(a)
	if q < 0 {
		return
	}
	p.strBuf = p.strBuf[:0]
	i := q + 1
	closed := false
	for i < len(a) {
		c := a[i]
		if c == '"' {
			closed = true
			i++
			break
		}
		if c != '\\' || i+1 >= len(a) {
			p.strBuf = append(p.strBuf, c)
			i++
			continue
		}
		i++
		switch e := a[i]; e {
		case 'n':
			p.strBuf = append(p.strBuf, '\n')
			i++
		case 'r':
			p.strBuf = append(p.strBuf, '\r')
			i++
		case 't':
			p.strBuf = append(p.strBuf, '\t')
			i++
		case 'v':
			p.strBuf = append(p.strBuf, '\v')
			i++
		case 'f':
			p.strBuf = append(p.strBuf, '\f')
			i++
		case 'x':
			if i+2 < len(a) && isHex(a[i+1]) && isHex(a[i+2]) {
				p.strBuf = append(p.strBuf, unhex(a[i+1])<<4|unhex(a[i+2]))
				i += 3
			} else {
				p.strBuf = append(p.strBuf, 'x')
				i++
			}
		case '0', '1', '2', '3', '4', '5', '6', '7':
			v, n := 0, 0
			for n < 3 && i < len(a) && a[i] >= '0' && a[i] <= '7' {
				v = v*8 + int(a[i]-'0')
				i++
				n++
			}
			p.strBuf = append(p.strBuf, byte(v))
		default:
			p.strBuf = append(p.strBuf, e)
			i++
		}
	}
	r.Str = p.strBuf
	r.StrCut = !closed || bytes.HasPrefix(a[i:], []byte("..."))
}

// firstStringArg finds the opening quote of the first string argument,
// skipping the quoted addresses of a sockaddr (inet_addr("..."), inet_pton(AF_INET6, "...")).
func firstStringArg(a []byte) int {
	off := 0
	for off < len(a) {
		q := bytes.IndexByte(a[off:], '"')
		if q < 0 {
			return -1
		}
		q += off
		before := a[:q]
		if !bytes.HasSuffix(before, []byte("inet_addr(")) && !bytes.HasSuffix(before, []byte("AF_INET6, ")) && !bytes.HasSuffix(before, []byte("AF_INET, ")) {
			return q
		}
		end := bytes.IndexByte(a[q+1:], '"')
		if end < 0 {
			return -1
		}
		off = q + 1 + end + 1
	}
	return -1
}

// remoteFromDecor reads the far end of "TCP:[10.244.0.12:80->10.244.0.1:33154]"
// or "TCPv6:[[::1]:8080->[::1]:32810]".
func remoteFromDecor(d []byte) ([]byte, int) {
	arrow := bytes.Index(d, []byte("->"))
	if arrow < 0 {
		return nil, 0
	}
	rem := d[arrow+2:]
	if end := bytes.LastIndexByte(rem, ']'); end >= 0 && end == len(rem)-1 {
		rem = rem[:end]
	}
	colon := bytes.LastIndexByte(rem, ':')
	if colon <= 0 {
		return nil, 0
	}
	port, _ := atoi(rem[colon+1:])
	host := rem[:colon]
	if len(host) > 1 && host[0] == '[' && host[len(host)-1] == ']' {
		host = host[1 : len(host)-1]
	}
	return host, port
}

func isAccept(name []byte) bool {
	return string(name) == "accept4" || string(name) == "accept"
}

// resumed handles "<... accept4 resumed>REST": it joins REST to the waiting
// first half of the same process's call.
func (p *Parser) resumed(r *Record, b []byte, yield func(Record) bool) bool {
	end := bytes.Index(b, []byte(" resumed>"))
	if end < len("<... ") {
		r.Kind = Unknown
		return yield(*r)
	}
	name := bytes.TrimSpace(b[len("<... "):end])
	tail := b[end+len(" resumed>"):]
	p.joinBuf = append(append(p.joinBuf[:0], name...), '(')
	joined := false
	if idx := p.find(r.PID, name); idx >= 0 {
		p.joinBuf = append(p.joinBuf, p.pend[idx].args...)
		// "epoll_wait(12,  <unfinished ...>" keeps "12,": put back the space
		if bytes.HasSuffix(p.pend[idx].args, []byte(",")) && len(tail) > 0 && tail[0] != ' ' {
			p.joinBuf = append(p.joinBuf, ' ')
		}
		p.drop(idx)
		joined = true
	}
	p.joinBuf = append(p.joinBuf, tail...)
	t := r.Time
	pid := r.PID
	*r = Record{Line: r.Line, PID: pid, Time: t}
	p.syscall(r, p.joinBuf)
	r.Resumed = true
	r.Joined = joined && r.Kind == Syscall
	if r.Kind == Unknown {
		r.Name = name
	}
	return yield(*r)
}

func (p *Parser) push(pid int, name, args, time []byte, broken bool) int {
	if len(p.pend) >= MaxPending {
		oldest := 0
		for i := range p.pend {
			if p.pend[i].seq < p.pend[oldest].seq {
				oldest = i
			}
		}
		p.drop(oldest)
	}
	// a process has at most one call in flight: a new one replaces it
	for i := range p.pend {
		if p.pend[i].pid == pid {
			p.drop(i)
			break
		}
	}
	if len(args) > MaxPendingLen {
		args = args[:MaxPendingLen]
	}
	p.seq++
	// reuse the buffers of a slot dropped earlier (drop swaps it past len)
	if len(p.pend) < cap(p.pend) {
		p.pend = p.pend[:len(p.pend)+1]
	} else {
		p.pend = append(p.pend, pending{})
	}
	slot := &p.pend[len(p.pend)-1]
	slot.pid = pid
	slot.name = append(slot.name[:0], name...)
	slot.args = append(slot.args[:0], args...)
	slot.time = append(slot.time[:0], time...)
	slot.broken = broken
	slot.seq = p.seq
	return len(p.pend) - 1
}

func (p *Parser) find(pid int, name []byte) int {
	for i := range p.pend {
		if p.pend[i].pid == pid && bytes.Equal(p.pend[i].name, name) {
			return i
		}
	}
	return -1
}

func (p *Parser) drop(i int) {
	last := len(p.pend) - 1
	p.pend[i], p.pend[last] = p.pend[last], p.pend[i]
	p.pend = p.pend[:last]
}

// indexTornMessage finds strace's own message glued to the end of a
// call's first half; 0 or -1 when the line is not torn.
func indexTornMessage(line []byte) int {
	i := bytes.Index(line, []byte("strace: Process "))
	if i <= 0 {
		return -1
	}
	if bytes.HasSuffix(line, []byte(" attached")) || bytes.HasSuffix(line, []byte(" detached")) {
		return i
	}
	return -1
}

// message reads strace's own lines: attach, detach, attach errors, others.
func (p *Parser) message(r *Record, b []byte) {
	msg := bytes.TrimPrefix(b, []byte("strace: "))
	r.Message = msg
	if rest, ok := bytes.CutPrefix(msg, []byte("Process ")); ok {
		// "Process 13 attached", "Process 13 detached", old strace's
		// "Process 13 attached - interrupt to quit"
		if sp := bytes.IndexByte(rest, ' '); sp > 0 {
			if n, ok := atoi(rest[:sp]); ok {
				word := rest[sp+1:]
				switch {
				case bytes.HasPrefix(word, []byte("attached")):
					r.Kind, r.PID = Attached, n
					return
				case bytes.HasPrefix(word, []byte("detached")):
					r.Kind, r.PID = Detached, n
					return
				}
			}
		}
		r.Kind = Unknown
		return
	}
	if i := bytes.Index(msg, []byte("ptrace(PTRACE_")); i >= 0 && (bytes.HasPrefix(msg, []byte("attach: ")) || i == 0) {
		r.Kind = AttachError
		if c := bytes.IndexByte(msg[i:], ','); c >= 0 {
			if e := bytes.IndexByte(msg[i+c:], ')'); e >= 0 {
				r.PID, _ = atoi(bytes.TrimSpace(msg[i+c+1 : i+c+e]))
			}
		}
		if c := bytes.LastIndex(msg, []byte("): ")); c >= 0 {
			r.ErrText = msg[c+3:]
		}
		return
	}
	r.Kind = ToolError
}

// isShellError recognises the shell saying strace is missing or a PID is bad.
func isShellError(b []byte) bool {
	return bytes.Contains(b, []byte("strace: not found")) ||
		bytes.Contains(b, []byte("strace: command not found")) ||
		bytes.Contains(b, []byte("\"strace\": executable file not found"))
}

func (p *Parser) signal(r *Record, b []byte) {
	body := bytes.TrimSuffix(bytes.TrimRight(b[len("--- "):], " "), []byte("---"))
	body = bytes.TrimRight(body, " ")
	r.Kind = Signal
	sp := bytes.IndexByte(body, ' ')
	if sp < 0 {
		r.Name = body
		return
	}
	if bytes.HasPrefix(body, []byte("stopped by ")) { // "--- stopped by SIGSTOP ---"
		r.Name = body[len("stopped by "):]
		return
	}
	r.Name = body[:sp]
	r.Args = bytes.TrimSpace(body[sp+1:])
}

func (p *Parser) exit(r *Record, b []byte) {
	body := bytes.TrimSuffix(bytes.TrimRight(b[len("+++ "):], " "), []byte("+++"))
	r.Kind = Exit
	r.Message = bytes.TrimRight(body, " ")
	if v, ok := bytes.CutPrefix(r.Message, []byte("exited with ")); ok {
		if n, ok := atoi64(bytes.TrimSpace(v)); ok {
			r.Ret, r.RetOK = n, true
		}
	} else if v, ok := bytes.CutPrefix(r.Message, []byte("killed by ")); ok {
		if sp := bytes.IndexByte(v, ' '); sp > 0 {
			v = v[:sp]
		}
		r.Name = v
	}
}

// summary reads the -c table: header, rule lines, rows and the total.
func (p *Parser) summary(r *Record, line []byte) bool {
	t := bytes.TrimSpace(line)
	if bytes.HasPrefix(t, []byte("% time")) {
		p.inSummary = true
		r.Kind = SummaryHeader
		return true
	}
	if len(t) > 0 && t[0] == '-' && len(bytes.Trim(t, "- ")) == 0 {
		r.Kind = SummaryHeader // the rule lines belong to the table's frame
		return true
	}
	f := bytes.Fields(t)
	if len(f) < 5 || len(f) > 6 {
		p.inSummary = false
		return false
	}
	nums := f[:len(f)-1]
	for _, n := range nums {
		if !isNumber(n) {
			p.inSummary = false
			return false
		}
	}
	r.Name = f[len(f)-1]
	r.Percent = f[0]
	r.Calls, _ = atoi64(nums[3])
	if len(nums) == 5 {
		r.Errors, _ = atoi64(nums[4])
	}
	if string(r.Name) == "total" {
		r.Kind = SummaryTotal
		p.inSummary = false
	} else {
		r.Kind = SummaryRow
	}
	return true
}

func between(b []byte, start string, end byte) []byte {
	i := bytes.Index(b, []byte(start))
	if i < 0 {
		return nil
	}
	rest := b[i+len(start):]
	j := bytes.IndexByte(rest, end)
	if j < 0 {
		return nil
	}
	return rest[:j]
}

func isName(b []byte) bool {
	if len(b) == 0 || len(b) > 64 || !(isLower(b[0]) || b[0] == '_') {
		return false
	}
	for _, c := range b {
		if !(isLower(c) || isDigit(c) || c == '_' || isUpper(c)) {
			return false
		}
	}
	return true
}

func isDuration(b []byte) bool {
	dot := false
	if len(b) == 0 {
		return false
	}
	for _, c := range b {
		switch {
		case isDigit(c):
		case c == '.' && !dot:
			dot = true
		default:
			return false
		}
	}
	return dot
}

func isNumber(b []byte) bool {
	if len(b) == 0 {
		return false
	}
	for _, c := range b {
		if !isDigit(c) && c != '.' {
			return false
		}
	}
	return true
}

func isDigit(c byte) bool { return c >= '0' && c <= '9' }
func isLower(c byte) bool { return c >= 'a' && c <= 'z' }
func isUpper(c byte) bool { return c >= 'A' && c <= 'Z' }
func isHex(c byte) bool {
	return isDigit(c) || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F')
}

func unhex(c byte) byte {
	switch {
	case isDigit(c):
		return c - '0'
	case c >= 'a' && c <= 'f':
		return c - 'a' + 10
	default:
		return c - 'A' + 10
	}
}

func atoi(b []byte) (int, bool) {
	v, ok := atoi64(b)
	if !ok || v > 1<<31 {
		return 0, false
	}
	return int(v), true
}

// atoi64 parses unsigned decimal digits without allocating.
func atoi64(b []byte) (int64, bool) {
	if len(b) == 0 || len(b) > 18 {
		return 0, false
	}
	var v int64
	for _, c := range b {
		if !isDigit(c) {
			return 0, false
		}
		v = v*10 + int64(c-'0')
	}
	return v, true
}
