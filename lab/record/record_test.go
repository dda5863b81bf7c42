package record_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/utils/ptr"

	"github.com/k8s-debug-lab/lab/checks"
	"github.com/k8s-debug-lab/lab/checks/live"
	"github.com/k8s-debug-lab/lab/checks/spec"
	"github.com/k8s-debug-lab/lab/lab/labfolder"
	"github.com/k8s-debug-lab/lab/lab/record"
	"github.com/k8s-debug-lab/lab/lab/state"
)

// good is the answers folder the end-to-end test saved on a real node;
// goodLab is what that lab's cluster showed (checks/testdata/answers/SOURCES.md).
const good = "../../checks/testdata/answers/good"

var recordedAt = time.Date(2026, 11, 28, 1, 25, 0, 0, time.UTC)

func builtin(t *testing.T) *spec.Assignment {
	t.Helper()
	l, err := labfolder.Builtin()
	if err != nil {
		t.Fatal(err)
	}
	return l.Spec
}

// goodLab is the snapshot of the cluster good/ was made on.
func goodLab(a *spec.Assignment) (live.Snapshot, *state.Lab) {
	s := live.For(a, "default")
	s.Pod = &corev1.Pod{
		ObjectMeta: metav1.ObjectMeta{Name: "nginx-distroless", Namespace: "default", UID: "6f1c2a4e-3b1d-4c55-9a0e-2d7f0b8c9e11"},
		Spec: corev1.PodSpec{
			ShareProcessNamespace: ptr.To(true), NodeName: "lab-e2e-node",
			Containers: []corev1.Container{{Name: "nginx", Image: "nginx-distroless:lab"}},
			EphemeralContainers: []corev1.EphemeralContainer{{
				EphemeralContainerCommon: corev1.EphemeralContainerCommon{Name: "debugger-7mlnq", Image: "nicolaka/netshoot",
					SecurityContext: &corev1.SecurityContext{Capabilities: &corev1.Capabilities{Add: []corev1.Capability{"SYS_PTRACE"}}}},
				TargetContainerName: "nginx",
			}},
		},
		Status: corev1.PodStatus{
			Phase: corev1.PodRunning, PodIP: "10.244.0.2",
			ContainerStatuses: []corev1.ContainerStatus{{Name: "nginx", Image: "docker.io/library/nginx-distroless:lab",
				ImageID:     "docker.io/library/nginx-distroless@sha256:0c86dddac19f2ce4fd716ac58c0fd87bf69bfd4edabfd6971fb885bafd12a00b",
				ContainerID: "containerd://4b1e0d"}},
			EphemeralContainerStatuses: []corev1.ContainerStatus{{Name: "debugger-7mlnq", State: corev1.ContainerState{Running: &corev1.ContainerStateRunning{}}}},
		},
	}
	s.Pods = []corev1.Pod{nodeDebugger("node-debugger-lab-e2e-node-n47p5", "lab-e2e-node")}
	s.Nonce = "c4fch3i2bc"
	st := &state.Lab{Context: "kind-lab", Namespace: "default", Nonce: s.Nonce, Created: recordedAt.Add(-time.Hour)}
	// The Server header Debian 12's nginx answers with, as in step-7's log.
	st.AddRun(state.Run{Via: "port-forward", Source: "127.0.0.1", Start: recordedAt.Add(-10 * time.Minute), End: recordedAt.Add(-9 * time.Minute), Sent: 10, OK: 10, Server: "nginx/1.22.1"})
	st.AddRun(state.Run{Via: "pod", Source: "10.244.0.1", Start: recordedAt.Add(-10 * time.Minute), End: recordedAt.Add(-9 * time.Minute), Sent: 10, OK: 10, Server: "nginx/1.22.1"})
	s.TrafficSources, s.Server = st.Sources(), st.Server()
	return s, st
}

