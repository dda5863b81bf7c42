package strace

import (
	"bufio"
	"bytes"
	"fmt"
	"iter"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/k8s-debug-lab/lab/checks/parse/internal/parsetest"
	"github.com/k8s-debug-lab/lab/internal/golden"
)

// lines splits text the way the decoder does: no line endings.
func lines(text string) iter.Seq[[]byte] {
	return func(yield func([]byte) bool) {
		sc := bufio.NewScanner(strings.NewReader(text))
		sc.Buffer(make([]byte, 1<<20), 1<<20)
		for sc.Scan() {
			if !yield(sc.Bytes()) {
				return
			}
		}
	}
}

// format renders a record on one line for golden files and table tests;
// only fields that are set appear.
func format(r Record) string {
	var b strings.Builder
	b.WriteString(r.Kind.String())
	if r.PID != 0 {
		fmt.Fprintf(&b, " pid=%d", r.PID)
	}
	if len(r.Time) > 0 {
		fmt.Fprintf(&b, " time=%s", r.Time)
	}
	if len(r.Name) > 0 {
		fmt.Fprintf(&b, " name=%s", r.Name)
	}
	if r.RetOK {
		fmt.Fprintf(&b, " ret=%d", r.Ret)
	}
	if len(r.RetDecor) > 0 {
		fmt.Fprintf(&b, " decor=%q", r.RetDecor)
	}
	if len(r.Errno) > 0 {
		fmt.Fprintf(&b, " errno=%s (%s)", r.Errno, r.ErrText)
	}
	if len(r.Duration) > 0 {
		fmt.Fprintf(&b, " dur=%s", r.Duration)
	}
	if r.Joined {
		b.WriteString(" joined")
	}
	if r.Resumed {
		b.WriteString(" resumed")
	}
	if len(r.Peer) > 0 {
		fmt.Fprintf(&b, " peer=%s:%d", r.Peer, r.PeerPort)
	}
	if len(r.Str) > 0 {
		s := r.Str
		if len(s) > 80 {
			s = s[:80]
		}
		fmt.Fprintf(&b, " str=%q", s)
		if r.StrCut {
			b.WriteString("...")
		}
	}
	if len(r.Message) > 0 {
		fmt.Fprintf(&b, " msg=%q", r.Message)
	}
	if r.Kind == SummaryRow || r.Kind == SummaryTotal {
		fmt.Fprintf(&b, " pct=%s calls=%d errors=%d", r.Percent, r.Calls, r.Errors)
	}
	return b.String()
}

func parseAll(text string) []string {
	var out []string
	for r := range Parse(lines(text)) {
		out = append(out, format(r))
	}
	return out
}

