// Package podlog reads a container's log as the node keeps it under
// /var/log/pods/<namespace>_<pod>_<uid>/<container>/N.log and extracts the
// nginx access entries inside.
//
// The step it serves asks the student to read the log file on the node, not
// to run `kubectl logs`: both show the same nginx lines, and only the file's
// own framing proves where they came from. So the parser keeps the framing
// apart from the message. It recognises CRI lines (containerd, CRI-O:
// "<RFC3339Nano> stdout|stderr F|P message", partial P pieces joined with the
// F that ends them), docker's json-file lines ({"log":"…\n","stream":…,
// "time":…}, pieces without a trailing newline joined likewise), bare nginx
// lines as `kubectl logs` prints them, and the noise that comes with reading
// a file through `kubectl debug node/… -- chroot /host`: the debugger's
// banner, `==> file <==` headers from tail/head, `ls -l` lines of the log
// directory, shell errors and prompts that name log paths.
//
// Each message is then classified: an nginx access entry (the combined
// format, with nginx's docker-image "$http_x_forwarded_for" field when
// present), an nginx error-log line, or something else. The parser is
// line-driven with bounded state (two partial-message buffers of at most
// MaxMessage bytes) and never panics on any input.
package podlog

import (
	"bytes"
	"iter"
)

// MaxMessage bounds a message assembled from partial pieces; containerd
// splits lines at 16 KiB, so a few pieces fit, and a runaway sequence of P
// lines cannot hold more memory than this.
const MaxMessage = 256 << 10

// Format is the framing a line came in.
type Format uint8

// The framings. Plain is a message without framing: `kubectl logs` output.
const (
	Plain Format = iota
	CRI
	JSON
)

var formatNames = [...]string{"plain", "cri", "json"}

// String names the format for golden files.
func (f Format) String() string {
	if int(f) < len(formatNames) {
		return formatNames[f]
	}
	return "format?"
}

// Kind says what a Record is.
type Kind uint8

// The kinds of records; Unknown is the zero value.
const (
	// Unknown is a line that is none of the below.
	Unknown Kind = iota
	// Message is a container log message, framed (CRI, JSON) or Plain.
	Message
	// Banner is noise printed by kubectl around the output ("Creating
	// debugging pod …", "If you don't see a command prompt …").
	Banner
	// Header is a "==> path <==" line from tail or head of several files.
	Header
	// Listing is a line of `ls -l` ("total 8", "-rw-r----- 1 root root …").
	Listing
	// Command is a shell prompt or command line that names a log path.
	Command
	// ToolError is an error from the shell, cat, ls or kubectl.
	ToolError
)

var kindNames = [...]string{"unknown", "message", "banner", "header", "listing", "command", "tool-error"}

// String names the kind for golden files.
func (k Kind) String() string {
	if int(k) < len(kindNames) {
		return kindNames[k]
	}
	return "kind?"
}

// Content is what a message holds.
type Content uint8

// The contents a message is classified as.
const (
	// Other is any message that is neither an access nor an error entry.
	Other Content = iota
	// Access is an nginx access-log entry; Record.Access holds its fields.
	Access
	// NginxError is an nginx error-log line ("2026/02/14 15:22:26 [notice] 1#1: …"
	// or "nginx: [emerg] …"); Record.Level holds its level.
	NginxError
)

var contentNames = [...]string{"other", "access", "nginx-error"}

// String names the content for golden files.
func (c Content) String() string {
	if int(c) < len(contentNames) {
		return contentNames[c]
	}
	return "content?"
}

// Entry is an nginx access entry in the combined format:
// `$remote_addr - $remote_user [$time_local] "$request" $status
// $body_bytes_sent "$http_referer" "$http_user_agent"`, optionally followed
// by `"$http_x_forwarded_for"` as the official nginx image logs.
type Entry struct {
	Client, User, Time []byte
	// Request is the whole request line; Method, Target and Proto are its
	// parts when it has the usual three ("GET /?lab=x HTTP/1.1").
	Request, Method, Target, Proto []byte
	Status                         int
	Bytes                          int64
	Referer, Agent, ForwardedFor   []byte
	// HasAgent and HasForwardedFor tell an absent field from a "-" one.
	HasAgent, HasForwardedFor bool
}

