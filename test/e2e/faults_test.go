//go:build e2e

package e2e

import (
	"bufio"
	"encoding/json"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"
)

// The fault table: each row breaks something under a running lab command,
// the way a student's flaky laptop or an impatient Ctrl-C does, and holds
// the command to its promises: the documented exit code, a message that
// says what happened, a time bound (the command's own timeout plus a few
// seconds), and afterwards nothing lab labelled left behind but the lab
// itself, no lab process (and so no port-forward) still running, and the
// state file whole. Rows run in order on the lab that lab/up made; the
// last ones leave it repaired for the steps after.

// faultRun is one lab command started in the background.
type faultRun struct {
	cmd   *exec.Cmd
	out   lockedBuffer
	err   lockedBuffer
	start time.Time
	done  chan struct{}
	code  int
	took  time.Duration
}

func startLab(t *testing.T, e *env, extraEnv []string, args ...string) *faultRun {
	t.Helper()
	r := &faultRun{done: make(chan struct{})}
	if args[0] != "grade" { // the one command with no cluster flags
		args = append(args, "--kubeconfig", e.kubeconfig)
	}
	r.cmd = exec.Command(e.lab, args...)
	r.cmd.Env = append(os.Environ(), extraEnv...)
	r.cmd.Stdout, r.cmd.Stderr = &r.out, &r.err
	r.start = time.Now()
	if err := r.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	go func() {
		err := r.cmd.Wait()
		r.took = time.Since(r.start)
		r.code = 0
		if err != nil {
			r.code = -1
			if ee, ok := err.(*exec.ExitError); ok {
				r.code = ee.ExitCode()
			}
		}
		close(r.done)
	}()
	return r
}

// wait waits for the command for at most bound; past it, the command is
// killed and the row fails.
func (r *faultRun) wait(t *testing.T, bound time.Duration) {
	t.Helper()
	select {
	case <-r.done:
	case <-time.After(bound - time.Since(r.start)):
		r.cmd.Process.Kill()
		<-r.done
		t.Errorf("lab %s still ran after %s (killed):\n%s\n%s", strings.Join(r.cmd.Args[1:], " "), bound, tail(r.out.String(), 20), tail(r.err.String(), 20))
	}
}

// expect checks the exit code and that stdout+stderr says want.
func (r *faultRun) expect(t *testing.T, code int, want string) {
	t.Helper()
	all := r.out.String() + r.err.String()
	if r.code != code || !strings.Contains(all, want) {
		t.Errorf("lab %s: exit %d after %s, want %d and %q:\n%s", r.args(), r.code, r.took.Round(time.Millisecond), code, want, tail(all, 30))
	}
	t.Logf("observed: lab %s: exit %d in %s; %s", r.args(), r.code, r.took.Round(100*time.Millisecond), lastLine(all))
}

// args are the command's arguments without the kubeconfig.
func (r *faultRun) args() string {
	var out []string
	for i := 1; i < len(r.cmd.Args); i++ {
		if r.cmd.Args[i] == "--kubeconfig" {
			i++
			continue
		}
		out = append(out, r.cmd.Args[i])
	}
	return strings.Join(out, " ")
}

func lastLine(s string) string {
	lines := strings.Split(strings.TrimSpace(s), "\n")
	for i := len(lines) - 1; i >= 0; i-- {
		if l := strings.TrimSpace(lines[i]); l != "" && !strings.HasPrefix(l, "E1") && !strings.HasPrefix(l, "W1") {
			return l
		}
	}
	return ""
}

// apiserver pauses and resumes the harness's kube-apiserver.
type apiserver struct {
	pid    int
	paused bool
}

func harnessAPIServer(t *testing.T, e *env) *apiserver {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(harnessEnv(t, e, "RUN"), "pids", "kube-apiserver"))
	if err != nil {
		t.Fatal(err)
	}
	pid, err := strconv.Atoi(strings.TrimSpace(string(b)))
	if err != nil {
		t.Fatal(err)
	}
	a := &apiserver{pid: pid}
	// Whatever happens to the row, the cluster is given back running.
	t.Cleanup(a.resume)
	return a
}

