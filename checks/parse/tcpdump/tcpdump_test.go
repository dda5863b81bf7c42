package tcpdump

import (
	"bufio"
	"bytes"
	"fmt"
	"iter"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/k8s-debug-lab/lab/checks/parse/internal/parsetest"
	"github.com/k8s-debug-lab/lab/internal/golden"
)

// lines splits test input the way decode.Reader does (no line ends).
func lines(data []byte) iter.Seq[[]byte] {
	return func(yield func([]byte) bool) {
		sc := bufio.NewScanner(bytes.NewReader(data))
		sc.Buffer(make([]byte, 64<<10), 64<<10)
		for sc.Scan() {
			if !yield(sc.Bytes()) {
				return
			}
		}
	}
}

// describe prints a record on one line for golden files and diffs.
func describe(r *Record) string {
	var b strings.Builder
	b.WriteString(r.Kind.String())
	switch r.Kind {
	case KindPacket:
		b.WriteString(" " + describePacket(&r.Packet))
	case KindHeader:
		fmt.Fprintf(&b, " link=%s version=%d", r.LinkType, r.Version)
	case KindError:
		fmt.Fprintf(&b, " [%s] %q", r.ErrorKind, r.Line)
	case KindFooter:
		fmt.Fprintf(&b, " %d %q", r.Count, r.Line)
	case KindWarning, KindUnknown, KindCommand:
		fmt.Fprintf(&b, " %q", r.Line)
	}
	return b.String()
}

func describePacket(p *Packet) string {
	s := fmt.Sprintf("t=%s if=%s dir=%s %s/%s %s:%d(%s) > %s:%d(%s) flags=%s len=%d",
		p.Time, p.Interface, p.Direction, p.Network, p.Transport,
		p.Src, p.SrcPort, p.SrcService, p.Dst, p.DstPort, p.DstService, p.Flags, p.Length)
	if p.HTTP != HTTPNone {
		s += fmt.Sprintf(" http=%s %q", p.HTTP, p.HTTPLine)
	}
	if p.Wrapped {
		s += " wrapped"
	}
	return s
}

func parseFile(t testing.TB, name string) []string {
	t.Helper()
	data, err := os.ReadFile(filepath.Join("testdata", name))
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for r := range Parse(lines(data)) {
		out = append(out, describe(r))
	}
	return out
}

func readCaptureFile(t testing.TB, name string) (CaptureInfo, []string) {
	t.Helper()
	f, err := os.Open(filepath.Join("testdata", name))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var out []string
	info, err := ReadCapture(f, func(p *Packet) bool {
		out = append(out, describePacket(p))
		return true
	})
	if err != nil {
		t.Fatalf("ReadCapture(%s): %v", name, err)
	}
	return info, out
}

func checkGolden(t *testing.T, name string, got []string) {
	t.Helper()
	path := filepath.Join("testdata", name+".golden")
	text := strings.Join(got, "\n") + "\n"
	golden.Check(t, path, text)
}

func TestGolden(t *testing.T) {
	files, err := filepath.Glob("testdata/*.txt")
	if err != nil {
		t.Fatal(err)
	}
	if len(files) < 20 {
		t.Fatalf("only %d text samples in testdata", len(files))
	}
	for _, f := range files {
		name := filepath.Base(f)
		t.Run(name, func(t *testing.T) {
			got := parseFile(t, name)
			for _, g := range got {
				if strings.HasPrefix(g, "unknown") && !strings.HasPrefix(name, "error-notfound") {
					t.Errorf("unrecognised record: %s", g)
				}
			}
			checkGolden(t, name, got)
		})
	}
	caps, _ := filepath.Glob("testdata/*.pcap*")
	for _, f := range caps {
		name := filepath.Base(f)
		if strings.HasSuffix(name, ".golden") {
			continue
		}
		t.Run(name, func(t *testing.T) {
			info, got := readCaptureFile(t, name)
			checkGolden(t, name, append([]string{fmt.Sprintf("%s %s packets=%d truncated=%v", info.Format, info.LinkType, info.Packets, info.Truncated)}, got...))
		})
	}
}