// Record is one recognised line or one assembled message. Its slices point
// into the current line or into the parser's buffers: valid only during the
// iteration step that yields it.
type Record struct {
	Kind   Kind
	Format Format
	// Time and Stream come from the framing (empty for Plain).
	Time, Stream []byte
	// Partial is set on a message assembled from several pieces (CRI P
	// lines, json-file entries without a trailing newline); Pieces counts
	// them. Incomplete is set when the input ended before the last piece.
	Partial    bool
	Pieces     int
	Incomplete bool
	// Msg is the message without its trailing newline.
	Msg     []byte
	Content Content
	Access  Entry
	// Level is the nginx error-log level ("notice", "error", "emerg").
	Level []byte
	// Path is the file named by a Header, a Listing line or a "file.log:"
	// prefix (grep -H).
	Path []byte
	// Line is the whole input line (for an assembled message, the last).
	Line []byte
}

type partial struct {
	buf    []byte
	pieces int
	time   []byte
	cut    bool
}

// Parser is the push-style form of Parse. It is not safe for concurrent use.
type Parser struct {
	part [2]partial // stdout, stderr
	fmt  [2]Format
	json []byte // decoded json "log" value
	jtim []byte
	jstr []byte
	// A terminal copy hard-wraps a long record into several lines. held
	// keeps the lines of a record that may continue (a json-file line
	// whose JSON is not closed, a CRI line whose message is no nginx
	// line): ends[i] is where the i-th line ends in held.
	held     []byte
	ends     []int
	heldKind Format
	joinBuf  []byte
	// cur is the current line without its leading blanks: a held line
	// keeps its trailing ones, which may be the blank at the break.
	cur []byte
}

// MaxWrapped bounds how many lines of a hard-wrapped record are joined: a
// 16 KiB record at 80 columns is 200 lines, but access entries are a few
// hundred bytes, and a held line must not swallow a whole file.
const MaxWrapped = 8

// Parse yields a Record for every non-blank line, except partial pieces,
// which are held back and yielded joined with the piece that ends them.
//
// A record a terminal copy broke over several lines is joined again: a
// json-file line whose JSON closes on a later line, a CRI line whose
// message becomes an nginx line once the next lines are added (with the
// blank a copy drops at the break, if need be).
func Parse(lines iter.Seq[[]byte]) iter.Seq[Record] {
	return func(yield func(Record) bool) {
		var p Parser
		for line := range lines {
			if !p.Line(line, yield) {
				return
			}
		}
		p.Close(yield)
	}
}

// Close yields the messages whose last piece never came.
func (p *Parser) Close(yield func(Record) bool) bool {
	if !p.flush(yield) {
		return false
	}
	for i := range p.part {
		pt := &p.part[i]
		if pt.pieces == 0 {
			continue
		}
		r := Record{Kind: Message, Format: p.fmt[i], Time: pt.time, Stream: streamName(i), Partial: true, Pieces: pt.pieces, Incomplete: true, Msg: pt.buf}
		classify(&r)
		pt.pieces = 0
		if !yield(r) {
			return false
		}
	}
	return true
}

// Line parses one line and hands what it completes to yield; false when
// yield asked to stop.
func (p *Parser) Line(line []byte, yield func(Record) bool) bool {
	if len(p.ends) > 0 {
		if ok, done := p.resume(line, yield); ok {
			return done
		}
		if !p.flush(yield) {
			return false
		}
	}
	return p.line(line, true, yield)
}

