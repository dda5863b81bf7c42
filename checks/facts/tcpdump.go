package facts

import (
	"bytes"
	"io"
	"iter"
	"strconv"

	"github.com/k8s-debug-lab/lab/checks/parse/tcpdump"
)

// tcpdumpExtractor grades step-5: a tcpdump capture of the lab's HTTP
// traffic, saved as text or as a pcap/pcapng file.
type tcpdumpExtractor struct{}

func init() { register(tcpdumpExtractor{}) }

func (tcpdumpExtractor) Name() string { return "tcpdump" }

func (tcpdumpExtractor) Help() string {
	return "tcpdump output (4.9 and 4.99+ text, with or without -e, -q, -v, -A, -X) or a pcap/pcapng file it saved"
}

func (tcpdumpExtractor) Facts() []Doc {
	return []Doc{
		{"line", "non-blank lines in the file"},
		{"unknown", "lines that are not tcpdump output (values: the first few)"},
		{"error", "errors tcpdump or the shell printed instead of capturing (values: the messages)"},
		{"error.kind", "what the errors were about (values: permission, no-device, syntax, not-found, truncated, other)"},
		{"warning", "warnings tcpdump printed, such as promiscuous mode on \"any\" (values: the messages)"},
		{"header", "banner lines, or the header of a capture file (values: link types named, e.g. LINUX_SLL2, EN10MB, Ethernet)"},
		{"footer", "statistics lines printed on exit (values: the lines)"},
		{"captured", "the \"N packets captured\" footer (values: N)"},
		{"interrupt", "^C lines echoed when the capture was stopped"},
		{"command", "shell lines that run tcpdump (values: the lines)"},
		{"packet", "packets (values: the interfaces printed, e.g. lo, eth0)"},
		{"packet.port80", "packets to or from port 80"},
		{"tcp.syn", "TCP packets with SYN set on port 80 (values: the flags, S or S.)"},
		{"tcp.data", "TCP packets on port 80 that carry payload (length > 0)"},
		{"http.request", "HTTP request lines on port 80 (values: the lines, e.g. GET /?lab=x HTTP/1.1)"},
		{"http.response", "HTTP status lines on port 80 (values: the lines, e.g. HTTP/1.1 200 OK)"},
		{"http.segment", "later HTTP segments on port 80 (tcpdump's bare \": HTTP\")"},
		{"http.other-port", "HTTP request or status lines on a port other than 80 (values: the server ports)"},
		{"port", "server ports seen: the port a request goes to, else the lower port (values: the ports)"},
		{"address", "IP addresses (or host names without -n) seen on either side (values: the addresses)"},
		{"nonce", "the lab= query value of HTTP request lines on any port (values: the nonces)"},
		{"wrapped", "packets joined from hard-wrapped lines"},
		{"payload", "-A/-X payload dump lines"},
		{"nginx.version", "versions in \"Server: nginx/1.22.1\" headers of -A payload dumps (values: versions)"},
		{"capture.truncated", "a pcap/pcapng file that ends inside a record or holds a damaged one; read as far as it goes"},
	}
}

// tcpdumpFacts holds the handles of the facts a packet feeds, taken once
// per file so that the per-packet path does no lookup by name.
type tcpdumpFacts struct {
	num      [20]byte
	portText []byte // t.lastPort formatted
	lastPort int
	// A conversation repeats its interface, addresses and SYN flags in
	// turn: the last two of each are remembered.
	ifaces, addrs, flags recent
	// heads are Packet.Heads whose interface and addresses were offered,
	// with how many addresses each had: a packet with one of those heads
	// only counts them again. The parser numbers heads in order and keeps
	// eight, so slot Head%8 keeps each of its current ones.
	heads                              [8]seenHead
	packet, port80, syn, data, request *Counter
	response, segment, otherPort, port *Counter
	address, nonce, wrapped            *Counter
}

type seenHead struct {
	head  uint64
	addrs int
}