// count tallies what matters for grading in one sample.
type count struct {
	Packets, Port80, Requests, Responses, Segments, Wrapped int
	Headers, Warnings, Errors, Footers, Interrupts, Payload int
	Interfaces                                              string
	Version                                                 Version
	LinkType                                                string
	FirstRequest, FirstResponse, ErrorKind                  string
}

func tally(t *testing.T, name string) count {
	t.Helper()
	data, err := os.ReadFile(filepath.Join("testdata", name))
	if err != nil {
		t.Fatal(err)
	}
	var c count
	ifs := map[string]bool{}
	for r := range Parse(lines(data)) {
		switch r.Kind {
		case KindPacket:
			p := &r.Packet
			c.Packets++
			if p.HasPort(80) {
				c.Port80++
			}
			if p.Wrapped {
				c.Wrapped++
			}
			if len(p.Interface) > 0 && !ifs[string(p.Interface)] {
				ifs[string(p.Interface)] = true
				c.Interfaces += string(p.Interface) + " "
			}
			switch p.HTTP {
			case HTTPRequest:
				c.Requests++
				if c.FirstRequest == "" {
					c.FirstRequest = string(p.HTTPLine)
				}
			case HTTPResponse:
				c.Responses++
				if c.FirstResponse == "" {
					c.FirstResponse = string(p.HTTPLine)
				}
			case HTTPSegment:
				c.Segments++
			}
		case KindHeader:
			c.Headers++
			if r.Version != VersionUnknown {
				c.Version = r.Version
			}
			if len(r.LinkType) > 0 {
				c.LinkType = string(r.LinkType)
			}
		case KindWarning:
			c.Warnings++
		case KindError:
			c.Errors++
			if c.ErrorKind == "" {
				c.ErrorKind = r.ErrorKind
			}
		case KindFooter:
			c.Footers++
		case KindInterrupt:
			c.Interrupts++
		case KindPayload:
			c.Payload++
		}
	}
	return c
}

