// Package fingerprint reads, from one answers file, the values a cluster
// picks at random, so that lab grade can tell which hand-ins share a
// capture.
//
// It belongs to the facts layer: like checks/facts it turns a parser's
// records into a bounded summary, so that lab/grade reads answers without
// knowing a single parser.
package fingerprint

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"io"
	"iter"
	"strconv"

	"github.com/k8s-debug-lab/lab/checks/decode"
	"github.com/k8s-debug-lab/lab/checks/parse/kubectl"
	"github.com/k8s-debug-lab/lab/checks/parse/podlog"
	"github.com/k8s-debug-lab/lab/checks/parse/strace"
	"github.com/k8s-debug-lab/lab/checks/parse/tcpdump"
)

// Copy detection rests on one observation: the outputs this assignment
// asks for carry values that a cluster picks at random (TCP initial
// sequence numbers, client ports, log times to the nanosecond, pod UIDs,
// the lab's nonce, the random suffix of a debug pod). Two students who ran
// the commands on their own clusters practically never share one; two
// answers that do share one came from the same capture. The values are
// read with the grader's own parsers, so whatever shape a file was saved
// in, the same capture yields the same fingerprints.

// Strength says how much a shared value says about copying.
type Strength uint8

const (
	// None: the value is not evidence (it is the same on every cluster).
	None Strength = iota
	// Weak: shared by chance now and then (a client port is one of some
	// 28,000): it counts only together with weak evidence from another
	// step.
	Weak
	// Strong: practically never shared by chance (a 32-bit sequence
	// number, a nanosecond time, a UUID): one is enough.
	Strong
)

// String names a strength for reports.
func (s Strength) String() string {
	switch s {
	case Weak:
		return "weak"
	case Strong:
		return "strong"
	}
	return "none"
}

// MarshalText writes a strength as its name.
func (s Strength) MarshalText() ([]byte, error) { return []byte(s.String()), nil }

// UnmarshalText reads a strength's name.
func (s *Strength) UnmarshalText(b []byte) error {
	switch string(b) {
	case "weak":
		*s = Weak
	case "strong":
		*s = Strong
	case "none":
		*s = None
	default:
		return errors.New("unknown strength " + strconv.Quote(string(b)))
	}
	return nil
}

// Token is one fingerprint of an answer: a value of some kind, as one
// parser read it.
type Token struct {
	// Parser is the parser that read the answer ("tcpdump").
	Parser string `json:"parser"`
	// Kind says what the value is (one of the Kinds).
	Kind string `json:"kind"`
	// Value is the value as printed, or a hash for KindFile.
	Value string `json:"value"`
}

// Fingerprint is a token with its strength.
type Fingerprint struct {
	Token
	Strength Strength `json:"strength"`
}

// The kinds of fingerprint, with the strength each has.
const (
	KindISN       = "tcp.isn"     // strong: a TCP SYN's initial sequence number
	KindPacket    = "packet"      // strong: a packet's time to the microsecond with its addresses
	KindClient    = "client.port" // weak: the client address and ephemeral port of a connection
	KindNonce     = "nonce"       // strong: the lab's per-cluster nonce in a request
	KindCallTime  = "call.time"   // strong: a system call's time to the microsecond
	KindAccept    = "accept"      // weak: an accepted connection: listening fd, new fd, peer port
	KindLogWrite  = "log.write"   // weak: an access-log line the worker wrote (time to the second)
	KindLogTime   = "log.time"    // strong: a log line's CRI or json-file time to the nanosecond
	KindAccess    = "access"      // weak: a bare access entry: client, time to the second, request
	KindPodUID    = "pod.uid"     // strong: a pod's UID
	KindDebugPod  = "debug.pod"   // strong: a node debugger pod's random name
	KindPodRow    = "pod.row"     // weak: a pod's IP, node and age in a kubectl table
	KindFile      = "file"        // the whole file: as strong as the strongest value in it
	maxPerKind    = 32            // distinct values kept per kind and file
	maxValueBytes = 160           // longest value kept
)

// MaxScanBytes is how much of one answers file is fingerprinted: enough
// for thousands of packets or log lines, and it bounds the memory and time
// a class of multi-gigabyte captures takes.
const MaxScanBytes = 1 << 20

