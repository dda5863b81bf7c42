//go:build e2e

package e2e

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// twinNS holds a second copy of the built-in lab: the same pod and Service
// names, and so the same answers files, but another nonce, pod UID and IP.
// It is what a class looks like to an instructor: two students' labs whose
// outputs could be swapped or mixed.
const twinNS = "lab-b"

// labRecordFacts is the part of a lab record the test reads.
type labRecordFacts struct {
	Format  string `json:"format"`
	Cluster struct {
		Context   string `json:"context"`
		Namespace string `json:"namespace"`
		Nonce     string `json:"nonce"`
		Pod       struct {
			UID string `json:"uid"`
			IP  string `json:"ip"`
		} `json:"pod"`
		Traffic []struct {
			Via    string `json:"via"`
			OK     int    `json:"ok"`
			Server string `json:"server"`
		} `json:"traffic"`
	} `json:"cluster"`
}

func readLabRecord(t *testing.T, answers string) labRecordFacts {
	t.Helper()
	data, err := os.ReadFile(filepath.Join(answers, "lab-record.json"))
	if err != nil {
		t.Fatalf("no lab record in %s: %v", answers, err)
	}
	var r labRecordFacts
	if err := json.Unmarshal(data, &r); err != nil {
		t.Fatalf("lab record in %s: %v\n%s", answers, err, data)
	}
	return r
}

// twinReport is lab check's JSON with the disagreements.
type twinReport struct {
	checkReport
	Disagreements []struct {
		Rule    string   `json:"rule"`
		Steps   []string `json:"steps"`
		Message string   `json:"message"`
	} `json:"disagreements"`
}

// twinCheck runs lab check on answers with extra flags (--offline, -n).
func twinCheck(t *testing.T, e *env, answers string, flags ...string) (twinReport, int, string) {
	t.Helper()
	out, errOut, code := labRun(t, e, 2*time.Minute, append([]string{"check", "--answers", answers, "-o", "json"}, flags...)...)
	var rep twinReport
	if err := json.Unmarshal([]byte(out), &rep); err != nil {
		t.Fatalf("lab check %s -o json: %v\n%s\n%s", strings.Join(flags, " "), err, out, errOut)
	}
	return rep, code, out
}

// copyAnswers copies an answers folder into a new temporary one.
func copyAnswers(t *testing.T, from string) string {
	t.Helper()
	dir := filepath.Join(t.TempDir(), "answers")
	if err := os.CopyFS(dir, os.DirFS(from)); err != nil {
		t.Fatal(err)
	}
	return dir
}