func nodeDebugger(name, node string) corev1.Pod {
	return corev1.Pod{
		ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: "default"},
		Spec: corev1.PodSpec{NodeName: node,
			Volumes:    []corev1.Volume{{Name: "host-root", VolumeSource: corev1.VolumeSource{HostPath: &corev1.HostPathVolumeSource{Path: "/"}}}},
			Containers: []corev1.Container{{Name: "debugger", VolumeMounts: []corev1.VolumeMount{{Name: "host-root", MountPath: "/host"}}}}},
		Status: corev1.PodStatus{ContainerStatuses: []corev1.ContainerStatus{{Name: "debugger", State: corev1.ContainerState{Terminated: &corev1.ContainerStateTerminated{}}}}},
	}
}

// copyAnswers copies an answers folder where a record may be written.
func copyAnswers(t *testing.T, src string) string {
	t.Helper()
	dir := filepath.Join(t.TempDir(), "answers")
	if err := os.CopyFS(dir, os.DirFS(src)); err != nil {
		t.Fatal(err)
	}
	return dir
}

// liveRecord grades dir against the snapshot as a live lab check does and
// writes the record there.
func liveRecord(t *testing.T, a *spec.Assignment, dir string, snap live.Snapshot, st *state.Lab) *record.Record {
	t.Helper()
	rep, err := checks.Grade(context.Background(), a, nil, checks.Options{Answers: os.DirFS(dir), Live: live.Evaluate(snap)})
	if err != nil {
		t.Fatal(err)
	}
	rec, err := record.New(a, record.Input{By: record.ByCheck, Now: recordedAt, Context: "kind-lab", Server: "https://127.0.0.1:41235",
		Snapshot: snap, State: st, Report: rep, Answers: os.DirFS(dir)})
	if err != nil {
		t.Fatal(err)
	}
	if err := rec.Write(dir); err != nil {
		t.Fatal(err)
	}
	return rec
}

func TestWriteRead(t *testing.T) {
	a := builtin(t)
	dir := copyAnswers(t, good)
	snap, st := goodLab(a)
	rec := liveRecord(t, a, dir, snap, st)
	got, err := record.Read(os.DirFS(dir), a)
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(rec, got); diff != "" {
		t.Errorf("read back (-written +read):\n%s", diff)
	}
	c := got.Cluster
	for _, f := range []struct{ name, got, want string }{
		{"format", got.Format, record.Format},
		{"assignment", got.Assignment.Name + " " + got.Assignment.Digest, a.Name + " " + a.Digest},
		{"server", c.Server, "127.0.0.1:41235"},
		{"pod", fmt.Sprint(c.Pod.Name, " ", c.Pod.UID, " ", c.Pod.IP, " ", c.Pod.Node, " ", c.Pod.SharesPID), "nginx-distroless 6f1c2a4e-3b1d-4c55-9a0e-2d7f0b8c9e11 10.244.0.2 lab-e2e-node true"},
		{"runtime", c.Pod.Runtime, "containerd"},
		{"image digest", c.Pod.ImageDigest, "sha256:0c86dddac19f2ce4fd716ac58c0fd87bf69bfd4edabfd6971fb885bafd12a00b"},
		{"debug container", fmt.Sprint(c.DebugContainers), "[{debugger-7mlnq nicolaka/netshoot nginx [SYS_PTRACE] running}]"},
		{"nonce", c.Nonce, "c4fch3i2bc"},
		{"traffic", fmt.Sprint(len(c.Traffic), c.Traffic[1].Source), "210.244.0.1"},
		{"traffic's server", c.Traffic[0].Server + " " + c.Traffic[1].Server, "nginx/1.22.1 nginx/1.22.1"},
		{"recorded server", got.Snapshot(a).Server, "nginx/1.22.1"},
		{"files", fmt.Sprint(len(got.Files)), "5"},
	} {
		if f.got != f.want {
			t.Errorf("%s = %q, want %q", f.name, f.got, f.want)
		}
	}
	step2 := got.Steps[1]
	if step2.Step != "step-2" || step2.Status != checks.Pass || !strings.Contains(step2.Evidence, "debugger-7mlnq (nicolaka/netshoot) targets nginx, capabilities [SYS_PTRACE], running") {
		t.Errorf("step-2 = %+v", step2)
	}
}

