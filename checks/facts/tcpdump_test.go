package facts

import (
	"bytes"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/k8s-debug-lab/lab/checks/decode"
	"github.com/k8s-debug-lab/lab/checks/parse/tcpdump"
)

const tcpdumpTestdata = "../parse/tcpdump/testdata"

// tcpdumpText runs the tcpdump extractor over a text sample decoded the
// way lab check decodes answers.
func tcpdumpText(t *testing.T, file string) *Set {
	t.Helper()
	f, err := os.Open(filepath.Join(tcpdumpTestdata, file))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	e, _ := Lookup("tcpdump")
	s := NewSet()
	d := decode.New(f)
	e.Extract(d.Lines(), s)
	if d.Err() != nil {
		t.Fatal(d.Err())
	}
	return s
}

func tcpdumpCapture(t *testing.T, file string) *Set {
	t.Helper()
	data, err := os.ReadFile(filepath.Join(tcpdumpTestdata, file))
	if err != nil {
		t.Fatal(err)
	}
	e, _ := Lookup("tcpdump")
	ce, ok := e.(CaptureExtractor)
	if !ok {
		t.Fatal("tcpdump extractor does not read captures")
	}
	if !ce.IsCapture(data[:8]) {
		t.Fatalf("%s not sniffed as a capture", file)
	}
	s := NewSet()
	if err := ce.ExtractCapture(bytes.NewReader(data), s); err != nil {
		t.Fatal(err)
	}
	return s
}

func tcpdumpPick(s *Set, names ...string) map[string]Fact {
	out := map[string]Fact{}
	for _, n := range names {
		if f := s.Get(n); f.Count > 0 {
			out[n] = f
		}
	}
	return out
}

var tcpdumpNames = []string{"packet", "packet.port80", "tcp.syn", "tcp.data", "http.request", "http.response",
	"http.segment", "http.other-port", "port", "address", "nonce", "error", "error.kind", "warning", "captured",
	"capture.truncated", "unknown", "wrapped"}

