package checks_test

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"unicode/utf16"

	"github.com/google/go-cmp/cmp"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/k8s-debug-lab/lab/assets"
	"github.com/k8s-debug-lab/lab/checks"
	"github.com/k8s-debug-lab/lab/checks/live"
	"github.com/k8s-debug-lab/lab/checks/spec"
)

func builtin(t testing.TB) *spec.Assignment {
	t.Helper()
	a, err := spec.Load(assets.Lab(), assets.BuiltinSource)
	if err != nil {
		t.Fatalf("built-in assignment: %v", err)
	}
	return a
}

func grade(t *testing.T, dir string, ids ...string) *checks.Report {
	t.Helper()
	return gradeLive(t, dir, nil, ids...)
}

// gradeLive grades dir against what a cluster said (nil: offline).
func gradeLive(t *testing.T, dir string, l *checks.Live, ids ...string) *checks.Report {
	t.Helper()
	rep, err := checks.Grade(context.Background(), builtin(t), ids, checks.Options{Answers: os.DirFS(dir), AnswersName: "answers", Live: l})
	if err != nil {
		t.Fatal(err)
	}
	return rep
}

type verdict struct {
	Status  checks.Status
	Points  int
	Message string
}

func verdicts(rep *checks.Report) map[string]verdict {
	out := map[string]verdict{}
	for _, r := range rep.Results {
		out[r.Step] = verdict{r.Status, r.Points, r.Message}
	}
	return out
}

// The write-up the assignment comes from: real captures, except that its
// step-3 listing is the /pause sandbox's /etc.
func TestSeedAnswers(t *testing.T) {
	rep := grade(t, "testdata/answers/seed")
	want := map[string]verdict{
		"step-1": {checks.Skip, 0, "proven only against the lab's cluster; skipped offline"},
		"step-2": {checks.Skip, 0, "proven only against the lab's cluster; skipped offline"},
		"step-3": {checks.Fail, 0, "this is the /pause sandbox's filesystem, not nginx's"},
		"step-5": {checks.Pass, 3, ""},
		"step-6": {checks.Pass, 1, ""},
		"step-7": {checks.Pass, 2, ""},
		"star":   {checks.Pass, 3, ""},
	}
	if diff := cmp.Diff(want, verdicts(rep)); diff != "" {
		t.Errorf("verdicts (-want +got):\n%s", diff)
	}
	step3 := rep.Results[2]
	if !strings.Contains(step3.Hint, "PID 1 is /pause") {
		t.Errorf("step-3 hint = %q, want the /pause explanation", step3.Hint)
	}
	if len(step3.Closest) == 0 || step3.Closest[0].Got == "" || step3.Closest[0].Line == 0 {
		t.Errorf("step-3 closest = %+v, want the nearest listing line", step3.Closest)
	}
	if rep.ExitCode() != 1 {
		t.Errorf("ExitCode() = %d, want 1", rep.ExitCode())
	}
}

func utf16le(s string) []byte {
	b := []byte{0xFF, 0xFE}
	for _, u := range utf16.Encode([]rune(s)) {
		b = append(b, byte(u), byte(u>>8))
	}
	return b
}

