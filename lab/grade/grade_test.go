package grade_test

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/k8s-debug-lab/lab/assets"
	"github.com/k8s-debug-lab/lab/checks"
	"github.com/k8s-debug-lab/lab/checks/facts/fingerprint"
	"github.com/k8s-debug-lab/lab/checks/spec"
	"github.com/k8s-debug-lab/lab/internal/golden"
	"github.com/k8s-debug-lab/lab/internal/i18n"
	"github.com/k8s-debug-lab/lab/lab/grade"
	"github.com/k8s-debug-lab/lab/lab/grade/gradetest"
)

// Absolute, for tests that change the working folder.
var (
	repoRoot, _    = filepath.Abs("../..")
	testdataDir, _ = filepath.Abs("testdata")
)

func builtin(t testing.TB) *spec.Assignment {
	t.Helper()
	a, err := spec.Load(assets.Lab(), assets.BuiltinSource)
	if err != nil {
		t.Fatal(err)
	}
	return a
}

func checkGolden(t *testing.T, name, got string) {
	t.Helper()
	golden.Check(t, filepath.Join(testdataDir, name), got)
}

// byName indexes a class's students.
func byName(c *grade.Class) map[string]*grade.Student {
	m := map[string]*grade.Student{}
	for i := range c.Students {
		m[c.Students[i].Name] = &c.Students[i]
	}
	return m
}

func result(st *grade.Student, step string) checks.Result {
	for _, r := range st.Report.Results {
		if r.Step == step {
			return r
		}
	}
	return checks.Result{}
}