func TestVariants(t *testing.T) {
	const get = "GET /?lab=k7q2x9 HTTP/1.1"
	const ok = "HTTP/1.1 200 OK"
	tests := []struct {
		file string
		want count
	}{
		{"seed-4.99-any-e.txt", count{Packets: 24, Port80: 24, Requests: 2, Responses: 2, Segments: 2, Headers: 2, Footers: 3, Interrupts: 1,
			Interfaces: "lo eth0 ", Version: Version499, LinkType: "LINUX_SLL2", FirstRequest: "GET / HTTP/1.1", FirstResponse: ok}},
		{"4.99-any.txt", count{Packets: 10, Port80: 10, Requests: 1, Responses: 1, Headers: 3, Footers: 3,
			Interfaces: "lo ", Version: Version499, LinkType: "LINUX_SLL2", FirstRequest: get, FirstResponse: ok}},
		{"4.99-any-e.txt", count{Packets: 10, Port80: 10, Requests: 1, Responses: 1, Headers: 3, Footers: 3,
			Interfaces: "lo ", Version: Version499, LinkType: "LINUX_SLL2", FirstRequest: get, FirstResponse: ok}},
		{"4.99-any-e-wrapped80.txt", count{Packets: 10, Port80: 10, Requests: 1, Responses: 1, Wrapped: 10, Headers: 3, Footers: 3,
			Interfaces: "lo ", Version: Version499, LinkType: "LINUX_SLL2", FirstRequest: get, FirstResponse: ok}},
		{"4.99-any-q.txt", count{Packets: 10, Port80: 10, Headers: 3, Footers: 3,
			Interfaces: "lo ", Version: Version499, LinkType: "LINUX_SLL2"}},
		{"4.99-any-names.txt", count{Packets: 10, Port80: 10, Requests: 1, Responses: 1, Headers: 3, Footers: 3,
			Interfaces: "lo ", Version: Version499, LinkType: "LINUX_SLL2", FirstRequest: get, FirstResponse: ok}},
		{"4.99-any-A.txt", count{Packets: 10, Port80: 10, Requests: 1, Responses: 1, Headers: 3, Footers: 3, Payload: 32,
			Interfaces: "lo ", Version: Version499, LinkType: "LINUX_SLL2", FirstRequest: get, FirstResponse: ok}},
		{"4.99-eth-v.txt", count{Packets: 10, Port80: 10, Requests: 1, Responses: 1, Headers: 1, Footers: 3,
			Version: Version499, LinkType: "EN10MB", FirstRequest: get, FirstResponse: ok}},
		{"4.99-eth-ipv6.txt", count{Packets: 10, Port80: 10, Requests: 1, Responses: 1, Headers: 2, Footers: 3,
			Version: Version499, LinkType: "EN10MB", FirstRequest: get, FirstResponse: ok}},
		{"4.99-port8080.txt", count{Packets: 10, Requests: 1, Responses: 1, Headers: 3, Footers: 3,
			Interfaces: "lo ", Version: Version499, LinkType: "LINUX_SLL2", FirstRequest: get, FirstResponse: ok}},
		{"4.99-handshake.txt", count{Packets: 6, Port80: 6, Headers: 3, Footers: 3,
			Interfaces: "lo ", Version: Version499, LinkType: "LINUX_SLL2"}},
		{"4.99-read-truncated.txt", count{Packets: 6, Port80: 6, Requests: 1, Responses: 1, Headers: 1, Warnings: 1, Errors: 1,
			Interfaces: "lo ", Version: Version499, LinkType: "LINUX_SLL2", FirstRequest: get, FirstResponse: ok, ErrorKind: ErrTruncated}},
		{"public-4.99-promisc-e.txt", count{Packets: 7, Port80: 7, Requests: 1, Responses: 1, Headers: 2, Warnings: 2,
			Interfaces: "lo ", Version: Version499, LinkType: "LINUX_SLL2", FirstRequest: "GET / HTTP/1.1", FirstResponse: ok}},
		{"public-4.9-any-http.txt", count{Packets: 6, Port80: 6, Requests: 1, Headers: 2,
			Version: Version49, LinkType: "LINUX_SLL", FirstRequest: "GET / HTTP/1.1"}},
		{"public-4.9-any-X.txt", count{Packets: 4, Port80: 4, Requests: 1, Headers: 2, Payload: 20,
			Version: Version49, LinkType: "LINUX_SLL", FirstRequest: "GET / HTTP/1.1"}},
		{"public-4.9-any-vvv-A.txt", count{Packets: 3, Port80: 3, Requests: 1, Responses: 1, Headers: 1, Payload: 17,
			Version: Version49, LinkType: "LINUX_SLL", FirstRequest: "GET / HTTP/1.1", FirstResponse: ok}},
		{"error-permission.txt", count{Errors: 2, ErrorKind: ErrPermission}},
		{"error-nodevice.txt", count{Errors: 2, ErrorKind: ErrNoDevice}},
		{"error-syntax.txt", count{Headers: 1, Errors: 1, LinkType: "LINUX_SLL2", ErrorKind: ErrSyntax}},
		{"error-syntax-port.txt", count{Headers: 1, Errors: 1, LinkType: "LINUX_SLL2", ErrorKind: ErrSyntax}},
		{"error-notfound.txt", count{Errors: 1, ErrorKind: ErrNotFound}},
	}
	for _, tt := range tests {
		t.Run(tt.file, func(t *testing.T) {
			got := tally(t, tt.file)
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("%s (-want +got):\n%s", tt.file, diff)
			}
		})
	}
}