// resume tries line as the continuation of the held record. ok is false
// when it is not one: the held lines then stand as they are.
func (p *Parser) resume(line []byte, yield func(Record) bool) (ok, done bool) {
	t := bytes.TrimSpace(line)
	if len(t) == 0 || len(p.ends) >= MaxWrapped || p.startsRecord(t) || !isLoose(t) {
		return false, true
	}
	var (
		best     Record
		bestRank = -1
		bestSep  string
	)
	for _, sep := range []string{"", " "} {
		// a copy may drop the blank at the break; JSON tells by itself
		// whether it is whole
		if sep != "" && p.heldKind == JSON {
			break
		}
		p.joinBuf = append(append(append(p.joinBuf[:0], p.held...), sep...), line...)
		var (
			got  Record
			took bool
		)
		keep := func(r Record) bool { got, took = r, true; return true }
		r := Record{Line: p.joinBuf}
		if p.heldKind == JSON {
			if ok, _ := p.jsonLine(&r, p.joinBuf, keep); !ok {
				continue
			}
			if !took { // a partial piece, now held by addPiece
				p.held, p.ends = p.held[:0], p.ends[:0]
				return true, true
			}
		} else {
			p.cri(&r, p.joinBuf, false, keep)
		}
		if rank := messageRank(&got); took && rank > bestRank {
			best, bestRank, bestSep = got, rank, sep
		}
	}
	if bestRank < 0 || p.heldKind == CRI && best.Content == Other {
		// not whole yet: keep the line, the record may go on
		p.held = append(p.held, line...)
		p.ends = append(p.ends, len(p.held))
		return true, true
	}
	if p.heldKind == CRI { // best's slices point into joinBuf, which the last try rebuilt
		p.joinBuf = append(append(append(p.joinBuf[:0], p.held...), bestSep...), line...)
		var got Record
		r := Record{Line: p.joinBuf}
		p.cri(&r, p.joinBuf, false, func(r Record) bool { got = r; return true })
		best = got
	}
	p.held, p.ends = p.held[:0], p.ends[:0]
	return true, yield(best)
}

// messageRank orders the readings of a joined record: an access entry
// with all its fields beats one cut short, which beats an error-log line,
// which beats anything else.
func messageRank(r *Record) int {
	switch r.Content {
	case Access:
		if r.Access.HasAgent {
			return 3
		}
		return 2
	case NginxError:
		return 1
	}
	return 0
}

// isLoose reports whether t, read alone, would be an unknown line: only
// such a line can be the rest of a record a copy wrapped.
func isLoose(t []byte) bool {
	var r Record
	r.Msg = t
	if classify(&r); r.Content != Other || isContainerNoise(t) {
		return false
	}
	return noise(&r, t) == Unknown
}

// startsRecord reports whether t is a framed line of its own, so that it
// cannot continue a held one.
func (p *Parser) startsRecord(t []byte) bool {
	if t[0] == '{' {
		return bytes.HasPrefix(t, []byte(`{"log":`))
	}
	if n := timestampLen(t); n > 0 && n < len(t) && t[n] == ' ' {
		return true
	}
	return false
}

// flush yields the held lines one by one, as lines that continue nothing.
func (p *Parser) flush(yield func(Record) bool) bool {
	if len(p.ends) == 0 {
		return true
	}
	// line with mayHold false never holds, so held stays as it is here
	defer func() { p.held, p.ends = p.held[:0], p.ends[:0] }()
	start := 0
	for _, end := range p.ends {
		if !p.line(p.held[start:end], false, yield) {
			return false
		}
		start = end
	}
	return true
}

// hold keeps t as the start of a record that may continue on the next line.
func (p *Parser) hold(t []byte, f Format) {
	if bytes.HasPrefix(p.cur, t) {
		t = p.cur
	}
	p.held = append(p.held[:0], t...)
	p.ends = append(p.ends[:0], len(p.held))
	p.heldKind = f
}

func (p *Parser) line(line []byte, mayHold bool, yield func(Record) bool) bool {
	p.cur = bytes.TrimLeft(line, " \t")
	t := bytes.TrimSpace(line)
	if len(t) == 0 {
		return true
	}
	var r Record
	r.Line = line
	if len(t) > 0 && t[0] >= '0' && t[0] <= '9' {
		if ok, done := p.cri(&r, t, mayHold, yield); ok {
			return done
		}
	}
	if t[0] == '{' {
		if ok, done := p.jsonLine(&r, t, yield); ok {
			return done
		}
		if mayHold && bytes.HasPrefix(t, []byte(`{"log":"`)) && t[len(t)-1] != '}' {
			p.hold(t, JSON)
			return true
		}
	}
	// "0.log:2026-…" from grep -H or tail of several files without headers
	if i := bytes.Index(t, []byte(".log:")); i > 0 && i < 1024 && i+5 < len(t) {
		rest := t[i+5:]
		r.Path = t[:i+4]
		if rest[0] >= '0' && rest[0] <= '9' {
			if ok, done := p.cri(&r, rest, false, yield); ok {
				return done
			}
		} else if rest[0] == '{' {
			if ok, done := p.jsonLine(&r, rest, yield); ok {
				return done
			}
		}
		r.Path = nil
	}
	r.Kind = Message
	r.Format = Plain
	r.Msg = t
	classify(&r)
	if r.Content != Other || isContainerNoise(t) {
		return yield(r)
	}
	r.Msg = nil
	r.Kind = noise(&r, t)
	return yield(r)
}

