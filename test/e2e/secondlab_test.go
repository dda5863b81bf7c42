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

// secondLab is a lab folder with no Go code of its own (test/labs/httpd):
// another workload (BusyBox httpd on 8080, a ConfigMap, no shared PID
// namespace) and other steps. It runs beside the built-in lab, in its own
// namespace, through every command a course uses, which is what proves that
// a lab is a folder.
const (
	secondLabDir = "../labs/httpd"
	secondLabNS  = "lab-httpd"
)

func labSecondLab(t *testing.T, e *env) {
	dir, err := filepath.Abs(secondLabDir)
	if err != nil {
		t.Fatal(err)
	}
	nginxUID := e.podUID
	lab := func(t *testing.T, d time.Duration, args ...string) string {
		t.Helper()
		return labOK(t, e, d, append(args, "--assignment", dir, "-n", secondLabNS)...)
	}
	t.Run("validate", func(t *testing.T) {
		// Commands that never reach a cluster take no --kubeconfig.
		if out, err := run(t, time.Minute, e.lab, "assignment", "validate", dir); err != nil {
			t.Fatalf("lab assignment validate: %v\n%s", err, out)
		}
	})
	t.Run("up", func(t *testing.T) {
		lab(t, 5*time.Minute, "up", "--provider", "existing")
		if cm := kubectl(t, e, 30*time.Second, "get", "configmap", "web-content", "-n", secondLabNS, "-o", "jsonpath={.metadata.labels.app\\.kubernetes\\.io/managed-by}"); cm != "lab" {
			t.Errorf("the ConfigMap of the lab folder carries managed-by=%q, want lab", cm)
		}
	})
	ip := kubectl(t, e, 30*time.Second, "get", "pod", "web", "-n", secondLabNS, "-o", "jsonpath={.status.podIP}")
	t.Run("lesson", func(t *testing.T) {
		out := lab(t, time.Minute, "lesson", "3", "--plain", "--lang", "en")
		if !strings.Contains(out, ip) || !strings.Contains(out, "kubectl get pod web -n "+secondLabNS) {
			t.Errorf("lesson 3 of the second lab is not personalised with pod web, IP %s:\n%s", ip, tail(out, 30))
		}
	})
	t.Run("traffic", func(t *testing.T) {
		out := lab(t, 3*time.Minute, "traffic", "--count", "3", "-o", "json")
		if !strings.Contains(out, `"ok": 3`) && !strings.Contains(out, `"ok":3`) {
			t.Errorf("lab traffic to the second lab's port 8080:\n%s", out)
		}
	})
	answers := filepath.Join(t.TempDir(), "answers")
	t.Run("solve", func(t *testing.T) {
		out := lab(t, 5*time.Minute, "solve", "all", "--answers", answers, "-o", "json")
		var solved struct{ Passed, Failed int }
		if err := json.Unmarshal([]byte(out), &solved); err != nil || solved.Passed != 3 || solved.Failed != 0 {
			t.Errorf("lab solve all (second lab): %v\n%s", err, out)
		}
		ps, _ := os.ReadFile(filepath.Join(answers, "step-1.txt"))
		if !strings.Contains(string(ps), "httpd -f -v -p 8080") {
			t.Errorf("ps in the debug container targeting httpd does not show the server:\n%s", ps)
		}
	})
	t.Run("check", func(t *testing.T) {
		out, errOut, code := labRun(t, e, 2*time.Minute, "check", "--answers", answers, "-o", "json", "--assignment", dir, "-n", secondLabNS)
		var rep checkReport
		if err := json.Unmarshal([]byte(out), &rep); err != nil {
			t.Fatalf("lab check -o json: %v\n%s\n%s", err, out, errOut)
		}
		if code != 0 || rep.Offline || rep.Summary.Points != 5 || rep.Summary.MaxPoints != 5 {
			t.Errorf("lab check (second lab, live): exit %d, offline %v, %d/%d:\n%s", code, rep.Offline, rep.Summary.Points, rep.Summary.MaxPoints, out)
		}
		// The built-in lab's answers are not this lab's.
		if _, _, code := labRun(t, e, 2*time.Minute, "check", "--answers", answers, "-o", "json"); code == 0 {
			t.Error("the second lab's answers pass the built-in lab")
		}
	})
	t.Run("grade", func(t *testing.T) {
		class := t.TempDir()
		if err := os.CopyFS(filepath.Join(class, "alice", "answers"), os.DirFS(answers)); err != nil {
			t.Fatal(err)
		}
		out, err := run(t, time.Minute, e.lab, "grade", class, "--assignment", dir, "-o", "csv", "--out", filepath.Join(t.TempDir(), "grades"))
		if err != nil || !strings.Contains(out, "alice,") {
			t.Errorf("lab grade (second lab): %v\n%s", err, out)
		}
	})
	t.Run("down", func(t *testing.T) {
		lab(t, 3*time.Minute, "down", "--yes")
		if left := kubectl(t, e, 30*time.Second, "get", "all,configmaps", "-n", secondLabNS, "-l", managedByLab, "-o", "name"); left != "" {
			t.Errorf("lab down (second lab) left: %s", left)
		}
		// The built-in lab, in its own namespace, is untouched.
		if uid := kubectl(t, e, 30*time.Second, "get", "pod", podName, "-o", "jsonpath={.metadata.uid}"); uid != nginxUID {
			t.Errorf("the second lab's down touched the built-in lab's pod (%s -> %q)", nginxUID, uid)
		}
	})
}