// Bad input never panics, never aborts the other steps, and says what to do.
func TestBadInput(t *testing.T) {
	seed, err := os.ReadFile("testdata/answers/seed/step-5.txt")
	if err != nil {
		t.Fatal(err)
	}
	crlfANSI := "\x1b[32m" + strings.ReplaceAll(string(seed), "\n", "\x1b[0m\r\n")
	tests := []struct {
		name     string
		setup    func(dir string) // writes answers/step-5.txt in some way
		status   checks.Status
		message  string // a substring
		hint     string // a substring
		encoding string
	}{
		{"missing", func(string) {}, checks.Fail, "answers/step-5.txt not found (nor answers/step-5.pcap, answers/step-5.pcapng)", "tcpdump -nn -i any -e host <pod IP> and port 80", ""},
		{"empty", func(d string) { write(t, d, "step-5.txt", nil) }, checks.Fail, "answers/step-5.txt is empty", "tcpdump -nn", ""},
		{"blank lines only", func(d string) { write(t, d, "step-5.txt", []byte("\n\r\n  \n")) }, checks.Fail, "is empty", "", ""},
		{"utf-16 from PowerShell", func(d string) { write(t, d, "step-5.txt", utf16le(string(seed))) }, checks.Pass, "", "", "utf-16le"},
		{"crlf and colours", func(d string) { write(t, d, "step-5.txt", []byte(crlfANSI)) }, checks.Pass, "", "", ""},
		{"binary", func(d string) { write(t, d, "step-5.txt", []byte("\x7fELF\x02\x01\x01\x00\x00\x00\x00\x00")) }, checks.Error, "binary data", "pcap or pcapng", ""},
		{"a folder", func(d string) { os.Mkdir(filepath.Join(d, "step-5.txt"), 0o755) }, checks.Error, "not a regular file", "", ""},
		{"a fifo", func(d string) { mkfifo(filepath.Join(d, "step-5.txt")) }, checks.Error, "not a regular file", "", ""},
		{"no http", func(d string) {
			write(t, d, "step-5.txt", []byte("15:25:03.028337 eth0  In  ifindex 11 5e:43:11:56:d5:e5 ethertype IPv4 (0x0800), length 80: 10.244.0.14.47584 > 10.244.0.12.80: Flags [S], seq 1245060137, win 64240, options [mss 1460,sackOK,TS val 612131784 ecr 0,nop,wscale 7], length 0\n"))
		}, checks.Fail, "only TCP handshakes", "", ""},
		{"another port", func(d string) {
			write(t, d, "step-5.txt", []byte("15:25:03.028337 eth0  In  ifindex 11 5e:43:11:56:d5:e5 ethertype IPv4 (0x0800), length 80: 10.244.0.14.47584 > 10.244.0.12.8080: Flags [S], seq 1245060137, win 64240, length 0\n"))
		}, checks.Fail, "none on port 80", "", ""},
		{"not tcpdump", func(d string) { write(t, d, "step-5.txt", []byte("hello\nworld\n")) }, checks.Fail, "does not look like tcpdump output", "", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if tt.name == "a fifo" && !haveFifos {
				t.Skip("this system has no named pipes in its file system")
			}
			dir := t.TempDir()
			tt.setup(dir)
			before := snapshot(t, dir)
			rep := grade(t, dir, "step-5")
			r := rep.Results[0]
			if r.Status != tt.status || !strings.Contains(r.Message, tt.message) || !strings.Contains(r.Hint, tt.hint) || r.Encoding != tt.encoding {
				t.Errorf("got %s %q (hint %q, encoding %q); want %s %q (hint ~%q, encoding %q)",
					r.Status, r.Message, r.Hint, r.Encoding, tt.status, tt.message, tt.hint, tt.encoding)
			}
			if diff := cmp.Diff(before, snapshot(t, dir)); diff != "" {
				t.Errorf("the answers folder changed (-before +after):\n%s", diff)
			}
		})
	}
}

func write(t *testing.T, dir, name string, data []byte) {
	t.Helper()
	if err := os.WriteFile(filepath.Join(dir, name), data, 0o644); err != nil {
		t.Fatal(err)
	}
}

// snapshot records every file's name, mode and content.
func snapshot(t *testing.T, dir string) map[string]string {
	t.Helper()
	out := map[string]string{}
	entries, _ := os.ReadDir(dir)
	for _, e := range entries {
		info, _ := e.Info()
		content := ""
		if info.Mode().IsRegular() {
			b, _ := os.ReadFile(filepath.Join(dir, e.Name()))
			content = string(b)
		}
		out[e.Name()] = info.Mode().String() + " " + content
	}
	return out
}

func TestExitCodes(t *testing.T) {
	dir := t.TempDir()
	seed, _ := os.ReadFile("testdata/answers/seed/step-5.txt")
	write(t, dir, "step-5.txt", seed)
	write(t, dir, "step-6.txt", []byte{0, 1, 2, 3})
	if code := grade(t, dir, "step-5").ExitCode(); code != 0 {
		t.Errorf("passing step: exit %d, want 0", code)
	}
	if code := grade(t, dir, "step-5", "step-1").ExitCode(); code != 0 {
		t.Errorf("pass + skipped: exit %d, want 0", code)
	}
	if code := grade(t, dir, "step-5", "step-7").ExitCode(); code != 1 {
		t.Errorf("pass + missing: exit %d, want 1", code)
	}
	if code := grade(t, dir, "step-6", "step-7").ExitCode(); code != 2 {
		t.Errorf("unreadable + missing: exit %d, want 2", code)
	}
}