// treeHash fingerprints a folder tree (names, modes, contents), to prove
// that grading wrote nothing into it.
func treeHash(t *testing.T, dir string) string {
	t.Helper()
	h := sha256.New()
	err := filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		info, err := d.Info()
		if err != nil {
			return err
		}
		fmt.Fprintf(h, "%s %v\n", p, info.Mode())
		if info.Mode().IsRegular() {
			data, err := os.ReadFile(p)
			if err != nil {
				return err
			}
			h.Write(data)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return fmt.Sprintf("%x", h.Sum(nil))
}

// A class of many submissions generated from real outputs: every student
// is graded, the broken ones as far as they go, and copy detection finds
// exactly the copies planted, no honest student.
func TestGeneratedClass(t *testing.T) {
	a := builtin(t)
	dir := t.TempDir()
	gen, err := gradetest.Generate(dir, repoRoot, a, gradetest.Config{Students: 240, Seed: 11, Copies: 8, SeedCopies: 3, Broken: 10})
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "late-submissions.zip"), []byte("PK"), 0o644); err != nil {
		t.Fatal(err)
	}
	before := treeHash(t, dir)
	progress := 0
	c, err := grade.Run(context.Background(), a, dir, grade.Options{Jobs: 3, Progress: func(done, total int) {
		if done != progress+1 || total != len(gen) {
			t.Errorf("progress %d/%d after %d", done, total, progress)
		}
		progress = done
	}})
	if err != nil {
		t.Fatal(err)
	}
	if progress != len(gen) {
		t.Errorf("progress reached %d of %d", progress, len(gen))
	}
	if treeHash(t, dir) != before {
		t.Error("grading changed the submissions folder")
	}
	if diff := cmp.Diff([]grade.Ignored{{Name: "late-submissions.zip", Reason: "an archive: unpack it into a folder of its own"}}, c.Ignored); diff != "" {
		t.Errorf("ignored (-want +got):\n%s", diff)
	}
	students := byName(c)
	if len(c.Students) != len(gen) {
		t.Fatalf("%d students graded, %d generated", len(c.Students), len(gen))
	}

	wantCopies := map[string]bool{}
	wantSeed := map[string]bool{}
	var planted [][2]string
	for _, g := range gen {
		st := students[g.Name]
		if st == nil {
			t.Errorf("%s was not graded", g.Name)
			continue
		}
		if len(st.Report.Results) != len(a.Steps) {
			t.Errorf("%s: %d results, want one per step", g.Name, len(st.Report.Results))
		}
		// Every file handed in is graded: passed, failed or unreadable,
		// never silently dropped.
		for file, from := range g.Files {
			for _, s := range a.Steps {
				if !slices.Contains(s.Files, file) {
					continue
				}
				r := result(st, s.ID)
				if r.File == "" || !strings.HasSuffix(r.File, "/"+file) {
					t.Errorf("%s %s: graded %q, want its %s (from %s)", g.Name, s.ID, r.File, file, from)
				}
			}
		}
		for _, b := range g.Broken {
			switch b {
			case "no answers folder":
				if len(st.Problems) == 0 || !strings.Contains(st.Problems[0], "no answers folder") || st.Points != 0 {
					t.Errorf("%s (%s): problems %q, %d points", g.Name, b, st.Problems, st.Points)
				}
			case "step-3.txt is binary":
				if r := result(st, "step-3"); r.Status != checks.Error || !strings.Contains(r.Message, "binary") {
					t.Errorf("%s (%s): %s %q", g.Name, b, r.Status, r.Message)
				}
			case "step-6.txt is a folder":
				if r := result(st, "step-6"); r.Status != checks.Error || !strings.Contains(r.Message, "not a regular file") {
					t.Errorf("%s (%s): %s %q", g.Name, b, r.Status, r.Message)
				}
			case "star.txt is empty":
				if r := result(st, "star"); r.Status != checks.Fail || !strings.Contains(r.Message, "is empty") {
					t.Errorf("%s (%s): %s %q", g.Name, b, r.Status, r.Message)
				}
			}
		}
		// A copy is flagged when the copied file is telling as a whole:
		// it holds a strong value, or two weak ones (a file of one client
		// port could be anyone's).
		if g.CopyOf != "" && telling(t, a, gradetest.AnswersDir(dir, g), g.CopiedSteps) {
			wantCopies[g.Name], wantCopies[g.CopyOf] = true, true
			planted = append(planted, [2]string{g.Name, g.CopyOf})
		}
		if len(g.SeedSteps) > 0 {
			wantSeed[g.Name] = true
		}
	}
	if len(planted) < 4 || len(wantSeed) != 3 {
		t.Fatalf("the generator planted %d copies and %d seed copies; the test needs more", len(planted), len(wantSeed))
	}
	gotCopies := map[string]bool{}
	gotSeed := map[string]bool{}
	for _, st := range c.Students {
		if st.Copy != nil {
			gotCopies[st.Name] = true
		}
		if st.Seed != nil {
			gotSeed[st.Name] = true
		}
	}
	if diff := cmp.Diff(wantCopies, gotCopies); diff != "" {
		t.Errorf("students flagged as copies (-planted +flagged):\n%s", diff)
	}
	if diff := cmp.Diff(wantSeed, gotSeed); diff != "" {
		t.Errorf("students flagged as copying the seed (-planted +flagged):\n%s", diff)
	}
	for _, p := range planted {
		a, b := students[p[0]], students[p[1]]
		if a.Copy == nil || b.Copy == nil || a.Copy.Group != b.Copy.Group {
			t.Errorf("%s copied %s but they are not in one group", p[0], p[1])
		}
	}
	for _, g := range c.Copies {
		if len(g.Students) != 2 || len(g.Evidence) == 0 {
			t.Errorf("group #%d: %v with %d pieces of evidence, want a planted pair with evidence", g.ID, g.Students, len(g.Evidence))
		}
	}
}

// telling reports whether any of the steps' answers files in dir would
// be flagged as a whole when copied.
func telling(t *testing.T, a *spec.Assignment, dir string, steps []string) bool {
	t.Helper()
	for _, s := range a.Steps {
		if !slices.Contains(steps, s.ID) {
			continue
		}
		for _, f := range s.Files {
			file, err := os.Open(filepath.Join(dir, f))
			if err != nil {
				continue
			}
			fps := fingerprint.File(s.Parser, file)
			file.Close()
			for _, fp := range fps {
				if fp.Kind == fingerprint.KindFile && fp.Strength == fingerprint.Strong {
					return true
				}
			}
		}
	}
	return false
}