func (a *apiserver) pause(t *testing.T) {
	t.Helper()
	if err := syscall.Kill(a.pid, syscall.SIGSTOP); err != nil {
		t.Fatalf("SIGSTOP kube-apiserver: %v", err)
	}
	a.paused = true
}

func (a *apiserver) resume() {
	if a.paused {
		syscall.Kill(a.pid, syscall.SIGCONT)
		a.paused = false
	}
}

// apiReady waits until the API server answers again after a pause.
func apiReady(t *testing.T, e *env) {
	t.Helper()
	waitFor(t, time.Minute, "the API server answering", func() bool {
		_, err := kubectlErr(e, 10*time.Second, "get", "--raw", "/readyz")
		return err == nil
	})
}

// labelled lists what lab labels in the cluster (pods, services).
func labelled(t *testing.T, e *env) map[string]bool {
	t.Helper()
	out, err := kubectlErr(e, 20*time.Second, "get", "pods,services", "-l", managedByLab, "-o", "name")
	if err != nil {
		return nil
	}
	m := map[string]bool{}
	for _, n := range strings.Fields(out) {
		m[n] = true
	}
	return m
}

// leftovers asserts the cleanup every row promises: nothing labelled by lab
// beyond what was there before the table (the lab's pod and service, and
// what the student steps left), no lab process, a state file that is whole
// JSON.
func leftovers(t *testing.T, e *env, stateHome string, before map[string]bool) {
	t.Helper()
	var left []string
	deadline := time.Now().Add(30 * time.Second)
	for {
		left = nil
		for n := range labelled(t, e) {
			if !before[n] && n != "pod/"+podName && n != "service/"+podName {
				left = append(left, n)
			}
		}
		if len(left) == 0 || time.Now().After(deadline) {
			break
		}
		time.Sleep(time.Second)
	}
	if len(left) > 0 {
		t.Errorf("left behind: %v", left)
	}
	if p := livePIDs("-f", "^"+e.lab+" "); p != "" {
		t.Errorf("lab processes (and their port-forwards) still running: %s", p)
	}
	files, _ := filepath.Glob(filepath.Join(stateHome, "lab", "*.json"))
	for _, f := range files {
		b, err := os.ReadFile(f)
		var st struct {
			Nonce string `json:"nonce"`
		}
		if err != nil || json.Unmarshal(b, &st) != nil || st.Nonce == "" {
			t.Errorf("state file %s is not whole: %v\n%s", f, err, b)
		}
	}
}