func TestSelect(t *testing.T) {
	a := builtin(t)
	ids := func(steps []spec.Step) []string {
		var out []string
		for _, s := range steps {
			out = append(out, s.ID)
		}
		return out
	}
	for _, tt := range []struct {
		in   []string
		want []string
	}{
		{nil, a.IDs()},
		{[]string{"all"}, a.IDs()},
		{[]string{"star", "3"}, []string{"step-3", "star"}},
		{[]string{"step-5", "step-5"}, []string{"step-5"}},
	} {
		got, err := checks.Select(a, tt.in)
		if err != nil {
			t.Fatal(err)
		}
		if diff := cmp.Diff(tt.want, ids(got)); diff != "" {
			t.Errorf("Select(%v) (-want +got):\n%s", tt.in, diff)
		}
	}
	if _, err := checks.Select(a, []string{"step-9"}); err == nil || !strings.Contains(err.Error(), `unknown step "step-9"`) {
		t.Errorf("Select(step-9) error = %v", err)
	}
}

// fileOptions grade one file, as lab check --file does: through its
// folder.
func fileOptions(file string) checks.Options {
	dir := filepath.Dir(file)
	return checks.Options{Answers: os.DirFS(dir), AnswersName: filepath.ToSlash(dir), File: filepath.Base(file)}
}

func TestFileOption(t *testing.T) {
	a := builtin(t)
	ctx := context.Background()
	if _, err := checks.Grade(ctx, a, nil, checks.Options{File: "x"}); err == nil {
		t.Error("--file with every step selected must be refused")
	}
	rep, err := checks.Grade(ctx, a, []string{"star"}, checks.Options{Answers: os.DirFS("testdata/answers/seed"), AnswersName: "testdata/answers/seed", File: "star.txt"})
	if err != nil {
		t.Fatal(err)
	}
	if r := rep.Results[0]; r.Status != checks.Pass || r.File != "testdata/answers/seed/star.txt" {
		t.Errorf("--file: %s %q, want pass on the given file", r.Status, r.File)
	}
	rep, _ = checks.Grade(ctx, a, []string{"star"}, checks.Options{File: "nope.txt"})
	if r := rep.Results[0]; r.Status != checks.Error || !strings.Contains(r.Message, "not found") {
		t.Errorf("--file missing: %s %q, want error naming it", r.Status, r.Message)
	}
}

// One rule for links, whoever reads the folder: a link inside it is
// followed, one out of it is refused with what to do, and a folder that
// is not there reads as empty.
func TestOpenAnswersKeepsInsideTheFolder(t *testing.T) {
	a := builtin(t)
	dir := t.TempDir()
	secret := filepath.Join(t.TempDir(), "secret.txt")
	if err := os.WriteFile(secret, []byte("total 1\n-rw-r--r-- 1 root root 4 Feb 14 10:59 instructors-only\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	seed, err := os.ReadFile("testdata/answers/seed/star.txt")
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "real.txt"), seed, 0o644); err != nil {
		t.Fatal(err)
	}
	for link, target := range map[string]string{"step-3.txt": secret, "star.txt": "real.txt"} {
		if err := os.Symlink(target, filepath.Join(dir, link)); err != nil {
			t.Skip(err)
		}
	}
	fsys, closeAnswers, err := checks.OpenAnswers(dir)
	if err != nil {
		t.Fatal(err)
	}
	defer closeAnswers()
	rep, err := checks.Grade(context.Background(), a, []string{"step-3", "star"}, checks.Options{Answers: fsys})
	if err != nil {
		t.Fatal(err)
	}
	got := map[string]string{}
	for _, r := range rep.Results {
		got[r.Step] = string(r.Status) + ": " + r.Message
	}
	if want := "error: answers/step-3.txt is a link that leads out of the answers folder"; got["step-3"] != want {
		t.Errorf("step-3: %q, want %q", got["step-3"], want)
	}
	if !strings.HasPrefix(got["star"], "pass") {
		t.Errorf("star through a link inside the folder: %q", got["star"])
	}
	fsys, closeAnswers, err = checks.OpenAnswers(filepath.Join(dir, "nope"))
	if err != nil {
		t.Fatal(err)
	}
	defer closeAnswers()
	rep, _ = checks.Grade(context.Background(), a, []string{"star"}, checks.Options{Answers: fsys})
	if r := rep.Results[0]; r.Status != checks.Fail || !strings.Contains(r.Message, "answers/star.txt not found") {
		t.Errorf("a missing folder: %s %q", r.Status, r.Message)
	}
}