// kindNames say what a kind of value is, for evidence in reports.
var kindNames = map[string]string{
	KindISN:      "TCP initial sequence number",
	KindPacket:   "packet (time to the microsecond, addresses)",
	KindClient:   "client address and port",
	KindNonce:    "lab nonce",
	KindCallTime: "system call time to the microsecond",
	KindAccept:   "accepted connection (fds, peer)",
	KindLogWrite: "access-log line written by the worker",
	KindLogTime:  "log time to the nanosecond",
	KindAccess:   "access entry (client, time, request)",
	KindPodUID:   "pod UID",
	KindDebugPod: "node debugger pod name",
	KindPodRow:   "pod row (IP, node, age)",
	KindFile:     "identical file",
}

// KindName says in words what a kind of fingerprint is.
func KindName(kind string) string {
	if n, ok := kindNames[kind]; ok {
		return n
	}
	return kind
}

// collector gathers one file's fingerprints, bounded per kind.
type collector struct {
	parser string
	seen   map[Token]Strength
	count  map[string]int
}

func newCollector(parser string) *collector {
	return &collector{parser: parser, seen: map[Token]Strength{}, count: map[string]int{}}
}

func (c *collector) add(kind string, s Strength, value []byte) {
	if len(value) == 0 || c.count[kind] >= maxPerKind {
		return
	}
	if len(value) > maxValueBytes {
		value = value[:maxValueBytes]
	}
	t := Token{Parser: c.parser, Kind: kind, Value: string(value)}
	if _, dup := c.seen[t]; dup {
		return
	}
	c.seen[t] = s
	c.count[kind]++
}

// strongest is the strength of the file as a whole: an identical copy of
// a file is as telling as the most telling value in it, and two weak
// values that both match are as unlikely by chance as one strong one.
func (c *collector) strongest() Strength {
	best, weak := None, 0
	for _, s := range c.seen {
		best = max(best, s)
		if s == Weak {
			weak++
		}
	}
	if weak >= 2 {
		best = Strong
	}
	return best
}

func (c *collector) result() []Fingerprint {
	out := make([]Fingerprint, 0, len(c.seen))
	for t, s := range c.seen {
		out = append(out, Fingerprint{Token: t, Strength: s})
	}
	return out
}

// SeedFile is the layout of assets/seed/fingerprints.json: the values of
// the write-up the built-in assignment comes from, which every student
// can copy from the internet and so prove nothing about copying from each
// other. internal/gen writes it.
type SeedFile struct {
	Source       string        `json:"source"`
	Fingerprints []Fingerprint `json:"fingerprints"`
}

// Info is what fingerprinting learned about one answers file besides its
// values.
type Info struct {
	// Hash identifies the file's content as the grader read it (decoded,
	// blank lines and trailing blanks left out), so that the same capture
	// saved as UTF-16 with CRLF hashes like the original.
	Hash string
	// Lines counts its non-blank lines; 0 for a binary or unreadable file.
	Lines int
}

// File reads one answers file the way parser would and returns its
// fingerprints, including a KindFile token whose strength is that of the
// strongest value found. Only the first MaxScanBytes are read: a shared
// capture shows in its first packets.
func File(parser string, r io.Reader) []Fingerprint {
	data, _ := io.ReadAll(io.LimitReader(r, MaxScanBytes))
	fps, _ := Read(parser, data)
	return fps
}

// Read fingerprints the start of one answers file (at most MaxScanBytes of
// it, which the caller has read), as the grader's parser reads it.
func Read(parser string, data []byte) ([]Fingerprint, Info) {
	c := newCollector(parser)
	h := sha256.New()
	var info Info
	if parser == "tcpdump" && tcpdump.IsCapture(data) {
		h.Write(data)
		_, _ = tcpdump.ReadCapture(bytes.NewReader(data), func(p *tcpdump.Packet) bool {
			packetTokens(c, p, nil)
			return true
		})
		info.Lines = 1
	} else {
		lines, errf := textLines(data)
		hashed := func(yield func([]byte) bool) {
			for l := range lines {
				t := bytes.TrimRight(l, " \t")
				if len(t) > 0 {
					info.Lines++
					h.Write(t)
					h.Write([]byte{'\n'})
				}
				if !yield(l) {
					return
				}
			}
		}
		textTokens(c, parser, hashed)
		if errf() != nil {
			info.Lines = 0 // binary or unreadable: nothing to compare
		}
	}
	info.Hash = hex.EncodeToString(h.Sum(nil)[:16])
	fps := c.result()
	if info.Lines > 0 {
		if s := c.strongest(); s > None {
			fps = append(fps, Fingerprint{Token: Token{Parser: parser, Kind: KindFile, Value: info.Hash}, Strength: s})
		}
	}
	return fps, info
}

