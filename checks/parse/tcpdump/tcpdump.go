// Package tcpdump reads what tcpdump printed (its text output) and what it
// saved (pcap and pcapng files), and turns both into the same packet
// records, so a grader can ask "did port-80 traffic carry an HTTP request
// and a response?" without caring how the student saved the capture.
//
// The text side exists because students paste terminal output: tcpdump 4.9
// (LINUX_SLL, "capture size") and 4.99+ (LINUX_SLL2, "snapshot length",
// "lo    In  ifindex 1 …"), with or without -e, -q, -v, -A or -X, with the
// stderr header, warnings, errors and footer interleaved, terminal
// hard-wraps that split one packet over several lines, and "^C". Captures
// can be gigabytes, so the parser is a streaming state machine over byte
// slices: no regular expressions, no allocation per line, and memory
// bounded by MaxRecord whatever the input.
//
// Records and every byte slice they hold are only valid during the step of
// the iteration that yields them; copy what must be kept.
package tcpdump

import (
	"bytes"
	"encoding/binary"
	"iter"
)

// MaxRecord bounds how many bytes of hard-wrapped or -v continuation lines
// are joined into one packet record; what follows is dropped, which keeps
// memory constant even when a -X hex dump is mistaken for a continuation.
const MaxRecord = 8 << 10

// Kind says what a line (or a group of joined lines) of tcpdump output is.
type Kind uint8

// Kinds of records, in the order a capture usually prints them.
const (
	// KindUnknown is a line the parser does not recognise as tcpdump's.
	KindUnknown Kind = iota
	// KindCommand is a shell line that runs tcpdump (a prompt and the
	// command a student pasted together with the output).
	KindCommand
	// KindHeader is the stderr banner: "listening on …", "reading from
	// file …", "verbose output suppressed …", "data link type …".
	KindHeader
	// KindWarning is a warning tcpdump printed, such as the promiscuous
	// mode warning of the "any" device, or its parenthesised detail line.
	KindWarning
	// KindError is an error tcpdump (or the shell running it) printed; the
	// capture did not run.
	KindError
	// KindPacket is one packet; see Record.Packet.
	KindPacket
	// KindPayload is a line of an -A or -X payload dump under a packet.
	KindPayload
	// KindInterrupt is the "^C" the terminal echoed when the capture was
	// stopped.
	KindInterrupt
	// KindFooter is one of the statistics lines tcpdump prints on exit
	// ("N packets captured", "… received by filter", "… dropped by kernel").
	KindFooter
)

var kindNames = [...]string{"unknown", "command", "header", "warning", "error", "packet", "payload", "interrupt", "footer"}

// String names a kind for tests and golden files.
func (k Kind) String() string {
	if int(k) < len(kindNames) {
		return kindNames[k]
	}
	return "kind?"
}

// Error kinds, as Record.ErrorKind reports them, so that a grader can give
// a hint per cause without matching the exact wording of each release.
const (
	ErrPermission = "permission" // not root / no CAP_NET_RAW
	ErrNoDevice   = "no-device"  // -i names an interface that does not exist
	ErrSyntax     = "syntax"     // the filter expression does not parse
	ErrNotFound   = "not-found"  // the shell has no tcpdump
	ErrTruncated  = "truncated"  // tcpdump -r of a file cut short
	ErrOther      = "other"
)

// Network is the network-layer protocol of a packet.
type Network uint8

// Networks a packet record may carry.
const (
	NetUnknown Network = iota
	NetIPv4
	NetIPv6
	NetARP
)

var networkNames = [...]string{"", "IPv4", "IPv6", "ARP"}

// String names a network protocol ("" when unknown).
func (n Network) String() string {
	if int(n) < len(networkNames) {
		return networkNames[n]
	}
	return ""
}

// Transport is the transport-layer protocol of a packet.
type Transport uint8

// Transports a packet record may carry.
const (
	TransUnknown Transport = iota
	TransTCP
	TransUDP
	TransICMP
)

var transportNames = [...]string{"", "tcp", "udp", "icmp"}

// String names a transport protocol ("" when unknown).
func (t Transport) String() string {
	if int(t) < len(transportNames) {
		return transportNames[t]
	}
	return ""
}

// HTTPKind says what tcpdump's HTTP decoder printed for a TCP segment.
type HTTPKind uint8

// What a segment carried, as far as tcpdump's HTTP printer says.
const (
	// HTTPNone: tcpdump printed nothing about HTTP.
	HTTPNone HTTPKind = iota
	// HTTPRequest: a request line ("GET /?lab=x HTTP/1.1").
	HTTPRequest
	// HTTPResponse: a status line ("HTTP/1.1 200 OK").
	HTTPResponse
	// HTTPSegment: a bare ": HTTP", the continuation of a body.
	HTTPSegment
)

var httpNames = [...]string{"", "request", "response", "segment"}

// String names an HTTP kind ("" for none).
func (h HTTPKind) String() string {
	if int(h) < len(httpNames) {
		return httpNames[h]
	}
	return ""
}