func TestWriteIsAtomicAndTouchesNothingElse(t *testing.T) {
	a := builtin(t)
	dir := copyAnswers(t, good)
	snap, st := goodLab(a)
	before := map[string][]byte{}
	entries, _ := os.ReadDir(dir)
	for _, e := range entries {
		before[e.Name()], _ = os.ReadFile(filepath.Join(dir, e.Name()))
	}
	old := []byte(`{"format":"lab-record/v1","note":"an earlier run"}`)
	if err := os.WriteFile(filepath.Join(dir, record.FileName), old, 0o644); err != nil {
		t.Fatal(err)
	}
	liveRecord(t, a, dir, snap, st)
	entries, _ = os.ReadDir(dir)
	var names []string
	for _, e := range entries {
		names = append(names, e.Name())
		if want, ok := before[e.Name()]; ok {
			if got, _ := os.ReadFile(filepath.Join(dir, e.Name())); !bytes.Equal(got, want) {
				t.Errorf("%s was changed", e.Name())
			}
		}
	}
	if diff := cmp.Diff([]string{"lab-record.json", "star.txt", "step-3.txt", "step-5.txt", "step-6.txt", "step-7.txt"}, names); diff != "" {
		t.Errorf("answers folder after Write (-want +got):\n%s", diff)
	}
	if data, _ := os.ReadFile(filepath.Join(dir, record.FileName)); bytes.Equal(data, old) {
		t.Error("the earlier record was not replaced")
	}

	// A folder that cannot be written keeps its old record whole.
	if os.Geteuid() != 0 {
		ro := copyAnswers(t, good)
		if err := os.WriteFile(filepath.Join(ro, record.FileName), old, 0o644); err != nil {
			t.Fatal(err)
		}
		os.Chmod(ro, 0o555)
		defer os.Chmod(ro, 0o755)
		rec, _ := record.New(a, record.Input{By: record.ByCheck, Now: recordedAt, Snapshot: snap})
		if err := rec.Write(ro); err == nil {
			t.Error("Write into a read-only folder succeeded")
		}
		if data, _ := os.ReadFile(filepath.Join(ro, record.FileName)); !bytes.Equal(data, old) {
			t.Error("a failed Write changed the old record")
		}
	}
}

func TestNoCredential(t *testing.T) {
	a := builtin(t)
	snap, st := goodLab(a)
	const secret = "eyJhbGciOiJSUzI1NiIsImtpZCI6IlNFQ1JFVCJ9"
	rec, err := record.New(a, record.Input{By: record.ByCheck, Now: recordedAt, Context: "kind-lab",
		Server: "https://admin:" + secret + "@10.0.0.1:6443/k8s/clusters/c-1?token=" + secret, Snapshot: snap, State: st})
	if err != nil {
		t.Fatal(err)
	}
	data, err := rec.Marshal()
	if err != nil {
		t.Fatal(err)
	}
	if bytes.Contains(data, []byte(secret)) || bytes.Contains(data, []byte("admin")) || bytes.Contains(data, []byte("clusters/c-1")) {
		t.Errorf("the record holds the server URL's credentials or path:\n%s", data)
	}
	if rec.Cluster.Server != "10.0.0.1:6443" {
		t.Errorf("server = %q, want the host only", rec.Cluster.Server)
	}
}