func TestTcpdumpFacts(t *testing.T) {
	get := []string{"GET /?lab=k7q2x9 HTTP/1.1"}
	ok := []string{"HTTP/1.1 200 OK"}
	lo := []string{"127.0.0.1"}
	nonce := []string{"k7q2x9"}
	tests := []struct {
		file   string
		format string
		want   map[string]Fact
	}{
		{"seed-4.99-any-e.txt", "tcpdump 4.99 text (LINUX_SLL2)", map[string]Fact{
			"packet": {Count: 24, Values: []string{"lo", "eth0"}}, "packet.port80": {Count: 24},
			"tcp.syn": {Count: 4, Values: []string{"S", "S."}}, "tcp.data": {Count: 6},
			"http.request": {Count: 2, Values: []string{"GET / HTTP/1.1"}}, "http.response": {Count: 2, Values: ok},
			"http.segment": {Count: 2}, "port": {Count: 24, Values: []string{"80"}},
			"address":  {Count: 48, Values: []string{"127.0.0.1", "10.244.0.14", "10.244.0.12"}},
			"captured": {Count: 1, Values: []string{"24"}},
		}},
		{"4.99-any.txt", "tcpdump 4.99 text (LINUX_SLL2)", map[string]Fact{
			"packet": {Count: 10, Values: []string{"lo"}}, "packet.port80": {Count: 10},
			"tcp.syn": {Count: 2, Values: []string{"S", "S."}}, "tcp.data": {Count: 2},
			"http.request": {Count: 1, Values: get}, "http.response": {Count: 1, Values: ok},
			"port": {Count: 10, Values: []string{"80"}}, "address": {Count: 20, Values: lo}, "nonce": {Count: 1, Values: nonce},
			"captured": {Count: 1, Values: []string{"10"}},
		}},
		{"4.99-any-e-wrapped80.txt", "tcpdump 4.99 text (LINUX_SLL2)", map[string]Fact{
			"packet": {Count: 10, Values: []string{"lo"}}, "packet.port80": {Count: 10},
			"tcp.syn": {Count: 2, Values: []string{"S", "S."}}, "tcp.data": {Count: 2},
			"http.request": {Count: 1, Values: get}, "http.response": {Count: 1, Values: ok},
			"port": {Count: 10, Values: []string{"80"}}, "address": {Count: 20, Values: lo}, "nonce": {Count: 1, Values: nonce},
			"captured": {Count: 1, Values: []string{"10"}}, "wrapped": {Count: 10},
		}},
		{"4.99-any-q.txt", "tcpdump 4.99 text (LINUX_SLL2)", map[string]Fact{
			"packet": {Count: 10, Values: []string{"lo"}}, "packet.port80": {Count: 10}, "tcp.data": {Count: 2},
			"port": {Count: 10, Values: []string{"80"}}, "address": {Count: 20, Values: lo},
			"captured": {Count: 1, Values: []string{"10"}},
		}},
		{"4.99-handshake.txt", "tcpdump 4.99 text (LINUX_SLL2)", map[string]Fact{
			"packet": {Count: 6, Values: []string{"lo"}}, "packet.port80": {Count: 6},
			"tcp.syn": {Count: 2, Values: []string{"S", "S."}},
			"port":    {Count: 6, Values: []string{"80"}}, "address": {Count: 12, Values: lo},
			"captured": {Count: 1, Values: []string{"6"}},
		}},
		{"4.99-port8080.txt", "tcpdump 4.99 text (LINUX_SLL2)", map[string]Fact{
			"packet":          {Count: 10, Values: []string{"lo"}},
			"http.other-port": {Count: 2, Values: []string{"8080"}}, "nonce": {Count: 1, Values: nonce},
			"port": {Count: 10, Values: []string{"8080"}}, "address": {Count: 20, Values: lo},
			"captured": {Count: 1, Values: []string{"10"}},
		}},
		{"4.99-eth-v.txt", "tcpdump 4.99 text (EN10MB)", map[string]Fact{
			"packet": {Count: 10}, "packet.port80": {Count: 10},
			"tcp.syn": {Count: 2, Values: []string{"S", "S."}}, "tcp.data": {Count: 2},
			"http.request": {Count: 1, Values: get}, "http.response": {Count: 1, Values: ok},
			"port": {Count: 10, Values: []string{"80"}}, "address": {Count: 20, Values: lo}, "nonce": {Count: 1, Values: nonce},
			"captured": {Count: 1, Values: []string{"10"}},
		}},
		{"public-4.9-any-http.txt", "tcpdump 4.9 text (LINUX_SLL)", map[string]Fact{
			"packet": {Count: 6}, "packet.port80": {Count: 6},
			"tcp.syn": {Count: 1, Values: []string{"S"}}, "tcp.data": {Count: 1},
			"http.request": {Count: 1, Values: []string{"GET / HTTP/1.1"}},
			"port":         {Count: 6, Values: []string{"80"}}, "address": {Count: 12, Values: []string{"10.16.0.182", "188.184.21.108"}},
		}},
		{"public-4.99-promisc-e.txt", "tcpdump 4.99 text (LINUX_SLL2)", map[string]Fact{
			"packet": {Count: 7, Values: []string{"lo"}}, "packet.port80": {Count: 7},
			"tcp.syn": {Count: 2, Values: []string{"S", "S."}}, "tcp.data": {Count: 2},
			"http.request": {Count: 1, Values: []string{"GET / HTTP/1.1"}}, "http.response": {Count: 1, Values: ok},
			"port": {Count: 7, Values: []string{"80"}}, "address": {Count: 14, Values: lo},
			"warning": {Count: 2, Values: []string{"tcpdump: WARNING: any: That device doesn't support promiscuous mode",
				`Promiscuous mode not supported on the "any" device`}},
		}},
		{"error-permission.txt", "tcpdump text", map[string]Fact{
			"error": {Count: 2, Values: []string{"tcpdump: any: You don't have permission to perform this capture on that device",
				"socket: Operation not permitted"}},
			"error.kind": {Count: 2, Values: []string{"permission"}},
		}},
		{"error-notfound.txt", "tcpdump text", map[string]Fact{
			"error":      {Count: 1, Values: []string{"/bin/sh: 1: tcpdump: not found"}},
			"error.kind": {Count: 1, Values: []string{"not-found"}},
		}},
	}
	for _, tt := range tests {
		t.Run(tt.file, func(t *testing.T) {
			s := tcpdumpText(t, tt.file)
			if s.Format != tt.format {
				t.Errorf("Format = %q, want %q", s.Format, tt.format)
			}
			if diff := cmp.Diff(tt.want, tcpdumpPick(s, tcpdumpNames...)); diff != "" {
				t.Errorf("facts (-want +got):\n%s", diff)
			}
		})
	}
}