// recent remembers the last two values offered to a counter. Offering one
// of them again only counts it (Counter.AddBytes finds it kept, or the
// counter full, or it is empty), so a compare replaces a map lookup.
type recent struct{ v [2][]byte }

func (r *recent) add(c *Counter, v []byte) {
	if bytes.Equal(v, r.v[0]) || bytes.Equal(v, r.v[1]) {
		c.Inc()
		return
	}
	c.AddBytes(v)
	r.v[0], r.v[1] = r.v[1], append(r.v[0][:0], v...)
}

func newTcpdumpFacts(s *Set) *tcpdumpFacts {
	return &tcpdumpFacts{
		packet: s.Counter("packet"), port80: s.Counter("packet.port80"), syn: s.Counter("tcp.syn"),
		data: s.Counter("tcp.data"), request: s.Counter("http.request"), response: s.Counter("http.response"),
		segment: s.Counter("http.segment"), otherPort: s.Counter("http.other-port"), port: s.Counter("port"),
		address: s.Counter("address"), nonce: s.Counter("nonce"), wrapped: s.Counter("wrapped"),
	}
}

func (t *tcpdumpFacts) add(p *tcpdump.Packet) {
	if seen := &t.heads[p.Head%uint64(len(t.heads))]; p.Head != 0 && seen.head == p.Head {
		t.packet.Inc()
		for range seen.addrs {
			t.address.Inc()
		}
	} else {
		t.ifaces.add(t.packet, p.Interface)
		n := t.addAddress(p.Src) + t.addAddress(p.Dst)
		if p.Head != 0 {
			*seen = seenHead{p.Head, n}
		}
	}
	server := p.ServerPort()
	if server > 0 {
		if server != t.lastPort {
			t.portText = strconv.AppendInt(t.portText[:0], int64(server), 10)
			t.lastPort = server
			t.port.AddBytes(t.portText)
		} else {
			t.port.Inc() // offered when lastPort was set
		}
	}
	port80 := p.HasPort(80)
	if port80 {
		t.port80.Inc()
		if p.Transport == tcpdump.TransTCP {
			if hasSYN(p.Flags) {
				t.flags.add(t.syn, p.Flags)
			}
			if p.Length > 0 {
				t.data.Inc()
			}
		}
	}
	switch p.HTTP {
	case tcpdump.HTTPRequest, tcpdump.HTTPResponse:
		if p.HTTP == tcpdump.HTTPRequest {
			if n := nonce(p.HTTPLine); n != nil {
				t.nonce.AddBytes(n)
			}
		}
		switch {
		case server != 80:
			t.otherPort.AddBytes(strconv.AppendInt(t.num[:0], int64(server), 10))
		case p.HTTP == tcpdump.HTTPRequest:
			t.request.AddBytes(p.HTTPLine)
		default:
			t.response.AddBytes(p.HTTPLine)
		}
	case tcpdump.HTTPSegment:
		if port80 {
			t.segment.Inc()
		}
	}
	if p.Wrapped {
		t.wrapped.Inc()
	}
}

// hasSYN is bytes.IndexByte(flags, 'S') >= 0 without the call, for the
// one or two bytes of TCP flags.
func hasSYN(flags []byte) bool {
	for _, c := range flags {
		if c == 'S' {
			return true
		}
	}
	return false
}

// addAddress counts a non-empty address and returns how many it counted.
func (t *tcpdumpFacts) addAddress(a []byte) int {
	if len(a) == 0 {
		return 0
	}
	t.addrs.add(t.address, a)
	return 1
}

// nonce returns the value of the lab= query parameter of a request line.
func nonce(line []byte) []byte {
	for off := 0; off < len(line); {
		i := bytes.Index(line[off:], []byte("lab="))
		if i < 0 {
			return nil
		}
		i += off
		if i > 0 && (line[i-1] == '?' || line[i-1] == '&') {
			v := line[i+4:]
			for j, c := range v {
				if c == '&' || c == ' ' || c == '#' {
					v = v[:j]
					break
				}
			}
			if len(v) > 0 {
				return v
			}
			return nil
		}
		off = i + 4
	}
	return nil
}