// cri reads "<time> <stream> <tag>[:more] <message>". ok is false when the
// line is not CRI; done is yield's answer.
// A complete line whose message is no nginx line is held instead when
// mayHold is set: it may be the first part of a wrapped one.
func (p *Parser) cri(r *Record, t []byte, mayHold bool, yield func(Record) bool) (ok, done bool) {
	n := timestampLen(t)
	if n == 0 || n >= len(t) || t[n] != ' ' {
		return false, true
	}
	ts := t[:n]
	rest := t[n+1:]
	var si int
	switch {
	case bytes.HasPrefix(rest, []byte("stdout ")):
		si = 0
	case bytes.HasPrefix(rest, []byte("stderr ")):
		si = 1
	default:
		return false, true
	}
	stream := rest[:6]
	rest = rest[7:]
	tagEnd := bytes.IndexByte(rest, ' ')
	var tag, msg []byte
	if tagEnd < 0 {
		tag = rest
	} else {
		tag, msg = rest[:tagEnd], rest[tagEnd+1:]
	}
	if c := bytes.IndexByte(tag, ':'); c >= 0 { // "F:more" stays forward compatible
		tag = tag[:c]
	}
	if string(tag) != "F" && string(tag) != "P" {
		return false, true
	}
	r.Format = CRI
	r.Time = ts
	r.Stream = stream
	if tag[0] == 'P' {
		p.addPiece(si, CRI, ts, msg)
		return true, true
	}
	if mayHold && p.part[si].pieces == 0 && mayBeWrapped(msg) {
		p.hold(t, CRI)
		return true, true
	}
	return true, p.finish(r, si, msg, yield)
}

// mayBeWrapped reports whether a CRI message may be the first part of a
// line a copy wrapped: anything but a whole access entry (whose last
// field, the agent, is there) or the image's own start-up noise. Only
// those lines wait for the next one.
func mayBeWrapped(msg []byte) bool {
	var r Record
	r.Msg = msg
	classify(&r)
	switch r.Content {
	case Access:
		return !r.Access.HasAgent
	case Other:
		return !isContainerNoise(msg)
	}
	return true
}

// addPiece holds a partial piece until the piece that ends its message.
func (p *Parser) addPiece(si int, f Format, ts, msg []byte) {
	pt := &p.part[si]
	if pt.pieces == 0 {
		pt.buf = pt.buf[:0]
		pt.time = append(pt.time[:0], ts...)
		pt.cut = false
	}
	p.fmt[si] = f
	pt.pieces++
	room := MaxMessage - len(pt.buf)
	if len(msg) > room {
		msg = msg[:max(room, 0)]
		pt.cut = true
	}
	pt.buf = append(pt.buf, msg...)
}

// finish yields a message that ends on this line, joined to any pieces.
func (p *Parser) finish(r *Record, si int, msg []byte, yield func(Record) bool) bool {
	r.Kind = Message
	pt := &p.part[si]
	if pt.pieces > 0 {
		p.addPiece(si, r.Format, nil, msg)
		r.Partial = true
		r.Pieces = pt.pieces
		r.Msg = pt.buf
		pt.pieces = 0
	} else {
		r.Pieces = 1
		r.Msg = msg
	}
	classify(r)
	return yield(*r)
}