// A large answer is streamed: grading it must not need memory in
// proportion to its size (the 64 MB RSS target is in bench/run).
func TestLargeAnswerStreams(t *testing.T) {
	seed, _ := os.ReadFile("testdata/answers/seed/step-5.txt")
	dir := t.TempDir()
	f, err := os.Create(filepath.Join(dir, "step-5.txt"))
	if err != nil {
		t.Fatal(err)
	}
	body := bytes.Repeat(seed, 2000) // ~8 MB
	f.Write(body)
	f.Close()
	rep := grade(t, dir, "step-5")
	if r := rep.Results[0]; r.Status != checks.Pass {
		t.Fatalf("large capture: %s %q", r.Status, r.Message)
	}
}

// A large answer is decoded ahead of the parser on a goroutine of its
// own: what it finds late in the file still decides the verdict.
func TestLargeAnswerReadAhead(t *testing.T) {
	seed, _ := os.ReadFile("testdata/answers/seed/step-5.txt")
	body := bytes.Repeat(seed, 1000) // ~7 MB, above the read-ahead size
	tests := []struct {
		name   string
		tail   string
		status checks.Status
		msg    string
	}{
		{"passes", "", checks.Pass, ""},
		{"binary at the end", "\x00\x01\x02\n", checks.Error, "binary data"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := t.TempDir()
			write(t, dir, "step-5.txt", append(append([]byte(nil), body...), tt.tail...))
			r := grade(t, dir, "step-5").Results[0]
			if r.Status != tt.status || !strings.Contains(r.Message, tt.msg) {
				t.Fatalf("got %s %q, want %s %q", r.Status, r.Message, tt.status, tt.msg)
			}
		})
	}
}

func TestVerdictsOnParserSamples(t *testing.T) {
	a := builtin(t)
	for _, tt := range verdictsOnSamples {
		t.Run(tt.step+"/"+tt.file, func(t *testing.T) {
			rep, err := checks.Grade(context.Background(), a, []string{tt.step}, fileOptions(tt.file))
			if err != nil {
				t.Fatal(err)
			}
			r := rep.Results[0]
			if string(r.Status) != tt.status || r.Message != tt.message {
				t.Errorf("got %s %q, want %s %q", r.Status, r.Message, tt.status, tt.message)
			}
			if r.Status != checks.Pass && r.Hint == "" {
				t.Error("a failed step needs a hint")
			}
		})
	}
}

// A folder of real captures passes every offline step: exit code 0.
func TestGoodAnswers(t *testing.T) {
	rep := grade(t, "testdata/answers/good")
	for _, r := range rep.Results {
		want := checks.Pass
		if r.Step == "step-1" || r.Step == "step-2" {
			want = checks.Skip
		}
		if r.Status != want {
			t.Errorf("%s: %s %q, want %s", r.Step, r.Status, r.Message, want)
		}
	}
	if rep.ExitCode() != 0 || rep.Summary.Points != 11 {
		t.Errorf("exit %d with %d points, want 0 with 11", rep.ExitCode(), rep.Summary.Points)
	}
}

// liveCluster is a cluster whose pod differs from the seed's in every value
// that is random per cluster.
func liveCluster(t testing.TB) *checks.Live {
	share := true
	pod := &corev1.Pod{
		ObjectMeta: metav1.ObjectMeta{Name: "nginx-distroless", Namespace: "default", UID: "0f1e2d3c-4b5a-6978-8a9b-acbdcedf0011"},
		Spec: corev1.PodSpec{ShareProcessNamespace: &share, NodeName: "lab-node",
			Containers: []corev1.Container{{Name: "nginx"}}},
		Status: corev1.PodStatus{Phase: corev1.PodRunning, PodIP: "10.88.0.7"},
	}
	snap := live.For(builtin(t), "default")
	snap.Pod, snap.Nonce, snap.TrafficSources = pod, "k3x9abcdef", []string{"127.0.0.1", "10.88.0.9"}
	return live.Evaluate(snap)
}

