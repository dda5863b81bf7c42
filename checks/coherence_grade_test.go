package checks_test

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/k8s-debug-lab/lab/checks"
	"github.com/k8s-debug-lab/lab/checks/live"
)

// The mixed hand-in, from real captures: step-3, step-5 and
// step-6 from one lab (the end-to-end answers), step-7 from another whose
// traffic carried another nonce. Each file passes on its own; offline,
// without any record, the folder fails the steps that disagree.
func TestMixedLabsFailOffline(t *testing.T) {
	dir := t.TempDir()
	copyFile := func(from, to string) {
		b, err := os.ReadFile(from)
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(dir, to), b, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	for _, f := range []string{"step-3.txt", "step-5.txt", "step-6.txt", "star.txt"} {
		copyFile("testdata/answers/good/"+f, f)
	}
	copyFile("parse/podlog/testdata/debug-node-ls-tail-cri.txt", "step-7.txt")
	rep := grade(t, dir)
	want := map[string]verdict{
		"step-1": {checks.Skip, 0, "proven only against the lab's cluster; skipped offline"},
		"step-2": {checks.Skip, 0, "proven only against the lab's cluster; skipped offline"},
		"step-3": {checks.Pass, 2, ""},
		"step-5": {checks.Fail, 0, "step-5 carries lab=c4fch3i2bc; step-7 carries lab=k7q2x9: these files come from different labs (each lab's traffic carries its own nonce)"},
		"step-6": {checks.Pass, 1, ""},
		"step-7": {checks.Fail, 0, "step-5 carries lab=c4fch3i2bc; step-7 carries lab=k7q2x9: these files come from different labs (each lab's traffic carries its own nonce)"},
		"star":   {checks.Pass, 3, ""},
	}
	if diff := cmp.Diff(want, verdicts(rep)); diff != "" {
		t.Errorf("(-want +got)\n%s", diff)
	}
	if rep.ExitCode() != 1 || len(rep.Disagreements) != 1 {
		t.Errorf("exit %d, disagreements %+v", rep.ExitCode(), rep.Disagreements)
	}
}

// A log whose only "access entry" is a TLS ClientHello sent to port 80
// proves no request.
func TestHandshakeIsNoAccess(t *testing.T) {
	dir := t.TempDir()
	log := `2026-11-28T01:22:54.92024061Z stdout F 10.244.0.3 - - [28/Nov/2026:01:22:54 +0000] "\x16\x03\x01\x02\x00\x01\x00\x01\xFC\x03\x03\xA6" 400 157 "-" "-"` + "\n"
	if err := os.WriteFile(filepath.Join(dir, "step-7.txt"), []byte(log), 0o644); err != nil {
		t.Fatal(err)
	}
	got := verdicts(grade(t, dir, "step-7"))["step-7"]
	if got.Status != checks.Fail || !strings.Contains(got.Message, "no HTTP request") {
		t.Errorf("got %+v, want a failure", got)
	}
}

// The nginx version the end-to-end lab's step-7 log names (nginx/1.22.1,
// Debian 12's build) against the Server header lab traffic got: live and
// from a lab record. A lab whose server is not nginx (BusyBox httpd sends
// no Server header) has no version, and nothing is compared.
func TestNginxVersionAgainstTheLab(t *testing.T) {
	recorded := time.Date(2026, 12, 5, 8, 7, 42, 0, time.UTC)
	tests := []struct {
		name     string
		server   string
		recorded time.Time
		want     verdict
	}{
		{"live, the same nginx", "nginx/1.22.1", time.Time{}, verdict{checks.Pass, 2, ""}},
		{"live, another nginx", "nginx/1.25.3", time.Time{}, verdict{checks.Fail, 0,
			"step-7 shows nginx/1.22.1; the lab's nginx answered lab traffic with nginx/1.25.3"}},
		{"recorded, another nginx", "nginx/1.25.3", recorded, verdict{checks.Fail, 0,
			"step-7 shows nginx/1.22.1; the lab record says the lab's nginx answered lab traffic with nginx/1.25.3"}},
		{"no Server header", "", time.Time{}, verdict{checks.Pass, 2, ""}},
		{"nginx hiding its version", "nginx", time.Time{}, verdict{checks.Pass, 2, ""}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			l := live.Evaluate(live.Snapshot{Namespace: "default", PodName: "nginx-distroless", Container: "nginx", Server: tt.server})
			l.Recorded = tt.recorded
			rep := gradeLive(t, "testdata/answers/good", l, "step-7")
			if diff := cmp.Diff(tt.want, verdicts(rep)["step-7"]); diff != "" {
				t.Errorf("(-want +got)\n%s", diff)
			}
		})
	}
}