// jsonLine reads a docker json-file line. Only "log", "stream" and "time"
// matter; other keys (attrs) are skipped.
func (p *Parser) jsonLine(r *Record, t []byte, yield func(Record) bool) (ok, done bool) {
	var logv, stream, ts []byte
	var haveLog bool
	i := 1
	for {
		i = skipSpace(t, i)
		if i >= len(t) {
			return false, true
		}
		if t[i] == '}' {
			break
		}
		if t[i] == ',' {
			i++
			continue
		}
		if t[i] != '"' {
			return false, true
		}
		keyStart := i + 1
		keyEnd := bytes.IndexByte(t[keyStart:], '"')
		if keyEnd < 0 {
			return false, true
		}
		key := t[keyStart : keyStart+keyEnd]
		i = skipSpace(t, keyStart+keyEnd+1)
		if i >= len(t) || t[i] != ':' {
			return false, true
		}
		i = skipSpace(t, i+1)
		if i >= len(t) {
			return false, true
		}
		if t[i] == '"' {
			var dst *[]byte
			switch string(key) {
			case "log":
				dst = &p.json
			case "stream":
				dst = &p.jstr
			case "time":
				dst = &p.jtim
			}
			var val []byte
			var next int
			if dst != nil {
				*dst, next = unquote((*dst)[:0], t, i, true)
				val = *dst
			} else {
				_, next = unquote(nil, t, i, false)
			}
			if next < 0 {
				return false, true
			}
			switch string(key) {
			case "log":
				logv, haveLog = val, true
			case "stream":
				stream = val
			case "time":
				ts = val
			}
			i = next
			continue
		}
		next := skipValue(t, i)
		if next < 0 {
			return false, true
		}
		i = next
	}
	if !haveLog {
		return false, true
	}
	r.Format = JSON
	r.Time = ts
	r.Stream = stream
	si := 0
	if string(stream) == "stderr" {
		si = 1
	}
	if n := len(logv); n == 0 || logv[n-1] != '\n' {
		p.addPiece(si, JSON, ts, logv)
		return true, true
	}
	msg := logv[:len(logv)-1]
	if n := len(msg); n > 0 && msg[n-1] == '\r' {
		msg = msg[:n-1]
	}
	return true, p.finish(r, si, msg, yield)
}

// unquote decodes the JSON string starting at t[i] == '"' into dst (when
// keep is set) and returns the index after its closing quote, or -1.
func unquote(dst, t []byte, i int, keep bool) ([]byte, int) {
	i++
	for i < len(t) {
		c := t[i]
		switch {
		case c == '"':
			return dst, i + 1
		case c != '\\':
			start := i
			for i < len(t) && t[i] != '"' && t[i] != '\\' {
				i++
			}
			if keep {
				dst = append(dst, t[start:i]...)
			}
			continue
		}
		if i+1 >= len(t) {
			return dst, -1
		}
		e := t[i+1]
		i += 2
		switch e {
		case 'n':
			dst = append(dst, '\n')
		case 't':
			dst = append(dst, '\t')
		case 'r':
			dst = append(dst, '\r')
		case 'b':
			dst = append(dst, '\b')
		case 'f':
			dst = append(dst, '\f')
		case 'u':
			if i+4 > len(t) {
				return dst, -1
			}
			v, ok := hex4(t[i : i+4])
			if !ok {
				return dst, -1
			}
			i += 4
			if v >= 0xd800 && v < 0xdc00 && i+6 <= len(t) && t[i] == '\\' && t[i+1] == 'u' {
				if lo, ok := hex4(t[i+2 : i+6]); ok && lo >= 0xdc00 && lo < 0xe000 {
					v = 0x10000 + (v-0xd800)<<10 + (lo - 0xdc00)
					i += 6
				}
			}
			dst = appendRune(dst, v)
		default: // '"', '\\', '/'
			dst = append(dst, e)
		}
	}
	return dst, -1
}

func appendRune(dst []byte, r rune) []byte {
	switch {
	case r < 0x80:
		return append(dst, byte(r))
	case r < 0x800:
		return append(dst, 0xc0|byte(r>>6), 0x80|byte(r)&0x3f)
	case r < 0x10000:
		if r >= 0xd800 && r < 0xe000 {
			r = 0xfffd
		}
		return append(dst, 0xe0|byte(r>>12), 0x80|byte(r>>6)&0x3f, 0x80|byte(r)&0x3f)
	default:
		return append(dst, 0xf0|byte(r>>18), 0x80|byte(r>>12)&0x3f, 0x80|byte(r>>6)&0x3f, 0x80|byte(r)&0x3f)
	}
}

func hex4(b []byte) (rune, bool) {
	var v rune
	for _, c := range b {
		v <<= 4
		switch {
		case c >= '0' && c <= '9':
			v |= rune(c - '0')
		case c >= 'a' && c <= 'f':
			v |= rune(c - 'a' + 10)
		case c >= 'A' && c <= 'F':
			v |= rune(c - 'A' + 10)
		default:
			return 0, false
		}
	}
	return v, true
}