func TestLines(t *testing.T) {
	tests := []struct {
		name string
		in   string
		want []string
	}{
		{
			name: "4.99 any without -e",
			in:   "15:24:52.090586 lo    In  IP 127.0.0.1.34586 > 127.0.0.1.80: Flags [P.], seq 1:78, ack 1, win 512, options [nop,nop,TS val 1 ecr 1], length 77: HTTP: GET /?lab=abc HTTP/1.1",
			want: []string{`packet t=15:24:52.090586 if=lo dir=In IPv4/tcp 127.0.0.1:34586(34586) > 127.0.0.1:80(80) flags=P. len=77 http=request "GET /?lab=abc HTTP/1.1"`},
		},
		{
			name: "4.9 any with -e",
			in:   "20:15:57.757814 Out 5a:f6:24:4b:74:0c ethertype IPv4 (0x0800), length 310: 10.244.0.12.80 > 10.244.0.14.47584: Flags [P.], seq 1:239, ack 107, win 509, length 238: HTTP: HTTP/1.1 200 OK",
			want: []string{`packet t=20:15:57.757814 if= dir=Out IPv4/tcp 10.244.0.12:80(80) > 10.244.0.14:47584(47584) flags=P. len=238 http=response "HTTP/1.1 200 OK"`},
		},
		{
			name: "bare HTTP is a later segment",
			in:   "15:24:52.090920 lo    In  IP 127.0.0.1.80 > 127.0.0.1.34586: Flags [P.], seq 239:851, ack 78, win 512, length 612: HTTP",
			want: []string{`packet t=15:24:52.090920 if=lo dir=In IPv4/tcp 127.0.0.1:80(80) > 127.0.0.1:34586(34586) flags=P. len=612 http=segment ""`},
		},
		{
			name: "no time stamp (-t), IPv6, -q",
			in:   "IP6 ::1.45052 > ::1.80: tcp 80",
			want: []string{`packet t= if= dir= IPv6/tcp ::1:45052(45052) > ::1:80(80) flags= len=80`},
		},
		{
			// Found by FuzzParse: the -tttt reading looked past the end.
			name: "a date cut short is no time stamp",
			in:   "2024-02\n2024-02-14",
			want: []string{`unknown "2024-02"`, `unknown "2024-02-14"`},
		},
		{
			name: "epoch time stamp (-tt)",
			in:   "1707924292.090511 IP 10.0.0.1.5 > 10.0.0.2.80: Flags [S], seq 1, win 1, length 0",
			want: []string{`packet t=1707924292.090511 if= dir= IPv4/tcp 10.0.0.1:5(5) > 10.0.0.2:80(80) flags=S len=0`},
		},
		{
			name: "wrap inside the request line",
			in: "15:24:52.090586 lo    In  IP 127.0.0.1.34586 > 127.0.0.1.80: Flags [P.], seq 1:78, ack 1, win 512, length 77: HTTP: GET /?lab=abc HT\n" +
				"TP/1.1\n^C\n1 packet captured",
			want: []string{
				`packet t=15:24:52.090586 if=lo dir=In IPv4/tcp 127.0.0.1:34586(34586) > 127.0.0.1:80(80) flags=P. len=77 http=request "GET /?lab=abc HTTP/1.1" wrapped`,
				"interrupt", `footer 1 "1 packet captured"`,
			},
		},
		{
			name: "wrap at a blank keeps the blank",
			in: "15:24:52.090586 IP 127.0.0.1.34586 > 127.0.0.1.80: Flags [P.], seq 1:78, ack 1, win 512, length 77: HTTP: GET /?lab=abc\n" +
				" HTTP/1.1",
			want: []string{`packet t=15:24:52.090586 if= dir= IPv4/tcp 127.0.0.1:34586(34586) > 127.0.0.1:80(80) flags=P. len=77 http=request "GET /?lab=abc HTTP/1.1" wrapped`},
		},
		{
			name: "footer after ^C on the same line",
			in:   "^C24 packets captured\n36 packets received by filter\n0 packets dropped by kernel",
			want: []string{`footer 24 "24 packets captured"`, `footer 36 "36 packets received by filter"`, `footer 0 "0 packets dropped by kernel"`},
		},
		{
			name: "older permission wording",
			in:   "tcpdump: any: You don't have permission to capture on that device\n(socket: Operation not permitted)",
			want: []string{
				`error [permission] "tcpdump: any: You don't have permission to capture on that device"`,
				`error [permission] "socket: Operation not permitted"`,
			},
		},
		{
			name: "not tcpdump at all",
			in:   "total 20\ndrwxr-xr-x    2 root     root          4096 Feb 14 10:59 .",
			want: []string{`unknown "total 20"`, `unknown "drwxr-xr-x    2 root     root          4096 Feb 14 10:59 ."`},
		},
		{
			name: "prompt and command",
			in:   "/ # tcpdump -nn -i any port 80\nbash: tcpdump: command not found",
			want: []string{`command "/ # tcpdump -nn -i any port 80"`, `error [not-found] "bash: tcpdump: command not found"`},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var got []string
			for r := range Parse(lines([]byte(tt.in))) {
				got = append(got, describe(r))
			}
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("(-want +got):\n%s", diff)
			}
		})
	}
}

