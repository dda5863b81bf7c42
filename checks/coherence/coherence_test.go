package coherence

import (
	"os"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/k8s-debug-lab/lab/checks/decode"
	"github.com/k8s-debug-lab/lab/checks/facts"
)

const (
	good    = "../testdata/answers/good/"
	seed    = "../testdata/answers/seed/"
	e2e     = "../../test/e2e/testdata/captured/answers/"
	podlogs = "../parse/podlog/testdata/"
	straces = "../parse/strace/testdata/"
	dumps   = "../parse/tcpdump/testdata/"
	tables  = "../parse/kubectl/testdata/"
	lists   = "../parse/ls/testdata/"
)

// file is one answers file: a real capture, or one edited as a student
// who wrote it would (edit replaces old with new in it).
type file struct {
	step, parser, path string
	edit               [2]string
}

func read(t *testing.T, fs []file) []Answer {
	t.Helper()
	var out []Answer
	for _, f := range fs {
		b, err := os.ReadFile(f.path)
		if err != nil {
			t.Fatal(err)
		}
		if f.edit[0] != "" {
			if !strings.Contains(string(b), f.edit[0]) {
				t.Fatalf("%s holds no %q", f.path, f.edit[0])
			}
			b = []byte(strings.ReplaceAll(string(b), f.edit[0], f.edit[1]))
		}
		e, ok := facts.Lookup(f.parser)
		if !ok {
			t.Fatalf("no extractor %s", f.parser)
		}
		s := facts.NewSet()
		e.Extract(decode.New(strings.NewReader(string(b))).Lines(), s)
		out = append(out, Answer{Step: f.step, Parser: f.parser, Facts: s})
	}
	return out
}

func folder(dir string) []file {
	return []file{
		{step: "step-3", parser: "ls", path: dir + "step-3.txt"},
		{step: "step-5", parser: "tcpdump", path: dir + "step-5.txt"},
		{step: "step-6", parser: "pod-table", path: dir + "step-6.txt"},
		{step: "step-7", parser: "podlog", path: dir + "step-7.txt"},
		{step: "star", parser: "strace", path: dir + "star.txt"},
	}
}

// brief keeps what a test states: rule and steps.
func brief(ds []Disagreement) []string {
	var out []string
	for _, d := range ds {
		out = append(out, d.Rule+" "+strings.Join(d.Steps, ","))
	}
	return out
}