func TestDiscover(t *testing.T) {
	a := builtin(t)
	mk := func(t *testing.T, files ...string) string {
		dir := t.TempDir()
		for _, f := range files {
			p := filepath.Join(dir, filepath.FromSlash(f))
			if strings.HasSuffix(f, "/") {
				os.MkdirAll(p, 0o755)
				continue
			}
			os.MkdirAll(filepath.Dir(p), 0o755)
			os.WriteFile(p, []byte("x\n"), 0o644)
		}
		return dir
	}
	type found struct {
		Name, Answers string
		Problems      []string
	}
	t.Run("layouts", func(t *testing.T) {
		dir := mk(t,
			"anna/answers/step-3.txt", "anna/README.md", "anna/.git/HEAD",
			"boris/step-5.txt",
			"clara/lab-main/answers/star.txt",
			"dmitri/README.md",
			"elena/answers",
			"fyodor/repo/notes.md", "fyodor/other/",
			"gleb/",
			".DS_Store", "roster.csv", "igor.tar.gz",
		)
		subs, ignored, err := grade.Discover(dir, a)
		if err != nil {
			t.Fatal(err)
		}
		var got []found
		for _, s := range subs {
			ans := ""
			if s.Answers != "" {
				ans, _ = filepath.Rel(dir, s.Answers)
			}
			got = append(got, found{s.Name, filepath.ToSlash(ans), s.Problems})
		}
		noAnswers := []string{"no answers folder: expected answers/ holding the answers files, or the files themselves"}
		want := []found{
			{"anna", "anna/answers", nil},
			{"boris", "boris", nil},
			{"clara", "clara/lab-main/answers", nil},
			{"dmitri", "", noAnswers},
			{"elena", "", []string{"answers is not a folder"}},
			{"fyodor", "", noAnswers},
			{"gleb", "", noAnswers},
		}
		if diff := cmp.Diff(want, got); diff != "" {
			t.Errorf("submissions (-want +got):\n%s", diff)
		}
		wantIgnored := []grade.Ignored{
			{Name: "igor.tar.gz", Reason: "an archive: unpack it into a folder of its own"},
			{Name: "roster.csv", Reason: "not a folder"},
		}
		if diff := cmp.Diff(wantIgnored, ignored); diff != "" {
			t.Errorf("ignored (-want +got):\n%s", diff)
		}
	})
	for _, tc := range []struct {
		name    string
		files   []string
		root    string
		wantErr string
	}{
		{"missing", nil, "nothing-here", "no folder"},
		{"a file", []string{"class.zip"}, "class.zip", "is not a folder"},
		{"one student's answers", []string{"step-3.txt", "step-5.txt"}, "", "looks like one student's work"},
		{"one student's workspace", []string{"answers/step-3.txt"}, "", "looks like one student's work"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			dir := mk(t, tc.files...)
			_, _, err := grade.Discover(filepath.Join(dir, tc.root), a)
			if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
				t.Errorf("error %v, want %q", err, tc.wantErr)
			}
		})
	}
	t.Run("empty", func(t *testing.T) {
		_, err := grade.Run(context.Background(), a, mk(t, "notes.txt"), grade.Options{})
		if err == nil || !strings.Contains(err.Error(), "no submissions") {
			t.Errorf("error %v", err)
		}
	})
}