// Output of another command is not tcpdump: no format, and its lines come
// back as unknown for the "this is not tcpdump output" hint.
func TestTcpdumpNotTcpdump(t *testing.T) {
	e, _ := Lookup("tcpdump")
	s := NewSet()
	e.Extract(decode.String("total 20\n-rw-r--r--    1 root     root            17 Feb 14 10:59 hostname\n\naccept4(6, NULL, NULL, SOCK_NONBLOCK) = 7\n"), s)
	if s.Format != "" {
		t.Errorf("Format = %q, want none", s.Format)
	}
	want := map[string]Fact{
		"line": {Count: 3},
		"unknown": {Count: 3, Values: []string{"total 20", "-rw-r--r--    1 root     root            17 Feb 14 10:59 hostname",
			"accept4(6, NULL, NULL, SOCK_NONBLOCK) = 7"}},
	}
	if diff := cmp.Diff(want, tcpdumpPick(s, append([]string{"line"}, tcpdumpNames...)...)); diff != "" {
		t.Errorf("facts (-want +got):\n%s", diff)
	}
}

func TestTcpdumpCaptureFacts(t *testing.T) {
	get := []string{"GET /?lab=k7q2x9 HTTP/1.1"}
	ok := []string{"HTTP/1.1 200 OK"}
	tests := []struct {
		file   string
		format string
		want   map[string]Fact
	}{
		{"any-sll2.pcap", "pcap (LINUX_SLL2)", map[string]Fact{
			"packet": {Count: 10}, "packet.port80": {Count: 10},
			"tcp.syn": {Count: 2, Values: []string{"S", "S."}}, "tcp.data": {Count: 2},
			"http.request": {Count: 1, Values: get}, "http.response": {Count: 1, Values: ok},
			"port": {Count: 10, Values: []string{"80"}}, "address": {Count: 20, Values: []string{"127.0.0.1"}},
			"nonce": {Count: 1, Values: []string{"k7q2x9"}},
		}},
		{"any-sll2-truncated.pcap", "pcap (LINUX_SLL2)", map[string]Fact{
			"packet": {Count: 6}, "packet.port80": {Count: 6},
			"tcp.syn": {Count: 2, Values: []string{"S", "S."}}, "tcp.data": {Count: 2},
			"http.request": {Count: 1, Values: get}, "http.response": {Count: 1, Values: ok},
			"port": {Count: 6, Values: []string{"80"}}, "address": {Count: 12, Values: []string{"127.0.0.1"}},
			"nonce": {Count: 1, Values: []string{"k7q2x9"}}, "capture.truncated": {Count: 1},
		}},
		{"eth-ipv6.pcapng", "pcapng (Ethernet)", map[string]Fact{
			"packet": {Count: 10, Values: []string{"lo"}}, "packet.port80": {Count: 10},
			"tcp.syn": {Count: 2, Values: []string{"S", "S."}}, "tcp.data": {Count: 2},
			"http.request": {Count: 1, Values: get}, "http.response": {Count: 1, Values: ok},
			"port": {Count: 10, Values: []string{"80"}}, "address": {Count: 20, Values: []string{"::1"}},
			"nonce": {Count: 1, Values: []string{"k7q2x9"}},
		}},
	}
	for _, tt := range tests {
		t.Run(tt.file, func(t *testing.T) {
			s := tcpdumpCapture(t, tt.file)
			if s.Format != tt.format {
				t.Errorf("Format = %q, want %q", s.Format, tt.format)
			}
			if diff := cmp.Diff(tt.want, tcpdumpPick(s, tcpdumpNames...)); diff != "" {
				t.Errorf("facts (-want +got):\n%s", diff)
			}
		})
	}
}