// Packet is one packet as tcpdump printed (or would have printed) it.
// Every slice aliases the parser's buffer.
type Packet struct {
	// Time is the time stamp as printed ("15:24:52.090511", or the -tttt
	// and -tt forms); empty with -t.
	Time []byte
	// Interface is the capturing interface, printed by 4.99+ on the "any"
	// device ("lo", "eth0"); empty when not printed.
	Interface []byte
	// Direction is the packet type of a cooked capture: "In", "Out", "P"
	// (to another host), "B" (broadcast), "M" (multicast); empty when not
	// printed.
	Direction []byte
	// Network and Transport are the protocols, as far as the line says.
	Network   Network
	Transport Transport
	// Src and Dst are the addresses as printed: numeric with -n, names
	// otherwise.
	Src, Dst []byte
	// SrcPort and DstPort are the port numbers, 0 when there is none or
	// the port was printed as a name this package does not know.
	SrcPort, DstPort int
	// SrcService and DstService are the ports as printed ("80", "http").
	SrcService, DstService []byte
	// Flags are the TCP flags inside "Flags […]" ("S", "S.", "P.", "F.").
	Flags []byte
	// Length is the payload length tcpdump reported (TCP/UDP data, or the
	// -q "tcp N"); -1 when none was printed.
	Length int
	// HTTP says whether tcpdump's HTTP printer spoke, and HTTPLine holds
	// the request or status line it printed.
	HTTP     HTTPKind
	HTTPLine []byte
	// Wrapped is true when the packet was joined from several lines
	// (a terminal hard-wrap).
	Wrapped bool
	// Head names how the text parser read the packet's head, the part
	// through "src > dst: ": packets of one Parser with the same non-zero
	// Head have the same Interface, Direction, Src, Dst, SrcService and
	// DstService bytes and the same Network, SrcPort and DstPort, so what
	// a consumer derived from those for one of them holds for all. It is
	// 0 when the head was read afresh (and always for capture files).
	Head uint64
}

// HasPort reports whether either side of the packet uses port p.
func (p *Packet) HasPort(port int) bool { return p.SrcPort == port || p.DstPort == port }

// ServerPort guesses the server side of the conversation: the port a
// request goes to or a response comes from, else the lower port, which is
// the well-known one for every client the lab uses.
func (p *Packet) ServerPort() int {
	switch {
	case p.HTTP == HTTPRequest:
		return p.DstPort
	case p.HTTP == HTTPResponse:
		return p.SrcPort
	case p.SrcPort == 0:
		return p.DstPort
	case p.DstPort == 0 || p.SrcPort < p.DstPort:
		return p.SrcPort
	}
	return p.DstPort
}

// Version is the tcpdump release family the banner reveals.
type Version uint8

// Releases whose output differs.
const (
	VersionUnknown Version = iota
	// Version49 prints "capture size N bytes" and "use -v or -vv".
	Version49
	// Version499 prints "snapshot length N bytes" and "use -v[v]...".
	Version499
)

// Record is one unit of tcpdump output: a packet (possibly joined from
// several lines) or any other line.
type Record struct {
	Kind Kind
	// Line is the text of a non-packet record, trimmed; for a packet it
	// is the whole joined record.
	Line []byte
	// Packet is set when Kind is KindPacket.
	Packet Packet
	// LinkType is the link-layer type a header names ("LINUX_SLL2",
	// "EN10MB"); Version the release family it reveals.
	LinkType []byte
	Version  Version
	// ErrorKind classifies a KindError record (ErrPermission, …).
	ErrorKind string
	// Count is the number a footer line reports.
	Count int
}

// Parse yields the records of tcpdump text output, one per packet (with
// its continuation lines joined) or other line. Blank lines are skipped.
func Parse(lines iter.Seq[[]byte]) iter.Seq[*Record] {
	return func(yield func(*Record) bool) {
		var p Parser
		for line := range lines {
			if !p.Line(line, yield) {
				return
			}
		}
		p.Close(yield)
	}
}

// Parser is the push form of Parse, for callers that already loop over
// lines. Its zero value is ready to use.
type Parser struct {
	rec     Record // the non-packet record being emitted
	pkt     Record // the packet record being emitted
	pend    []byte // the packet being assembled from its lines
	pending bool
	wrapped bool
	dump    bool // an -A payload dump was seen: unknown lines under a packet are payload
	lastMsg Kind // kind of the previous "tcpdump: …" message, for "(…)" detail lines
	// wrapMsg is set after a long header, warning or error line: one
	// unknown line right after it is its hard-wrapped tail.
	wrapMsg bool
	tsLen   int // length of the time stamp (and blank) starting p.pend
	// shapes remembers how the last few packets read up to "src > dst: ".
	// A conversation repeats that part verbatim line after line, so a
	// comparison replaces most of the parsing of a large capture.
	shapes [8]shape
	next   int
	// hits are the slots the last two packets matched: the two directions
	// of one conversation alternate, so they are tried first.
	hits [2]int
	// heads numbers the shapes as they are filled, for Packet.Head; a
	// slot refilled with another head gets a new number.
	heads uint64
}