// A submission cannot make lab read files outside it: a symlink that
// leaves the answers folder is refused, and what it points to
// is never quoted in a report.
func TestSymlinksStayInsideTheSubmission(t *testing.T) {
	a := builtin(t)
	dir := t.TempDir()
	secret := filepath.Join(t.TempDir(), "secret.txt")
	os.WriteFile(secret, []byte("total 1\n-rw-r--r-- 1 root root 4 Feb 14 10:59 instructors-only-nginx.conf\n"), 0o644)
	ans := filepath.Join(dir, "mallory", "answers")
	os.MkdirAll(ans, 0o755)
	if err := os.Symlink(secret, filepath.Join(ans, "step-3.txt")); err != nil {
		t.Skip(err)
	}
	os.WriteFile(filepath.Join(ans, "real.txt"), []byte("total 0\n"), 0o644)
	os.Symlink("real.txt", filepath.Join(ans, "star.txt")) // inside: fine
	c, err := grade.Run(context.Background(), a, dir, grade.Options{})
	if err != nil {
		t.Fatal(err)
	}
	st := &c.Students[0]
	r := result(st, "step-3")
	if r.Status != checks.Error || r.Message != "mallory/answers/step-3.txt is a link that leads out of the answers folder" {
		t.Errorf("step-3: %s %q, want unreadable", r.Status, r.Message)
	}
	if star := result(st, "star"); star.Status != checks.Fail || star.File != "mallory/answers/star.txt" {
		t.Errorf("star through an inner link: %s %q %q", star.Status, star.File, star.Message)
	}
	var b bytes.Buffer
	grade.WriteJSON(&b, c)
	if bytes.Contains(b.Bytes(), []byte("instructors-only")) {
		t.Error("a file outside the submission was read into the report")
	}
}

func TestCancel(t *testing.T) {
	a := builtin(t)
	dir := t.TempDir()
	if _, err := gradetest.Generate(dir, repoRoot, a, gradetest.Config{Students: 20, Seed: 3}); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := grade.Run(ctx, a, dir, grade.Options{}); !errors.Is(err, context.Canceled) {
		t.Errorf("error %v, want context.Canceled", err)
	}
}