// TestSize feeds New the largest inputs a cluster and a state can give: the
// record stays under MaxSize, and a spec too large for one is refused
// rather than written whole.
func TestSize(t *testing.T) {
	a := builtin(t)
	snap, st := goodLab(a)
	long := strings.Repeat("x", 4096)
	name := strings.Repeat("n", 253)
	for i := range 1000 {
		snap.Pod.Spec.Containers = append(snap.Pod.Spec.Containers, corev1.Container{Name: fmt.Sprint(name, i)})
		e := corev1.EphemeralContainer{TargetContainerName: "nginx"}
		e.Name, e.Image = fmt.Sprint(name, i), long
		e.SecurityContext = &corev1.SecurityContext{Capabilities: &corev1.Capabilities{Add: []corev1.Capability{"SYS_PTRACE", corev1.Capability(long)}}}
		snap.Pod.Spec.EphemeralContainers = append(snap.Pod.Spec.EphemeralContainers, e)
		snap.Pods = append(snap.Pods, nodeDebugger(fmt.Sprint(name, i), "lab-e2e-node"))
	}
	for range 1000 {
		st.AddRun(state.Run{Via: long, Source: long, Sent: 1 << 30, OK: 1 << 30})
	}
	rep := &checks.Report{}
	for _, s := range a.Steps {
		rep.Results = append(rep.Results, checks.Result{Step: s.ID, Status: checks.Fail, Message: strings.Repeat("é", 10000), MaxPoints: s.Points})
	}
	rec, err := record.New(a, record.Input{By: record.ByCheck, Now: recordedAt, Context: long, Server: "https://" + long + ":6443", Snapshot: snap, State: st, Report: rep, Answers: os.DirFS(good)})
	if err != nil {
		t.Fatal(err)
	}
	data, err := rec.Marshal()
	if err != nil {
		t.Fatal(err)
	}
	if len(data) >= record.MaxSize {
		t.Errorf("record of %d bytes, want under %d", len(data), record.MaxSize)
	}
	t.Logf("the largest record: %d bytes", len(data))
	dir := t.TempDir()
	if err := rec.Write(dir); err != nil {
		t.Fatal(err)
	}
	if _, err := record.Read(os.DirFS(dir), a); err != nil {
		t.Errorf("the largest record does not read back: %v", err)
	}

	// A spec with thousands of steps cannot be recorded in MaxSize.
	big := *a
	big.Steps = nil
	rep = &checks.Report{}
	for i := range 3000 {
		id := fmt.Sprintf("step-%d", i+1)
		big.Steps = append(big.Steps, spec.Step{ID: id, Points: 1, Live: []string{live.PodSharesPID}})
		rep.Results = append(rep.Results, checks.Result{Step: id, Status: checks.Pass, Points: 1, MaxPoints: 1})
	}
	rec, err = record.New(&big, record.Input{By: record.ByCheck, Now: recordedAt, Snapshot: snap, Report: rep})
	if err != nil {
		t.Fatal(err)
	}
	if err := rec.Write(dir); err == nil || !strings.Contains(err.Error(), "more than the 65536 a record may") {
		t.Errorf("Write of a record too large: %v", err)
	}
	if _, err := record.Read(os.DirFS(dir), a); err != nil {
		t.Errorf("a refused Write damaged the earlier record: %v", err)
	}
}