// shape is the parsed head of a packet line: key holds its bytes after
// the time stamp, through "src > dst: ", and pk the packet every line with
// this head starts from: the fields read from the head, pointing into key,
// and Length -1. With -e the head holds the frame length, which changes
// from packet to packet of one conversation: key[lenAt:lenEnd] are its
// digits (lenAt is 0 when there are none), and matching skips them.
// transport is what the rest of the line said when the shape was made.
type shape struct {
	key       []byte
	lenAt     int
	lenEnd    int
	pk        Packet
	transport Transport
}

const maxShape = 256

// match reports whether body starts with the head sh describes, and the
// length of that head in body.
func (sh *shape) match(body []byte) (int, bool) {
	key := sh.key
	if len(key) == 0 {
		return 0, false
	}
	if sh.lenAt == 0 {
		return len(key), len(body) >= len(key) && bytes.Equal(body[:len(key)], key)
	}
	a := sh.lenAt
	if len(body) <= a {
		return 0, false
	}
	bd := digits(body, a)
	if bd == a {
		return 0, false
	}
	// The addresses after the length tell the two directions of one
	// conversation apart, so they are compared first.
	n := bd + len(key) - sh.lenEnd
	if len(body) < n || !bytes.Equal(body[bd:n], key[sh.lenEnd:]) || !bytes.Equal(body[:a], key[:a]) {
		return 0, false
	}
	return n, true
}

// parse reads the packet record b, through the shape cache when the head
// of b is one seen before.
func (p *Parser) parse(b []byte, pk *Packet) bool {
	ts := p.tsLen
	if ts > len(b) {
		ts = 0
	}
	body := b[ts:]
	for k := -2; k < len(p.shapes); k++ {
		i := k
		if k < 0 {
			i = p.hits[k+2]
		} else if k == p.hits[0] || k == p.hits[1] {
			continue
		}
		sh := &p.shapes[i]
		n, ok := sh.match(body)
		if !ok {
			continue
		}
		p.hit(i)
		*pk = sh.pk
		if ts > 0 {
			pk.Time = b[:ts-1]
		}
		readTransport(body[n:], pk)
		if pk.Transport != sh.transport {
			break // same addresses, another protocol: read it all
		}
		return true
	}
	ok, restAt := parsePacket(b, pk)
	if !ok || restAt <= ts || restAt-ts > maxShape || p.wrapped || bytes.IndexByte(b[:restAt], '\n') >= 0 {
		return ok
	}
	sh := &p.shapes[p.next]
	p.hit(p.next)
	p.next = (p.next + 1) % len(p.shapes)
	sh.key = append(sh.key[:0], b[ts:restAt]...)
	sh.lenAt, sh.lenEnd = 0, 0
	if i := bytes.Index(sh.key, []byte("), length ")); i >= 0 {
		sh.lenAt = i + len("), length ")
		sh.lenEnd = digits(sh.key, sh.lenAt)
	}
	p.heads++
	sh.transport = pk.Transport
	sh.pk = Packet{Network: pk.Network, SrcPort: pk.SrcPort, DstPort: pk.DstPort, Length: -1, Head: p.heads}
	var okAll bool
	sh.pk.Interface, okAll = rebase(sh.key, b, ts, pk.Interface, true)
	sh.pk.Direction, okAll = rebase(sh.key, b, ts, pk.Direction, okAll)
	sh.pk.Src, okAll = rebase(sh.key, b, ts, pk.Src, okAll)
	sh.pk.Dst, okAll = rebase(sh.key, b, ts, pk.Dst, okAll)
	sh.pk.SrcService, okAll = rebase(sh.key, b, ts, pk.SrcService, okAll)
	sh.pk.DstService, okAll = rebase(sh.key, b, ts, pk.DstService, okAll)
	if !okAll {
		sh.key = sh.key[:0]
	}
	return ok
}

// hit records that slot i served the last packet. The two slots kept are
// distinct: a run of packets in one direction must not push the other
// direction out.
func (p *Parser) hit(i int) {
	if i != p.hits[1] {
		p.hits[0], p.hits[1] = p.hits[1], i
	}
}

// rebase points field, a slice of b, at the same bytes in key (a copy of
// b[ts:]); ok turns false when field lies outside the copy.
func rebase(key, b []byte, ts int, field []byte, ok bool) ([]byte, bool) {
	if !ok || field == nil {
		return nil, ok
	}
	at := cap(b) - cap(field) - ts
	if at < 0 || at+len(field) > len(key) {
		return nil, false
	}
	return key[at : at+len(field) : at+len(field)], true
}

