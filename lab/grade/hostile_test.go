//go:build linux

package grade_test

import (
	"bytes"
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"unicode/utf8"

	"github.com/google/go-cmp/cmp"

	"github.com/k8s-debug-lab/lab/checks"
	"github.com/k8s-debug-lab/lab/lab/grade"
	"github.com/k8s-debug-lab/lab/lab/grade/gradetest"
)

// secretMark is in every file outside the class folder: no report may
// quote it.
const secretMark = "instructors-only-7f3a"

// hostileNames are folder names that would break a table, a CSV line or
// the instructor's terminal if printed as they are.
var hostileNames = map[string]string{
	"new\nline":             `new\nline`,
	"tab\there":             `tab\there`,
	"esc\x1b[31mred\x1b[0m": `esc\x1b[31mred\x1b[0m`,
	"title\x1b]0;pwned\x07": `title\x1b]0;pwned\x07`,
	"bidi\u202egnp.exe":     `bidi\u202egnp.exe`,
	"bad\xffutf8":           `bad\xffutf8`,
	"back\\slash":           `back\\slash`,
	"Дмитрий Шостакович-Иванов": "Дмитрий Шостакович-Иванов",
}

// TestHostileClass grades a class folder built to hurt the grader: links
// out of the class and in circles, FIFOs, devices, sparse files of
// several GB, names with control characters and escape sequences, a deep
// tree, thousands of files. Time and memory stay bounded by what the
// grader does (it opens only regular answers files by the spec's names
// and reads at most a capped prefix of each), nothing outside the class
// is read, and the honest students get the grades they get alone.
func TestHostileClass(t *testing.T) {
	a := builtin(t)
	base := t.TempDir()
	class := filepath.Join(base, "class")
	outside := filepath.Join(base, "outside")

	// The honest students, graded alone first.
	if _, err := gradetest.Generate(class, repoRoot, a, gradetest.Config{Students: 4, Seed: 11}); err != nil {
		t.Fatal(err)
	}
	alone, err := grade.Run(context.Background(), a, class, grade.Options{})
	if err != nil {
		t.Fatal(err)
	}
	honest := map[string][]checks.Status{}
	var goodAnswers string
	for _, st := range alone.Students {
		honest[st.Name] = statuses(&st)
		if goodAnswers == "" && st.Answers != "" {
			goodAnswers = filepath.Join(class, filepath.FromSlash(st.Answers))
		}
	}

	// Outside the class: answers an instructor keeps, which a link in a
	// submission points at.
	for _, f := range []string{"step-3.txt", "step-5.txt", "step-6.txt", "step-7.txt", "star.txt"} {
		write(t, filepath.Join(outside, "answers", f), "total 1\n-rw-r--r-- 1 root root 4 Feb 14 10:59 "+secretMark+"\n")
	}
	link := func(target, name string) {
		t.Helper()
		p := filepath.Join(class, filepath.FromSlash(name))
		os.MkdirAll(filepath.Dir(p), 0o755)
		if err := os.Symlink(target, p); err != nil {
			t.Fatal(err)
		}
	}
	// Links out of the class at each level Discover looks through.
	link(outside, "escape")                                   // the student folder itself
	link(outside, "wrapped/lab-main")                         // an unpacked archive's wrapper
	link(filepath.Join(outside, "answers"), "linked/answers") // the answers folder
	link("../../../outside/answers", "relative/answers")      // the same, relative
	link(filepath.Join(outside, "answers", "step-3.txt"), "filelink/answers/step-3.txt")
	// Loops.
	link("loop", "loop")
	link("loopb", "loopa")
	link("loopa", "loopb")
	link("answers", "selfans/answers")
	link("step-3.txt", "fileloop/answers/step-3.txt")
	// A link inside the class is followed: a submission may share a folder.
	link("../"+filepath.Base(filepath.Dir(goodAnswers))+"/"+filepath.Base(goodAnswers), "sharer/answers")

	// FIFOs: opening one for reading would block for ever.
	mkfifo := func(name string) {
		t.Helper()
		p := filepath.Join(class, filepath.FromSlash(name))
		os.MkdirAll(filepath.Dir(p), 0o755)
		if err := syscall.Mkfifo(p, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	mkfifo("fifo")
	mkfifo("pipes/answers/step-3.txt")
	mkfifo("pipes/answers/step-5.txt")
	mkfifo("pipeans/answers")

	// Devices: /dev/zero would never end, /dev/tty would wait for a key.
	if os.Geteuid() == 0 {
		for name, dev := range map[string]int{"step-3.txt": 1<<8 | 5, "step-5.txt": 5 << 8, "star.txt": 1<<8 | 3} {
			p := filepath.Join(class, "devices", "answers", name)
			os.MkdirAll(filepath.Dir(p), 0o755)
			if err := syscall.Mknod(p, syscall.S_IFCHR|0o644, dev); err != nil {
				t.Fatal(err)
			}
		}
	} else {
		t.Log("not root: no device nodes (mknod needs root)")
	}

	// Sparse files of several GB: no disk used, but a reader that reads
	// them to the end reads gigabytes of zeros.
	for _, f := range []string{"step-3.txt", "step-5.txt", "star.txt"} {
		p := filepath.Join(class, "sparse", "answers", f)
		os.MkdirAll(filepath.Dir(p), 0o755)
		fh, err := os.Create(p)
		if err != nil {
			t.Fatal(err)
		}
		if err := fh.Truncate(4 << 30); err != nil {
			t.Fatal(err)
		}
		fh.Close()
	}
	// A sparse file that starts as a real answer and goes on for GBs.
	p := filepath.Join(class, "sparse", "answers", "step-6.txt")
	data, err := os.ReadFile(filepath.Join(goodAnswers, "step-6.txt"))
	if err != nil {
		t.Fatal(err)
	}
	write(t, p, string(data))
	if err := os.Truncate(p, 3<<30); err != nil {
		t.Fatal(err)
	}

	// Names that would break a table, a CSV line or a terminal.
	for name := range hostileNames {
		copyDir(t, goodAnswers, filepath.Join(class, name, "answers"))
	}

	// A deep tree beside the answers, and thousands of files in them.
	deep := filepath.Join(class, "deep")
	copyDir(t, goodAnswers, filepath.Join(deep, "answers"))
	d := filepath.Join(deep, "junk")
	for range 300 {
		d = filepath.Join(d, "d")
	}
	if err := os.MkdirAll(d, 0o755); err != nil {
		t.Fatal(err)
	}
	many := filepath.Join(class, "many", "answers")
	copyDir(t, goodAnswers, many)
	for i := range 5000 {
		if err := os.WriteFile(filepath.Join(many, "junk-"+strconv.Itoa(i)+".txt"), nil, 0o644); err != nil {
			t.Fatal(err)
		}
	}

	c, err := grade.Run(context.Background(), a, class, grade.Options{})
	if err != nil {
		t.Fatal(err)
	}
	students := byName(c)

	// The honest students: graded as they were alone.
	for name, want := range honest {
		st, ok := students[name]
		if !ok {
			t.Errorf("%s was not graded next to the hostile submissions", name)
			continue
		}
		if diff := cmp.Diff(want, statuses(st)); diff != "" {
			t.Errorf("%s graded differently next to the hostile submissions (-alone +now):\n%s", name, diff)
		}
	}
	// Hostile names are graded like the answers they hold.
	for _, name := range append(mapsKeys(hostileNames), "deep", "many", "sharer") {
		st, ok := students[name]
		if !ok {
			t.Errorf("%q was not graded", name)
			continue
		}
		if st.Points == 0 || len(st.Problems) > 0 {
			t.Errorf("%q: %d points, problems %q; want the good answers' points", name, st.Points, st.Problems)
		}
	}

	// Links out of the class: named, not followed.
	for _, name := range []string{"escape", "wrapped", "linked", "relative"} {
		st, ok := students[name]
		if !ok {
			t.Errorf("%s: not in the class report", name)
			continue
		}
		if st.Points != 0 || !strings.Contains(strings.Join(st.Problems, "; "), "outside the class folder") {
			t.Errorf("%s: %d points, problems %q; want a link out of the class named", name, st.Points, st.Problems)
		}
	}
	if r := result(students["filelink"], "step-3"); r.Status != checks.Error {
		t.Errorf("filelink step-3: %s %q, want unreadable", r.Status, r.Message)
	}
	if r := result(students["fileloop"], "step-3"); r.Status != checks.Error {
		t.Errorf("fileloop step-3: %s %q, want unreadable", r.Status, r.Message)
	}
	for _, name := range []string{"pipes", "devices", "sparse"} {
		if _, ok := students[name]; !ok && (name != "devices" || os.Geteuid() == 0) {
			t.Errorf("%s: not in the class report", name)
		}
	}
	for _, f := range []string{"step-3", "step-5"} {
		if r := result(students["pipes"], f); r.Status != checks.Error || !strings.Contains(r.Message, "not a regular file") {
			t.Errorf("pipes %s: %s %q, want not a regular file", f, r.Status, r.Message)
		}
	}
	if os.Geteuid() == 0 {
		for _, f := range []string{"step-3", "step-5", "star"} {
			if r := result(students["devices"], f); r.Status != checks.Error || !strings.Contains(r.Message, "not a regular file") {
				t.Errorf("devices %s: %s %q, want not a regular file", f, r.Status, r.Message)
			}
		}
	}
	for _, f := range []string{"step-3", "step-5", "step-6", "star"} {
		if r := result(students["sparse"], f); r.Status == checks.Pass {
			t.Errorf("sparse %s passed", f)
		}
	}
	// Zeros are binary: the grader stops at the first block of them rather
	// than read gigabytes.
	if r := result(students["sparse"], "step-6"); r.Status != checks.Error || !strings.Contains(r.Message, "binary data") {
		t.Errorf("sparse step-6: %s %q, want refused as binary", r.Status, r.Message)
	}
	ignored := map[string]string{}
	for _, ig := range c.Ignored {
		ignored[ig.Name] = ig.Reason
	}
	for _, name := range []string{"loop", "loopa", "loopb", "fifo"} {
		if _, ok := ignored[name]; !ok {
			t.Errorf("%s: not listed as ignored (ignored: %q)", name, ignored)
		}
	}

	// Every output: nothing from outside, no raw control character, every
	// hostile name shown escaped.
	dir := t.TempDir()
	if _, err := grade.Write(c, dir); err != nil {
		t.Fatal(err)
	}
	var table bytes.Buffer
	if err := grade.WriteTable(&table, c, grade.TableOptions{NameWidth: 60}); err != nil {
		t.Fatal(err)
	}
	outputs := map[string][]byte{"table": table.Bytes()}
	for _, f := range []string{grade.CSVFile, grade.JSONFile} {
		outputs[f] = readFile(t, filepath.Join(dir, f))
	}
	reports, _ := os.ReadDir(filepath.Join(dir, grade.ReportsDir))
	for _, r := range reports {
		outputs[r.Name()] = readFile(t, filepath.Join(dir, grade.ReportsDir, r.Name()))
	}
	for name, out := range outputs {
		if bytes.Contains(out, []byte(secretMark)) {
			t.Errorf("%s quotes a file outside the class folder", name)
		}
		if i := unsafeAt(out); i >= 0 {
			t.Errorf("%s holds a raw control character at %d: %q", name, i, out[max(0, i-30):min(len(out), i+30)])
		}
	}
	for raw, shown := range hostileNames {
		for _, name := range []string{"table", grade.CSVFile} {
			if !bytes.Contains(outputs[name], []byte(shown)) {
				t.Errorf("%s does not show %q as %s", name, raw, shown)
			}
		}
	}
	var doc struct {
		Students []struct{ Name string } `json:"students"`
	}
	if err := json.Unmarshal(outputs[grade.JSONFile], &doc); err != nil {
		t.Fatal(err)
	}
	names := map[string]bool{}
	for _, s := range doc.Students {
		names[s.Name] = true
	}
	for raw := range hostileNames {
		if want := strings.ToValidUTF8(raw, "\uFFFD"); !names[want] {
			t.Errorf("grades.json lost the name %q", want)
		}
	}
}

// TestPrintable pins the escaping every output uses for names and paths
// that come from a submission.
func TestPrintable(t *testing.T) {
	for raw, want := range hostileNames {
		if got := grade.Printable(raw); got != want {
			t.Errorf("Printable(%q) = %s, want %s", raw, got, want)
		}
	}
	for _, s := range []string{"", "alice", "a b", "José", "学生", "O'Brien", `a"b`} {
		if got := grade.Printable(s); got != s {
			t.Errorf("Printable(%q) = %q, want it unchanged", s, got)
		}
	}
}

func statuses(st *grade.Student) []checks.Status {
	var out []checks.Status
	for _, r := range st.Report.Results {
		out = append(out, r.Status)
	}
	return out
}

func mapsKeys(m map[string]string) []string {
	var out []string
	for k := range m {
		out = append(out, k)
	}
	return out
}

func write(t *testing.T, p, s string) {
	t.Helper()
	os.MkdirAll(filepath.Dir(p), 0o755)
	if err := os.WriteFile(p, []byte(s), 0o644); err != nil {
		t.Fatal(err)
	}
}

func readFile(t *testing.T, p string) []byte {
	t.Helper()
	b, err := os.ReadFile(p)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func copyDir(t *testing.T, from, to string) {
	t.Helper()
	entries, err := os.ReadDir(from)
	if err != nil {
		t.Fatal(err)
	}
	os.MkdirAll(to, 0o755)
	for _, e := range entries {
		if e.Type().IsRegular() {
			write(t, filepath.Join(to, e.Name()), string(readFile(t, filepath.Join(from, e.Name()))))
		}
	}
}

// unsafeAt is the offset of the first byte a terminal would act on (C0
// controls but newline, DEL, C1 controls, bidi overrides), or -1.
func unsafeAt(b []byte) int {
	for i := 0; i < len(b); {
		r, n := utf8.DecodeRune(b[i:])
		switch {
		case r == '\n':
		case r < 0x20, r == 0x7f, r >= 0x80 && r < 0xa0, r >= 0x202a && r <= 0x202e, r >= 0x2066 && r <= 0x2069:
			return i
		}
		i += n
	}
	return -1
}
