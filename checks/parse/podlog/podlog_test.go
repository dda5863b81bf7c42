package podlog

import (
	"bufio"
	"bytes"
	"fmt"
	"iter"
	"os"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/k8s-debug-lab/lab/checks/parse/internal/parsetest"
	"github.com/k8s-debug-lab/lab/internal/golden"
)

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

func short(b []byte) string {
	if len(b) > 80 {
		return fmt.Sprintf("%q…(%d bytes)", b[:80], len(b))
	}
	return fmt.Sprintf("%q", b)
}

// format renders a record on one line for golden files and table tests.
func format(r Record) string {
	var b strings.Builder
	b.WriteString(r.Kind.String())
	if r.Kind == Message {
		fmt.Fprintf(&b, " %s", r.Format)
		if len(r.Stream) > 0 {
			fmt.Fprintf(&b, " %s", r.Stream)
		}
		if len(r.Time) > 0 {
			fmt.Fprintf(&b, " time=%s", r.Time)
		}
		if r.Partial {
			fmt.Fprintf(&b, " partial=%d", r.Pieces)
		}
		if r.Incomplete {
			b.WriteString(" incomplete")
		}
		fmt.Fprintf(&b, " %s", r.Content)
		switch r.Content {
		case Access:
			a := r.Access
			fmt.Fprintf(&b, " client=%s user=%s req=%s status=%d bytes=%d", a.Client, a.User, short(a.Request), a.Status, a.Bytes)
			if len(a.Method) > 0 {
				fmt.Fprintf(&b, " method=%s proto=%s", a.Method, a.Proto)
			}
			if a.HasAgent {
				fmt.Fprintf(&b, " referer=%q agent=%q", a.Referer, a.Agent)
			}
			if a.HasForwardedFor {
				fmt.Fprintf(&b, " xff=%q", a.ForwardedFor)
			}
		case NginxError:
			fmt.Fprintf(&b, " level=%s msg=%s", r.Level, short(r.Msg))
		default:
			fmt.Fprintf(&b, " msg=%s", short(r.Msg))
		}
	}
	if len(r.Path) > 0 {
		fmt.Fprintf(&b, " path=%s", r.Path)
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
			name: "cri full line, Z",
			in:   `2026-02-14T15:22:26.515224136Z stdout F 127.0.0.1 - - [14/Feb/2026:23:22:26 +0800] "GET /?lab=abc HTTP/1.1" 200 612 "-" "curl/8.7.1" "-"`,
			want: []string{`message cri stdout time=2026-02-14T15:22:26.515224136Z access client=127.0.0.1 user=- req="GET /?lab=abc HTTP/1.1" status=200 bytes=612 method=GET proto=HTTP/1.1 referer="-" agent="curl/8.7.1" xff="-"`},
		},
		{
			name: "cri offset, stderr error-log line",
			in:   `2026-02-14T23:22:26.5+08:00 stderr F 2026/02/14 15:22:26 [notice] 1#1: start worker processes`,
			want: []string{`message cri stderr time=2026-02-14T23:22:26.5+08:00 nginx-error level=notice msg="2026/02/14 15:22:26 [notice] 1#1: start worker processes"`},
		},
		{
			name: "cri partial pieces joined, streams kept apart",
			in: "2026-02-14T15:22:26Z stdout P 10.0.0.1 - - [14/Feb/2026:15:22:26 +0000] \"GET /?lab=a\n" +
				"2026-02-14T15:22:26Z stderr F 2026/02/14 15:22:26 [error] 7#7: oops\n" +
				"2026-02-14T15:22:27Z stdout P bc HTTP/1.1\" 200 1 \"-\"\n" +
				"2026-02-14T15:22:27Z stdout F  \"x\"\n",
			want: []string{
				`message cri stderr time=2026-02-14T15:22:26Z nginx-error level=error msg="2026/02/14 15:22:26 [error] 7#7: oops"`,
				`message cri stdout time=2026-02-14T15:22:27Z partial=3 access client=10.0.0.1 user=- req="GET /?lab=abc HTTP/1.1" status=200 bytes=1 method=GET proto=HTTP/1.1 referer="-" agent="x"`,
			},
		},
		{
			name: "cri forward-compatible tag and empty message",
			in:   "2026-02-14T15:22:26Z stdout F:x hello\n2026-02-14T15:22:26Z stdout F",
			want: []string{`message cri stdout time=2026-02-14T15:22:26Z other msg="hello"`, `message cri stdout time=2026-02-14T15:22:26Z other msg=""`},
		},
		{
			// a terminal that wrapped the line and dropped the blank at the break
			name: "cri line broken at a blank by a copy, blank lost",
			in: "2026-11-28T01:22:54.92024061Z stdout F 127.0.0.1 - - [28/Nov/2026:01:22:54 +0000] \"GET /?lab=c4fch3i2bc HTTP/1.1\" 200\n" +
				"154 \"-\" \"lab-traffic/dev\"\n",
			want: []string{`message cri stdout time=2026-11-28T01:22:54.92024061Z access client=127.0.0.1 user=- req="GET /?lab=c4fch3i2bc HTTP/1.1" status=200 bytes=154 method=GET proto=HTTP/1.1 referer="-" agent="lab-traffic/dev"`},
		},
		{
			name: "a loose line after a whole cri line is not joined to it",
			in: "2026-11-28T01:22:54.92024061Z stdout F 127.0.0.1 - - [28/Nov/2026:01:22:54 +0000] \"GET / HTTP/1.1\" 200 154 \"-\" \"curl/8.7.1\"\n" +
				"some words\n",
			want: []string{`message cri stdout time=2026-11-28T01:22:54.92024061Z access client=127.0.0.1 user=- req="GET / HTTP/1.1" status=200 bytes=154 method=GET proto=HTTP/1.1 referer="-" agent="curl/8.7.1"`, "unknown"},
		},
		{
			name: "json-file line broken in three, then a whole one",
			in: `{"log":"127.0.0.1 - - [14/Feb/2026:23:22:26 +0800] \"GET / HTTP/1.1\" 200 612 \"` + "\n" +
				`-\" \"curl/8.7.1\" \"-\"\n","stream":"stdout","time":"2026-02-14T15:22:26.515224` + "\n" +
				`136Z"}` + "\n" +
				`{"log":"x\n","stream":"stdout","time":"2026-02-14T15:22:27Z"}`,
			want: []string{
				`message json stdout time=2026-02-14T15:22:26.515224136Z access client=127.0.0.1 user=- req="GET / HTTP/1.1" status=200 bytes=612 method=GET proto=HTTP/1.1 referer="-" agent="curl/8.7.1" xff="-"`,
				`message json stdout time=2026-02-14T15:22:27Z other msg="x"`,
			},
		},
		{
			name: "a json-file line that never closes stays unknown",
			in:   `{"log":"127.0.0.1 - - [14/Feb` + "\n" + `2026-02-14T15:22:26Z stdout F x`,
			want: []string{"unknown", `message cri stdout time=2026-02-14T15:22:26Z other msg="x"`},
		},
		{
			name: "unterminated partial flushed at the end",
			in:   "2026-02-14T15:22:26Z stdout P 10.0.0.1 - - [x] \"GET / HTTP/1.1\" 200 5",
			want: []string{`message cri stdout time=2026-02-14T15:22:26Z partial=1 incomplete access client=10.0.0.1 user=- req="GET / HTTP/1.1" status=200 bytes=5 method=GET proto=HTTP/1.1`},
		},
		{
			name: "json-file with escapes and partial",
			in: `{"log":"127.0.0.1 - - [14/Feb/2026:23:22:26 +0800] \"GET /?lab=a\u0026n=2 HT","stream":"stdout","time":"2026-02-14T15:22:26.515224136Z"}` + "\n" +
				`{"log":"TP/1.1\" 404 153 \"-\" \"caf\u00e9\" \"-\"\n","stream":"stdout","time":"2026-02-14T15:22:26.6Z"}`,
			want: []string{`message json stdout time=2026-02-14T15:22:26.6Z partial=2 access client=127.0.0.1 user=- req="GET /?lab=a&n=2 HTTP/1.1" status=404 bytes=153 method=GET proto=HTTP/1.1 referer="-" agent="café" xff="-"`},
		},
		{
			name: "json-file with attrs and key order",
			in:   `{"time":"2026-02-14T15:22:26Z","attrs":{"a":[1,"}"]},"stream":"stderr","log":"nginx: [emerg] bind() failed\n"}`,
			want: []string{`message json stderr time=2026-02-14T15:22:26Z nginx-error level=emerg msg="nginx: [emerg] bind() failed"`},
		},
		{
			name: "plain kubectl logs",
			in:   "/docker-entrypoint.sh: Configuration complete; ready for start up\n10.244.0.1 - - [14/Feb/2026:15:22:26 +0000] \"GET / HTTP/1.1\" 200 615 \"-\" \"curl/8.5.0\"",
			want: []string{
				`message plain other msg="/docker-entrypoint.sh: Configuration complete; ready for start up"`,
				`message plain access client=10.244.0.1 user=- req="GET / HTTP/1.1" status=200 bytes=615 method=GET proto=HTTP/1.1 referer="-" agent="curl/8.5.0"`,
			},
		},
		{
			name: "noise around a node read",
			in: "Creating debugging pod node-debugger-minikube-n47p5 with container debugger on node minikube.\n" +
				"==> /var/log/pods/default_nginx_84d58bd0-ac6b-4cb7-98a3-9b6726cd27ab/nginx/0.log <==\n" +
				"lrwxrwxrwx 1 root root 99 Feb 14 15:22 a.log -> /var/log/pods/x/nginx/0.log\n" +
				"total 4.0K\n" +
				"cat: /var/log/pods/x: No such file or directory\n" +
				"/ # whoami\n" +
				"hello world\n",
			want: []string{
				"banner",
				"header path=/var/log/pods/default_nginx_84d58bd0-ac6b-4cb7-98a3-9b6726cd27ab/nginx/0.log",
				"listing path=a.log",
				"listing",
				"tool-error",
				"command",
				"unknown",
			},
		},
		{
			name: "grep -H prefix",
			in:   `0.log:2026-02-14T15:22:26Z stdout F ::1 - - [14/Feb/2026:15:22:26 +0000] "GET / HTTP/1.1" 200 615 "-" "curl/8.5.0" "-"`,
			want: []string{`message cri stdout time=2026-02-14T15:22:26Z access client=::1 user=- req="GET / HTTP/1.1" status=200 bytes=615 method=GET proto=HTTP/1.1 referer="-" agent="curl/8.5.0" xff="-" path=0.log`},
		},
		{
			name: "not a timestamp",
			in:   "2026-02-14 15:22:26 stdout F hello",
			want: []string{"unknown"},
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

func TestHelpers(t *testing.T) {
	var got []string
	LogPaths([]byte("cat: '/var/log/pods/default_nginx-distroless_84d58bd0-ac6b-4cb7-98a3-9b6726cd27ab/nginx/0.log': x /var/log/containers/a.log:"), func(p []byte) {
		got = append(got, string(p))
	})
	want := []string{"/var/log/pods/default_nginx-distroless_84d58bd0-ac6b-4cb7-98a3-9b6726cd27ab/nginx/0.log", "/var/log/containers/a.log"}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("LogPaths (-want +got)\n%s", diff)
	}
	for in, want := range map[string]string{
		"default_nginx-distroless_84d58bd0-ac6b-4cb7-98a3-9b6726cd27ab/": "84d58bd0-ac6b-4cb7-98a3-9b6726cd27ab",
		"default_nginx-distroless_<POD_UID>":                             "",
		"x_84d58bd0-ac6b-4cb7-98a3-9b6726cd27abff":                       "",
	} {
		if got := string(PodUID([]byte(in))); got != want {
			t.Errorf("PodUID(%q) = %q, want %q", in, got, want)
		}
	}
}

func sampleFiles(t testing.TB) []string {
	return parsetest.Samples(t, "testdata/*.txt", "testdata/real/*")
}

// TestGolden compares every sample's records with <sample>.golden beside it;
// -update writes them. Real captures dropped into testdata/real/ are picked
// up the same way.
func TestGolden(t *testing.T) {
	for _, f := range sampleFiles(t) {
		t.Run(f, func(t *testing.T) {
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

func TestPartialBounded(t *testing.T) {
	var p Parser
	piece := "2026-02-14T15:22:26Z stdout P " + strings.Repeat("a", 16<<10)
	for range 100 {
		p.Line([]byte(piece), func(Record) bool { return true })
	}
	if n := len(p.part[0].buf); n > MaxMessage {
		t.Fatalf("partial buffer holds %d bytes, more than %d", n, MaxMessage)
	}
	var got Record
	p.Line([]byte("2026-02-14T15:22:26Z stdout F b"), func(r Record) bool { got = r; return true })
	if got.Pieces != 101 || !got.Partial || len(got.Msg) != MaxMessage {
		t.Errorf("joined %d pieces into %d bytes", got.Pieces, len(got.Msg))
	}
}

func FuzzParse(f *testing.F) {
	parsetest.Corpus[string](f, 8<<10, "testdata/*.txt", "testdata/real/*")
	f.Add(`{"log":"\ud83d\ude00\u12","stream":"stdout"}` + "\n" + `{"log":` + "\n2026-02-14T15:22:26Z stdout P x\n")
	f.Fuzz(func(t *testing.T, in string) {
		n, nonBlank := 0, 0
		var p Parser
		for _, l := range strings.Split(in, "\n") {
			if len(bytes.TrimSpace([]byte(l))) > 0 {
				nonBlank++
			}
			p.Line([]byte(l), func(r Record) bool {
				n++
				if len(r.Msg) > MaxMessage+len(l) {
					t.Fatalf("message of %d bytes", len(r.Msg))
				}
				return true
			})
		}
		p.Close(func(Record) bool { n++; return true })
		if n > nonBlank+2 {
			t.Fatalf("%d records from %d lines", n, nonBlank)
		}
	})
}

func benchParse(b *testing.B, split [][]byte) {
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

func BenchmarkParseCRI(b *testing.B) {
	benchParse(b, parsetest.BenchLines(b, 4<<20, "testdata/cri-utc-partial.txt"))
}
func BenchmarkParseJSON(b *testing.B) {
	benchParse(b, parsetest.BenchLines(b, 4<<20, "testdata/json-file-partial.txt"))
}