func TestLines(t *testing.T) {
	tests := []struct {
		name string
		in   string
		want []string
	}{
		{
			name: "new format accept4",
			in:   `accept4(9, {sa_family=AF_INET, sin_port=htons(33154), sin_addr=inet_addr("10.244.0.1")}, [112 => 16], SOCK_NONBLOCK) = 6`,
			want: []string{"syscall name=accept4 ret=6 peer=10.244.0.1:33154"},
		},
		{
			name: "old format accept4",
			in:   `accept4(6, {sa_family=AF_INET, sin_port=htons(41556), sin_addr=inet_addr("127.0.0.1")}, [112->16], SOCK_NONBLOCK) = 3`,
			want: []string{"syscall name=accept4 ret=3 peer=127.0.0.1:41556"},
		},
		{
			name: "ipv6 peer",
			in:   `accept4(6, {sa_family=AF_INET6, sin6_port=htons(32790), sin6_flowinfo=htonl(0), inet_pton(AF_INET6, "::1", &sin6_addr), sin6_scope_id=0}, [112 => 28], SOCK_NONBLOCK) = 7`,
			want: []string{"syscall name=accept4 ret=7 peer=::1:32790"},
		},
		{
			name: "yy decorations",
			in:   `accept4(6<TCP:[0.0.0.0:80]>, NULL, NULL, SOCK_NONBLOCK) = 7<TCP:[10.244.0.12:80->10.244.0.1:33154]>`,
			want: []string{`syscall name=accept4 ret=7 decor="TCP:[10.244.0.12:80->10.244.0.1:33154]" peer=10.244.0.1:33154`},
		},
		{
			name: "yy ipv6 decoration",
			in:   `accept4(6<TCPv6:[[::1]:8080]>, NULL, NULL, SOCK_NONBLOCK) = 7<TCPv6:[[::1]:8080->[::1]:32810]> <0.000028>`,
			want: []string{`syscall name=accept4 ret=7 decor="TCPv6:[[::1]:8080->[::1]:32810]" dur=0.000028 peer=::1:32810`},
		},
		{
			name: "error with duration",
			in:   `23:56:48.493963 accept4(5, 0x7ffe5a782130, [112], SOCK_NONBLOCK) = -1 EAGAIN (Resource temporarily unavailable) <0.000026>`,
			want: []string{"syscall time=23:56:48.493963 name=accept4 ret=-1 errno=EAGAIN (Resource temporarily unavailable) dur=0.000026"},
		},
		{
			name: "escapes decoded",
			in:   `recvfrom(7, "GET /?lab=k7q2x9 HTTP/1.1\r\nHost:"..., 1024, 0, NULL, NULL) = 89`,
			want: []string{`syscall name=recvfrom ret=89 str="GET /?lab=k7q2x9 HTTP/1.1\r\nHost:"...`},
		},
		{
			name: "octal and hex escapes and a quote",
			in:   `write(1, "a\"b\0\x41\t", 6) = 6`,
			want: []string{`syscall name=write ret=6 str="a\"b\x00A\t"`},
		},
		{
			name: "padded return",
			in:   `close(12)                               = 0`,
			want: []string{"syscall name=close ret=0"},
		},
		{
			name: "string holding ') = '",
			in:   `write(1, "x) = 5", 6) = 6`,
			want: []string{`syscall name=write ret=6 str="x) = 5"`},
		},
		{
			name: "pid prefix and unfinished/resumed joined",
			in: "[pid  8111] epoll_wait(12,  <unfinished ...>\n" +
				"[pid  6010] rt_sigsuspend([], 8) = ? ERESTARTNOHAND (To be restarted if no handler)\n" +
				"[pid  8111] <... epoll_wait resumed>[{events=EPOLLIN, data={u32=1, u64=2}}], 512, -1) = 1\n",
			want: []string{
				"unfinished pid=8111 name=epoll_wait",
				"syscall pid=6010 name=rt_sigsuspend errno=ERESTARTNOHAND (To be restarted if no handler)",
				"syscall pid=8111 name=epoll_wait ret=1 joined resumed",
			},
		},
		{
			name: "resumed without its first half",
			in:   "<... accept4 resumed>{sa_family=AF_INET, sin_port=htons(1), sin_addr=inet_addr(\"10.0.0.1\")}, [16], SOCK_NONBLOCK) = 3",
			want: []string{"syscall name=accept4 ret=3 resumed peer=10.0.0.1:1"},
		},
		{
			name: "call torn by a detach message",
			in:   "epoll_wait(9, strace: Process 6011 detached\n <detached ...>\n",
			want: []string{"unfinished name=epoll_wait", `detached pid=6011 msg="Process 6011 detached"`},
		},
		{
			name: "call torn by an attach message then finished",
			in:   "[pid  6010] clone(child_stack=NULL, flags=SIGCHLDstrace: Process 8670 attached\n, child_tidptr=0x7fe790e1ba10) = 8670\n",
			want: []string{
				"unfinished pid=6010 name=clone",
				`attached pid=8670 msg="Process 8670 attached"`,
				"syscall pid=6010 name=clone ret=8670 joined",
			},
		},
		{
			name: "signal and exit",
			in:   "--- SIGCHLD {si_signo=SIGCHLD, si_code=CLD_EXITED, si_pid=8111} ---\n+++ exited with 0 +++\n+++ killed by SIGKILL +++\n",
			want: []string{"signal name=SIGCHLD", `exit ret=0 msg="exited with 0"`, `exit name=SIGKILL msg="killed by SIGKILL"`},
		},
		{
			name: "attach errors",
			in: "strace: attach: ptrace(PTRACE_SEIZE, 13): Operation not permitted\n" +
				"strace: ptrace(PTRACE_SEIZE, 1): Operation not permitted\n" +
				"strace: attach: ptrace(PTRACE_SEIZE, 7): No such process\n" +
				"strace: Can't stat '6771': No such file or directory\n" +
				"sh: strace: not found\n",
			want: []string{
				`attach-error pid=13 msg="attach: ptrace(PTRACE_SEIZE, 13): Operation not permitted"`,
				`attach-error pid=1 msg="ptrace(PTRACE_SEIZE, 1): Operation not permitted"`,
				`attach-error pid=7 msg="attach: ptrace(PTRACE_SEIZE, 7): No such process"`,
				`tool-error msg="Can't stat '6771': No such file or directory"`,
				`tool-error msg="sh: strace: not found"`,
			},
		},
		{
			name: "timestamps",
			in:   "23:56:01 close(7) = 0\n1795823760.336240 close(7) = 0\n     0.000123 close(7) = 0\n",
			want: []string{"syscall time=23:56:01 name=close ret=0", "syscall time=1795823760.336240 name=close ret=0", "syscall time=0.000123 name=close ret=0"},
		},
		{
			name: "not strace",
			in:   "/ # ps aux\nPID   USER     TIME  COMMAND\n",
			want: []string{"unknown", "unknown"},
		},
		{
			name: "cut by ctrl-c",
			in:   "epoll_wait(8,",
			want: []string{"unfinished name=epoll_wait"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if diff := cmp.Diff(tt.want, parseAll(tt.in)); diff != "" {
				t.Errorf("(-want +got)\n%s", diff)
			}
		})
	}
}