func TestCaptures(t *testing.T) {
	tests := []struct {
		file                string
		format, link        string
		packets             int
		truncated           bool
		requests, responses int
		iface, dir          string
	}{
		{"eth.pcap", "pcap", "Ethernet", 10, false, 1, 1, "", ""},
		{"eth-nano.pcap", "pcap", "Ethernet", 10, false, 1, 1, "", ""},
		{"any-sll2.pcap", "pcap", "LINUX_SLL2", 10, false, 1, 1, "", "In"},
		{"any-sll.pcap", "pcap", "LINUX_SLL", 10, false, 1, 1, "", "In"},
		{"any-sll2-truncated.pcap", "pcap", "LINUX_SLL2", 6, true, 1, 1, "", "In"},
		{"eth.pcapng", "pcapng", "Ethernet", 10, false, 1, 1, "lo", ""},
		{"any-sll.pcapng", "pcapng", "LINUX_SLL", 10, false, 1, 1, "any", "In"},
		{"eth-ipv6.pcapng", "pcapng", "Ethernet", 10, false, 1, 1, "lo", ""},
	}
	for _, tt := range tests {
		t.Run(tt.file, func(t *testing.T) {
			f, err := os.Open(filepath.Join("testdata", tt.file))
			if err != nil {
				t.Fatal(err)
			}
			defer f.Close()
			var req, resp int
			var firstReq, iface, dir string
			info, err := ReadCapture(f, func(p *Packet) bool {
				if iface == "" {
					iface, dir = string(p.Interface), string(p.Direction)
				}
				switch p.HTTP {
				case HTTPRequest:
					req++
					firstReq = string(p.HTTPLine)
					if !p.HasPort(80) || p.ServerPort() != 80 {
						t.Errorf("request on ports %d > %d", p.SrcPort, p.DstPort)
					}
				case HTTPResponse:
					resp++
				}
				return true
			})
			if err != nil {
				t.Fatal(err)
			}
			got := []any{info.Format, info.LinkType, info.Packets, info.Truncated, req, resp, firstReq, iface, dir}
			want := []any{tt.format, tt.link, tt.packets, tt.truncated, tt.requests, tt.responses, "GET /?lab=k7q2x9 HTTP/1.1", tt.iface, tt.dir}
			if diff := cmp.Diff(want, got); diff != "" {
				t.Errorf("(-want +got):\n%s", diff)
			}
		})
	}
}