// writeClass lays out a small class by hand, for the golden files: each
// student a case an instructor meets.
func writeClass(t *testing.T, root string) {
	t.Helper()
	read := func(p string) []byte {
		data, err := os.ReadFile(filepath.Join(repoRoot, p))
		if err != nil {
			t.Fatal(err)
		}
		return data
	}
	good := "checks/testdata/answers/good/"
	seed := "checks/testdata/answers/seed/"
	put := func(p string, data []byte) {
		full := filepath.Join(root, filepath.FromSlash(p))
		os.MkdirAll(filepath.Dir(full), 0o755)
		if err := os.WriteFile(full, data, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	parsers := map[string]string{"step-3.txt": "ls", "step-5.txt": "tcpdump", "step-6.txt": "pod-table", "step-7.txt": "podlog", "star.txt": "strace"}
	own := func(student, from string, seed uint64, files ...string) map[string][]byte {
		p := gradetest.NewPersonalizer(seed)
		out := map[string][]byte{}
		for _, f := range files {
			out[f] = p.Personalize(parsers[f], read(from+f), false)
		}
		return out
	}
	// alice: a repository from lab init, every offline step passes.
	alice := own("alice", good, 1, "step-3.txt", "step-5.txt", "step-6.txt", "step-7.txt", "star.txt")
	for f, data := range alice {
		put("alice/answers/"+f, data)
	}
	put("alice/README.md", []byte("# lab\n"))
	// bob: his own listing and table, alice's capture and strace.
	for f, data := range own("bob", seed, 2, "step-6.txt", "step-7.txt") {
		put("bob/answers/"+f, data)
	}
	put("bob/answers/step-3.txt", read(good+"step-3.txt"))
	put("bob/answers/step-5.txt", alice["step-5.txt"])
	put("bob/answers/star.txt", gradetest.CRLF(alice["star.txt"]))
	// carol: the write-up's outputs, verbatim.
	for _, f := range []string{"step-3.txt", "step-5.txt", "step-7.txt"} {
		put("carol/answers/"+f, read(seed+f))
	}
	// dave: just the files, saved from PowerShell and Windows.
	d := own("dave", good, 4, "step-5.txt", "step-6.txt", "step-7.txt")
	put("dave/step-3.txt", read("checks/parse/ls/testdata/gnu_pause_etc.txt"))
	put("dave/step-5.txt", gradetest.UTF16(d["step-5.txt"]))
	put("dave/step-6.txt", gradetest.CRLF(d["step-6.txt"]))
	put("dave/step-7.txt", d["step-7.txt"][:len(d["step-7.txt"])/3])
	// erin: a repository without an answers folder.
	put("erin/README.md", []byte("# my lab\n"))
	// frank: an unpacked archive with damaged files.
	put("frank/lab-main/answers/step-3.txt", []byte{0x7f, 'E', 'L', 'F', 2, 1, 1, 0, 0, 0, 0, 0})
	os.MkdirAll(filepath.Join(root, "frank/lab-main/answers/step-6.txt"), 0o755)
	put("frank/lab-main/answers/star.txt", nil)
	put("frank/lab-main/answers/step-5.pcap", read("checks/parse/tcpdump/testdata/any-sll2-truncated.pcap"))
	// And what is not a submission.
	put("grades-2025.zip", []byte("PK"))
	put(".git/HEAD", []byte("ref: refs/heads/main\n"))
}

func TestGolden(t *testing.T) {
	a := builtin(t)
	t.Chdir(t.TempDir())
	writeClass(t, "submissions")
	before := treeHash(t, "submissions")
	// A fixed digest keeps the goldens from changing with every edit of
	// the built-in spec; spec's tests check how it is computed.
	a.Digest = "sha256:0000000000000000000000000000000000000000000000000000000000000000"
	c, err := grade.Run(context.Background(), a, "submissions", grade.Options{Now: time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC), LabVersion: "v1.2.3"})
	if err != nil {
		t.Fatal(err)
	}
	w, err := grade.Write(c, "out")
	if err != nil {
		t.Fatal(err)
	}
	if treeHash(t, "submissions") != before {
		t.Error("grading changed the submissions folder")
	}
	if w.Reports != 6 || !slices.Equal(w.Files, []string{"grades.csv", "grades.json"}) {
		t.Errorf("written: %+v", w)
	}
	var table bytes.Buffer
	if err := grade.WriteTable(&table, c, grade.TableOptions{}); err != nil {
		t.Fatal(err)
	}
	checkGolden(t, "class/table.txt", table.String())
	table.Reset()
	if err := grade.WriteTable(&table, c, grade.TableOptions{Lang: i18n.Russian}); err != nil {
		t.Fatal(err)
	}
	checkGolden(t, "class/table.ru.txt", table.String())
	for _, f := range []string{"grades.csv", "grades.json", "reports/bob.txt", "reports/dave.txt", "reports/frank.txt"} {
		data, err := os.ReadFile(filepath.Join("out", f))
		if err != nil {
			t.Fatal(err)
		}
		checkGolden(t, "class/"+f, string(data))
	}

	// What the golden files must say, so that -update cannot bless a
	// regression unnoticed.
	students := byName(c)
	if st := students["alice"]; st.Points != 11 || st.Copy == nil || !slices.Equal(st.Copy.With, []string{"bob"}) {
		t.Errorf("alice: %d points, copy %+v", st.Points, st.Copy)
	}
	if st := students["carol"]; st.Seed == nil || st.Copy != nil || len(st.Seed.Steps) != 3 {
		t.Errorf("carol: seed %+v, copy %+v; want the write-up's step-3, -5 and -7", st.Seed, st.Copy)
	}
	if st := students["dave"]; st.Copy != nil || st.Seed != nil || result(st, "step-5").Status != checks.Pass || result(st, "step-5").Encoding != "utf-16le" {
		t.Errorf("dave: copy %+v seed %+v step-5 %+v", st.Copy, st.Seed, result(st, "step-5"))
	}
	if len(c.Copies) != 1 || len(c.Copies[0].Steps) != 2 {
		t.Errorf("copies: %+v, want alice and bob in step-5 and star", c.Copies)
	}
	var doc map[string]any
	data, _ := os.ReadFile("out/grades.json")
	if err := json.Unmarshal(data, &doc); err != nil || doc["kind"] != "ClassReport" {
		t.Errorf("grades.json: kind %v, %v", doc["kind"], err)
	}
}

// Copying detection, pair by pair: what must be flagged, and what must
// not be even though the files look alike.
func TestCopyDetection(t *testing.T) {
	a := builtin(t)
	read := func(p string) []byte {
		data, err := os.ReadFile(filepath.Join(repoRoot, p))
		if err != nil {
			t.Fatal(err)
		}
		return data
	}
	tcp := read("checks/testdata/answers/good/step-5.txt")
	strace := read("checks/testdata/answers/good/star.txt")
	row := read("checks/testdata/answers/good/step-6.txt")
	ls := read("checks/testdata/answers/good/step-3.txt")
	pcap := read("checks/parse/tcpdump/testdata/any-sll2.pcap")
	own := func(seed uint64, parser string, data []byte) []byte {
		return gradetest.NewPersonalizer(seed).Personalize(parser, data, false)
	}
	for _, tc := range []struct {
		name       string
		x, y       map[string][]byte
		copies     bool
		seedX      bool
		wantInMsgs string
	}{
		{name: "the same capture", x: map[string][]byte{"step-5.txt": own(1, "tcpdump", tcp)}, y: map[string][]byte{"step-5.txt": own(1, "tcpdump", tcp)},
			copies: true, wantInMsgs: "TCP initial sequence number"},
		{name: "the same capture saved from PowerShell", x: map[string][]byte{"step-5.txt": own(1, "tcpdump", tcp)}, y: map[string][]byte{"step-5.txt": gradetest.UTF16(gradetest.CRLF(own(1, "tcpdump", tcp)))},
			copies: true, wantInMsgs: "TCP initial sequence number"},
		{name: "part of the same capture", x: map[string][]byte{"step-5.txt": own(1, "tcpdump", tcp)}, y: map[string][]byte{"step-5.txt": own(1, "tcpdump", tcp)[len(tcp)/2:]},
			copies: true, wantInMsgs: "random values in common"},
		{name: "the same pcap", x: map[string][]byte{"step-5.pcap": pcap}, y: map[string][]byte{"step-5.pcap": pcap},
			copies: true, wantInMsgs: "whole file"},
		{name: "the same kind of capture on two clusters", x: map[string][]byte{"step-5.txt": own(1, "tcpdump", tcp)}, y: map[string][]byte{"step-5.txt": own(2, "tcpdump", tcp)}},
		{name: "the same listing (it is the same image)", x: map[string][]byte{"step-3.txt": ls}, y: map[string][]byte{"step-3.txt": ls}},
		{name: "the same pod row only (weak, one step)", x: map[string][]byte{"step-6.txt": own(3, "pod-table", row)}, y: map[string][]byte{"step-6.txt": own(3, "pod-table", row)}},
		{name: "the same pod row and strace (weak, two steps)",
			x:      map[string][]byte{"step-6.txt": own(3, "pod-table", row), "star.txt": own(5, "strace", strace)},
			y:      map[string][]byte{"step-6.txt": own(3, "pod-table", row), "star.txt": own(5, "strace", strace)},
			copies: true, wantInMsgs: "(weak)"},
		{name: "the write-up's capture", x: map[string][]byte{"step-5.txt": read("checks/testdata/answers/seed/step-5.txt")}, y: map[string][]byte{"step-5.txt": own(2, "tcpdump", tcp)},
			seedX: true, wantInMsgs: "1202002200"},
		{name: "the write-up's listing", x: map[string][]byte{"step-3.txt": read("checks/testdata/answers/seed/step-3.txt")}, y: map[string][]byte{"step-3.txt": ls},
			seedX: true, wantInMsgs: "step-3: the whole file is identical"},
		{name: "the write-up's one-line error: anyone who makes that mistake prints it", x: map[string][]byte{"step-3.txt": read("checks/parse/ls/testdata/seed_error.txt")}, y: map[string][]byte{"step-3.txt": ls}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir()
			for student, files := range map[string]map[string][]byte{"x": tc.x, "y": tc.y} {
				for f, data := range files {
					p := filepath.Join(dir, student, "answers", f)
					os.MkdirAll(filepath.Dir(p), 0o755)
					os.WriteFile(p, data, 0o644)
				}
			}
			c, err := grade.Run(context.Background(), a, dir, grade.Options{})
			if err != nil {
				t.Fatal(err)
			}
			var msgs []string
			for _, g := range c.Copies {
				msgs = append(msgs, g.Lines()...)
			}
			st := byName(c)
			if st["x"].Seed != nil {
				msgs = append(msgs, st["x"].Seed.Lines()...)
			}
			if got := len(c.Copies) == 1; got != tc.copies {
				t.Errorf("flagged as copies: %v, want %v: %q", got, tc.copies, msgs)
			}
			if got := st["x"].Seed != nil; got != tc.seedX {
				t.Errorf("x flagged as the write-up's: %v, want %v: %q", got, tc.seedX, msgs)
			}
			if st["y"].Seed != nil {
				t.Errorf("y flagged as the write-up's: %q", st["y"].Seed.Lines())
			}
			if tc.wantInMsgs != "" && !strings.Contains(strings.Join(msgs, "\n"), tc.wantInMsgs) {
				t.Errorf("evidence does not mention %q:\n%s", tc.wantInMsgs, strings.Join(msgs, "\n"))
			}
		})
	}
}