func (tcpdumpExtractor) Extract(lines iter.Seq[[]byte], s *Set) {
	t := newTcpdumpFacts(s)
	line, payload, unknown := s.Counter("line"), s.Counter("payload"), s.Counter("unknown")
	var (
		p                    tcpdump.Parser
		version              tcpdump.Version
		linkType             string
		sawIfDir, sawDirOnly bool
		tcpdumpLike          bool
	)
	emit := func(r *tcpdump.Record) bool {
		switch r.Kind {
		case tcpdump.KindPacket:
			tcpdumpLike = true
			pk := &r.Packet
			if len(pk.Direction) > 0 {
				if len(pk.Interface) > 0 {
					sawIfDir = true
				} else {
					sawDirOnly = true
				}
			}
			t.add(pk)
		case tcpdump.KindPayload:
			payload.Inc()
			if bytes.Contains(r.Line, []byte("Server: nginx/")) {
				addNginxVersions(s.Counter("nginx.version"), r.Line, false)
			}
		case tcpdump.KindHeader:
			tcpdumpLike = true
			s.AddBytes("header", r.LinkType)
			if r.Version != tcpdump.VersionUnknown {
				version = r.Version
			}
			if len(r.LinkType) > 0 && linkType == "" {
				linkType = string(r.LinkType)
			}
		case tcpdump.KindWarning:
			tcpdumpLike = true
			s.AddBytes("warning", r.Line)
		case tcpdump.KindError:
			tcpdumpLike = true
			s.AddBytes("error", r.Line)
			s.Add("error.kind", r.ErrorKind)
		case tcpdump.KindFooter:
			tcpdumpLike = true
			s.AddBytes("footer", r.Line)
			if bytes.HasSuffix(r.Line, []byte(" captured")) {
				s.AddBytes("captured", strconv.AppendInt(nil, int64(r.Count), 10))
			}
		case tcpdump.KindInterrupt:
			s.Inc("interrupt")
		case tcpdump.KindCommand:
			s.AddBytes("command", r.Line)
		default:
			unknown.AddBytes(r.Line)
		}
		return true
	}
	for l := range lines {
		if len(l) > 0 {
			line.Inc()
		}
		p.Line(l, emit)
	}
	p.Close(emit)
	if !tcpdumpLike {
		return
	}
	if linkType == "" {
		switch {
		case sawIfDir:
			linkType = "LINUX_SLL2"
		case sawDirOnly:
			linkType = "LINUX_SLL"
		}
	}
	if version == tcpdump.VersionUnknown && sawIfDir {
		version = tcpdump.Version499 // only 4.99+ prints the interface
	}
	f := "tcpdump text"
	switch version {
	case tcpdump.Version499:
		f = "tcpdump 4.99 text"
	case tcpdump.Version49:
		f = "tcpdump 4.9 text"
	}
	if linkType != "" {
		f += " (" + linkType + ")"
	}
	s.Format = f
}

func (tcpdumpExtractor) IsCapture(head []byte) bool { return tcpdump.IsCapture(head) }

func (tcpdumpExtractor) ExtractCapture(r io.Reader, s *Set) error {
	t := newTcpdumpFacts(s)
	info, err := tcpdump.ReadCapture(r, func(p *tcpdump.Packet) bool {
		t.add(p)
		return true
	})
	if err != nil {
		return err
	}
	if info.LinkType != "" {
		s.Add("header", info.LinkType)
	}
	if info.Truncated {
		s.Inc("capture.truncated")
	}
	s.Format = info.Format
	if info.LinkType != "" {
		s.Format += " (" + info.LinkType + ")"
	}
	return nil
}