// skipValue skips a non-string JSON value (number, literal, object, array).
func skipValue(t []byte, i int) int {
	depth := 0
	for i < len(t) {
		switch c := t[i]; c {
		case '"':
			_, n := unquote(nil, t, i, false)
			if n < 0 {
				return -1
			}
			i = n
			continue
		case '{', '[':
			depth++
		case '}', ']':
			if depth == 0 {
				return i
			}
			depth--
		case ',':
			if depth == 0 {
				return i
			}
		}
		i++
	}
	return -1
}

func skipSpace(t []byte, i int) int {
	for i < len(t) && (t[i] == ' ' || t[i] == '\t') {
		i++
	}
	return i
}

// timestampLen returns the length of an RFC 3339 timestamp at the start of
// t ("2026-02-14T15:22:26.515224136Z", "…+08:00"), or 0.
func timestampLen(t []byte) int {
	const pat = "dddd-dd-ddTdd:dd:dd"
	if len(t) < len(pat)+1 {
		return 0
	}
	for i := 0; i < len(pat); i++ {
		if pat[i] == 'd' {
			if !isDigit(t[i]) {
				return 0
			}
		} else if t[i] != pat[i] {
			return 0
		}
	}
	i := len(pat)
	if i < len(t) && t[i] == '.' {
		i++
		for i < len(t) && isDigit(t[i]) {
			i++
		}
	}
	if i < len(t) && t[i] == 'Z' {
		return i + 1
	}
	if i+6 <= len(t) && (t[i] == '+' || t[i] == '-') && isDigit(t[i+1]) && isDigit(t[i+2]) && t[i+3] == ':' && isDigit(t[i+4]) && isDigit(t[i+5]) {
		return i + 6
	}
	return 0
}

// classify fills Content, Access and Level from r.Msg.
func classify(r *Record) {
	if parseAccess(&r.Access, r.Msg) {
		r.Content = Access
		return
	}
	if lvl := nginxErrorLevel(r.Msg); lvl != nil {
		r.Content = NginxError
		r.Level = lvl
		return
	}
	r.Content = Other
}

// nginxErrorLevel returns the level of "2026/02/14 15:22:26 [notice] …" or
// "nginx: [emerg] …", or nil.
func nginxErrorLevel(m []byte) []byte {
	var rest []byte
	switch {
	case len(m) > 21 && isDigit(m[0]) && m[4] == '/' && m[7] == '/' && m[10] == ' ' && m[13] == ':' && m[19] == ' ' && m[20] == '[':
		rest = m[21:]
	case bytes.HasPrefix(m, []byte("nginx: [")):
		rest = m[len("nginx: ["):]
	default:
		return nil
	}
	end := bytes.IndexByte(rest, ']')
	if end <= 0 || end > 8 {
		return nil
	}
	for _, c := range rest[:end] {
		if c < 'a' || c > 'z' {
			return nil
		}
	}
	return rest[:end]
}

// parseAccess reads the combined log format; false when m is not an entry.
func parseAccess(e *Entry, m []byte) bool {
	*e = Entry{}
	sp := bytes.IndexByte(m, ' ')
	if sp <= 0 || sp > 64 {
		return false
	}
	e.Client = m[:sp]
	rest := m[sp+1:]
	// $remote_addr - $remote_user [
	sp = bytes.IndexByte(rest, ' ')
	if sp < 0 {
		return false
	}
	rest = rest[sp+1:] // the ident, always "-" from nginx
	br := bytes.Index(rest, []byte(" ["))
	if br < 0 {
		return false
	}
	e.User = rest[:br]
	if bytes.IndexByte(e.User, ' ') >= 0 {
		return false
	}
	rest = rest[br+2:]
	end := bytes.Index(rest, []byte("] \""))
	if end < 0 {
		return false
	}
	e.Time = rest[:end]
	rest = rest[end+3:]
	q, next := quoted(rest)
	if next < 0 {
		return false
	}
	e.Request = q
	rest = rest[next:]
	if len(rest) < 4 || rest[0] != ' ' || !isDigit(rest[1]) || !isDigit(rest[2]) || !isDigit(rest[3]) {
		return false
	}
	e.Status = int(rest[1]-'0')*100 + int(rest[2]-'0')*10 + int(rest[3]-'0')
	rest = rest[4:]
	if len(rest) > 0 && rest[0] == ' ' {
		rest = rest[1:]
		i := 0
		for i < len(rest) && isDigit(rest[i]) && i < 18 {
			e.Bytes = e.Bytes*10 + int64(rest[i]-'0')
			i++
		}
		if i == 0 && len(rest) > 0 && rest[0] == '-' {
			i = 1
		}
		rest = rest[i:]
	}
	splitRequest(e)
	for field := 0; field < 3; field++ {
		if len(rest) < 2 || rest[0] != ' ' || rest[1] != '"' {
			break
		}
		v, n := quoted(rest[2:])
		if n < 0 {
			break
		}
		switch field {
		case 0:
			e.Referer = v
		case 1:
			e.Agent, e.HasAgent = v, true
		case 2:
			e.ForwardedFor, e.HasForwardedFor = v, true
		}
		rest = rest[2+n:]
	}
	return true
}