func TestReportNamesAreSafeAndUnique(t *testing.T) {
	a := builtin(t)
	dir := t.TempDir()
	for _, name := range []string{"Anna Petrova", "anna_petrova", "=HYPERLINK(x)", "ok"} {
		os.MkdirAll(filepath.Join(dir, name, "answers"), 0o755)
	}
	c, err := grade.Run(context.Background(), a, dir, grade.Options{})
	if err != nil {
		t.Fatal(err)
	}
	out := t.TempDir()
	if _, err := grade.Write(c, out); err != nil {
		t.Fatal(err)
	}
	var files []string
	for _, st := range c.Students {
		files = append(files, st.ReportFile)
	}
	sort.Strings(files)
	want := []string{"reports/Anna_Petrova.txt", "reports/_HYPERLINK_x_.txt", "reports/anna_petrova-2.txt", "reports/ok.txt"}
	if diff := cmp.Diff(want, files); diff != "" {
		t.Errorf("report files (-want +got):\n%s", diff)
	}
	csv, _ := os.ReadFile(filepath.Join(out, "grades.csv"))
	if !bytes.Contains(csv, []byte("\n'=HYPERLINK(x),")) {
		t.Errorf("a name that a spreadsheet reads as a formula is not quoted:\n%s", csv)
	}
}