// textLines yields the lines of data as the grader's decoder would. Plain
// UTF-8 with LF line ends, which most answers are, is split in place; the
// decoder (and its buffers) is used only for what needs it: UTF-16, a
// byte-order mark, CRLF, terminal escapes, backspaces.
func textLines(data []byte) (iter.Seq[[]byte], func() error) {
	enc, bom, binary := decode.Sniff(data[:min(len(data), 8<<10)])
	if enc != decode.UTF8 || bom != 0 || binary || bytes.ContainsAny(data, "\r\x1b\b\x00") {
		d := decode.New(bytes.NewReader(data))
		return d.Lines(), d.Err
	}
	return func(yield func([]byte) bool) {
		for len(data) > 0 {
			line := data
			if i := bytes.IndexByte(data, '\n'); i >= 0 {
				line, data = data[:i], data[i+1:]
			} else {
				data = nil
			}
			if !yield(line[:min(len(line), decode.MaxLine)]) {
				return
			}
		}
	}, func() error { return nil }
}

// textTokens runs the parser over the lines, and drains them whatever the
// parser, so that the file hash covers every line.
func textTokens(c *collector, parser string, lines iter.Seq[[]byte]) {
	switch parser {
	case "tcpdump":
		for r := range tcpdump.Parse(lines) {
			if r.Kind == tcpdump.KindPacket {
				packetTokens(c, &r.Packet, r.Line)
			}
		}
	case "strace":
		for r := range strace.Parse(lines) {
			straceTokens(c, &r)
		}
	case "podlog":
		for r := range podlog.Parse(lines) {
			podlogTokens(c, &r)
		}
	case "pod-table":
		var p kubectl.Parser
		for l := range lines {
			if r := p.Line(l); r != nil {
				kubectlTokens(c, r)
			}
		}
	default:
		for range lines {
		}
	}
}

func packetTokens(c *collector, p *tcpdump.Packet, line []byte) {
	var buf [256]byte
	if p.Transport == tcpdump.TransTCP && bytes.IndexByte(p.Flags, 'S') >= 0 && line != nil {
		if seq := fieldAfter(line, "seq "); len(seq) >= 5 && digits(seq) {
			c.add(KindISN, Strong, seq)
		}
	}
	if fractionDigits(p.Time) >= 6 && len(p.Src) > 0 {
		b := append(buf[:0], p.Time...)
		b = append(b, ' ')
		b = appendEndpoint(b, p.Src, p.SrcPort)
		b = append(b, " > "...)
		b = appendEndpoint(b, p.Dst, p.DstPort)
		c.add(KindPacket, Strong, b)
	}
	if server := p.ServerPort(); server > 0 && p.SrcPort > 0 && p.DstPort > 0 {
		addr, port := p.Src, p.SrcPort
		if p.SrcPort == server {
			addr, port = p.Dst, p.DstPort
		}
		if port >= 1024 && port != server {
			c.add(KindClient, Weak, appendEndpoint(buf[:0], addr, port))
		}
	}
	if p.HTTP == tcpdump.HTTPRequest {
		if n := nonce(p.HTTPLine); n != nil {
			c.add(KindNonce, Strong, n)
		}
	}
}

func straceTokens(c *collector, r *strace.Record) {
	if r.Kind != strace.Syscall {
		return
	}
	var buf [256]byte
	if wallClock(r.Time) {
		b := append(buf[:0], r.Time...)
		b = append(b, ' ')
		b = append(b, r.Name...)
		b = append(b, " = "...)
		b = strconv.AppendInt(b, r.Ret, 10)
		c.add(KindCallTime, Strong, b)
	}
	name := string(r.Name)
	if (name == "accept4" || name == "accept") && r.PeerPort > 0 && r.RetOK && r.Ret >= 0 {
		fd := r.Args
		if i := bytes.IndexByte(fd, ','); i >= 0 {
			fd = fd[:i]
		}
		b := append(buf[:0], name...)
		b = append(b, '(')
		b = append(b, bytes.TrimSpace(fd)...)
		b = append(b, ") = "...)
		b = strconv.AppendInt(b, r.Ret, 10)
		b = append(b, " from "...)
		b = appendEndpoint(b, r.Peer, r.PeerPort)
		c.add(KindAccept, Weak, b)
	}
	if len(r.Str) > 0 {
		if n := nonce(r.Str); n != nil {
			c.add(KindNonce, Strong, n)
		}
		if (name == "write" || name == "writev" || name == "pwrite64") && bytes.Contains(r.Str, []byte(" - - [")) {
			c.add(KindLogWrite, Weak, r.Str)
		}
	}
}

