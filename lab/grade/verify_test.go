package grade_test

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/k8s-debug-lab/lab/checks/live"
	"github.com/k8s-debug-lab/lab/lab/grade"
	"github.com/k8s-debug-lab/lab/lab/record"
)

// TestVerification grades a class whose students hand in the same real
// answers: with their lab's record (verified), without one (unverified),
// with a file edited after it, or with another lab's record (incoherent).
func TestVerification(t *testing.T) {
	a := builtin(t)
	root := t.TempDir()
	good := filepath.Join(repoRoot, "checks/testdata/answers/good")
	at := time.Date(2026, 11, 28, 1, 25, 0, 0, time.UTC)
	student := func(name, ip string) string {
		dir := filepath.Join(root, name, "answers")
		if err := os.CopyFS(dir, os.DirFS(good)); err != nil {
			t.Fatal(err)
		}
		if ip == "" {
			return dir
		}
		snap := live.For(a, "default")
		snap.Pod = &corev1.Pod{ObjectMeta: metav1.ObjectMeta{Name: a.Workload.Pod, Namespace: "default", UID: "u-1"},
			Spec: corev1.PodSpec{NodeName: "lab-e2e-node"}, Status: corev1.PodStatus{Phase: corev1.PodRunning, PodIP: ip}}
		snap.Nonce = "c4fch3i2bc"
		rec, err := record.New(a, record.Input{By: record.ByCheck, Now: at, Context: "kind-lab", Server: "https://127.0.0.1:6443", Snapshot: snap, Answers: os.DirFS(dir)})
		if err != nil {
			t.Fatal(err)
		}
		if err := rec.Write(dir); err != nil {
			t.Fatal(err)
		}
		return dir
	}
	student("alice", "10.244.0.2")
	student("bob", "")
	carol := student("carol", "10.244.0.2")
	if err := os.WriteFile(filepath.Join(carol, "step-3.txt"), []byte("total 0\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	student("dave", "10.244.0.77")

	c, err := grade.Run(context.Background(), a, root, grade.Options{Jobs: 2, Now: at})
	if err != nil {
		t.Fatal(err)
	}
	got := map[string]grade.Verification{}
	for _, st := range c.Students {
		got[st.Name] = st.Verification
	}
	want := map[string]grade.Verification{
		"alice": {Status: grade.Verified, Recorded: at, Context: "kind-lab"},
		"bob":   {Status: grade.Unverified, Problems: []string{"no lab record: the answers were not checked against a cluster"}},
		"carol": {Status: grade.Incoherent, Recorded: at, Context: "kind-lab", Problems: []string{"carol/answers/step-3.txt changed after the lab record was made (2026-11-28 01:25 UTC)"}},
		"dave": {Status: grade.Incoherent, Recorded: at, Context: "kind-lab", Problems: []string{
			"step-5: no packet to or from this pod's IP 10.244.0.77 (the capture shows 127.0.0.1, 10.244.0.3, 10.244.0.2)",
			"step-6: the table shows nginx-distroless=10.244.0.2, but this pod's IP is 10.244.0.77",
		}},
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("verification (-want +got):\n%s", diff)
	}
	if want := (grade.VerificationCounts{Verified: 1, Unverified: 1, Incoherent: 2}); c.Verification != want {
		t.Errorf("class counts %+v, want %+v", c.Verification, want)
	}

	var table, csv bytes.Buffer
	if err := grade.WriteTable(&table, c, grade.TableOptions{}); err != nil {
		t.Fatal(err)
	}
	for _, s := range []string{"points  record      copy", "alice    ", "verified", "incoherent", "lab records: 1 verified", "Incoherent: the answers and the lab record disagree\n  carol\n     carol/answers/step-3.txt changed"} {
		if !strings.Contains(table.String(), s) {
			t.Errorf("table lacks %q:\n%s", s, table.String())
		}
	}
	if err := grade.WriteCSV(&csv, c); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(csv.String(), ",verification,recorded,verification_problems,") || !strings.Contains(csv.String(), ",verified,2026-11-28T01:25:00Z,,") {
		t.Errorf("csv lacks the verification columns:\n%s", csv.String())
	}
}