func TestRead(t *testing.T) {
	a := builtin(t)
	dir := copyAnswers(t, good)
	snap, st := goodLab(a)
	liveRecord(t, a, dir, snap, st)
	valid, err := os.ReadFile(filepath.Join(dir, record.FileName))
	if err != nil {
		t.Fatal(err)
	}
	edit := func(f func(m map[string]any)) []byte {
		var m map[string]any
		if err := json.Unmarshal(valid, &m); err != nil {
			t.Fatal(err)
		}
		f(m)
		out, _ := json.Marshal(m)
		return out
	}
	again := "run lab check where the lab's cluster answers to write it again"
	huge := append(bytes.Repeat([]byte(" "), record.MaxSize), valid...)
	for _, tt := range []struct {
		name string
		data []byte
		want string
	}{
		{"newer format", edit(func(m map[string]any) { m["format"] = "lab-record/v2"; m["signature"] = "x" }),
			`the lab record lab-record.json: format "lab-record/v2", which this lab (dev) does not read (it reads lab-record/v1); ` + again + " with this lab"},
		{"no format", []byte(`{"assignment":{"name":"kubernetes-debug"}}`), "the lab record lab-record.json: not a lab record: it has no format; " + again},
		{"not json", []byte("step-3 passed, trust me\n"), "the lab record lab-record.json: not a lab record (invalid character 's' looking for beginning of value); " + again},
		{"another assignment", edit(func(m map[string]any) { m["assignment"] = map[string]any{"name": "k8s-networking", "digest": a.Digest} }),
			`the lab record lab-record.json: made for the assignment "k8s-networking", not "kubernetes-debug"; ` + again + " for this assignment"},
		{"another version of it", edit(func(m map[string]any) {
			m["assignment"] = map[string]any{"name": a.Name, "digest": "sha256:" + strings.Repeat("ab", 32)}
		}), `the lab record lab-record.json: made with another version of the assignment "kubernetes-debug" (spec sha256:abababababab, this one is ` + a.Digest[:19] + "); " + again},
		{"unknown field", edit(func(m map[string]any) { m["verdict"] = "pass" }), `the lab record lab-record.json: damaged (json: unknown field "verdict"); ` + again},
		{"no time", edit(func(m map[string]any) { delete(m, "recorded") }), "the lab record lab-record.json: damaged (no time); " + again},
		{"edited step", edit(func(m map[string]any) { m["steps"].([]any)[0].(map[string]any)["step"] = "step-9" }),
			`the lab record lab-record.json: damaged (a verdict on step "step-9", which the assignment does not have); ` + again},
		{"bad hash", edit(func(m map[string]any) { m["files"].([]any)[0].(map[string]any)["sha256"] = "123" }),
			`the lab record lab-record.json: damaged (the file step-3.txt: "123" is not a SHA-256); ` + again},
		{"escaping file", edit(func(m map[string]any) { m["files"].([]any)[0].(map[string]any)["name"] = "../step-3.txt" }),
			`the lab record lab-record.json: damaged (the file "../step-3.txt" is not one of step step-3's); ` + again},
		{"another pod", edit(func(m map[string]any) { m["cluster"].(map[string]any)["pod"].(map[string]any)["name"] = "web" }),
			`the lab record lab-record.json: damaged (the pod "web" is not the assignment's "nginx-distroless"); ` + again},
		{"two records", append(append([]byte{}, valid...), valid...), "the lab record lab-record.json: not a lab record (invalid character '{' after top-level value); " + again},
		{"huge", huge, fmt.Sprintf("the lab record lab-record.json holds %d bytes, more than a record may (65536): it was not written by lab; %s", len(huge), again)},
	} {
		t.Run(tt.name, func(t *testing.T) {
			d := t.TempDir()
			if err := os.WriteFile(filepath.Join(d, record.FileName), tt.data, 0o644); err != nil {
				t.Fatal(err)
			}
			_, err := record.Read(os.DirFS(d), a)
			if err == nil || !strings.HasPrefix(err.Error(), tt.want) {
				t.Errorf("error = %v\nwant    %s", err, tt.want)
			}
		})
	}
	if _, err := record.Read(os.DirFS(t.TempDir()), a); !errors.Is(err, record.ErrNone) {
		t.Errorf("no record: %v, want ErrNone", err)
	}
	d := t.TempDir()
	os.Mkdir(filepath.Join(d, record.FileName), 0o755)
	if _, err := record.Read(os.DirFS(d), a); err == nil || !strings.Contains(err.Error(), "is not a regular file") {
		t.Errorf("a folder named like the record: %v", err)
	}
}

func grade(t *testing.T, a *spec.Assignment, dir string, required bool) *record.Outcome {
	t.Helper()
	rec, err := record.Read(os.DirFS(dir), a)
	if errors.Is(err, record.ErrNone) {
		rec = nil
	} else if err != nil {
		t.Fatal(err)
	}
	out, err := record.Grade(context.Background(), a, nil, checks.Options{Answers: os.DirFS(dir)}, rec, required)
	if err != nil {
		t.Fatal(err)
	}
	return out
}

func verdicts(rep *checks.Report) map[string]string {
	v := map[string]string{}
	for _, r := range rep.Results {
		v[r.Step] = string(r.Status) + " " + r.Message
	}
	return v
}