func TestIsCapture(t *testing.T) {
	for _, tt := range []struct {
		head []byte
		want bool
	}{
		{[]byte{0xd4, 0xc3, 0xb2, 0xa1}, true},
		{[]byte{0xa1, 0xb2, 0xc3, 0xd4}, true},
		{[]byte{0x4d, 0x3c, 0xb2, 0xa1}, true},
		{[]byte{0xa1, 0xb2, 0x3c, 0x4d}, true},
		{[]byte{0x0a, 0x0d, 0x0d, 0x0a}, true},
		{[]byte("tcpdump: verbose"), false},
		{[]byte{0xd4, 0xc3}, false},
	} {
		if got := IsCapture(tt.head); got != tt.want {
			t.Errorf("IsCapture(% x) = %v, want %v", tt.head, got, tt.want)
		}
	}
	if _, err := ReadCapture(strings.NewReader("hello"), func(*Packet) bool { return true }); err != ErrNotCapture {
		t.Errorf("ReadCapture(text) error = %v, want ErrNotCapture", err)
	}
}

// FuzzParse feeds arbitrary text: the parser must not panic and must emit
// at most one record per line, each no longer than its input allows.
func FuzzParse(f *testing.F) {
	parsetest.Corpus[[]byte](f, 0, "testdata/*.txt")
	f.Fuzz(func(t *testing.T, data []byte) {
		n := bytes.Count(data, []byte("\n")) + 1
		records := 0
		for r := range Parse(lines(data)) {
			records++
			if len(r.Line) > MaxRecord {
				t.Fatalf("record of %d bytes", len(r.Line))
			}
		}
		if records > n {
			t.Fatalf("%d records from %d lines", records, n)
		}
	})
}

// FuzzCapture feeds arbitrary bytes behind a capture magic: no panic, no
// more packets than bytes allow.
func FuzzCapture(f *testing.F) {
	files, _ := filepath.Glob("testdata/*.pcap*")
	for _, file := range files {
		if data, err := os.ReadFile(file); err == nil && !strings.HasSuffix(file, ".golden") {
			f.Add(data)
		}
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		n := 0
		_, _ = ReadCapture(bytes.NewReader(data), func(p *Packet) bool {
			n++
			return true
		})
		if n > len(data)/16 {
			t.Fatalf("%d packets from %d bytes", n, len(data))
		}
	})
}

func BenchmarkParse(b *testing.B) {
	data := parsetest.Read(b, "testdata/seed-4.99-any-e.txt")
	var ls [][]byte
	for l := range lines(data) {
		ls = append(ls, append([]byte(nil), l...))
	}
	benchParse(b, ls, len(data))
}

// BenchmarkParseLarge is the parser alone on a large capture: the seed's
// packet lines repeated to 8 MB (what bench/run generates), already split,
// so that the shape cache is warm as it is after the first few packets of
// a real capture.
func BenchmarkParseLarge(b *testing.B) {
	data := parsetest.Read(b, "testdata/seed-4.99-any-e.txt")
	var packets [][]byte
	for l := range lines(data) {
		if timestamp(l) > 0 {
			packets = append(packets, append([]byte(nil), l...))
		}
	}
	var ls [][]byte
	size := 0
	for size < 8<<20 {
		for _, l := range packets {
			ls = append(ls, l)
			size += len(l) + 1
		}
	}
	benchParse(b, ls, size)
}

// benchParse runs the parser over lines already split, size bytes in all.
func benchParse(b *testing.B, ls [][]byte, size int) {
	b.SetBytes(int64(size))
	b.ReportAllocs()
	for b.Loop() {
		var p Parser
		n := 0
		emit := func(r *Record) bool { n += r.Packet.Length; return true }
		for _, l := range ls {
			p.Line(l, emit)
		}
		p.Close(emit)
	}
}

func BenchmarkReadCapture(b *testing.B) {
	data, err := os.ReadFile("testdata/any-sll2.pcap")
	if err != nil {
		b.Fatal(err)
	}
	b.SetBytes(int64(len(data)))
	b.ReportAllocs()
	for b.Loop() {
		_, _ = ReadCapture(bytes.NewReader(data), func(*Packet) bool { return true })
	}
}