func podlogTokens(c *collector, r *podlog.Record) {
	if uid := podlog.PodUID(r.Line); uid != nil {
		c.add(KindPodUID, Strong, uid)
	}
	switch r.Kind {
	case podlog.Message:
		if r.Format != podlog.Plain && fractionDigits(r.Time) >= 6 {
			c.add(KindLogTime, Strong, r.Time)
		}
		if r.Content == podlog.Access {
			if n := nonce(r.Access.Target); n != nil {
				c.add(KindNonce, Strong, n)
			}
			if r.Format == podlog.Plain {
				var buf [256]byte
				b := append(buf[:0], r.Access.Client...)
				b = append(b, " ["...)
				b = append(b, r.Access.Time...)
				b = append(b, "] "...)
				b = append(b, r.Access.Request...)
				c.add(KindAccess, Weak, b)
			}
		}
	case podlog.Banner:
		debugPod(c, r.Line)
	}
}

func kubectlTokens(c *collector, r *kubectl.Record) {
	if r.Kind != kubectl.Pod {
		return
	}
	if bytes.HasPrefix(r.Name, []byte("node-debugger-")) {
		c.add(KindDebugPod, Strong, r.Name)
	}
	if r.Wide && r.HasAddress() {
		var buf [256]byte
		b := append(buf[:0], r.Name...)
		for _, f := range [][]byte{r.IP, r.Node, r.Age} {
			b = append(b, ' ')
			b = append(b, f...)
		}
		c.add(KindPodRow, Weak, b)
	}
}

// debugPod finds the name kubectl debug node/… gave its pod, whose last
// five characters are random: "Creating debugging pod node-debugger-
// minikube-n47p5 with container debugger on node minikube."
func debugPod(c *collector, line []byte) {
	i := bytes.Index(line, []byte("node-debugger-"))
	if i < 0 {
		return
	}
	name := line[i:]
	if j := bytes.IndexAny(name, " \t)"); j >= 0 {
		name = name[:j]
	}
	if k := bytes.LastIndexByte(name, '-'); k > 0 && len(name)-k-1 == 5 {
		c.add(KindDebugPod, Strong, name)
	}
}

// nonce returns the value of a lab= query parameter.
func nonce(b []byte) []byte {
	for off := 0; off < len(b); {
		i := bytes.Index(b[off:], []byte("lab="))
		if i < 0 {
			return nil
		}
		i += off
		if i > 0 && (b[i-1] == '?' || b[i-1] == '&') {
			v := b[i+4:]
			if j := bytes.IndexAny(v, "& #\""); j >= 0 {
				v = v[:j]
			}
			if len(v) >= 4 {
				return v
			}
			return nil
		}
		off = i + 4
	}
	return nil
}

// fieldAfter returns the word after key in line ("seq 1202002200," ->
// "1202002200").
func fieldAfter(line []byte, key string) []byte {
	i := bytes.Index(line, []byte(key))
	if i < 0 {
		return nil
	}
	v := line[i+len(key):]
	if j := bytes.IndexAny(v, ",: "); j >= 0 {
		v = v[:j]
	}
	return v
}

func digits(b []byte) bool {
	for _, c := range b {
		if c < '0' || c > '9' {
			return false
		}
	}
	return len(b) > 0
}

// fractionDigits counts the digits after the first '.' of a time stamp.
func fractionDigits(t []byte) int {
	i := bytes.IndexByte(t, '.')
	if i < 0 {
		return 0
	}
	n := 0
	for _, c := range t[i+1:] {
		if c < '0' || c > '9' {
			break
		}
		n++
	}
	return n
}

// wallClock reports whether an strace time stamp is a time of day or an
// epoch time to the microsecond (-tt, -ttt), not a relative one (-r),
// which starts near zero in every trace.
func wallClock(t []byte) bool {
	if fractionDigits(t) < 6 {
		return false
	}
	if bytes.IndexByte(t, ':') >= 0 {
		return true
	}
	return bytes.IndexByte(bytes.TrimSpace(t), '.') >= 9
}

func appendEndpoint(b, addr []byte, port int) []byte {
	b = append(b, addr...)
	if port > 0 {
		b = append(b, ':')
		b = strconv.AppendInt(b, int64(port), 10)
	}
	return b
}