func TestGradeAgainstRecord(t *testing.T) {
	a := builtin(t)
	snap, st := goodLab(a)
	recorded := checks.RecordedAt(recordedAt)
	pass := map[string]string{"step-1": "pass " + recorded, "step-2": "pass " + recorded, "step-3": "pass ", "step-5": "pass ", "step-6": "pass ", "step-7": "pass ", "star": "pass "}

	t.Run("agrees", func(t *testing.T) {
		dir := copyAnswers(t, good)
		liveRecord(t, a, dir, snap, st)
		out := grade(t, a, dir, true)
		if diff := cmp.Diff(pass, verdicts(out.Report)); diff != "" {
			t.Errorf("verdicts (-want +got):\n%s", diff)
		}
		s := out.Report.Summary
		if s.Points != 13 || s.MaxPoints != 13 || len(out.Problems) != 0 || out.Report.Checked != checks.CheckedRecord || !out.Report.Offline || len(out.Report.Notes) != 0 {
			t.Errorf("%d/%d, problems %q, checked %q, offline %v, notes %q", s.Points, s.MaxPoints, out.Problems, out.Report.Checked, out.Report.Offline, out.Report.Notes)
		}
	})

	t.Run("a file changed after the record", func(t *testing.T) {
		dir := copyAnswers(t, good)
		liveRecord(t, a, dir, snap, st)
		f, _ := os.OpenFile(filepath.Join(dir, "step-6.txt"), os.O_APPEND|os.O_WRONLY, 0)
		f.WriteString("\n")
		f.Close()
		os.Rename(filepath.Join(dir, "step-5.txt"), filepath.Join(dir, "step-5.pcap"))
		out := grade(t, a, dir, false)
		want := []string{
			"answers/step-5.pcap is not the file the lab record graded (answers/step-5.txt)",
			"answers/step-6.txt changed after the lab record was made (2026-11-28 01:25 UTC)",
		}
		if diff := cmp.Diff(want, out.Problems); diff != "" {
			t.Errorf("problems (-want +got):\n%s", diff)
		}
		if diff := cmp.Diff(want, out.Report.Notes); diff != "" {
			t.Errorf("notes (-want +got):\n%s", diff)
		}
		v := verdicts(out.Report)
		if want := "fail " + want[1] + ": run lab check where the lab's cluster answers to write it again with this file"; v["step-6"] != want {
			t.Errorf("step-6 = %q\nwant     %q", v["step-6"], want)
		}
		if out.Report.Summary.Points != 13-1-3 {
			t.Errorf("points %d, want 9", out.Report.Summary.Points)
		}
	})

	t.Run("another lab's record", func(t *testing.T) {
		dir := copyAnswers(t, good)
		other, st := goodLab(a)
		other.Pod.Status.PodIP, other.Nonce = "10.244.0.9", "zz9zz9zz9z"
		liveRecord(t, a, dir, other, st)
		out := grade(t, a, dir, false)
		want := []string{
			"step-5: no request in this capture carries this lab's nonce (lab=zz9zz9zz9z): it was not captured here while lab traffic ran",
			"step-6: the table shows nginx-distroless=10.244.0.2, but this pod's IP is 10.244.0.9",
			"step-7: no access entry carries this lab's nonce (lab=zz9zz9zz9z): this log is not this pod's, or was read before lab traffic ran",
		}
		if diff := cmp.Diff(want, out.Problems); diff != "" {
			t.Errorf("problems (-want +got):\n%s", diff)
		}
	})

	t.Run("another nginx", func(t *testing.T) {
		// A lab whose nginx answered with another version than the one
		// step-7's log names: the live check and the record both say so.
		dir := copyAnswers(t, good)
		other, st := goodLab(a)
		for i := range st.Traffic {
			st.Traffic[i].Server = "nginx/1.25.3"
		}
		other.Server = st.Server()
		liveRecord(t, a, dir, other, st)
		rep, err := checks.Grade(context.Background(), a, nil, checks.Options{Answers: os.DirFS(dir), Live: live.Evaluate(other)})
		if err != nil {
			t.Fatal(err)
		}
		if v := verdicts(rep)["step-7"]; v != "fail step-7 shows nginx/1.22.1; the lab's nginx answered lab traffic with nginx/1.25.3" {
			t.Errorf("live step-7 = %q", v)
		}
		out := grade(t, a, dir, false)
		want := "step-7 shows nginx/1.22.1; the lab record says the lab's nginx answered lab traffic with nginx/1.25.3"
		if v := verdicts(out.Report)["step-7"]; v != "fail "+want {
			t.Errorf("offline step-7 = %q", v)
		}
		if len(out.Report.Disagreements) != 1 || out.Report.Disagreements[0].Message != want {
			t.Errorf("disagreements %+v", out.Report.Disagreements)
		}
	})

	t.Run("a verdict edited without its evidence", func(t *testing.T) {
		dir := copyAnswers(t, good)
		noDebugger, st := goodLab(a)
		noDebugger.Pod.Spec.EphemeralContainers = nil
		rec := liveRecord(t, a, dir, noDebugger, st)
		rec.Steps[1].Status, rec.Steps[1].Points = checks.Pass, 1 // what a student would edit
		if err := rec.Write(dir); err != nil {
			t.Fatal(err)
		}
		out := grade(t, a, dir, false)
		if want := []string{"step-2: the record says pass, but the facts it holds say fail"}; !cmp.Equal(want, out.Problems) {
			t.Errorf("problems %q, want %q", out.Problems, want)
		}
		if v := verdicts(out.Report)["step-2"]; !strings.HasPrefix(v, "fail no ephemeral container targets nginx (recorded live at ") {
			t.Errorf("step-2 = %q", v)
		}
	})

	t.Run("no record", func(t *testing.T) {
		out := grade(t, a, good, false)
		if out.Report.Checked != checks.CheckedNothing || !cmp.Equal(out.Report.Notes, []string{checks.NotChecked}) || out.Report.Summary.Points != 11 {
			t.Errorf("checked %q, notes %q, %d points", out.Report.Checked, out.Report.Notes, out.Report.Summary.Points)
		}
		out = grade(t, a, good, true)
		for _, r := range out.Report.Results {
			if r.Status != checks.Fail || r.Message != record.Required {
				t.Errorf("required, no record: %s %s %q", r.Step, r.Status, r.Message)
			}
		}
		if out.Report.ExitCode() != 1 {
			t.Errorf("exit %d, want 1", out.Report.ExitCode())
		}
	})
}