func faults(t *testing.T, e *env) {
	stateHome := os.Getenv("XDG_STATE_HOME")
	before := labelled(t, e)
	t.Logf("labelled before the fault table: %v", before)
	rows := []struct {
		name string
		fn   func(t *testing.T)
	}{
		{"kubeconfig-closed-port", func(t *testing.T) {
			kc := filepath.Join(t.TempDir(), "kubeconfig")
			b, err := os.ReadFile(e.kubeconfig)
			if err != nil {
				t.Fatal(err)
			}
			var lines []string
			for _, l := range strings.Split(string(b), "\n") {
				if strings.HasPrefix(strings.TrimSpace(l), "server:") {
					l = "    server: https://127.0.0.1:1"
				}
				lines = append(lines, l)
			}
			writeFile(t, kc, strings.Join(lines, "\n"))
			for _, args := range [][]string{{"status"}, {"up", "--provider", "existing"}, {"traffic", "--count", "1"}} {
				r := &faultRun{done: make(chan struct{})}
				r.cmd = exec.Command(e.lab, append(args, "--kubeconfig", kc)...)
				r.cmd.Stdout, r.cmd.Stderr = &r.out, &r.err
				r.start = time.Now()
				err := r.cmd.Run()
				r.took = time.Since(r.start)
				if ee, ok := err.(*exec.ExitError); ok {
					r.code = ee.ExitCode()
				}
				r.expect(t, 3, "connection refused")
				if r.took > 5*time.Second {
					t.Errorf("lab %s took %s, want exit 3 within 5 s", args[0], r.took)
				}
			}
		}},
		{"apiserver-paused/status", func(t *testing.T) {
			a := harnessAPIServer(t, e)
			a.pause(t)
			r := startLab(t, e, nil, "status")
			r.wait(t, 25*time.Second)
			a.resume()
			r.expect(t, 3, "cannot reach the cluster")
			apiReady(t, e)
		}},
		{"apiserver-paused/up", func(t *testing.T) {
			a := harnessAPIServer(t, e)
			// lab up on a ready lab takes 0.1 s: the pause comes first.
			a.pause(t)
			r := startLab(t, e, nil, "up", "--provider", "existing")
			r.wait(t, 25*time.Second) // one request's CallTimeout (15 s) and some
			a.resume()
			r.expect(t, 3, "cluster")
			apiReady(t, e)
			leftovers(t, e, stateHome, before)
		}},
		{"apiserver-paused/traffic", func(t *testing.T) {
			a := harnessAPIServer(t, e)
			r := startLab(t, e, nil, "traffic", "--via", "pod", "--count", "5")
			waitFor(t, time.Minute, "the client pod", func() bool {
				return kubectl(t, e, 20*time.Second, "get", "pods", "-l", "app.kubernetes.io/name=lab-traffic", "-o", "name") != ""
			})
			a.pause(t)
			// A wait for the pod (15 s a request), the pod's deletion (10 s).
			r.wait(t, 45*time.Second)
			a.resume()
			r.expect(t, 3, "kubectl delete pod lab-traffic-")
			apiReady(t, e)
			// The next run tidies up what this one could not delete.
			labOK(t, e, 2*time.Minute, "traffic", "--via", "pod", "--count", "1")
			leftovers(t, e, stateHome, before)
		}},
		{"apiserver-paused/check-live", func(t *testing.T) {
			a := harnessAPIServer(t, e)
			// lab check never makes a student wait on a cluster: one that
			// its context names but that does not answer within 3 s is
			// exit 3, pointing at --offline.
			a.pause(t)
			r := startLab(t, e, nil, "check", "--answers", e.answers, "-o", "json")
			r.wait(t, 10*time.Second)
			a.resume()
			r.expect(t, 3, "grade the files alone with --offline")
			apiReady(t, e)
			leftovers(t, e, stateHome, before)
		}},
		{"apiserver-paused/solve", func(t *testing.T) {
			a := harnessAPIServer(t, e)
			ans := filepath.Join(t.TempDir(), "answers")
			// step-6 takes 0.3 s: the pause comes first.
			a.pause(t)
			r := startLab(t, e, nil, "solve", "step-6", "--answers", ans)
			r.wait(t, 45*time.Second)
			a.resume()
			r.expect(t, 3, "cluster")
			apiReady(t, e)
			leftovers(t, e, stateHome, before)
		}},
		{"sigint/traffic-pod-running", func(t *testing.T) {
			r := startLab(t, e, nil, "traffic", "--via", "pod", "--count", "30")
			waitFor(t, time.Minute, "the client pod running", func() bool {
				return strings.Contains(kubectl(t, e, 20*time.Second, "get", "pods", "-l", "app.kubernetes.io/name=lab-traffic", "-o", "jsonpath={.items[*].status.phase}"), "Running")
			})
			r.cmd.Process.Signal(os.Interrupt)
			r.wait(t, 20*time.Second) // the pod's deletion is bounded by 10 s
			r.expect(t, 1, "interrupted")
			leftovers(t, e, stateHome, before)
		}},
		{"sigint/traffic-port-forward", func(t *testing.T) {
			r := startLab(t, e, nil, "traffic", "--via", "port-forward", "--count", "30", "--rate", "5")
			time.Sleep(2 * time.Second)
			r.cmd.Process.Signal(os.Interrupt)
			r.wait(t, 15*time.Second)
			r.expect(t, 1, "interrupted")
			leftovers(t, e, stateHome, before)
		}},
		{"sigint/solve-step-7-node-pod", func(t *testing.T) {
			ans := filepath.Join(t.TempDir(), "answers")
			r := startLab(t, e, nil, "solve", "step-7", "--answers", ans)
			waitFor(t, time.Minute, "the node debug pod", func() bool {
				return strings.Contains(kubectl(t, e, 20*time.Second, "get", "pods", "-l", managedByLab, "-o", "name"), "node-debugger-")
			})
			r.cmd.Process.Signal(os.Interrupt)
			r.wait(t, 25*time.Second)
			r.expect(t, 1, "interrupt")
			if _, err := os.Stat(filepath.Join(ans, "step-7.txt")); err == nil {
				t.Error("an interrupted solve left step-7.txt")
			}
			leftovers(t, e, stateHome, before)
		}},
		{"nginx-deleted-during-traffic", func(t *testing.T) {
			r := startLab(t, e, nil, "traffic", "--via", "port-forward", "--count", "20", "--rate", "5")
			time.Sleep(1500 * time.Millisecond)
			kubectl(t, e, 30*time.Second, "delete", "pod", podName, "--wait=false")
			r.wait(t, 3*time.Minute)
			t.Logf("observed: lab traffic with the pod deleted under it: exit %d in %s; %s", r.code, r.took.Round(100*time.Millisecond), lastLine(r.out.String()+r.err.String()))
			if r.code == 0 {
				t.Errorf("lab traffic exit 0 though its pod was deleted:\n%s", r.out.String()+r.err.String())
			}
			podGone(t, e)
			statusSaysThenUpRepairs(t, e)
			leftovers(t, e, stateHome, before)
		}},
		{"sigint/up-waiting-for-ready", func(t *testing.T) {
			kubectl(t, e, time.Minute, "delete", "pod", podName, "--wait=true")
			r := startLab(t, e, nil, "up", "--provider", "existing")
			waitFor(t, time.Minute, "the new pod", func() bool {
				_, err := kubectlErr(e, 20*time.Second, "get", "pod", podName)
				return err == nil
			})
			r.cmd.Process.Signal(os.Interrupt)
			r.wait(t, 20*time.Second)
			r.expect(t, 1, "removed what this command created")
			up := startLab(t, e, nil, "up", "--provider", "existing")
			up.wait(t, 3*time.Minute)
			up.expect(t, 0, "lab is ready")
			podFacts(t, e)
			leftovers(t, e, stateHome, before)
		}},
		{"sigint/up-connecting", func(t *testing.T) {
			kubectl(t, e, time.Minute, "delete", "pod,service", "-l", managedByLab, "--wait=true")
			a := harnessAPIServer(t, e)
			a.pause(t)
			r := startLab(t, e, nil, "up", "--provider", "existing")
			time.Sleep(time.Second) // its first request now waits on the paused API server
			r.cmd.Process.Signal(os.Interrupt)
			r.wait(t, 10*time.Second)
			a.resume()
			r.expect(t, 1, "interrupted")
			apiReady(t, e)
			if got := labelled(t, e); got["pod/"+podName] || got["service/"+podName] {
				t.Errorf("an up interrupted before it applied anything left %v", got)
			}
			leftovers(t, e, stateHome, before)
		}},
		{"sigint/up-asking-the-registry", func(t *testing.T) {
			// A registry (through the proxy) that accepts and never
			// answers holds lab up in its question, which comes before it
			// deploys anything.
			asked := stalledProxy(t)
			r := startLab(t, e, []string{"HTTPS_PROXY=http://" + asked.addr, "https_proxy=http://" + asked.addr}, "up", "--provider", "existing")
			asked.wait(t, 30*time.Second)
			r.cmd.Process.Signal(os.Interrupt)
			r.wait(t, 10*time.Second)
			r.expect(t, 1, "interrupted")
			if got := labelled(t, e); got["pod/"+podName] || got["service/"+podName] {
				t.Errorf("an up interrupted in its registry question left %v", got)
			}
			leftovers(t, e, stateHome, before)
		}},
		{"sigint/up-applying", func(t *testing.T) {
			// The pod is created; the Service's creation is held on the
			// wire when the Ctrl-C comes. What this up created goes, and
			// no pod is left without its Service.
			hold := holdCreates(t, e, "services", map[string]string{"app.kubernetes.io/managed-by": "lab"})
			r := startLab(t, e, nil, "up", "--provider", "existing")
			if n := hold.Held(t, time.Minute); n != podName {
				t.Errorf("held the creation of service %s, want %s", n, podName)
			}
			r.cmd.Process.Signal(os.Interrupt)
			r.wait(t, 20*time.Second)
			r.expect(t, 1, "removed what this command created: [pod default/"+podName+"]")
			hold.Release()
			waitFor(t, time.Minute, "the interrupted up's pod gone", func() bool {
				got := labelled(t, e)
				return !got["pod/"+podName] && !got["service/"+podName]
			})
			leftovers(t, e, stateHome, before)
		}},
		{"sigint/traffic-creating-client-pod", func(t *testing.T) {
			labOK(t, e, 3*time.Minute, "up", "--provider", "existing")
			podFacts(t, e)
			hold := holdCreates(t, e, "pods", map[string]string{"app.kubernetes.io/name": "lab-traffic"})
			r := startLab(t, e, nil, "traffic", "--via", "pod", "--count", "5")
			hold.Held(t, time.Minute)
			r.cmd.Process.Signal(os.Interrupt)
			r.wait(t, 25*time.Second)
			r.expect(t, 1, "interrupted")
			hold.Release()
			leftovers(t, e, stateHome, before)
		}},
		{"sigint/solve-step-5-capturing", func(t *testing.T) {
			// tcpdump runs in the debug container while traffic flows: an
			// interrupt stops it there too, not only lab.
			ans := filepath.Join(t.TempDir(), "answers")
			r := startLab(t, e, nil, "solve", "step-5", "--answers", ans)
			waitFor(t, 2*time.Minute, "tcpdump running in the debug container", func() bool { return podRuns(t, e, "tcpdump") })
			r.cmd.Process.Signal(os.Interrupt)
			r.wait(t, 30*time.Second)
			r.expect(t, 1, "interrupt")
			waitFor(t, 20*time.Second, "no tcpdump left in the pod", func() bool { return !podRuns(t, e, "tcpdump") })
			if _, err := os.Stat(filepath.Join(ans, "step-5.txt")); err == nil {
				t.Error("an interrupted solve left step-5.txt")
			}
			leftovers(t, e, stateHome, before)
		}},
		{"sigint/solve-creating-node-pod", func(t *testing.T) {
			hold := holdCreates(t, e, "pods", map[string]string{"app.kubernetes.io/managed-by": "lab"})
			ans := filepath.Join(t.TempDir(), "answers")
			r := startLab(t, e, nil, "solve", "step-7", "--answers", ans)
			if n := hold.Held(t, 2*time.Minute); !strings.HasPrefix(n, "node-debugger-") {
				t.Errorf("held the creation of pod %s, want a node debugger", n)
			}
			r.cmd.Process.Signal(os.Interrupt)
			r.wait(t, 25*time.Second)
			r.expect(t, 1, "interrupt")
			hold.Release()
			leftovers(t, e, stateHome, before)
		}},
		{"node-debug-pod-deleted-during-solve", func(t *testing.T) {
			// Someone's kubectl delete --force takes the node debug pod away
			// before it has printed the log: the step fails saying so, and
			// no partial step-7.txt is saved. (A graceful delete lets the
			// kubelet run the pod's one cat to its end: lab solve then saves
			// the whole log and exits 0, which is right.)
			gone := deleteOnSight(t, e, "node-debugger-")
			ans := filepath.Join(t.TempDir(), "answers")
			r := startLab(t, e, nil, "solve", "step-7", "--answers", ans)
			r.wait(t, 2*time.Minute)
			t.Logf("deleted %s under lab solve", gone.name(t, 5*time.Second))
			r.expect(t, 1, "was deleted before lab read what it printed")
			if _, err := os.Stat(filepath.Join(ans, "step-7.txt")); err == nil {
				t.Error("lab solve saved step-7.txt from a deleted node debug pod")
			}
			leftovers(t, e, stateHome, before)
		}},
		{"nginx-deleted-during-lesson", func(t *testing.T) {
			kubectl(t, e, 30*time.Second, "delete", "pod", podName, "--wait=false")
			// While it goes, and once it is gone, a lesson still opens and
			// says what to do.
			r := startLab(t, e, nil, "lesson", "step-3", "--plain")
			r.wait(t, 30*time.Second)
			r.expect(t, 0, "lab up")
			podGone(t, e)
			r = startLab(t, e, nil, "lesson", "step-7", "--plain")
			r.wait(t, 30*time.Second)
			r.expect(t, 0, "no pod "+podName+" in namespace default")
			if !strings.Contains(r.out.String(), "<POD_UID:") {
				t.Errorf("a lesson without its pod should keep the placeholders:\n%s", tail(r.out.String(), 20))
			}
			statusSaysThenUpRepairs(t, e)
			leftovers(t, e, stateHome, before)
		}},
		{"two-ups-at-once", func(t *testing.T) {
			kubectl(t, e, time.Minute, "delete", "pod,service", "-l", managedByLab, "--wait=true")
			a := startLab(t, e, nil, "up", "--provider", "existing")
			b := startLab(t, e, nil, "up", "--provider", "existing")
			a.wait(t, 3*time.Minute)
			b.wait(t, 3*time.Minute)
			a.expect(t, 0, "lab is ready")
			b.expect(t, 0, "lab is ready")
			if got := kubectl(t, e, 30*time.Second, "get", "pods,services", "-l", managedByLab, "-o", "name"); got != "pod/"+podName+"\nservice/"+podName {
				t.Errorf("after two lab up at once: %q, want one pod and one service", got)
			}
			podFacts(t, e)
			leftovers(t, e, stateHome, before)
		}},
		{"state-dir-unwritable", func(t *testing.T) {
			// Root writes through any mode bits: the state folder's parent
			// is a file instead, which no one can create a folder in.
			blocker := filepath.Join(t.TempDir(), "not-a-folder")
			writeFile(t, blocker, "x")
			env := []string{"XDG_STATE_HOME=" + filepath.Join(blocker, "state")}
			r := startLab(t, e, env, "traffic", "--via", "port-forward", "--count", "1")
			r.wait(t, 30*time.Second)
			r.expect(t, 2, "state")
			// Grading needs no state: a class is still graded.
			class := t.TempDir()
			stu := filepath.Join(class, "ann", "answers")
			os.MkdirAll(stu, 0o755)
			for _, f := range []string{"step-3.txt", "step-6.txt"} {
				b, _ := os.ReadFile(filepath.Join(e.answers, f))
				writeFile(t, filepath.Join(stu, f), string(b))
			}
			g := startLab(t, e, env, "grade", class, "--out", filepath.Join(t.TempDir(), "out"))
			g.wait(t, time.Minute)
			g.expect(t, 0, "ann")
			leftovers(t, e, stateHome, before)
		}},
	}
	for _, row := range rows {
		t.Run(row.name, row.fn)
	}
}