// quoted returns the text up to the closing quote (nginx escapes quotes
// inside as \x22; a backslash-escaped quote is skipped too) and the index
// after it, or -1.
func quoted(b []byte) ([]byte, int) {
	for i := 0; i < len(b); i++ {
		switch b[i] {
		case '\\':
			i++
		case '"':
			return b[:i], i + 1
		}
	}
	return nil, -1
}

func splitRequest(e *Entry) {
	r := e.Request
	a := bytes.IndexByte(r, ' ')
	b := bytes.LastIndexByte(r, ' ')
	if a <= 0 || b <= a || !bytes.HasPrefix(r[b+1:], []byte("HTTP/")) {
		return
	}
	e.Method, e.Target, e.Proto = r[:a], r[a+1:b], r[b+1:]
}

// isContainerNoise recognises lines the nginx image itself prints at start
// ("/docker-entrypoint.sh: Configuration complete; ready for start up",
// "10-listen-on-ipv6-by-default.sh: info: …"): part of `kubectl logs`.
func isContainerNoise(t []byte) bool {
	return bytes.HasPrefix(t, []byte("/docker-entrypoint.sh: ")) ||
		(bytes.Contains(t, []byte(".sh: info: ")) && bytes.IndexByte(t, ' ') > bytes.Index(t, []byte(".sh:")))
}

var banners = [][]byte{
	[]byte("Creating debugging pod "),
	[]byte("If you don't see a command prompt"),
	[]byte("Defaulting debug container name to "),
	[]byte("Defaulted container "),
	[]byte("Targeting container "),
	[]byte("Waiting for pod "),
	[]byte("Unable to use a TTY"),
	[]byte("All commands and output from this session will be recorded"),
	[]byte("Session ended, resume using"),
	[]byte("Use 'kubectl describe pod/"),
}

// noise classifies a line that is not a log message.
func noise(r *Record, t []byte) Kind {
	for _, b := range banners {
		if bytes.HasPrefix(t, b) {
			return Banner
		}
	}
	if bytes.HasPrefix(t, []byte("pod ")) && bytes.Contains(t, []byte(" terminated")) {
		return Banner // "pod default/node-debugger-minikube-n47p5 terminated (Error)"
	}
	if bytes.HasPrefix(t, []byte("==> ")) && bytes.HasSuffix(t, []byte(" <==")) && len(t) > 8 {
		r.Path = t[4 : len(t)-4]
		return Header
	}
	if isListing(t) {
		f := bytes.Fields(t)
		if len(f) >= 9 {
			name := f[8]
			if len(f) >= 11 && string(f[len(f)-2]) == "->" {
				name = f[len(f)-3]
			}
			r.Path = name
		}
		return Listing
	}
	if isToolError(t) {
		return ToolError
	}
	if bytes.Contains(t, []byte("/var/log/pods/")) || bytes.Contains(t, []byte("/var/log/containers/")) || isPrompt(t) {
		return Command
	}
	return Unknown
}

// isPrompt recognises a shell prompt at the start of a line: "/ # ",
// "root@minikube:/# ", "$ ".
func isPrompt(t []byte) bool {
	head := t[:min(len(t), 80)]
	i := bytes.IndexAny(head, "#$")
	if i < 0 || (i+1 < len(t) && t[i+1] != ' ') {
		return false
	}
	return len(bytes.Fields(t[:i])) <= 1
}