func TestCheck(t *testing.T) {
	tests := []struct {
		name  string
		files []file
		want  []string
	}{
		{name: "the end-to-end answers agree", files: folder(e2e)},
		{name: "the good answers agree", files: folder(good)},
		{name: "the seed write-up agrees (its step-6 IP is in its capture)", files: folder(seed)[1:]},
		{
			// the mixed hand-in: 5 and 6 from one lab, 7 and star from another
			name: "two labs mixed",
			files: []file{
				{step: "step-5", parser: "tcpdump", path: good + "step-5.txt"},
				{step: "step-6", parser: "pod-table", path: good + "step-6.txt"},
				{step: "step-7", parser: "podlog", path: podlogs + "debug-node-ls-tail-cri.txt"},
				{step: "star", parser: "strace", path: straces + "new-f-accept4-read-write.txt"},
			},
			want: []string{"nonce step-5,step-7"}, // this star shows no nonce (-s 32)
		},
		{
			name: "step-6 of another pod than step-5 captured",
			files: []file{
				{step: "step-5", parser: "tcpdump", path: good + "step-5.txt"},
				{step: "step-6", parser: "pod-table", path: seed + "step-6.txt"},
			},
			want: []string{"pod-ip step-6,step-5"},
		},
		{
			name: "a port-forward capture sees only loopback: no claim",
			files: []file{
				{step: "step-5", parser: "tcpdump", path: dumps + "4.99-any.txt"},
				{step: "step-6", parser: "pod-table", path: seed + "step-6.txt"},
			},
		},
		{
			name: "step-7 reads another pod's log",
			files: []file{
				{step: "step-6", parser: "pod-table", path: good + "step-6.txt"},
				{step: "step-7", parser: "podlog", path: podlogs + "public-json-file-docker-desktop.txt"},
			},
			want: []string{"pod-name step-6,step-7"},
		},
		{
			name: "two nginx versions",
			files: []file{
				{step: "step-7", parser: "podlog", path: good + "step-7.txt"},
				{step: "star", parser: "strace", path: straces + "public-worker-404-nginx-1.18.txt"},
			},
			want: []string{"nginx-version step-7,star"},
		},
		{name: "nginx 1.18's files as the lab's image has them", files: []file{{step: "step-3", parser: "ls", path: lists + "public_kyos0109_etc_nginx.txt"}}},
		{name: "the same with ls -h", files: []file{{step: "step-3", parser: "ls", path: lists + "public_busybox_lah_nginx118.txt"}}},
		{name: "Debian's files, ls -lah", files: []file{{step: "step-3", parser: "ls", path: lists + "gnu_lah.txt"}}},
		{
			name:  "a listing written with every size 4096",
			files: []file{{step: "step-3", parser: "ls", path: good + "step-3.txt", edit: [2]string{"root          2837", "root          4096"}}},
			want:  []string{"stock-sizes step-3"},
		},
		{name: "a worker's trace", files: []file{{step: "star", parser: "strace", path: straces + "multi-unfinished-resumed.txt"}}},
		{name: "the master alone", files: []file{{step: "star", parser: "strace", path: straces + "master-rt_sigsuspend.txt"}}},
		{
			name:  "PID 1 accepting",
			files: []file{{step: "star", parser: "strace", path: good + "star.txt", edit: [2]string{"Process 11 ", "Process 1 "}}},
			want:  []string{"pid1-accepts star"},
		},
		{
			name:  "the master accepting",
			files: []file{{step: "star", parser: "strace", path: straces + "multi-unfinished-resumed.txt", edit: [2]string{"[pid  8111]", "[pid  6010]"}}},
			want:  []string{"master-accepts star"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := Check(read(t, tt.files), Options{Pod: "nginx-distroless"})
			if diff := cmp.Diff(tt.want, brief(got)); diff != "" {
				t.Errorf("(-want +got)\n%s\n%+v", diff, got)
			}
		})
	}
}

func TestMessagesNameBothSides(t *testing.T) {
	got := Check(read(t, []file{
		{step: "step-5", parser: "tcpdump", path: good + "step-5.txt"},
		{step: "step-6", parser: "pod-table", path: seed + "step-6.txt"},
	}), Options{Pod: "nginx-distroless"})
	want := "step-6 shows nginx-distroless at 10.244.0.12; step-5's capture never mentions it"
	if len(got) != 1 || !strings.HasPrefix(got[0].Message, want) {
		t.Errorf("got %+v, want a message starting %q", got, want)
	}
}

func TestAgainst(t *testing.T) {
	claims := Claims(read(t, folder(good)), Options{Pod: "nginx-distroless"})
	tests := []struct {
		what, want string
		out        []string
	}{
		{ClaimPodIP, "10.244.0.2", nil},
		{ClaimPodIP, "10.244.0.9", []string{"step-6 shows pod IP 10.244.0.2; the lab record says 10.244.0.9"}},
		{ClaimNonce, "c4fch3i2bc", nil},
		{ClaimNginxVersion, "1.22.1", nil},
		{ClaimNginxVersion, "1.25.3", []string{"step-7 shows nginx/1.22.1; the lab record says nginx/1.25.3"}},
		{ClaimNginxVersion, "", nil},
	}
	for _, tt := range tests {
		var got []string
		for _, d := range Against(claims, tt.what, tt.want, "the lab record says") {
			got = append(got, d.Message)
		}
		if diff := cmp.Diff(tt.out, got); diff != "" {
			t.Errorf("%s=%s (-want +got)\n%s", tt.what, tt.want, diff)
		}
	}
}

func TestSizesData(t *testing.T) {
	if _, err := ParseSizes(sizesText); err != nil {
		t.Fatal(err)
	}
	for _, bad := range []string{"x 1", "x a 2", "x 5 2", "x 1 2\nx 1 2"} {
		if _, err := ParseSizes([]byte(bad)); err == nil {
			t.Errorf("%q: no error", bad)
		}
	}
}