// Line feeds one line; it calls emit for every record completed, and
// returns false when emit did.
func (p *Parser) Line(line []byte, emit func(*Record) bool) bool {
	if len(line) == 0 {
		return true
	}
	c := line[0]
	if c == '\t' || (c == ' ' && (len(line) < 2 || line[1] == ' ' || line[1] == '\t' || !p.pending)) {
		return p.indented(line, emit)
	}
	if c != ' ' && c != '^' && c != '(' {
		if n := timestamp(line); n > 0 || startsPacket(line) {
			if !p.flush(emit) {
				return false
			}
			p.tsLen = n
			p.pend = append(p.pend[:0], line...)
			if len(p.pend) > MaxRecord {
				p.pend = p.pend[:MaxRecord]
			}
			p.pending, p.wrapped = true, false
			p.lastMsg, p.wrapMsg = KindUnknown, false
			return true
		}
	}
	if k := p.other(line); k != KindUnknown {
		if !p.flush(emit) {
			return false
		}
		p.wrapMsg = (k == KindHeader || k == KindWarning || k == KindError) && len(p.rec.Line) >= 60
		return emit(&p.rec)
	}
	if p.pending {
		if p.dump || looksLikePayload(line) {
			p.dump = true
			return p.emitLine(KindPayload, line, emit)
		}
		// A terminal or a copy-paste hard-wrapped the packet line: the
		// break falls anywhere, so the pieces join without a separator.
		p.appendPend(line)
		p.wrapped = true
		return true
	}
	if p.dump {
		return p.emitLine(KindPayload, line, emit)
	}
	if p.wrapMsg {
		p.wrapMsg = false
		return true
	}
	if isCommand(line) {
		return p.emitLine(KindCommand, line, emit)
	}
	return p.emitLine(KindUnknown, line, emit)
}

// Close emits the packet still being assembled.
func (p *Parser) Close(emit func(*Record) bool) bool { return p.flush(emit) }

func (p *Parser) appendPend(b []byte) {
	if room := MaxRecord - len(p.pend); room > 0 {
		p.pend = append(p.pend, b[:min(len(b), room)]...)
	}
}

// indented handles a line starting with blanks: the second line of a -v
// packet, an HTTP header line of -v, or an -x/-X hex dump line.
func (p *Parser) indented(line []byte, emit func(*Record) bool) bool {
	t := trimLeft(line)
	if len(t) == 0 {
		return true
	}
	if isHexDump(t) {
		return p.emitLine(KindPayload, t, emit)
	}
	if p.pending {
		// -v continues the packet on indented lines; a newline keeps them
		// apart so the HTTP line of -v can be told from the header lines.
		if len(p.pend) < MaxRecord {
			p.pend = append(p.pend, '\n')
			p.appendPend(t)
		}
		return true
	}
	if timestamp(t) > 0 || startsPacket(t) {
		return p.Line(t, emit)
	}
	if p.wrapMsg {
		p.wrapMsg = false
		return true
	}
	return p.emitLine(KindUnknown, t, emit)
}

func (p *Parser) emitLine(k Kind, line []byte, emit func(*Record) bool) bool {
	if !p.flush(emit) {
		return false
	}
	p.wrapMsg = false
	p.rec = Record{Kind: k, Line: trimRight(line)}
	return emit(&p.rec)
}

func (p *Parser) flush(emit func(*Record) bool) bool {
	if !p.pending {
		return true
	}
	p.pending = false
	p.pkt.Kind, p.pkt.Line = KindPacket, p.pend
	if !p.parse(p.pend, &p.pkt.Packet) {
		p.pkt.Kind = KindUnknown
	}
	p.pkt.Packet.Wrapped = p.wrapped
	return emit(&p.pkt)
}

// other classifies a line that does not start a packet, filling p.rec; it
// returns KindUnknown when the line is none of tcpdump's own lines.
func (p *Parser) other(line []byte) Kind {
	line = trimRight(line)
	r := &p.rec
	*r = Record{Line: line}
	if bytes.HasPrefix(line, []byte("^C")) {
		rest := trimLeft(line[2:])
		if len(rest) == 0 {
			r.Kind = KindInterrupt
			return r.Kind
		}
		line, r.Line = rest, rest // "^C24 packets captured"
	}
	switch line[0] {
	case 't':
		if bytes.HasPrefix(line, []byte("tcpdump: ")) {
			return p.message(line)
		}
	case 'l':
		if bytes.HasPrefix(line, []byte("listening on ")) {
			return p.header(line)
		}
	case 'r':
		if bytes.HasPrefix(line, []byte("reading from file ")) {
			return p.header(line)
		}
	case 'd':
		if bytes.HasPrefix(line, []byte("dropped privs to ")) {
			r.Kind = KindHeader
			return r.Kind
		}
	case 'W':
		if bytes.HasPrefix(line, []byte("WARNING: ")) || bytes.HasPrefix(line, []byte("Warning: ")) {
			r.Kind = KindWarning
			p.lastMsg = KindWarning
			return r.Kind
		}
	case '(':
		if p.lastMsg != KindUnknown && line[len(line)-1] == ')' {
			r.Kind = p.lastMsg
			r.Line = line[1 : len(line)-1]
			if r.Kind == KindError {
				r.ErrorKind = errorKind(r.Line)
			}
			p.lastMsg = KindUnknown
			return r.Kind
		}
	}
	if c := line[0]; c >= '0' && c <= '9' {
		if n, ok := footer(line); ok {
			r.Kind = KindFooter
			r.Count = n
			return r.Kind
		}
	}
	if notFound(line) {
		r.Kind = KindError
		r.ErrorKind = ErrNotFound
		return r.Kind
	}
	return KindUnknown
}