// The Server header is optional (a record written before it, a lab whose
// server sends none read the same) and bounded like every other fact.
func TestServerOptionalAndClipped(t *testing.T) {
	a := builtin(t)
	dir := copyAnswers(t, good)
	snap, st := goodLab(a)
	rec := liveRecord(t, a, dir, snap, st)
	data, err := rec.Marshal()
	if err != nil {
		t.Fatal(err)
	}
	before := regexp.MustCompile(`,\s*"server": "nginx/1.22.1"`).ReplaceAll(data, nil)
	if bytes.Contains(before, []byte(`"server": "nginx`)) {
		t.Fatalf("the test did not remove the Server headers:\n%s", before)
	}
	old, err := record.Decode(before, a)
	if err != nil {
		t.Fatalf("a record without Server headers: %v", err)
	}
	if s := old.Snapshot(a); s.Server != "" || live.Evaluate(s).Vars["nginx.version"] != nil {
		t.Errorf("no Server header recorded, yet server %q", s.Server)
	}

	st.Traffic[1].Server = "nginx/1.22.1 " + strings.Repeat("(a very long comment) ", 20)
	rec = liveRecord(t, a, dir, snap, st)
	if got := rec.Cluster.Traffic[1].Server; len(got) > 128 || !strings.HasPrefix(got, "nginx/1.22.1 (a very") || !strings.HasSuffix(got, "…") {
		t.Errorf("a long Server header kept as %q (%d bytes)", got, len(got))
	}
}