func isListing(t []byte) bool {
	if bytes.HasPrefix(t, []byte("total ")) {
		rest := bytes.TrimRight(t[6:], "KMGT")
		return len(rest) > 0 && isNumberish(rest)
	}
	if len(t) < 11 {
		return false
	}
	switch t[0] {
	case '-', 'd', 'l', 'c', 'b', 'p', 's':
	default:
		return false
	}
	for _, c := range t[1:10] {
		switch c {
		case 'r', 'w', 'x', 's', 'S', 't', 'T', '-':
		default:
			return false
		}
	}
	return t[10] == ' ' || t[10] == '.' || t[10] == '+' || t[10] == '@'
}

func isNumberish(b []byte) bool {
	for _, c := range b {
		if !isDigit(c) && c != '.' && c != ',' {
			return false
		}
	}
	return true
}

func isToolError(t []byte) bool {
	for _, p := range [][]byte{[]byte("error: "), []byte("Error from server"), []byte("Error: ")} {
		if bytes.HasPrefix(t, p) {
			return true
		}
	}
	for _, p := range [][]byte{[]byte("cat: "), []byte("ls: "), []byte("tail: "), []byte("head: "), []byte("chroot: "), []byte("sh: "), []byte("bash: "), []byte("/bin/sh: ")} {
		if bytes.HasPrefix(t, p) {
			return true
		}
	}
	return false
}

func streamName(i int) []byte {
	if i == 1 {
		return []byte("stderr")
	}
	return []byte("stdout")
}

func isDigit(c byte) bool { return c >= '0' && c <= '9' }

// LogPaths calls fn for every pod or container log path in b
// ("/var/log/pods/default_nginx_<uid>/nginx/0.log"), without a trailing
// ':' or '/' that the surrounding text put there.
func LogPaths(b []byte, fn func(path []byte)) {
	for _, root := range [][]byte{[]byte("/var/log/pods/"), []byte("/var/log/containers/")} {
		off := 0
		for off < len(b) {
			i := bytes.Index(b[off:], root)
			if i < 0 {
				break
			}
			start := off + i
			end := start
			for end < len(b) && !isPathEnd(b[end]) {
				end++
			}
			p := bytes.TrimRight(b[start:end], ":,;)")
			if len(p) > len(root) {
				fn(p)
			}
			off = end
		}
	}
}

func isPathEnd(c byte) bool {
	return c == ' ' || c == '\t' || c == '"' || c == '\'' || c == '`' || c == '|'
}

// PodUID returns the first pod UID in b: a UUID that follows '_' as in a
// /var/log/pods/<ns>_<pod>_<uid> directory name, or nil.
func PodUID(b []byte) []byte {
	if i := podUIDIndex(b); i >= 0 {
		return b[i : i+36]
	}
	return nil
}

// podUIDIndex is where PodUID's UID starts in b, or -1.
func podUIDIndex(b []byte) int {
	for off := 0; off < len(b); {
		i := bytes.IndexByte(b[off:], '_')
		if i < 0 {
			return -1
		}
		start := off + i + 1
		if start+36 <= len(b) && isUUID(b[start:start+36]) && (start+36 == len(b) || !isHexByte(b[start+36])) {
			return start
		}
		off = start
	}
	return -1
}

// PodDir returns the namespace, pod name and UID of the first pod log
// directory name "<ns>_<pod>_<uid>" in b, or nils. Namespaces and pod
// names are DNS names, which never hold '_', so the split is unambiguous.
func PodDir(b []byte) (ns, pod, uid []byte) {
	for off := 0; off < len(b); {
		u := podUIDIndex(b[off:])
		if u < 0 {
			return nil, nil, nil
		}
		start := off + u
		end := start - 1 // the '_' before the UID
		i := end
		for i > 0 && isDNSByte(b[i-1]) {
			i--
		}
		j := i - 1 // the '_' before the pod name
		k := j
		for k > 0 && isDNSByte(b[k-1]) && b[k-1] != '.' {
			k--
		}
		if i < end && j > 0 && b[j] == '_' && k < j {
			return b[k:j], b[i:end], b[start : start+36]
		}
		off = start + 36
	}
	return nil, nil, nil
}

func isDNSByte(c byte) bool {
	return c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || c == '-' || c == '.'
}

func isUUID(b []byte) bool {
	for i, c := range b {
		switch i {
		case 8, 13, 18, 23:
			if c != '-' {
				return false
			}
		default:
			if !isHexByte(c) {
				return false
			}
		}
	}
	return true
}

func isHexByte(c byte) bool {
	return isDigit(c) || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F')
}