// message classifies a line starting "tcpdump: ".
func (p *Parser) message(line []byte) Kind {
	r := &p.rec
	msg := line[len("tcpdump: "):]
	switch {
	case bytes.HasPrefix(msg, []byte("verbose output suppressed")):
		r.Kind = KindHeader
		if bytes.Contains(msg, []byte("-v[v]")) {
			r.Version = Version499
		} else if bytes.Contains(msg, []byte("-v or -vv")) {
			r.Version = Version49
		}
	case bytes.HasPrefix(msg, []byte("listening on ")):
		p.header(msg)
	case bytes.HasPrefix(msg, []byte("data link type ")):
		r.Kind = KindHeader
		r.LinkType = firstWord(msg[len("data link type "):])
	case bytes.HasPrefix(msg, []byte("WARNING")) || bytes.HasPrefix(msg, []byte("Warning")):
		r.Kind = KindWarning
	default:
		r.Kind = KindError
		r.ErrorKind = errorKind(msg)
	}
	r.Line = line
	if r.Kind == KindWarning || r.Kind == KindError {
		p.lastMsg = r.Kind
	} else {
		p.lastMsg = KindUnknown
	}
	return r.Kind
}

// header reads "listening on any, link-type LINUX_SLL2 (Linux cooked v2),
// snapshot length 262144 bytes" and the "reading from file" form.
func (p *Parser) header(line []byte) Kind {
	r := &p.rec
	r.Kind = KindHeader
	if i := bytes.Index(line, []byte("link-type ")); i >= 0 {
		r.LinkType = firstWord(line[i+len("link-type "):])
	}
	switch {
	case bytes.Contains(line, []byte("snapshot length")):
		r.Version = Version499
	case bytes.Contains(line, []byte("capture size")):
		r.Version = Version49
	}
	p.lastMsg = KindUnknown
	return r.Kind
}

// footer reads "24 packets captured", "1 packet received by filter", …
func footer(line []byte) (int, bool) {
	n, i := 0, 0
	for i < len(line) && line[i] >= '0' && line[i] <= '9' {
		if n < 1<<40 {
			n = n*10 + int(line[i]-'0')
		}
		i++
	}
	rest := line[i:]
	if !bytes.HasPrefix(rest, []byte(" packet")) {
		return 0, false
	}
	rest = rest[len(" packet"):]
	if len(rest) > 0 && rest[0] == 's' {
		rest = rest[1:]
	}
	switch string(rest) {
	case " captured", " received by filter", " dropped by kernel", " dropped by interface":
		return n, true
	}
	return 0, false
}

func errorKind(msg []byte) string {
	switch {
	case bytes.Contains(msg, []byte("ermission")) || bytes.Contains(msg, []byte("not permitted")):
		return ErrPermission
	case bytes.Contains(msg, []byte("No such device")) || bytes.Contains(msg, []byte("no such device")) ||
		bytes.Contains(msg, []byte("is not up")):
		return ErrNoDevice
	case bytes.Contains(msg, []byte("syntax error")) || bytes.Contains(msg, []byte("parse filter")) ||
		bytes.Contains(msg, []byte("unknown port")) || bytes.Contains(msg, []byte("unknown host")):
		return ErrSyntax
	case bytes.Contains(msg, []byte("truncated")):
		return ErrTruncated
	}
	return ErrOther
}

// notFound recognises the shell (or kubectl exec) saying there is no
// tcpdump: "sh: tcpdump: not found", "bash: tcpdump: command not found",
// `exec: "tcpdump": executable file not found in $PATH`.
func notFound(line []byte) bool {
	i := bytes.Index(line, []byte("tcpdump"))
	if i < 0 {
		return false
	}
	rest := line[i:]
	return bytes.Contains(rest, []byte("not found")) || bytes.Contains(rest, []byte("No such file or directory"))
}

// isCommand recognises a shell line running tcpdump, prompt included.
func isCommand(line []byte) bool {
	for off := 0; off < len(line); {
		i := bytes.Index(line[off:], []byte("tcpdump"))
		if i < 0 {
			return false
		}
		i += off
		before := i == 0 || line[i-1] == ' ' || line[i-1] == '/' || line[i-1] == '\t'
		end := i + len("tcpdump")
		after := end == len(line) || line[end] == ' '
		if before && after {
			return true
		}
		off = end
	}
	return false
}

// looksLikePayload recognises the first line of an -A dump: the IP header
// printed as text starts "E" (IPv4, 0x45) or "`" (IPv6, 0x60) followed by
// a byte that is not a letter, where a hard-wrapped tail rarely does.
func looksLikePayload(line []byte) bool {
	if len(line) < 2 || (line[0] != 'E' && line[0] != '`') {
		return false
	}
	c := line[1] | 0x20
	return c < 'a' || c > 'z'
}

// isHexDump recognises an -x/-X line: "0x0000:  4500 …".
func isHexDump(t []byte) bool {
	if len(t) < 7 || t[0] != '0' || t[1] != 'x' {
		return false
	}
	for i := 2; i < 6; i++ {
		if !isHex(t[i]) {
			return false
		}
	}
	return t[6] == ':'
}