func TestJoinedArgs(t *testing.T) {
	in := "[pid 1] accept4(5,  <unfinished ...>\n[pid 1] <... accept4 resumed>{sa_family=AF_INET, sin_port=htons(9), sin_addr=inet_addr(\"10.1.2.3\")}, [112 => 16], SOCK_NONBLOCK) = 4\n"
	var got []string
	for r := range Parse(lines(in)) {
		if r.Kind == Syscall {
			got = append(got, string(r.Args), string(r.Peer))
		}
	}
	want := []string{`5, {sa_family=AF_INET, sin_port=htons(9), sin_addr=inet_addr("10.1.2.3")}, [112 => 16], SOCK_NONBLOCK`, "10.1.2.3"}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("(-want +got)\n%s", diff)
	}
}

func TestSummary(t *testing.T) {
	data, err := os.ReadFile("testdata/summary-c.txt")
	if err != nil {
		t.Fatal(err)
	}
	var rows []string
	var total string
	for r := range Parse(lines(string(data))) {
		switch r.Kind {
		case SummaryRow:
			rows = append(rows, string(r.Name)+"="+strconv.FormatInt(r.Calls, 10)+"/"+strconv.FormatInt(r.Errors, 10))
		case SummaryTotal:
			total = strconv.FormatInt(r.Calls, 10) + "/" + strconv.FormatInt(r.Errors, 10)
		case Unknown:
			t.Errorf("unknown line %q", r.Line)
		}
	}
	want := []string{"epoll_wait=9/0", "writev=3/0", "close=4/0", "accept4=3/0", "newfstatat=2/0", "write=5/0", "recvfrom=6/0", "openat=3/2", "epoll_ctl=3/0", "pread64=1/0", "setsockopt=3/0", "gettid=2/0"}
	if diff := cmp.Diff(want, rows); diff != "" {
		t.Errorf("rows (-want +got)\n%s", diff)
	}
	if total != "44/2" {
		t.Errorf("total = %q, want 44/2", total)
	}
}

// TestGolden runs every captured sample through the parser and compares the
// records with testdata/<name>.golden; -update rewrites them. A new sample
// dropped into testdata/ gets its golden file on the next -update.
func TestGolden(t *testing.T) {
	files, err := filepath.Glob("testdata/*.txt")
	if err != nil || len(files) == 0 {
		t.Fatalf("no testdata: %v", err)
	}
	for _, f := range files {
		t.Run(filepath.Base(f), func(t *testing.T) {
			data, err := os.ReadFile(f)
			if err != nil {
				t.Fatal(err)
			}
			got := strings.Join(parseAll(string(data)), "\n") + "\n"
			goldenPath := strings.TrimSuffix(f, ".txt") + ".golden"
			golden.Check(t, goldenPath, got)
		})
	}
}

// TestNoUnknownInCaptures guards the real captures: every line of them is
// strace output and must be recognised.
func TestNoUnknownInCaptures(t *testing.T) {
	files, _ := filepath.Glob("testdata/*.txt")
	for _, f := range files {
		data, _ := os.ReadFile(f)
		for r := range Parse(lines(string(data))) {
			if r.Kind == Unknown {
				t.Errorf("%s: unknown line %q", f, r.Line)
			}
		}
	}
}

func TestPendingBounded(t *testing.T) {
	var p Parser
	for i := range 10 * MaxPending {
		line := fmt.Sprintf("[pid %d] epoll_wait(12, %s <unfinished ...>", i+1, strings.Repeat("x", 2*MaxPendingLen))
		p.Line([]byte(line), func(Record) bool { return true })
	}
	if len(p.pend) > MaxPending {
		t.Fatalf("%d pending calls kept, want at most %d", len(p.pend), MaxPending)
	}
	for _, pd := range p.pend {
		if len(pd.args) > MaxPendingLen {
			t.Fatalf("pending args of %d bytes kept", len(pd.args))
		}
	}
}

func FuzzParse(f *testing.F) {
	parsetest.Corpus[string](f, 0, "testdata/*.txt")
	f.Add("<... x resumed>\n[pid ]\n--- \n+++ \n% time\n------\n1 2 3 4 x\n")
	f.Fuzz(func(t *testing.T, in string) {
		n := 0
		nonBlank := 0
		for _, l := range strings.Split(in, "\n") {
			if len(bytes.TrimSpace([]byte(l))) > 0 {
				nonBlank++
			}
		}
		var p Parser
		for _, l := range strings.Split(in, "\n") {
			p.Line([]byte(l), func(Record) bool { n++; return true })
		}
		// a line yields at most three records (torn call, message, joined call)
		if n > 3*nonBlank {
			t.Fatalf("%d records from %d lines", n, nonBlank)
		}
		if len(p.pend) > MaxPending {
			t.Fatalf("%d pending calls", len(p.pend))
		}
	})
}

func BenchmarkParse(b *testing.B) {
	split := parsetest.BenchLines(b, 1<<20, "testdata/eagain-multi-accept-tt-T.txt")
	for b.Loop() {
		var p Parser
		n := 0
		for _, l := range split {
			p.Line(l, func(r Record) bool { n++; return true })
		}
		if n == 0 {
			b.Fatal("no records")
		}
	}
}