// recent may only stand in for AddBytes: the same values, counts and
// overflow, whatever the mix of repeats, empty and over-long values.
func TestRecentAgreesWithAddBytes(t *testing.T) {
	long := strings.Repeat("x", MaxValueLen)
	var values []string
	for i := range 3 * MaxValues {
		values = append(values, fmt.Sprint("v", i%(MaxValues+7)), fmt.Sprint("v", i%3), "", long+"a", long+"b")
		if i%5 == 0 {
			values = append(values, values[len(values)-1], fmt.Sprint("v", i))
		}
	}
	var r recent
	got, want := NewSet(), NewSet()
	for _, v := range values {
		r.add(got.Counter("f"), []byte(v))
		want.AddBytes("f", []byte(v))
	}
	if diff := cmp.Diff(want.All(), got.All()); diff != "" {
		t.Errorf("facts (-AddBytes +recent):\n%s", diff)
	}
}

// Reusing what a packet's Head was counted with must count what reading
// every head afresh does, also when the parser's cache slots are recycled.
func TestTcpdumpHeadsAgree(t *testing.T) {
	var text bytes.Buffer
	files, _ := filepath.Glob(filepath.Join(tcpdumpTestdata, "*.txt"))
	for _, file := range files {
		data, err := os.ReadFile(file)
		if err != nil {
			t.Fatal(err)
		}
		text.Write(data)
	}
	for round := range 3 {
		for port := 40000; port < 40020; port++ {
			for i := range 3 {
				fmt.Fprintf(&text, "15:24:52.090511 eth%d  In  IP 10.0.%d.1.%d > 10.0.0.2.80: Flags [S], seq 1, win 512, length 0\n", i, round, port)
				fmt.Fprintf(&text, "15:24:52.090512 eth%d  Out IP 10.0.0.2.80 > 10.0.%d.1.%d: Flags [S.], seq 1, ack 2, win 512, length 0\n", i, round, port)
			}
		}
	}
	cached, fresh := newTcpdumpFacts(NewSet()), newTcpdumpFacts(NewSet())
	heads := 0
	for r := range tcpdump.Parse(decode.String(text.String())) {
		if r.Kind != tcpdump.KindPacket {
			continue
		}
		cached.add(&r.Packet)
		if r.Packet.Head != 0 {
			heads++
		}
		p := r.Packet
		p.Head = 0
		fresh.add(&p)
	}
	if heads == 0 {
		t.Fatal("no packet had a Head")
	}
	if diff := cmp.Diff(fresh.packet.f, cached.packet.f); diff != "" {
		t.Errorf("packet (-fresh +cached):\n%s", diff)
	}
	if diff := cmp.Diff(fresh.address.f, cached.address.f); diff != "" {
		t.Errorf("address (-fresh +cached):\n%s", diff)
	}
	if diff := cmp.Diff(fresh.syn.f, cached.syn.f); diff != "" {
		t.Errorf("tcp.syn (-fresh +cached):\n%s", diff)
	}
}

func TestTcpdumpNonce(t *testing.T) {
	for in, want := range map[string]string{
		"GET /?lab=abc HTTP/1.1":          "abc",
		"GET /x?a=1&lab=n0nce#f HTTP/1.1": "n0nce",
		"GET /?slab=zz HTTP/1.1":          "",
		"GET /lab=zz HTTP/1.1":            "",
		"GET /?lab= HTTP/1.1":             "",
	} {
		if got := string(nonce([]byte(in))); got != want {
			t.Errorf("nonce(%q) = %q, want %q", in, got, want)
		}
	}
}