func isHex(c byte) bool {
	return (c >= '0' && c <= '9') || (c|0x20 >= 'a' && c|0x20 <= 'f')
}

// timestamp returns the length of a leading tcpdump time stamp and the
// blank after it, 0 if the line does not start with one. It knows the
// default and -ttt "15:24:52.090511", -tttt "2024-02-14 15:24:52.090511"
// and -tt "1707924292.090511".
func timestamp(b []byte) int {
	if defaultTimestamp(b) {
		return len("15:24:52.090511 ")
	}
	return anyTimestamp(b)
}

// defaultTimestamp recognises the default "15:24:52.090511 " that starts
// nearly every line of a large capture, eight bytes at a time: XOR with
// "00:00:00" and ".000000 " turns the expected punctuation into 0 and
// digits into 0-9, and a byte is 0-9 exactly when neither it nor it plus
// 0x76 has its high bit set (a carry out of a byte needs a byte that fails).
func defaultTimestamp(b []byte) bool {
	if len(b) < 16 {
		return false
	}
	const (
		clock    = 0x30303a30303a3030 // "00:00:00", little-endian
		fraction = 0x203030303030302e // ".000000 "
		punct0   = 0x0000ff0000ff0000 // the colons
		punct1   = 0xff000000000000ff // the dot and the blank
		high     = 0x8080808080808080
		toHigh   = 0x7676767676767676
	)
	x := binary.LittleEndian.Uint64(b[0:8]) ^ clock
	y := binary.LittleEndian.Uint64(b[8:16]) ^ fraction
	return (x|(x+toHigh)|y|(y+toHigh))&high == 0 && x&punct0 == 0 && y&punct1 == 0
}

// anyTimestamp is timestamp for every form.
func anyTimestamp(b []byte) int {
	i := digits(b, 0)
	switch {
	case i == 2:
		i = clock(b, 0)
	case i == 4 && i < len(b) && b[i] == '-':
		// YYYY-MM-DD HH:MM:SS
		if digits(b, 5) != 7 || len(b) < 8 || b[7] != '-' || digits(b, 8) != 10 || len(b) < 11 || b[10] != ' ' {
			return 0
		}
		i = clock(b, 11)
	case i >= 9 && i < len(b) && b[i] == '.':
		i = digits(b, i+1)
	default:
		return 0
	}
	if i == 0 || i >= len(b) || b[i] != ' ' {
		return 0
	}
	return i + 1
}

// clock reads "HH:MM:SS" with an optional ".fraction" at b[i:], returning
// the index after it, or 0.
func clock(b []byte, i int) int {
	if digits(b, i) != i+2 || i+8 > len(b) || b[i+2] != ':' || digits(b, i+3) != i+5 || b[i+5] != ':' || digits(b, i+6) != i+8 {
		return 0
	}
	i += 8
	if i < len(b) && b[i] == '.' {
		i = digits(b, i+1)
	}
	return i
}

// digits returns the index of the first non-digit at or after i.
func digits(b []byte, i int) int {
	for i < len(b) && b[i] >= '0' && b[i] <= '9' {
		i++
	}
	return i
}

// startsPacket recognises a packet line printed without a time stamp
// (-t): it starts with the protocol, or with the interface and direction
// of the "any" device.
func startsPacket(b []byte) bool {
	if bytes.HasPrefix(b, []byte("IP ")) || bytes.HasPrefix(b, []byte("IP6 ")) {
		return true
	}
	w := firstWord(b)
	if len(w) == 0 || len(w) > 15 {
		return false
	}
	rest := trimLeft(b[len(w):])
	return isDirection(firstWord(rest)) && (bytes.HasPrefix(rest[len(firstWord(rest)):], []byte(" IP")) ||
		bytes.Contains(rest[:min(len(rest), 16)], []byte(" ifindex ")))
}

func isDirection(w []byte) bool {
	switch string(w) {
	case "In", "Out", "P", "B", "M":
		return true
	}
	return false
}