// The seed's outputs come from another cluster: the live cross-checks fail
// them, naming the difference.
func TestSeedFailsLiveCrossChecks(t *testing.T) {
	rep := gradeLive(t, "testdata/answers/seed", liveCluster(t))
	want := map[string]verdict{
		"step-1": {checks.Pass, 1, ""},
		"step-2": {checks.Fail, 0, "no ephemeral container targets nginx"},
		"step-3": {checks.Fail, 0, "this is the /pause sandbox's filesystem, not nginx's"},
		"step-5": {checks.Fail, 0, "no request in this capture carries this lab's nonce (lab=k3x9abcdef): it was not captured here while lab traffic ran"},
		"step-6": {checks.Fail, 0, "the table shows nginx-distroless=10.244.0.12, but this pod's IP is 10.88.0.7"},
		"step-7": {checks.Fail, 0, "no access entry carries this lab's nonce (lab=k3x9abcdef): this log is not this pod's, or was read before lab traffic ran"},
		"star":   {checks.Pass, 3, ""},
	}
	if diff := cmp.Diff(want, verdicts(rep)); diff != "" {
		t.Errorf("verdicts (-want +got):\n%s", diff)
	}
	if rep.Offline {
		t.Error("a report with live facts is not offline")
	}
}

// The same outputs made on this cluster (its IP, UID, node and nonce) pass.
func TestMatchingAnswersPassLiveCrossChecks(t *testing.T) {
	dir := t.TempDir()
	swap := strings.NewReplacer(
		"10.244.0.12", "10.88.0.7", "10.244.0.14", "10.88.0.9", "minikube", "lab-node",
		"84d58bd0-ac6b-4cb7-98a3-9b6726cd27ab", "0f1e2d3c-4b5a-6978-8a9b-acbdcedf0011",
		"GET / HTTP/1.1", "GET /?lab=k3x9abcdef HTTP/1.1")
	for _, f := range []string{"step-5.txt", "step-6.txt", "step-7.txt", "star.txt"} {
		b, err := os.ReadFile(filepath.Join("testdata/answers/seed", f))
		if err != nil {
			t.Fatal(err)
		}
		write(t, dir, f, []byte(swap.Replace(string(b))))
	}
	rep := gradeLive(t, dir, liveCluster(t), "step-5", "step-6", "step-7", "star")
	for _, r := range rep.Results {
		want := checks.Pass
		if r.Step == "step-6" {
			want = checks.Fail // the file matches, but no node debugger ran in this cluster
		}
		if r.Status != want {
			t.Errorf("%s: %s %q, want %s", r.Step, r.Status, r.Message, want)
		}
	}
	if msg := rep.Results[1].Message; !strings.Contains(msg, "no node debugger pod ran on lab-node") {
		t.Errorf("step-6 message %q", msg)
	}
}

func TestCrossCheckSkippedWithoutTheValue(t *testing.T) {
	l := liveCluster(t)
	delete(l.Vars, "nonce") // lab traffic never ran: nothing to compare the nonce with
	rep := gradeLive(t, "testdata/answers/seed", l, "step-5")
	if r := rep.Results[0]; r.Status != checks.Fail || !strings.Contains(r.Message, "no packet to or from this pod's IP 10.88.0.7 (the capture shows 127.0.0.1, 10.244.0.14, 10.244.0.12)") {
		t.Errorf("step-5: %s %q", r.Status, r.Message)
	}
}

// BenchmarkGradeTcpdumpText is the text path bench/run times in the
// binary, without the process start: a large capture made of the seed's
// packet lines, read from a file through decode, the tcpdump parser, its
// facts and the nearest-line watcher, then graded.
func BenchmarkGradeTcpdumpText(b *testing.B) {
	seed, err := os.ReadFile("testdata/answers/seed/step-5.txt")
	if err != nil {
		b.Fatal(err)
	}
	var packets []byte
	for _, l := range bytes.SplitAfter(seed, []byte("\n")) {
		if len(l) > 3 && l[0] >= '0' && l[0] <= '9' && l[2] == ':' {
			packets = append(packets, l...)
		}
	}
	head := bytes.SplitAfterN(seed, []byte("\n"), 3)
	body := append(head[0], head[1]...)
	for len(body) < 50<<20 {
		body = append(body, packets...)
	}
	file := filepath.Join(b.TempDir(), "step-5.txt")
	if err := os.WriteFile(file, body, 0o644); err != nil {
		b.Fatal(err)
	}
	a := builtin(b)
	b.SetBytes(int64(len(body)))
	b.ReportAllocs()
	for b.Loop() {
		rep, err := checks.Grade(context.Background(), a, []string{"step-5"}, fileOptions(file))
		if err != nil {
			b.Fatal(err)
		}
		if r := rep.Results[0]; r.Status != checks.Pass {
			b.Fatalf("%s %q", r.Status, r.Message)
		}
	}
}
