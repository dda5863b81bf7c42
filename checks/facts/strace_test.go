package facts

import (
	"os"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/k8s-debug-lab/lab/checks/decode"
)

// straceExtractFile runs the extractor called name over a testdata file the way
// lab check does: through the decoder.
func straceExtractFile(t *testing.T, name, path string) *Set {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	e, ok := Lookup(name)
	if !ok {
		t.Fatalf("no extractor %q", name)
	}
	s := NewSet()
	e.Extract(decode.New(f).Lines(), s)
	return s
}

// stracePick keeps only the named facts, so a test states what it cares about.
func stracePick(s *Set, names ...string) map[string]Fact {
	out := map[string]Fact{}
	for _, n := range names {
		if f := s.Get(n); f.Count > 0 {
			out[n] = f
		}
	}
	return out
}

func TestStraceFacts(t *testing.T) {
	const dir = "../parse/strace/testdata/"
	names := []string{"accept", "request", "response", "log.write", "handled", "rt_sigsuspend", "master.only", "summary.only", "ptrace.denied", "nonce", "error", "attached"}
	tests := []struct {
		file   string
		format string
		want   map[string]Fact
	}{
		{
			file:   "seed-new-format.txt",
			format: "strace",
			want: map[string]Fact{
				"accept":    {Count: 2, Values: []string{"127.0.0.1", "10.244.0.1"}},
				"log.write": {Count: 2, Values: []string{"127.0.0.1 - - [14/Feb/2026:23:35", "10.244.0.1 - - [14/Feb/2026:23:3"}},
				"handled":   {Count: 4, Values: []string{"accept", "log.write"}},
			},
		},
		{
			file:   "old-format-websrv.txt",
			format: "strace (4.x/5.x format)",
			want: map[string]Fact{
				"accept":    {Count: 1, Values: []string{"127.0.0.1"}},
				"request":   {Count: 1, Values: []string{"GET / HTTP/1.1"}},
				"response":  {Count: 1, Values: []string{"HTTP/1.1 200 OK"}},
				"log.write": {Count: 1, Values: []string{"127.0.0.1 - - [17/Sep/2024:02:27"}},
				"handled":   {Count: 4, Values: []string{"accept", "request", "response", "log.write"}},
				"attached":  {Count: 1, Values: []string{"7"}},
			},
		},
		{
			file:   "new-yy-s200.txt",
			format: "strace",
			want: map[string]Fact{
				"accept": {Count: 3, Values: []string{"127.0.0.1", "::1"}},
				"request": {Count: 3, Values: []string{
					"GET /?lab=k7q2x9 HTTP/1.1", "GET /index.html?lab=k7q2x9&n=2 HTTP/1.1", "GET /missing?lab=k7q2x9 HTTP/1.1"}},
				"response": {Count: 3, Values: []string{"HTTP/1.1 200 OK", "HTTP/1.1 404 Not Found"}},
				"log.write": {Count: 3, Values: []string{
					`127.0.0.1 - - [27/Nov/2026:23:55:58 +0000] "GET /?lab=k7q2x9 HTTP/1.1" 200 615 "-" "curl/7.88.1"`,
					`127.0.0.1 - - [27/Nov/2026:23:55:58 +0000] "GET /index.html?lab=k7q2x9&n=2 HTTP/1.1" 404 153 "-" "lab-traffic/1.0"`,
					`::1 - - [27/Nov/2026:23:55:58 +0000] "GET /missing?lab=k7q2x9 HTTP/1.1" 404 153 "-" "curl/7.88.1"`}},
				"handled":  {Count: 12, Values: []string{"accept", "request", "response", "log.write"}},
				"nonce":    {Count: 6, Values: []string{"k7q2x9"}},
				"attached": {Count: 1, Values: []string{"6011"}},
			},
		},
		{
			file:   "master-rt_sigsuspend.txt",
			format: "strace",
			want: map[string]Fact{
				"rt_sigsuspend": {Count: 1},
				"master.only":   {Count: 1},
				"attached":      {Count: 1, Values: []string{"6010"}},
			},
		},
		{
			file:   "summary-c.txt",
			format: "strace -c summary",
			want: map[string]Fact{
				"summary.only": {Count: 1},
				"attached":     {Count: 1, Values: []string{"6011"}},
			},
		},
		{
			file:   "denied-no-cap-sys-ptrace.txt",
			format: "strace (attach failed)",
			want: map[string]Fact{
				"ptrace.denied": {Count: 1, Values: []string{"attach: ptrace(PTRACE_SEIZE, 8670): Operation not permitted"}},
				"error":         {Count: 1, Values: []string{"attach: ptrace(PTRACE_SEIZE, 8670): Operation not permitted"}},
			},
		},
		{
			file:   "seed-ptrace-denied-old-message.txt",
			format: "strace (attach failed)",
			want: map[string]Fact{
				"ptrace.denied": {Count: 1, Values: []string{"ptrace(PTRACE_SEIZE, 1): Operation not permitted"}},
				"error":         {Count: 1, Values: []string{"ptrace(PTRACE_SEIZE, 1): Operation not permitted"}},
			},
		},
		{
			file:   "no-such-process.txt",
			format: "strace (attach failed)",
			want: map[string]Fact{
				"error": {Count: 1, Values: []string{"attach: ptrace(PTRACE_SEIZE, 999999): No such process"}},
			},
		},
		{
			file:   "multi-unfinished-resumed.txt",
			format: "strace",
			want: map[string]Fact{
				"accept":        {Count: 2, Values: []string{"127.0.0.1"}},
				"request":       {Count: 2, Values: []string{"GET /?lab=k7q2x9 HTTP/1.1", "GET /?lab=k7q2x9&n=3 HTTP/1.1"}},
				"response":      {Count: 2, Values: []string{"HTTP/1.1 200 OK"}},
				"log.write":     {Count: 2, Values: []string{"127.0.0.1 - - [27/Nov/2026:23:56"}},
				"handled":       {Count: 8, Values: []string{"accept", "request", "response", "log.write"}},
				"rt_sigsuspend": {Count: 4},
				"nonce":         {Count: 2, Values: []string{"k7q2x9"}},
				"attached":      {Count: 3, Values: []string{"6010", "8111", "8670"}},
			},
		},
	}
	for _, tt := range tests {
		t.Run(tt.file, func(t *testing.T) {
			s := straceExtractFile(t, "strace", dir+tt.file)
			if s.Format != tt.format {
				t.Errorf("Format = %q, want %q", s.Format, tt.format)
			}
			if diff := cmp.Diff(tt.want, stracePick(s, names...)); diff != "" {
				t.Errorf("(-want +got)\n%s", diff)
			}
			if u := s.Get("unknown"); u.Count > 0 {
				t.Errorf("unknown lines: %v", u.Values)
			}
		})
	}
}