// A hand-in graded twice by the same lab against the same assignment gets
// the same verdicts, points and messages: nothing in a student's grade
// depends on the time, the order of grading or the number of jobs. Only
// the class's Graded stamp may differ.
func TestRegradeIsIdentical(t *testing.T) {
	a := builtin(t)
	t.Chdir(t.TempDir())
	writeClass(t, "submissions")
	var docs [2][]byte
	for i, o := range []grade.Options{
		{Jobs: 1, LabVersion: "v1.2.3", Now: time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)},
		{Jobs: 4, LabVersion: "v1.2.3"},
	} {
		c, err := grade.Run(context.Background(), a, "submissions", o)
		if err != nil {
			t.Fatal(err)
		}
		if c.LabVersion != "v1.2.3" || c.AssignmentDigest != a.Digest || !strings.HasPrefix(a.Digest, "sha256:") {
			t.Errorf("the class does not name what graded it: lab %q, assignment %q", c.LabVersion, c.AssignmentDigest)
		}
		for _, st := range c.Students {
			if st.Report.LabVersion != "v1.2.3" || st.Report.AssignmentDigest != a.Digest {
				t.Errorf("%s's report does not name what graded it: lab %q, assignment %q", st.Name, st.Report.LabVersion, st.Report.AssignmentDigest)
			}
		}
		c.Graded = time.Time{}
		var b bytes.Buffer
		if err := grade.WriteJSON(&b, c); err != nil {
			t.Fatal(err)
		}
		docs[i] = b.Bytes()
	}
	if diff := cmp.Diff(string(docs[0]), string(docs[1])); diff != "" {
		t.Errorf("the second grading differs (-first +second):\n%s", diff)
	}
}
