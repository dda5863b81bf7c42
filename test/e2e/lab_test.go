//go:build e2e

package e2e

import (
	"encoding/json"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// The lab's own commands, run as a student and an instructor would, against
// the harness's cluster. Each is a sub-test of TestE2E, in the order of the
// assignment.

func labBuild(t *testing.T, e *env) {
	out, err := run(t, 10*time.Minute, "go", "build", "-o", e.lab, "../../cmd/lab")
	if err != nil {
		t.Fatalf("go build lab: %v\n%s", err, out)
	}
	// The state file (the lab's nonce) must not come from, or go to, the
	// machine's own state folder.
	os.Setenv("XDG_STATE_HOME", filepath.Join(filepath.Dir(e.lab), "state"))
	keepOnMachine()
}

// labRun runs lab with the harness's kubeconfig and returns what it printed
// on stdout, its stderr and its exit code.
func labRun(t *testing.T, e *env, d time.Duration, args ...string) (stdout, stderr string, code int) {
	t.Helper()
	return labRunEnv(t, e, d, nil, args...)
}

// labRunEnv is labRun with variables added to the environment.
func labRunEnv(t *testing.T, e *env, d time.Duration, environ []string, args ...string) (stdout, stderr string, code int) {
	t.Helper()
	args = append(args, "--kubeconfig", e.kubeconfig)
	cmd := exec.Command(e.lab, args...)
	if environ != nil {
		cmd.Env = append(os.Environ(), environ...)
	}
	var o, er lockedBuffer
	cmd.Stdout, cmd.Stderr = &o, &er
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()
	select {
	case err := <-done:
		var ee *exec.ExitError
		if errors.As(err, &ee) {
			code = ee.ExitCode()
		} else if err != nil {
			t.Fatalf("lab %s: %v", strings.Join(args, " "), err)
		}
	case <-time.After(d):
		cmd.Process.Kill()
		<-done
		t.Fatalf("lab %s did not finish within %s:\n%s\n%s", strings.Join(args, " "), d, o.String(), er.String())
	}
	return o.String(), er.String(), code
}

func labOK(t *testing.T, e *env, d time.Duration, args ...string) string {
	t.Helper()
	out, errOut, code := labRun(t, e, d, args...)
	if code != 0 {
		t.Fatalf("lab %s: exit %d\n%s\n%s", strings.Join(args, " "), code, tail(out, 40), tail(errOut, 40))
	}
	return out
}

func labUp(t *testing.T, e *env) {
	start := time.Now()
	labOK(t, e, 5*time.Minute, "up", "--provider", "existing")
	t.Logf("lab up: %s", time.Since(start).Round(time.Millisecond))
	podFacts(t, e)
	// A second lab up on a ready lab changes nothing.
	start = time.Now()
	out, errOut, code := labRun(t, e, time.Minute, "up", "--provider", "existing")
	if code != 0 || !strings.Contains(out, "nothing changed") {
		t.Errorf("second lab up: exit %d, want 0 and \"nothing changed\":\n%s\n%s", code, out, errOut)
	}
	if uid := kubectl(t, e, 30*time.Second, "get", "pod", podName, "-o", "jsonpath={.metadata.uid}"); uid != e.podUID {
		t.Errorf("second lab up recreated the pod (%s -> %s)", e.podUID, uid)
	}
	t.Logf("second lab up: %s", time.Since(start).Round(time.Millisecond))
}

func labStatus(t *testing.T, e *env) {
	out := labOK(t, e, time.Minute, "status", "-o", "json")
	var st map[string]any
	if err := json.Unmarshal([]byte(out), &st); err != nil {
		t.Fatalf("lab status -o json is not JSON: %v\n%s", err, out)
	}
	for _, want := range []string{e.podUID, e.podIP, e.node, "/var/log/pods/default_nginx-distroless_" + e.podUID} {
		if !strings.Contains(out, want) {
			t.Errorf("lab status lacks %q:\n%s", want, out)
		}
	}
}

func labLesson7(t *testing.T, e *env) {
	out := labOK(t, e, time.Minute, "lesson", "7", "--plain", "--lang", "en")
	if !strings.Contains(out, "/var/log/pods/default_nginx-distroless_"+e.podUID+"/nginx/") || !strings.Contains(out, e.node) {
		t.Errorf("lab lesson 7 is not personalised with this pod's UID %s and node %s:\n%s", e.podUID, e.node, tail(out, 40))
	}
}

// labTraffic runs lab traffic and remembers where its requests came from.
func labTraffic(t *testing.T, e *env, via string) {
	t.Helper()
	out := labOK(t, e, 3*time.Minute, "traffic", "--via", via, "--count", "3", "-o", "json")
	var rep struct {
		Runs []struct {
			Via    string `json:"via"`
			Sent   int    `json:"sent"`
			OK     int    `json:"ok"`
			Source string `json:"source"`
		} `json:"runs"`
	}
	if err := json.Unmarshal([]byte(out), &rep); err != nil {
		t.Fatalf("lab traffic -o json: %v\n%s", err, out)
	}
	for _, r := range rep.Runs {
		if r.OK != 3 || r.Sent != 3 {
			t.Errorf("lab traffic via %s: %d of %d ok", r.Via, r.OK, r.Sent)
		}
		if r.Source != "" && r.Source != "127.0.0.1" {
			e.trafficSources = append(e.trafficSources, r.Source)
		}
	}
	if left := kubectl(t, e, 30*time.Second, "get", "pods", "-l", "app.kubernetes.io/name=lab-traffic", "-o", "name"); left != "" {
		t.Errorf("lab traffic left its client pod: %s", left)
	}
}

// checkReport is the part of lab check's JSON the test reads.
type checkReport struct {
	Offline bool `json:"offline"`
	Summary struct {
		Passed, Failed, Points, MaxPoints int
	} `json:"summary"`
	Results []struct {
		Step, Status, Message, Format string
	} `json:"results"`
}

// labCheck runs lab check on an answers folder: every step, or the
// steps named.
func labCheck(t *testing.T, e *env, answers string, steps ...string) (checkReport, int, string) {
	t.Helper()
	args := append(append([]string{"check"}, steps...), "--answers", answers, "-o", "json")
	out, errOut, code := labRun(t, e, 2*time.Minute, args...)
	var rep checkReport
	if err := json.Unmarshal([]byte(out), &rep); err != nil {
		t.Fatalf("lab check -o json: %v\n%s\n%s", err, out, errOut)
	}
	return rep, code, out
}

func labCheckAll(t *testing.T, e *env) {
	rep, code, out := labCheck(t, e, e.answers)
	if code != 0 || rep.Offline || rep.Summary.Points != rep.Summary.MaxPoints {
		t.Errorf("lab check on the student's answers: exit %d, offline %v, %d/%d points:\n%s", code, rep.Offline, rep.Summary.Points, rep.Summary.MaxPoints, out)
	}
}

func labSolveAll(t *testing.T, e *env) {
	start := time.Now()
	out := labOK(t, e, 5*time.Minute, "solve", "all", "--answers", e.labAnswers, "-o", "json")
	t.Logf("lab solve all: %s", time.Since(start).Round(time.Millisecond))
	var solved struct {
		Passed, Failed int
		Steps          []struct{ Step, File string }
	}
	if err := json.Unmarshal([]byte(out), &solved); err != nil {
		t.Fatalf("lab solve -o json: %v\n%s", err, out)
	}
	if solved.Passed != 7 || solved.Failed != 0 || len(solved.Steps) != 7 || solved.Steps[6].File != filepath.Join(e.labAnswers, "star.txt") {
		t.Errorf("lab solve all -o json: %s", out)
	}
	rep, code, out := labCheck(t, e, e.labAnswers)
	if code != 0 || rep.Offline || rep.Summary.Points != rep.Summary.MaxPoints {
		t.Errorf("lab check on lab solve's answers: exit %d, offline %v, %d/%d points:\n%s", code, rep.Offline, rep.Summary.Points, rep.Summary.MaxPoints, out)
	}
	// It never overwrites answers without --force.
	before, _ := os.ReadFile(filepath.Join(e.labAnswers, "step-5.txt"))
	if _, _, code := labRun(t, e, time.Minute, "solve", "step-5", "--answers", e.labAnswers); code != 2 {
		t.Errorf("lab solve over existing answers: exit %d, want 2", code)
	}
	if after, _ := os.ReadFile(filepath.Join(e.labAnswers, "step-5.txt")); string(after) != string(before) {
		t.Error("lab solve changed an existing answer without --force")
	}
	t.Run("record-offline", func(t *testing.T) { labRecordOffline(t, e) })
}

// The write-up's outputs come from another cluster: live, they fail and say
// what differs.
func labSeedFailsLive(t *testing.T, e *env) {
	// A live lab check writes its record into the answers folder: a copy,
	// never the repository's testdata.
	seed := filepath.Join(t.TempDir(), "seed")
	if err := os.CopyFS(seed, os.DirFS("../../checks/testdata/answers/seed")); err != nil {
		t.Fatal(err)
	}
	rep, code, out := labCheck(t, e, seed)
	if code != 1 || rep.Offline {
		t.Fatalf("lab check on the seed: exit %d, offline %v; want 1, live:\n%s", code, rep.Offline, out)
	}
	msgs := map[string]string{}
	for _, r := range rep.Results {
		msgs[r.Step] = r.Status + ": " + r.Message
	}
	for step, want := range map[string]string{
		"step-5": "fail: no request in this capture carries this lab's nonce",
		"step-6": "fail: the table shows nginx-distroless=10.244.0.12, but this pod's IP is " + e.podIP,
		"step-7": "fail: no access entry carries this lab's nonce",
	} {
		if !strings.HasPrefix(msgs[step], want) {
			t.Errorf("%s: %q, want %q…", step, msgs[step], want)
		}
	}
}

// A Russian-speaking student (LANG=ru_RU.UTF-8) reads lab check live in
// Russian: the cross-check that names the difference from this cluster
// too.
func labCheckRussian(t *testing.T, e *env) {
	// A live check writes its lab record into the answers folder: a copy,
	// never the repository's seed.
	seed := filepath.Join(t.TempDir(), "answers")
	if err := os.CopyFS(seed, os.DirFS("../../checks/testdata/answers/seed")); err != nil {
		t.Fatal(err)
	}
	out, errOut, code := labRunEnv(t, e, 2*time.Minute, []string{"LC_ALL=", "LC_MESSAGES=", "LANG=ru_RU.UTF-8"},
		"check", "--answers", seed)
	if code != 1 {
		t.Fatalf("LANG=ru_RU.UTF-8 lab check on the seed: exit %d, want 1:\n%s\n%s", code, out, errOut)
	}
	for _, want := range []string{
		"· с кластером",
		"✗ step-6 IP пода и его нода из kubectl get pod -o wide",
		"в таблице nginx-distroless=10.244.0.12, а IP этого пода — " + e.podIP,
		"ни один запрос в этом дампе не несёт nonce этой лаборатории",
		"подсказка: ",
		"баллы: ",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("LANG=ru_RU.UTF-8 lab check lacks %q:\n%s", want, out)
		}
	}
}