// assemble makes an answers folder of files taken from other folders:
// each target name maps to the file it is copied from.
func assemble(t *testing.T, files map[string]string) string {
	t.Helper()
	dir := filepath.Join(t.TempDir(), "answers")
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	for name, from := range files {
		b, err := os.ReadFile(from)
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(dir, name), b, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return dir
}

// labTwoLabs brings up a second copy of the built-in lab in twinNS, solves
// it (B) and grades, without any cluster, what an instructor gets from two
// students: lab/solve-all's answers and record (A, in the default
// namespace; A's own 13/13 offline is record-offline's), A's answers with
// B's record, and a folder mixing A and B. lab down in twinNS then leaves
// the default namespace's lab as it was.
func labTwoLabs(t *testing.T, e *env) {
	if e.labAnswers == "" {
		t.Fatal("lab/solve-all wrote no answers")
	}
	start := time.Now()
	defer func() { t.Logf("two labs: %s", time.Since(start).Round(time.Second)) }()
	a := e.labAnswers
	recA := readLabRecord(t, a)
	inB := func(t *testing.T, d time.Duration, args ...string) string {
		t.Helper()
		return labOK(t, e, d, append(args, "-n", twinNS)...)
	}
	downed := false
	t.Cleanup(func() {
		if !downed { // a failure before the down step must not leave lab-b to the later steps
			labRun(t, e, 3*time.Minute, "down", "--yes", "-n", twinNS)
		}
	})

	inB(t, 5*time.Minute, "up", "--provider", "existing")
	uidB := kubectl(t, e, 30*time.Second, "get", "pod", podName, "-n", twinNS, "-o", "jsonpath={.metadata.uid}")
	ipB := kubectl(t, e, 30*time.Second, "get", "pod", podName, "-n", twinNS, "-o", "jsonpath={.status.podIP}")
	if uidB == e.podUID || ipB == e.podIP || ipB == "" {
		t.Fatalf("the second lab's pod has uid %s ip %s; the first's %s %s", uidB, ipB, e.podUID, e.podIP)
	}

	// lab traffic reads nginx's Server header both ways.
	out := inB(t, 3*time.Minute, "traffic", "--count", "3", "-o", "json")
	var traffic struct {
		Nonce string `json:"nonce"`
		Runs  []struct {
			Via, Server string
			OK          int
		} `json:"runs"`
	}
	if err := json.Unmarshal([]byte(out), &traffic); err != nil {
		t.Fatalf("lab traffic -o json: %v\n%s", err, out)
	}
	if len(traffic.Runs) != 2 || traffic.Nonce == recA.Cluster.Nonce {
		t.Errorf("lab traffic -n %s: nonce %s (the first lab's %s), runs %+v", twinNS, traffic.Nonce, recA.Cluster.Nonce, traffic.Runs)
	}
	for _, r := range traffic.Runs {
		if r.OK != 3 || r.Server != "nginx/1.22.1" {
			t.Errorf("lab traffic via %s: %d ok, Server %q; want 3 answered by nginx/1.22.1", r.Via, r.OK, r.Server)
		}
	}
	// The state is per context and namespace: two files, two nonces.
	stateA := filepath.Join(os.Getenv("XDG_STATE_HOME"), "lab", recA.Cluster.Context+"__"+namespace+".json")
	stateB := filepath.Join(os.Getenv("XDG_STATE_HOME"), "lab", recA.Cluster.Context+"__"+twinNS+".json")
	beforeA, errA := os.ReadFile(stateA)
	dataB, errB := os.ReadFile(stateB)
	if errA != nil || errB != nil || !strings.Contains(string(beforeA), recA.Cluster.Nonce) || !strings.Contains(string(dataB), traffic.Nonce) {
		t.Errorf("state files %s (%v) and %s (%v) do not hold the two nonces %s and %s", stateA, errA, stateB, errB, recA.Cluster.Nonce, traffic.Nonce)
	}

	b := filepath.Join(t.TempDir(), "answers")
	solveStart := time.Now()
	out = inB(t, 5*time.Minute, "solve", "all", "--answers", b, "-o", "json")
	t.Logf("lab solve all -n %s: %s", twinNS, time.Since(solveStart).Round(time.Millisecond))
	var solved struct{ Passed, Failed int }
	if err := json.Unmarshal([]byte(out), &solved); err != nil || solved.Passed != 7 || solved.Failed != 0 {
		t.Fatalf("lab solve all -n %s: %v\n%s", twinNS, err, out)
	}
	// The live check writes B's record.
	rep, code, out := twinCheck(t, e, b, "-n", twinNS)
	if code != 0 || rep.Offline || rep.Summary.Points != 13 {
		t.Fatalf("lab check -n %s (live): exit %d, offline %v, %d points:\n%s", twinNS, code, rep.Offline, rep.Summary.Points, out)
	}
	recB := readLabRecord(t, b)
	if recB.Cluster.Namespace != twinNS || recB.Cluster.Nonce != traffic.Nonce || recB.Cluster.Pod.UID != uidB || recB.Cluster.Pod.IP != ipB {
		t.Errorf("B's record: %+v; want namespace %s, nonce %s, uid %s, ip %s", recB.Cluster, twinNS, traffic.Nonce, uidB, ipB)
	}
	t.Logf("A: nonce %s, pod %s at %s; B: nonce %s, pod %s at %s", recA.Cluster.Nonce, e.podUID, e.podIP, recB.Cluster.Nonce, uidB, ipB)
	for _, r := range append(recA.Cluster.Traffic, recB.Cluster.Traffic...) {
		if r.OK > 0 && r.Server != "nginx/1.22.1" {
			t.Errorf("a record's traffic run via %s keeps Server %q, want nginx/1.22.1", r.Via, r.Server)
		}
	}

	// A's answers without a record (dave, below), and with B's (bob).
	noRecord := copyAnswers(t, a)
	if err := os.Remove(filepath.Join(noRecord, "lab-record.json")); err != nil {
		t.Fatal(err)
	}
	withRecordB := copyAnswers(t, noRecord)
	recordB, err := os.ReadFile(filepath.Join(b, "lab-record.json"))
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(withRecordB, "lab-record.json"), recordB, 0o644); err != nil {
		t.Fatal(err)
	}
	t.Run("A-answers-B-record", func(t *testing.T) {
		rep, code, out := twinCheck(t, e, withRecordB, "--offline")
		var msgs []string
		failed := map[string]bool{}
		for _, r := range rep.Results {
			if r.Status == "fail" {
				failed[r.Step] = true
				msgs = append(msgs, r.Step+": "+r.Message)
			}
		}
		all := strings.Join(msgs, "\n")
		t.Logf("A's answers with B's record:\n%s", all)
		if code != 1 || !failed["step-5"] || !failed["step-6"] || !failed["step-7"] ||
			!strings.Contains(all, "lab="+recB.Cluster.Nonce) || !strings.Contains(all, e.podIP) || !strings.Contains(all, ipB) {
			t.Errorf("A's answers with B's record: exit %d, want 1 with step-5, 6 and 7 failed naming B's nonce %s, A's IP %s and B's %s:\n%s\n%s",
				code, recB.Cluster.Nonce, e.podIP, ipB, all, tail(out, 20))
		}
	})

	t.Run("nginx-version", func(t *testing.T) {
		// B's answers as a student who typed another nginx version would
		// hand them in: the live check and the record both name the two.
		forged := copyAnswers(t, b)
		var carriers []string
		for _, f := range []string{"step-5.txt", "step-7.txt", "star.txt"} {
			p := filepath.Join(forged, f)
			data, _ := os.ReadFile(p)
			if strings.Contains(string(data), "nginx/1.22.1") {
				carriers = append(carriers, strings.TrimSuffix(f, ".txt"))
				os.WriteFile(p, []byte(strings.ReplaceAll(string(data), "nginx/1.22.1", "nginx/1.25.3")), 0o644)
			}
		}
		if len(carriers) == 0 {
			t.Fatalf("no answer of lab solve names nginx/1.22.1")
		}
		for _, mode := range []struct{ name, flag, source string }{
			{"live", "-n", "the lab's nginx answered lab traffic with nginx/1.22.1"},
			{"offline", "--offline", "the lab record says the lab's nginx answered lab traffic with nginx/1.22.1"},
		} {
			flags := []string{mode.flag}
			if mode.flag == "-n" {
				flags = append(flags, twinNS)
			}
			rep, code, out := twinCheck(t, e, forged, flags...)
			byStep := map[string]string{}
			for _, r := range rep.Results {
				byStep[r.Step] = r.Status + ": " + r.Message
			}
			for _, s := range carriers {
				t.Logf("%s, %s: %s", mode.name, s, byStep[s])
			}
			for _, s := range carriers {
				if want := s + " shows nginx/1.25.3; " + mode.source; !strings.HasPrefix(byStep[s], "fail: ") || !strings.Contains(byStep[s], want) {
					t.Errorf("%s, %s: %q, want a failure naming %q", mode.name, s, byStep[s], want)
				}
			}
			if code != 1 {
				t.Errorf("%s: exit %d, want 1:\n%s", mode.name, code, tail(out, 20))
			}
		}
	})

	mixed := assemble(t, map[string]string{
		"step-3.txt": filepath.Join(a, "step-3.txt"), "step-5.txt": filepath.Join(a, "step-5.txt"), "step-6.txt": filepath.Join(a, "step-6.txt"),
		"step-7.txt": filepath.Join(b, "step-7.txt"), "star.txt": filepath.Join(b, "star.txt"),
	})
	t.Run("mixed-no-record", func(t *testing.T) {
		rep, code, out := twinCheck(t, e, mixed, "--offline")
		var nonce string
		for _, d := range rep.Disagreements {
			if d.Rule == "nonce" {
				nonce = d.Message
			}
		}
		t.Logf("mixed, no record: %s", nonce)
		if code != 1 || !rep.Offline || !strings.Contains(nonce, recA.Cluster.Nonce) || !strings.Contains(nonce, recB.Cluster.Nonce) {
			t.Errorf("a folder mixing A and B, no record: exit %d, want 1 with a nonce disagreement naming %s and %s:\n%s",
				code, recA.Cluster.Nonce, recB.Cluster.Nonce, tail(out, 30))
		}
	})

	t.Run("grade", func(t *testing.T) {
		class := t.TempDir()
		edited := filepath.Join(class, "erin", "answers")
		for name, from := range map[string]string{"alice": a, "bob": withRecordB, "carol": mixed, "dave": noRecord, "erin": a} {
			if err := os.CopyFS(filepath.Join(class, name, "answers"), os.DirFS(from)); err != nil {
				t.Fatal(err)
			}
		}
		editAfterRecord(t, filepath.Join(edited, "step-6.txt"))
		out, err := run(t, 2*time.Minute, e.lab, "grade", class, "-o", "json", "--out", filepath.Join(t.TempDir(), "grades"))
		if err != nil {
			t.Fatalf("lab grade: %v\n%s", err, tail(out, 30))
		}
		var c struct {
			Students []struct {
				Name         string
				Points       int
				Verification struct {
					Status   string
					Problems []string
				}
			}
			Verification struct{ Verified, Unverified, Incoherent int }
		}
		if err := json.Unmarshal([]byte(out), &c); err != nil {
			t.Fatalf("lab grade -o json: %v\n%s", err, tail(out, 30))
		}
		got := map[string]string{}
		for _, s := range c.Students {
			got[s.Name] = s.Verification.Status
			t.Logf("lab grade: %s %d points, %s %q", s.Name, s.Points, s.Verification.Status, s.Verification.Problems)
			if s.Name == "erin" && !strings.Contains(strings.Join(s.Verification.Problems, "\n"), "step-6.txt changed after the lab record was made") {
				t.Errorf("erin's problems do not name the edited step-6.txt: %q", s.Verification.Problems)
			}
			if s.Name == "alice" && s.Points != 13 {
				t.Errorf("alice (A's answers and record): %d points, want 13", s.Points)
			}
		}
		want := map[string]string{"alice": "verified", "bob": "incoherent", "carol": "incoherent", "dave": "unverified", "erin": "incoherent"}
		for name, status := range want {
			if got[name] != status {
				t.Errorf("%s: %q, want %q", name, got[name], status)
			}
		}
		if v := c.Verification; v.Verified != 1 || v.Unverified != 1 || v.Incoherent != 3 {
			t.Errorf("class counts %+v, want 1 verified, 1 unverified, 3 incoherent", v)
		}
	})

	t.Run("down", func(t *testing.T) {
		downed = true
		inB(t, 3*time.Minute, "down", "--yes")
		if left := kubectl(t, e, 30*time.Second, "get", "all", "-n", twinNS, "-l", managedByLab, "-o", "name"); left != "" {
			t.Errorf("lab down -n %s left: %s", twinNS, left)
		}
		if uid := kubectl(t, e, 30*time.Second, "get", "pod", podName, "-o", "jsonpath={.metadata.uid}"); uid != e.podUID {
			t.Errorf("lab down -n %s touched the default namespace's pod (%s -> %q)", twinNS, e.podUID, uid)
		}
		if after, err := os.ReadFile(stateA); err != nil || string(after) != string(beforeA) {
			t.Errorf("lab down -n %s changed the default lab's state %s: %v", twinNS, stateA, err)
		}
	})
}