// The shape cache must read every packet exactly as a full parse does.
func TestShapeCacheAgrees(t *testing.T) {
	files, _ := filepath.Glob("testdata/*.txt")
	hits := 0
	for _, file := range files {
		data, err := os.ReadFile(file)
		if err != nil {
			t.Fatal(err)
		}
		var p Parser
		emit := func(r *Record) bool {
			if r.Kind != KindPacket {
				return true
			}
			var full Packet
			parsePacket(r.Line, &full)
			full.Wrapped = r.Packet.Wrapped
			if got, want := describePacket(&r.Packet), describePacket(&full); got != want {
				t.Errorf("%s: cached %s\nfull   %s", file, got, want)
			}
			return true
		}
		for l := range lines(data) {
			p.Line(l, emit)
		}
		p.Close(emit)
		for _, sh := range p.shapes {
			if len(sh.key) > 0 {
				hits++
			}
		}
	}
	if hits == 0 {
		t.Error("the shape cache never filled")
	}
}

// readTransportGeneral is readTransport's TCP branch as it reads without
// its shortcuts (bytes.Index for "options [" and "length "): the fast
// paths must agree with it on every input.
func readTransportGeneral(rest []byte, pk *Packet) {
	if !bytes.HasPrefix(rest, []byte("Flags [")) {
		readTransport(rest, pk)
		return
	}
	pk.Transport = TransTCP
	rest = rest[len("Flags ["):]
	end := bytes.IndexByte(rest, ']')
	if end < 0 {
		return
	}
	pk.Flags = rest[:end]
	rest = rest[end+1:]
	if k := bytes.Index(rest[:min(len(rest), 64)], []byte("options [")); k >= 0 {
		if e := bytes.IndexByte(rest[k:], ']'); e >= 0 {
			rest = rest[k+e+1:]
		}
	}
	i := bytes.Index(rest, []byte("length "))
	if i < 0 {
		return
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
}

// checkFastPaths compares the shortcuts of the per-line path with the
// general reading, on a line and on what follows each ": " in it.
func checkFastPaths(t *testing.T, line []byte) {
	t.Helper()
	if got, want := timestamp(line), anyTimestamp(line); got != want {
		t.Fatalf("timestamp(%q) = %d, general reading %d", line, got, want)
	}
	for off := 0; off <= len(line); off++ {
		rest := line[off:]
		if got, want := optionsAt(rest), bytes.Index(rest, []byte("options [")); got != want {
			t.Fatalf("optionsAt(%q) = %d, want %d", rest, got, want)
		}
		if got, want := flagsEnd(rest), bytes.IndexByte(rest, ']'); got != want {
			t.Fatalf("flagsEnd(%q) = %d, want %d", rest, got, want)
		}
		got, want := Packet{Length: -1}, Packet{Length: -1}
		readTransport(rest, &got)
		readTransportGeneral(rest, &want)
		if g, w := describePacket(&got), describePacket(&want); g != w {
			t.Fatalf("readTransport(%q):\n got %s\nwant %s", rest, g, w)
		}
	}
}

func TestFastPathsAgree(t *testing.T) {
	files, _ := filepath.Glob("testdata/*.txt")
	for _, file := range files {
		data, err := os.ReadFile(file)
		if err != nil {
			t.Fatal(err)
		}
		for l := range lines(data) {
			checkFastPaths(t, l)
		}
	}
	for _, l := range []string{
		"15:24:52.090511 ", "15:24:52.09051 IP", "15:24:52.0905111 IP", "1a:24:52.090511 IP", "15:24:52.090511\tIP",
		"Flags [S], options [mss 1], options [x], length 5: HTTP", "Flags [.], length 0length 3", "Flags [P.], , length : HTTP",
		"Flags [.], seq 1, [x] options [a] length 7", "Flags [S.] options [" + strings.Repeat("x", 70) + "], length 1",
	} {
		checkFastPaths(t, []byte(l))
	}
}

// defaultTimestamp reads eight bytes at a time; here it is checked byte
// by byte against its definition, for every value at every position.
func TestDefaultTimestamp(t *testing.T) {
	isDigit := func(c byte) bool { return c >= '0' && c <= '9' }
	byteWise := func(b []byte) bool {
		return len(b) > 15 && b[2] == ':' && b[5] == ':' && b[8] == '.' && b[15] == ' ' &&
			isDigit(b[0]) && isDigit(b[1]) && isDigit(b[3]) && isDigit(b[4]) && isDigit(b[6]) && isDigit(b[7]) &&
			isDigit(b[9]) && isDigit(b[10]) && isDigit(b[11]) && isDigit(b[12]) && isDigit(b[13]) && isDigit(b[14])
	}
	valid := []byte("15:24:52.090511 IP")
	for at := range 16 {
		for c := range 256 {
			b := append([]byte(nil), valid...)
			b[at] = byte(c)
			if got, want := defaultTimestamp(b), byteWise(b); got != want {
				t.Fatalf("defaultTimestamp(%q) = %v, want %v", b, got, want)
			}
		}
	}
	for n := range len(valid) {
		if got, want := defaultTimestamp(valid[:n]), byteWise(valid[:n]); got != want {
			t.Fatalf("defaultTimestamp(%q) = %v, want %v", valid[:n], got, want)
		}
	}
}

func FuzzFastPathsAgree(f *testing.F) {
	f.Add([]byte("15:24:52.090588 lo    In  ifindex 1 00:00:00:00:00:00 ethertype IPv4 (0x0800), length 72: 127.0.0.1.80 > 127.0.0.1.34586: Flags [.], ack 78, win 511, options [nop,nop,TS val 4115671916 ecr 4115671916], length 0"))
	f.Add([]byte("Flags [P.], seq 1:78, ack 1, win 512, length 77: HTTP: GET / HTTP/1.1"))
	f.Fuzz(func(t *testing.T, line []byte) { checkFastPaths(t, line) })
}

// Packets with the same non-zero Head must carry the same head fields,
// even when the cache's slots are recycled by many conversations.
func TestHeadNamesOneHead(t *testing.T) {
	files, _ := filepath.Glob("testdata/*.txt")
	var inputs [][]byte
	for _, file := range files {
		data, err := os.ReadFile(file)
		if err != nil {
			t.Fatal(err)
		}
		inputs = append(inputs, data)
	}
	// More conversations than the cache has slots, revisited.
	var many bytes.Buffer
	for round := 0; round < 3; round++ {
		for port := 40000; port < 40000+3*len(Parser{}.shapes); port++ {
			for range 2 { // the second line of each direction hits the cache
				fmt.Fprintf(&many, "15:24:52.090511 IP 10.0.0.1.%d > 10.0.0.2.80: Flags [.], ack 1, win 512, length 0\n", port)
			}
			for range 2 {
				fmt.Fprintf(&many, "15:24:52.090512 IP 10.0.0.2.80 > 10.0.0.1.%d: Flags [.], ack 1, win 512, length 0\n", port)
			}
		}
	}
	inputs = append(inputs, many.Bytes())
	heads := 0
	for _, data := range inputs {
		seen := map[uint64]string{}
		for r := range Parse(lines(data)) {
			if r.Kind != KindPacket || r.Packet.Head == 0 {
				continue
			}
			p := &r.Packet
			head := fmt.Sprintf("%q %q %s %q %q %d %d %q %q", p.Interface, p.Direction, p.Network, p.Src, p.Dst, p.SrcPort, p.DstPort, p.SrcService, p.DstService)
			if prev, ok := seen[p.Head]; ok && prev != head {
				t.Fatalf("Head %d names two heads:\n%s\n%s", p.Head, prev, head)
			}
			seen[p.Head] = head
			heads++
		}
	}
	if heads == 0 {
		t.Error("no packet had a Head")
	}
}