// parsePacket reads one joined packet record into pk; it reports false
// when the record has no "src > dst:" part at all. restAt is the index in
// b of what follows "src > dst: ", or -1.
func parsePacket(b []byte, pk *Packet) (ok bool, restAt int) {
	whole := b
	restAt = -1
	*pk = Packet{Length: -1}
	if n := timestamp(b); n > 0 {
		pk.Time = b[:n-1]
		b = b[n:]
	}
	b = trimLeft(b)
	// The link level: "lo    In  " (4.99 any), "In " (4.9 any with -e),
	// "ifindex 1 MAC ethertype …, length N: " or "MAC > MAC, ethertype …,
	// length N: " (-e).
	w1 := firstWord(b)
	if isDirection(w1) {
		pk.Direction = w1
		b = trimLeft(b[len(w1):])
	} else if len(w1) > 0 && !isProto(w1) && !isMAC(w1) {
		rest := trimLeft(b[len(w1):])
		if w2 := firstWord(rest); isDirection(w2) {
			pk.Interface, pk.Direction = w1, w2
			b = trimLeft(rest[len(w2):])
		}
	}
	if bytes.HasPrefix(b, []byte("ifindex ")) {
		b = trimLeft(b[len("ifindex "):])
		b = trimLeft(b[len(firstWord(b)):])
	}
	if macAt(b) || bytes.HasPrefix(b, []byte("ethertype ")) {
		i := 18 // "MAC ethertype …" of a cooked capture
		if !bytes.HasPrefix(b[min(i, len(b)):], []byte("ethertype ")) {
			if i = bytes.Index(b, []byte("ethertype ")); i < 0 {
				return false, -1
			}
		}
		et := firstWord(b[i+len("ethertype "):])
		switch string(et) {
		case "IPv4":
			pk.Network = NetIPv4
		case "IPv6":
			pk.Network = NetIPv6
		case "ARP":
			pk.Network = NetARP
		}
		j := colonBlank(b[i:])
		if j < 0 {
			return false, -1
		}
		b = b[i+j+2:]
	} else {
		w := firstWord(b)
		switch string(w) {
		case "IP":
			pk.Network = NetIPv4
		case "IP6":
			pk.Network = NetIPv6
		case "ARP,":
			pk.Network = NetARP
		}
		if pk.Network != NetUnknown {
			b = trimLeft(b[len(w):])
		}
	}
	// -v: "(tos 0x0, ttl 64, …, length 60)" then the addresses on the
	// next line.
	if len(b) > 0 && b[0] == '(' {
		b = trimLeft(skipParens(b))
	}
	if pk.Network == NetARP {
		return true, restAt
	}
	gt := bytes.IndexByte(b, '>') // addresses never hold a '>'
	if gt < 1 || gt+2 > len(b) || b[gt-1] != ' ' || b[gt+1] != ' ' {
		return false, -1
	}
	src := trimLeft(b[:gt-1])
	b = b[gt+2:]
	colon := colonBlank(b)
	var dst, rest []byte
	if colon < 0 {
		if n := len(b); n > 0 && b[n-1] == ':' {
			dst = b[:n-1]
		} else {
			return false, -1
		}
	} else {
		dst, rest = b[:colon], b[colon+2:]
		restAt = len(whole) - len(rest)
	}
	pk.Src, pk.Dst = src, dst
	readTransport(rest, pk)
	split := pk.Transport == TransTCP || pk.Transport == TransUDP
	if !split && pk.Network != NetIPv6 && dotted4(src) && dotted4(dst) {
		split = true
	}
	if split {
		pk.Src, pk.SrcService, pk.SrcPort = splitPort(src)
		pk.Dst, pk.DstService, pk.DstPort = splitPort(dst)
	}
	return true, restAt
}

// readTransport reads what follows "src > dst: ".
func readTransport(rest []byte, pk *Packet) {
	switch {
	case len(rest) >= len("Flags [") && string(rest[:len("Flags [")]) == "Flags [":
		pk.Transport = TransTCP
		rest = rest[len("Flags ["):]
		end := flagsEnd(rest)
		if end < 0 {
			return
		}
		pk.Flags = rest[:end]
		rest = rest[end+1:]
		// Skip "options […]" so that the search for "length " below
		// starts next to it.
		if k := optionsAt(rest[:min(len(rest), 64)]); k >= 0 {
			if e := bytes.IndexByte(rest[k:], ']'); e >= 0 {
				rest = rest[k+e+1:]
			}
		}
		// After the options, ", length N" usually follows at once; the
		// first "length " cannot start at 0 or 1 of ", length ".
		i := 2
		if len(rest) < 9 || string(rest[:9]) != ", length " {
			if i = bytes.Index(rest, []byte("length ")); i < 0 {
				return
			}
		}
		rest = rest[i+len("length "):]
		n, k := number(rest)
		if k == 0 {
			return
		}
		pk.Length = n
		rest = rest[k:]
		if len(rest) < 6 || rest[0] != ':' || rest[1] != ' ' {
			return
		}
		readHTTP(rest[2:], pk)
	case bytes.HasPrefix(rest, []byte("tcp ")):
		pk.Transport = TransTCP
		pk.Length, _ = number(rest[4:])
	case bytes.HasPrefix(rest, []byte("UDP")):
		pk.Transport = TransUDP
		if i := bytes.Index(rest, []byte("length ")); i >= 0 {
			pk.Length, _ = number(rest[i+len("length "):])
		}
	case bytes.HasPrefix(rest, []byte("udp ")):
		pk.Transport = TransUDP
		pk.Length, _ = number(rest[4:])
	case bytes.HasPrefix(rest, []byte("ICMP")):
		pk.Transport = TransICMP
	}
}

// flagsEnd is bytes.IndexByte(b, ']') for the few bytes of TCP flags,
// without the call.
func flagsEnd(b []byte) int {
	for i := 0; i < len(b) && i < 8; i++ {
		if b[i] == ']' {
			return i
		}
	}
	if len(b) <= 8 {
		return -1
	}
	if i := bytes.IndexByte(b[8:], ']'); i >= 0 {
		return i + 8
	}
	return -1
}