// podRuns says whether a process named name runs in the lab's pod (its
// debug containers share its PID namespace).
func podRuns(t *testing.T, e *env, name string) bool {
	t.Helper()
	out, _ := kubectlErr(e, 20*time.Second, "get", "pod", podName, "-o", "jsonpath={.spec.ephemeralContainers[*].name}")
	dbg := strings.Fields(out)
	if len(dbg) == 0 {
		return false
	}
	ps, err := kubectlErr(e, 20*time.Second, "exec", podName, "-c", dbg[len(dbg)-1], "--", "sh", "-c", "ps -e -o comm")
	if err != nil {
		return false
	}
	for _, l := range strings.Fields(ps) {
		if l == name {
			return true
		}
	}
	return false
}

// sightedDeletion is deleteOnSight's result: the pod it deleted.
type sightedDeletion chan string

func (s sightedDeletion) name(t *testing.T, d time.Duration) string {
	t.Helper()
	select {
	case n := <-s:
		return n
	case <-time.After(d):
		t.Fatal("no new pod was deleted on sight")
		return ""
	}
}

// deleteOnSight watches the lab's namespace and force-deletes the first
// new pod whose name starts with prefix as soon as the API server has it,
// sooner than any container in it can start (which takes the kubelet a
// second).
func deleteOnSight(t *testing.T, e *env, prefix string) sightedDeletion {
	t.Helper()
	existing := map[string]bool{}
	for _, n := range strings.Fields(kubectl(t, e, 20*time.Second, "get", "pods", "-o", "name")) {
		existing[n] = true
	}
	cmd := exec.Command(e.kubectl, "--kubeconfig", e.kubeconfig, "get", "pods", "-w", "-o", "name")
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { cmd.Process.Kill(); cmd.Wait() })
	found := make(sightedDeletion, 1)
	go func() {
		sc := bufio.NewScanner(out)
		for sc.Scan() {
			n := strings.TrimSpace(sc.Text())
			if existing[n] || !strings.HasPrefix(n, "pod/"+prefix) {
				continue
			}
			kubectlErr(e, 20*time.Second, "delete", n, "--wait=false", "--grace-period=0", "--force")
			found <- strings.TrimPrefix(n, "pod/")
			return
		}
	}()
	return found
}