func TestStraceFactsJoinedAndErrno(t *testing.T) {
	s := straceExtractFile(t, "strace", "../parse/strace/testdata/eagain-multi-accept-tt-T.txt")
	want := map[string]Fact{
		"errno":  {Count: 1, Values: []string{"EAGAIN"}},
		"accept": {Count: 3, Values: []string{"127.0.0.1"}},
		"line":   {Count: 46},
	}
	if diff := cmp.Diff(want, stracePick(s, "errno", "accept", "line")); diff != "" {
		t.Errorf("(-want +got)\n%s", diff)
	}
	s = straceExtractFile(t, "strace", "../parse/strace/testdata/multi-unfinished-resumed.txt")
	if got := s.Get("joined").Count; got != 7 {
		t.Errorf("joined = %d, want 7", got)
	}
	if got := s.Get("signal").Values; !cmp.Equal(got, []string{"SIGHUP", "SIGCHLD", "SIGIO"}) {
		t.Errorf("signal values = %v", got)
	}
}

func TestStraceFactsDocumented(t *testing.T) {
	e, _ := Lookup("strace")
	for _, f := range []string{"syscall", "accept", "request", "response", "log.write", "handled", "rt_sigsuspend", "master.only", "summary", "summary.only", "ptrace.denied", "attached", "nonce", "error", "line", "unknown"} {
		if !Documents(e, f) {
			t.Errorf("fact %q not documented", f)
		}
	}
}