// optionsAt is bytes.Index(b, []byte("options [")), found through the
// '[' bytes: the first '[' that "options " precedes starts the first
// occurrence, and a line has few '['.
func optionsAt(b []byte) int {
	for off := 0; ; {
		j := bytes.IndexByte(b[off:], '[')
		if j < 0 {
			return -1
		}
		j += off
		if j >= 8 && string(b[j-8:j]) == "options " {
			return j - 8
		}
		off = j + 1
	}
}

// readHTTP reads what tcpdump's HTTP printer said after "length N: ":
// "HTTP: GET / HTTP/1.1" (default), "HTTP, length: 84" followed by the
// lines of the message (-v), or a bare "HTTP" (a later segment).
func readHTTP(b []byte, pk *Packet) {
	if !bytes.HasPrefix(b, []byte("HTTP")) {
		return
	}
	b = b[4:]
	var line []byte
	switch {
	case len(b) == 0 || b[0] == '\n':
		pk.HTTP = HTTPSegment
		return
	case b[0] == ':' && len(b) > 1 && b[1] == ' ':
		line = b[2:]
		if i := bytes.IndexByte(line, '\n'); i >= 0 {
			line = line[:i]
		}
	case b[0] == ',':
		i := bytes.IndexByte(b, '\n')
		if i < 0 {
			pk.HTTP = HTTPSegment
			return
		}
		line = b[i+1:]
		if j := bytes.IndexByte(line, '\n'); j >= 0 {
			line = line[:j]
		}
	default:
		return
	}
	line = trimRight(trimLeft(line))
	if len(line) == 0 {
		pk.HTTP = HTTPSegment
		return
	}
	pk.HTTPLine = line
	if bytes.HasPrefix(line, []byte("HTTP/")) {
		pk.HTTP = HTTPResponse
	} else {
		pk.HTTP = HTTPRequest
	}
}

// splitPort splits "10.0.0.1.80" or "localhost.http" at the last dot.
func splitPort(a []byte) (addr, service []byte, port int) {
	i := bytes.LastIndexByte(a, '.')
	if i <= 0 || i == len(a)-1 {
		return a, nil, 0
	}
	addr, service = a[:i], a[i+1:]
	if n, k := number(service); k == len(service) && n < 65536 {
		return addr, service, n
	}
	return addr, service, ServicePort(service)
}

// ServicePort maps the port names tcpdump prints without -nn (from
// /etc/services) for the ports the lab cares about; 0 for others.
func ServicePort(name []byte) int {
	switch string(name) {
	case "http", "www", "www-http":
		return 80
	case "https":
		return 443
	case "http-alt", "webcache":
		return 8080
	case "domain":
		return 53
	case "ssh":
		return 22
	}
	return 0
}

// dotted4 reports whether a looks like "a.b.c.d.port" (numeric IPv4 with
// a port), the only case where a port can be split off without knowing
// the transport.
func dotted4(a []byte) bool {
	dots := 0
	for _, c := range a {
		switch {
		case c == '.':
			dots++
		case c < '0' || c > '9':
			return false
		}
	}
	return dots == 4
}

func number(b []byte) (n, k int) {
	for k < len(b) && b[k] >= '0' && b[k] <= '9' {
		if n < 1<<40 {
			n = n*10 + int(b[k]-'0')
		}
		k++
	}
	return n, k
}

func isProto(w []byte) bool {
	switch string(w) {
	case "IP", "IP6", "ARP,", "ethertype", "ifindex":
		return true
	}
	return false
}

// macAt reports whether b starts with a MAC address and a blank.
func macAt(b []byte) bool {
	return len(b) > 17 && b[17] == ' ' && isMAC(b[:17])
}

// colonBlank returns the index of the first ": " in b, -1 if none; IPv6
// addresses hold colons but never a colon and a blank.
func colonBlank(b []byte) int {
	for off := 0; ; {
		i := bytes.IndexByte(b[off:], ':')
		if i < 0 {
			return -1
		}
		i += off
		if i+1 < len(b) && b[i+1] == ' ' {
			return i
		}
		off = i + 1
	}
}

// isMAC recognises "00:00:00:00:00:00".
func isMAC(w []byte) bool {
	if len(w) != 17 {
		return false
	}
	for i := 2; i < 17; i += 3 {
		if w[i] != ':' {
			return false
		}
	}
	return isHex(w[0]) && isHex(w[1])
}

// skipParens returns b after the parenthesised group it starts with.
func skipParens(b []byte) []byte {
	depth := 0
	for i, c := range b {
		switch c {
		case '(':
			depth++
		case ')':
			depth--
			if depth == 0 {
				return b[i+1:]
			}
		}
	}
	return nil
}

func firstWord(b []byte) []byte {
	for i, c := range b {
		if c == ' ' || c == '\t' || c == '\n' {
			return b[:i]
		}
	}
	return b
}

func trimLeft(b []byte) []byte {
	for len(b) > 0 && (b[0] == ' ' || b[0] == '\t' || b[0] == '\n') {
		b = b[1:]
	}
	return b
}

func trimRight(b []byte) []byte {
	for len(b) > 0 && (b[len(b)-1] == ' ' || b[len(b)-1] == '\t') {
		b = b[:len(b)-1]
	}
	return b
}