// stalledRegistry is a proxy on loopback that accepts connections and
// never answers: a registry question through it waits until given up.
type stalledRegistry struct {
	addr  string
	conns chan net.Conn
}

func stalledProxy(t *testing.T) *stalledRegistry {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	s := &stalledRegistry{addr: ln.Addr().String(), conns: make(chan net.Conn, 8)}
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			s.conns <- c
		}
	}()
	t.Cleanup(func() {
		ln.Close()
		for {
			select {
			case c := <-s.conns:
				c.Close()
			default:
				return
			}
		}
	})
	return s
}

// wait waits for the first connection and keeps it open (unanswered).
func (s *stalledRegistry) wait(t *testing.T, d time.Duration) {
	t.Helper()
	select {
	case c := <-s.conns:
		t.Cleanup(func() { c.Close() })
	case <-time.After(d):
		t.Fatalf("nothing asked the stalled registry within %s", d)
	}
}

// podGone waits until the lab's pod no longer exists.
func podGone(t *testing.T, e *env) {
	t.Helper()
	waitFor(t, time.Minute, "the pod gone", func() bool {
		_, err := kubectlErr(e, 20*time.Second, "get", "pod", podName)
		return err != nil
	})
}

// statusSaysThenUpRepairs is what a student does once the lab's pod is
// gone: lab status says the lab is not deployed (exit 1), and lab up
// deploys it again.
func statusSaysThenUpRepairs(t *testing.T, e *env) {
	t.Helper()
	st := startLab(t, e, nil, "status")
	st.wait(t, 30*time.Second)
	st.expect(t, 1, "not deployed")
	up := startLab(t, e, nil, "up", "--provider", "existing")
	up.wait(t, 3*time.Minute)
	up.expect(t, 0, "created pod")
	podFacts(t, e)
}