// benchCapture builds about size bytes of tcpdump text from the seed's
// real lines, varying ports and nonces so values do not all collapse.
func benchCapture(size int) []byte {
	seed, err := os.ReadFile(filepath.Join(tcpdumpTestdata, "seed-4.99-any-e.txt"))
	if err != nil {
		panic(err)
	}
	var packets [][]byte
	for _, l := range bytes.Split(seed, []byte("\n")) {
		if len(l) > 0 && l[0] >= '0' && l[0] <= '9' && bytes.Contains(l, []byte(" > ")) {
			packets = append(packets, l)
		}
	}
	var b bytes.Buffer
	b.Grow(size + 4096)
	b.WriteString("tcpdump: verbose output suppressed, use -v[v]... for full protocol decode\n")
	b.WriteString("listening on any, link-type LINUX_SLL2 (Linux cooked v2), snapshot length 262144 bytes\n")
	for i := 0; b.Len() < size; i++ {
		l := packets[i%len(packets)]
		if i%len(packets) == 0 {
			port := []byte(fmt.Sprintf(".%d", 30000+i/len(packets)%30000))
			l = bytes.ReplaceAll(l, []byte(".34586"), port)
		}
		b.Write(l)
		b.WriteByte('\n')
	}
	b.WriteString("^C\n1 packets captured\n1 packets received by filter\n0 packets dropped by kernel\n")
	return b.Bytes()
}

func BenchmarkExtractText(b *testing.B) {
	data := benchCapture(50 << 20)
	e, _ := Lookup("tcpdump")
	b.SetBytes(int64(len(data)))
	b.ReportAllocs()
	for b.Loop() {
		s := NewSet()
		e.Extract(decode.New(bytes.NewReader(data)).Lines(), s)
		if s.Get("http.request").Count == 0 {
			b.Fatal("no requests")
		}
	}
}

// BenchmarkDecodeOnly is the floor: decode.Reader splitting the same
// bytes into lines with nothing parsing them.
func BenchmarkDecodeOnly(b *testing.B) {
	data := benchCapture(50 << 20)
	b.SetBytes(int64(len(data)))
	b.ReportAllocs()
	for b.Loop() {
		n := 0
		for range decode.New(bytes.NewReader(data)).Lines() {
			n++
		}
	}
}

// TestTcpdumpLargeFile streams a generated capture from disk and reports
// throughput and peak RSS. It runs only when TCPDUMP_BENCH_FILE names the
// file to write (and then read), e.g. /tmp/tcpdump-bench.txt, so that the
// same file can be timed with grep -c HTTP.
func TestTcpdumpLargeFile(t *testing.T) {
	path := os.Getenv("TCPDUMP_BENCH_FILE")
	if path == "" {
		t.Skip("set TCPDUMP_BENCH_FILE to run")
	}
	if _, err := os.Stat(path); err != nil {
		if err := os.WriteFile(path, benchCapture(50<<20), 0o644); err != nil {
			t.Fatal(err)
		}
		t.Skipf("wrote %s; run again to measure (building it took memory)", path)
	}
	runtime.GC()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	st, _ := f.Stat()
	e, _ := Lookup("tcpdump")
	s := NewSet()
	start := time.Now()
	e.Extract(decode.New(f).Lines(), s)
	elapsed := time.Since(start)
	rss, ok := maxRSSMB()
	t.Logf("%d bytes in %v: %.0f MB/s; max RSS %d MB; packets %d, requests %d",
		st.Size(), elapsed, float64(st.Size())/elapsed.Seconds()/1e6, rss,
		s.Get("packet").Count, s.Get("http.request").Count)
	if ok && rss >= 64 {
		t.Errorf("max RSS %d MB, want < 64 MB", rss)
	}
}