func labReset(t *testing.T, e *env) {
	old := e.podUID
	labOK(t, e, 5*time.Minute, "reset")
	podFacts(t, e)
	if e.podUID == old {
		t.Errorf("lab reset kept the pod %s", old)
	}
	if eph := kubectl(t, e, 30*time.Second, "get", "pod", podName, "-o", "jsonpath={.spec.ephemeralContainers}"); eph != "" {
		t.Errorf("the reset pod still has ephemeral containers: %s", eph)
	}
}

func labDown(t *testing.T, e *env) {
	if _, _, code := labRun(t, e, time.Minute, "down"); code != 2 {
		t.Errorf("lab down without a terminal or --yes: exit %d, want 2", code)
	}
	labOK(t, e, 3*time.Minute, "down", "--yes")
	if left := kubectl(t, e, 30*time.Second, "get", "all", "-A", "-l", managedByLab, "-o", "name"); left != "" {
		t.Errorf("lab down left: %s", left)
	}
}

// labRecordOffline grades lab solve's answers without the cluster, against
// the lab record the live lab check of labSolveAll wrote: steps 1 and 2
// are scored from it, 13/13; an answer edited after it is named.
func labRecordOffline(t *testing.T, e *env) {
	rec := filepath.Join(e.labAnswers, "lab-record.json")
	data, err := os.ReadFile(rec)
	if err != nil {
		t.Fatalf("no lab record after a live lab check: %v", err)
	}
	if len(data) >= 64<<10 || !strings.Contains(string(data), `"format": "lab-record/v1"`) || !strings.Contains(string(data), e.podIP) {
		t.Errorf("lab record (%d bytes) lacks its format or the pod's IP %s:\n%s", len(data), e.podIP, data)
	}
	offline := func(answers string) (checkReport, int, string) {
		out, errOut, code := labRun(t, e, time.Minute, "check", "--offline", "--answers", answers, "-o", "json")
		var rep checkReport
		if err := json.Unmarshal([]byte(out), &rep); err != nil {
			t.Fatalf("lab check --offline -o json: %v\n%s\n%s", err, out, errOut)
		}
		return rep, code, out
	}
	rep, code, out := offline(e.labAnswers)
	msgs := map[string]string{}
	for _, r := range rep.Results {
		msgs[r.Step] = r.Status + ": " + r.Message
	}
	if code != 0 || !rep.Offline || rep.Summary.Points != 13 || rep.Summary.MaxPoints != 13 ||
		!strings.HasPrefix(msgs["step-1"], "pass: recorded live at ") || !strings.HasPrefix(msgs["step-2"], "pass: recorded live at ") {
		t.Errorf("lab check --offline with the record: exit %d, offline %v, %d/%d points, step-1 %q, step-2 %q:\n%s",
			code, rep.Offline, rep.Summary.Points, rep.Summary.MaxPoints, msgs["step-1"], msgs["step-2"], out)
	}

	edited := filepath.Join(t.TempDir(), "answers")
	if err := os.CopyFS(edited, os.DirFS(e.labAnswers)); err != nil {
		t.Fatal(err)
	}
	editAfterRecord(t, filepath.Join(edited, "step-6.txt"))
	rep, code, out = offline(edited)
	for _, r := range rep.Results {
		if r.Step == "step-6" && (r.Status != "fail" || !strings.Contains(r.Message, "step-6.txt changed after the lab record was made")) {
			t.Errorf("step-6 edited after the record: %s %q", r.Status, r.Message)
		}
	}
	if code != 1 || rep.Summary.Points != 12 {
		t.Errorf("an answer edited after the record: exit %d, %d points, want 1, 12:\n%s", code, rep.Summary.Points, out)
	}
}

// editAfterRecord adds an empty line to an answers file, as a student who
// touched it after the live check would: the lab record no longer vouches
// for it.
func editAfterRecord(t *testing.T, path string) {
	t.Helper()
	f, err := os.OpenFile(path, os.O_APPEND|os.O_WRONLY, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if _, err := f.WriteString("\n"); err != nil {
		t.Fatal(err)
	}
}
