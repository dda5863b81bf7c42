//go:build e2e

// Package e2e runs the lab against a real single-node Kubernetes cluster that
// the harness in ./cluster builds and starts on this machine, offline.
//
//	go test -tags e2e -timeout 60m -v ./test/e2e/...
//
// The test brings the cluster up (or reuses one the harness already runs, and
// then leaves it running), deploys the lab's pod, and plays a student who runs
// the real kubectl, ps, ls, tcpdump and strace commands the assignment teaches,
// saving each output into an answers folder. With LAB_E2E_UPDATE=1 the outputs
// are copied to testdata/captured/ as fixtures for the grader's parsers.
// If it started the cluster it stops it and asserts the node is clean.
//
// Environment: LAB_E2E_CACHE (build cache, see cluster/harness),
// LAB_E2E_UPDATE=1 (refresh testdata/captured), LAB_E2E_KEEP=1 (leave the
// cluster running at the end).
package e2e

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

const (
	podName      = "nginx-distroless"
	namespace    = "default"
	debuggerName = "debugger"
	managedByLab = "app.kubernetes.io/managed-by=lab"
)

// env is what the whole run shares.
type env struct {
	harness     string // path of cluster/harness
	kubectl     string
	kubeconfig  string
	node        string
	state       string
	run         string
	cache       string
	answers     string // the student's answers folder
	captured    string // extra outputs that are not answers (ps, kubectl logs)
	startedUp   bool   // this test brought the cluster up
	ipForward   string // net.ipv4.ip_forward before up
	linksBefore map[string]bool

	lab            string // the lab binary built for this run
	labAnswers     string // the answers lab solve writes
	trafficSources []string

	podUID, podIP string
	masterPID     string
	workerPID     string
}

func TestE2E(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Skip("the e2e harness needs root (it starts a kubelet and containerd)")
	}
	e := &env{}
	wd, err := os.Getwd()
	if err != nil {
		t.Fatal(err)
	}
	e.harness = filepath.Join(wd, "cluster", "harness")
	e.answers = filepath.Join(t.TempDir(), "answers")
	// lab solve's answers and record outlive lab/solve-all: lab/two-labs
	// grades them beside a second lab's.
	e.labAnswers = filepath.Join(t.TempDir(), "lab-answers")
	e.lab = filepath.Join(t.TempDir(), "lab")
	e.captured = filepath.Join(t.TempDir(), "captured")
	for _, d := range []string{e.answers, e.captured} {
		if err := os.MkdirAll(d, 0o755); err != nil {
			t.Fatal(err)
		}
	}

	steps := []struct {
		name string
		fn   func(*testing.T, *env)
	}{
		{"cluster/up", clusterUp},
		{"cluster/guard", clusterGuard},
		{"cluster/listeners", clusterListeners},
		{"lab/build", labBuild},
		{"lab/up", labUp},
		{"lab/status", labStatus},
		{"lab/stays-on-machine", labStaysOnMachine},
		{"lab/lesson-7", labLesson7},
		{"student/step-2-debug", studentDebug},
		{"student/step-2-debug-tty", studentDebugTTY},
		{"student/step-3-ps-ls", studentPsLs},
		{"student/step-5-tcpdump", studentTcpdump},
		{"student/step-5-pcap", studentPcap},
		{"student/step-6-get-wide", studentGetWide},
		{"student/step-7-node-log", studentNodeLog},
		{"student/star-strace", studentStrace},
		{"student/kubectl-logs", studentKubectlLogs},
		{"lab/check-all", labCheckAll},
		{"lab/solve-all", labSolveAll},
		{"lab/seed-fails-live", labSeedFailsLive},
		{"lab/check-ru", labCheckRussian},
		{"lab/second-lab", labSecondLab},
		{"lab/two-labs", labTwoLabs},
		{"faults", faults},
		{"lab/reset", labReset},
		// After the reset: a new pod without ephemeral containers, as a
		// student who starts over gets.
		{"lessons/run", lessonRunner},
		{"lab/down", labDown},
	}
	repoBefore := repoStatus()
	defer func() {
		// Everything a test writes goes to its temp folders: a live check
		// writes a lab record into the answers folder it reads, lab grade
		// its grades/ into the working directory.
		t.Run("repository-untouched", func(t *testing.T) {
			if after := repoStatus(); after != repoBefore {
				t.Errorf("the e2e run changed the repository (git status before:\n%s\nafter:\n%s)", repoBefore, after)
			}
		})
		saveFixtures(t, e)
		// Every lab command has run and kube-proxy has synced many times:
		// the guard must still come first.
		t.Run("cluster/guard-at-end", func(t *testing.T) { clusterGuard(t, e) })
		t.Run("cleanup", cleanup(e))
		t.Run("cluster/down", clusterDown(e))
	}()
	for _, s := range steps {
		if !t.Run(s.name, func(t *testing.T) { s.fn(t, e) }) {
			if strings.HasPrefix(s.name, "cluster/") || s.name == "lab/build" || s.name == "lab/up" || s.name == "student/step-2-debug" {
				t.Fatalf("%s failed; the later steps need it", s.name)
			}
		}
	}
}

// ---------------------------------------------------------------- cluster

// clusterGuard asserts, from the rules alone (no packet leaves the machine to
// test it), that the jump to the harness's guard is the first rule of mangle
// FORWARD, which netfilter runs before any filter FORWARD rule kube-proxy
// writes, and that the guard holds its three rules.
func clusterGuard(t *testing.T, e *env) {
	guard, bridge := harnessEnv(t, e, "GUARD"), harnessEnv(t, e, "BRIDGE")
	fwd, err := run(t, 30*time.Second, "iptables", "-w", "-t", "mangle", "-S", "FORWARD")
	if err != nil {
		t.Fatalf("iptables -t mangle -S FORWARD: %v\n%s", err, fwd)
	}
	rules := []string{}
	for _, l := range strings.Split(strings.TrimSpace(fwd), "\n") {
		if strings.HasPrefix(l, "-A ") {
			rules = append(rules, l)
		}
	}
	if len(rules) == 0 || rules[0] != "-A FORWARD -j "+guard {
		t.Errorf("mangle FORWARD does not start with the jump to %s:\n%s", guard, fwd)
	}
	chain, err := run(t, 30*time.Second, "iptables", "-w", "-t", "mangle", "-S", guard)
	if err != nil {
		t.Fatalf("iptables -t mangle -S %s: %v\n%s", guard, err, chain)
	}
	want := []string{
		"-N " + guard,
		"-A " + guard + " -i " + bridge + " -o " + bridge + " -j ACCEPT",
		"-A " + guard + " -i " + bridge + " -j DROP",
		"-A " + guard + " -o " + bridge + " -j DROP",
	}
	if diff := cmp.Diff(want, strings.Split(strings.TrimSpace(chain), "\n")); diff != "" {
		t.Errorf("%s rules (-want +got):\n%s", guard, diff)
	}
	if out, err := run(t, 30*time.Second, "iptables", "-w", "-t", "mangle", "-L", "FORWARD", "--line-numbers", "-n"); err == nil {
		t.Logf("mangle FORWARD:\n%s", out)
	}
}

// recordHost notes what cluster/down must give back: ip_forward and the
// network links.
func recordHost(e *env) {
	b, _ := os.ReadFile("/proc/sys/net/ipv4/ip_forward")
	e.ipForward = strings.TrimSpace(string(b))
	e.linksBefore = map[string]bool{}
	if out, err := exec.Command("ip", "-o", "link").Output(); err == nil {
		for _, l := range strings.Split(string(out), "\n") {
			if f := strings.Fields(l); len(f) > 1 {
				e.linksBefore[strings.SplitN(strings.TrimSuffix(f[1], ":"), "@", 2)[0]] = true
			}
		}
	}
}

func clusterUp(t *testing.T, e *env) {
	recordHost(e)
	if out, err := run(t, 30*time.Second, e.harness, "status"); err == nil {
		t.Logf("reusing the running harness cluster:\n%s", out)
	} else {
		// A run that was killed leaves the harness's state and the host as
		// that run changed it; its down restores the host, and only then is
		// the host what this run must give back.
		if _, err := os.Stat(harnessEnv(t, e, "STATE")); err == nil {
			t.Logf("an earlier harness run left its state: harness down first")
			if out, err := run(t, 5*time.Minute, e.harness, "down"); err != nil {
				t.Fatalf("harness down (of an earlier run): %v\n%s", err, tail(out, 40))
			}
			recordHost(e)
		}
		start := time.Now()
		e.startedUp = true // so that a failed up is still taken down
		out, err := run(t, 45*time.Minute, e.harness, "up")
		if err != nil {
			t.Fatalf("harness up: %v\n%s", err, tail(out, 60))
		}
		t.Logf("harness up took %s", time.Since(start).Round(time.Second))
	}
	out, err := run(t, 30*time.Second, e.harness, "env")
	if err != nil {
		t.Fatalf("harness env: %v\n%s", err, out)
	}
	for _, l := range strings.Split(out, "\n") {
		k, v, _ := strings.Cut(l, "=")
		switch k {
		case "KUBECONFIG":
			e.kubeconfig = v
		case "KUBECTL":
			e.kubectl = v
		case "NODE_NAME":
			e.node = v
		case "STATE":
			e.state = v
		case "RUN":
			e.run = v
		case "CACHE":
			e.cache = v
		}
	}
	if e.kubeconfig == "" || e.kubectl == "" || e.node == "" {
		t.Fatalf("harness env printed no KUBECONFIG/KUBECTL/NODE_NAME:\n%s", out)
	}
	kubectl(t, e, 30*time.Second, "get", "nodes", "-o", "wide")
}

// clusterListeners asserts that every socket the cluster's processes listen
// on is bound to loopback or to the harness's bridge (node IP, pod gateway).
func clusterListeners(t *testing.T, e *env) {
	out, err := exec.Command("ss", "-Hltunp").Output()
	if err != nil {
		t.Fatalf("ss: %v", err)
	}
	pids := map[string]bool{}
	for _, p := range strings.Fields(ownPIDs(e)) {
		pids[p] = true
	}
	rePID := regexp.MustCompile(`pid=(\d+),`)
	allowed := []string{"127.", "[::1]:", "10.254.254.1:", "10.244.0.1:"}
	n := 0
	for _, l := range strings.Split(string(out), "\n") {
		owned := false
		for _, m := range rePID.FindAllStringSubmatch(l, -1) {
			owned = owned || pids[m[1]]
		}
		if !owned {
			continue
		}
		n++
		f := strings.Fields(l)
		if len(f) < 5 {
			continue
		}
		local, ok := f[4], false
		for _, a := range allowed {
			ok = ok || strings.HasPrefix(local, a)
		}
		if !ok {
			t.Errorf("listens outside loopback and the harness bridge: %s", l)
		}
	}
	if n == 0 {
		t.Errorf("found no listener of the cluster's processes in:\n%s", out)
	}
}

func clusterDown(e *env) func(*testing.T) {
	return func(t *testing.T) {
		if !e.startedUp {
			t.Skip("the cluster was running before the test: left up")
		}
		if os.Getenv("LAB_E2E_KEEP") == "1" {
			t.Skip("LAB_E2E_KEEP=1: cluster left up; run cluster/harness down")
		}
		for i := 1; i <= 2; i++ { // down must be safe to run twice
			if out, err := run(t, 3*time.Minute, e.harness, "down"); err != nil {
				t.Fatalf("harness down #%d: %v\n%s", i, err, out)
			}
		}
		assertClean(t, e)
	}
}

// assertClean checks that nothing the cluster made is left on the host.
func assertClean(t *testing.T, e *env) {
	// The harness's processes are known by their arguments (configs, certs and
	// data in the state dir, the shims' socket in the run dir): other clusters
	// on this machine (the kind leg's nodes) run kubelets of their own, and
	// may run binaries from the harness's cache.
	if p := ownPIDs(e); p != "" {
		out, _ := exec.Command("ps", "-o", "pid,args", "-p", strings.ReplaceAll(p, " ", ",")).Output()
		t.Errorf("processes of the cluster still running:\n%s", out)
	}
	mounts, _ := os.ReadFile("/proc/self/mountinfo")
	for _, l := range strings.Split(string(mounts), "\n") {
		for _, p := range []string{e.state, e.run, "/run/containerd", "/var/lib/kubelet", "/run/netns/cni-", "/var/run/netns/cni-"} {
			if p != "" && strings.Contains(l, " "+p) {
				t.Errorf("mount left: %s", l)
			}
		}
	}
	links, _ := exec.Command("ip", "-o", "link").Output()
	for _, l := range strings.Split(string(links), "\n") {
		f := strings.Fields(l)
		if len(f) < 2 {
			continue
		}
		name := strings.SplitN(strings.TrimSuffix(f[1], ":"), "@", 2)[0]
		// A pod's veth left behind has no bridge any more; veths of other
		// software sit on their own bridge (docker0, br-…) and existed before.
		if strings.Contains(l, "labe2e") || (strings.HasPrefix(name, "veth") && !strings.Contains(l, " master ") && !e.linksBefore[name]) {
			t.Errorf("interface left: %s", l)
		}
	}
	for _, tool := range []string{"iptables-save", "ip6tables-save"} {
		out, _ := exec.Command(tool).Output()
		for _, l := range strings.Split(string(out), "\n") {
			if strings.Contains(l, "KUBE-") || strings.Contains(l, "LAB-E2E") || strings.Contains(l, "CNI-") {
				t.Errorf("%s: rule or chain left: %s", tool, l)
				break
			}
		}
	}
	b, _ := os.ReadFile("/proc/sys/net/ipv4/ip_forward")
	if got := strings.TrimSpace(string(b)); e.ipForward != "" && got != e.ipForward {
		t.Errorf("ip_forward is %s, was %s before up", got, e.ipForward)
	}
	for _, p := range []string{e.state, e.run, "/var/lib/kubelet/device-plugins", "/var/lib/cni/results", "/var/log/containers", "/sys/fs/cgroup/cpu/kubepods", "/sys/fs/cgroup/memory/kubepods"} {
		if p == "" {
			continue
		}
		if _, err := os.Stat(p); err == nil {
			t.Errorf("path left: %s", p)
		}
	}
}

// ---------------------------------------------------------------- lab pod

// podFacts reads the lab pod's UID and IP the way a student would.
func podFacts(t *testing.T, e *env) {
	e.podUID = kubectl(t, e, 30*time.Second, "get", "pod", podName, "-o", "jsonpath={.metadata.uid}")
	e.podIP = kubectl(t, e, 30*time.Second, "get", "pod", podName, "-o", "jsonpath={.status.podIP}")
	if e.podUID == "" || e.podIP == "" {
		t.Fatalf("pod has no UID or IP: %q %q", e.podUID, e.podIP)
	}
	t.Logf("pod %s uid=%s ip=%s", podName, e.podUID, e.podIP)
}

// ---------------------------------------------------------------- student

// studentDebug creates the ephemeral container as the lesson teaches, but
// with a long-running command instead of an interactive shell, so that the
// later steps can `kubectl exec` into it without a terminal.
func studentDebug(t *testing.T, e *env) {
	out := kubectl(t, e, time.Minute, "debug", podName, "--image=nicolaka/netshoot", "--target=nginx",
		"--profile=general", "--container="+debuggerName, "--", "sleep", "3600")
	t.Log(out)
	waitFor(t, 90*time.Second, "ephemeral container running", func() bool {
		s, _ := kubectlErr(e, 20*time.Second, "get", "pod", podName, "-o",
			`jsonpath={.status.ephemeralContainerStatuses[?(@.name=="`+debuggerName+`")].state.running.startedAt}`)
		return strings.TrimSpace(s) != ""
	})
}

// studentDebugTTY proves the interactive path the student types once:
// `kubectl debug -it ... -- sh` through a pseudo-terminal made by script(1).
func studentDebugTTY(t *testing.T, e *env) {
	if _, err := exec.LookPath("script"); err != nil {
		t.Skip("script(1) not installed")
	}
	cmdline := fmt.Sprintf("%s --kubeconfig %s debug -it %s --image=nicolaka/netshoot --target=nginx --profile=general -- sh",
		e.kubectl, e.kubeconfig, podName)
	ctx, cancel := context.WithTimeout(context.Background(), 90*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, "script", "-qfec", cmdline, "/dev/null")
	stdin, err := cmd.StdinPipe()
	if err != nil {
		t.Fatal(err)
	}
	var out lockedBuffer
	cmd.Stdout, cmd.Stderr = &out, &out
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	// Wait for the shell, then type as a student would.
	waitFor(t, 60*time.Second, "the debug shell's prompt", func() bool {
		return strings.Contains(out.String(), "#") || strings.Contains(out.String(), "If you don't see a command prompt")
	})
	time.Sleep(time.Second)
	io.WriteString(stdin, "echo tty-$((6*7)); ps\n")
	waitFor(t, 30*time.Second, "the command's output", func() bool { return strings.Contains(out.String(), "tty-42") })
	io.WriteString(stdin, "exit\n")
	stdin.Close()
	err = cmd.Wait()
	s := out.String()
	if !strings.Contains(s, "tty-42") || !strings.Contains(s, "nginx: master process") {
		t.Fatalf("interactive debug shell did not run the commands (err %v):\n%s", err, tail(s, 40))
	}
	writeFile(t, filepath.Join(e.captured, "debug-it-session.txt"), s)
}

var (
	reMaster = regexp.MustCompile(`(?m)^\s*(\d+)\s+\S+\s+.*nginx: master process`)
	reWorker = regexp.MustCompile(`(?m)^\s*(\d+)\s+\S+\s+.*nginx: worker process`)
)

func studentPsLs(t *testing.T, e *env) {
	ps := debugExec(t, e, 30*time.Second, "ps")
	writeFile(t, filepath.Join(e.captured, "ps.txt"), ps)
	m, w := reMaster.FindStringSubmatch(ps), reWorker.FindStringSubmatch(ps)
	if m == nil || w == nil {
		t.Fatalf("ps shows no nginx master and worker:\n%s", ps)
	}
	e.masterPID, e.workerPID = m[1], w[1]
	if !regexp.MustCompile(`(?m)^\s*1\s+\S+\s+.*/pause`).MatchString(ps) {
		t.Errorf("PID 1 is not /pause in a pod that shares its PID namespace:\n%s", ps)
	}
	t.Logf("nginx master pid %s, worker pid %s", e.masterPID, e.workerPID)
	ls := debugExec(t, e, 30*time.Second, "ls", "-la", "/proc/"+e.masterPID+"/root/etc/nginx/")
	writeFile(t, filepath.Join(e.answers, "step-3.txt"), ls)
	for _, want := range []string{"nginx.conf", "mime.types", "conf.d"} {
		if !strings.Contains(ls, want) {
			t.Errorf("step-3 listing lacks %s:\n%s", want, ls)
		}
	}
}

func studentTcpdump(t *testing.T, e *env) {
	bg := debugExecBackground(t, e, "timeout", "-s", "INT", "90", "tcpdump", "-nn", "-i", "any", "-e", "port", "80", "-c", "500")
	waitFor(t, 30*time.Second, "tcpdump listening", func() bool { return strings.Contains(bg.out.String(), "listening on") })
	// The lesson's traffic: through a port-forward and from another pod, by
	// the Service's DNS name, every request carrying the lab's nonce.
	labTraffic(t, e, "both")
	time.Sleep(2 * time.Second)
	debugExec(t, e, 20*time.Second, "killall", "-INT", "tcpdump")
	out := bg.wait(t, 30*time.Second)
	writeFile(t, filepath.Join(e.answers, "step-5.txt"), out)
	want := []string{"HTTP: GET /?lab=", "HTTP: HTTP/1.1 200 OK", "127.0.0.1.80", e.podIP + ".80"}
	for _, src := range e.trafficSources {
		want = append(want, src)
	}
	for _, w := range want {
		if !strings.Contains(out, w) {
			t.Errorf("step-5 capture lacks %q:\n%s", w, tail(out, 30))
		}
	}
}

// studentPcap saves the capture as lesson 5's alternative does, tcpdump -w
// through kubectl exec's stdout, and grades the file: the native pcap
// reader on what the lab's tcpdump really writes.
func studentPcap(t *testing.T, e *env) {
	pcap := filepath.Join(e.captured, "step-5.pcap")
	f, err := os.Create(pcap)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	cmd := exec.Command(e.kubectl, "--kubeconfig", e.kubeconfig, "exec", podName, "-c", debuggerName, "--",
		"timeout", "-s", "INT", "60", "tcpdump", "-i", "any", "-c", "40", "-w", "-", "port", "80")
	stderr := &lockedBuffer{}
	cmd.Stdout, cmd.Stderr = f, stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()
	waitFor(t, 30*time.Second, "tcpdump -w listening", func() bool { return strings.Contains(stderr.String(), "listening on") })
	labTraffic(t, e, "both")
	select {
	case err := <-done:
		if err != nil {
			t.Logf("tcpdump -w: %v\n%s", err, stderr.String())
		}
	case <-time.After(90 * time.Second):
		cmd.Process.Kill()
		<-done
		t.Fatalf("tcpdump -w did not stop after 40 packets:\n%s", stderr.String())
	}
	head := make([]byte, 4)
	if _, err := f.ReadAt(head, 0); err != nil || string(head) != "\xd4\xc3\xb2\xa1" {
		t.Fatalf("%s does not start like a pcap file (% x, %v)", pcap, head, err)
	}
	out, errOut, code := labRun(t, e, time.Minute, "check", "step-5", "--answers", e.answers, "--file", pcap, "-o", "json")
	var rep checkReport
	if err := json.Unmarshal([]byte(out), &rep); err != nil {
		t.Fatalf("lab check -o json: %v\n%s\n%s", err, out, errOut)
	}
	if code != 0 || rep.Offline || len(rep.Results) != 1 || rep.Results[0].Status != "pass" || !strings.HasPrefix(rep.Results[0].Format, "pcap (LINUX_SLL2)") {
		t.Errorf("lab check step-5 --file %s: exit %d, offline %v:\n%s", pcap, code, rep.Offline, out)
	}
}

func studentGetWide(t *testing.T, e *env) {
	out := kubectl(t, e, 30*time.Second, "get", "pod", podName, "-o", "wide")
	writeFile(t, filepath.Join(e.answers, "step-6.txt"), out+"\n")
	for _, want := range []string{"Running", e.podIP, e.node} {
		if !strings.Contains(out, want) {
			t.Errorf("step-6 lacks %q:\n%s", want, out)
		}
	}
}

var reCRI = regexp.MustCompile(`(?m)^\d{4}-\d\d-\d\dT\S+ stdout F \S+ - - \[[^]]+\] "GET /\?lab=`)

func studentNodeLog(t *testing.T, e *env) {
	dir := fmt.Sprintf("/var/log/pods/%s_%s_%s/nginx", namespace, podName, e.podUID)
	out := kubectl(t, e, time.Minute, "debug", "node/"+e.node, "--image=ubuntu", "--",
		"chroot", "/host", "sh", "-c", "cat "+dir+"/*.log")
	m := regexp.MustCompile(`pod (node-debugger-\S+) `).FindStringSubmatch(out)
	if m == nil {
		t.Fatalf("kubectl debug node printed no pod name:\n%s", out)
	}
	pod := m[1] // left in place: lab check's node-debugger live check looks for it; cleanup deletes it
	waitFor(t, 90*time.Second, "node debugger pod to finish", func() bool {
		s, _ := kubectlErr(e, 20*time.Second, "get", "pod", pod, "-o", "jsonpath={.status.phase}")
		return s == "Succeeded" || s == "Failed"
	})
	logs := kubectl(t, e, 30*time.Second, "logs", pod)
	writeFile(t, filepath.Join(e.answers, "step-7.txt"), logs+"\n")
	if !reCRI.MatchString(logs) {
		t.Errorf("step-7 holds no CRI-format nginx access line:\n%s", tail(logs, 20))
	}
}

func studentStrace(t *testing.T, e *env) {
	if e.workerPID == "" {
		t.Fatal("no worker PID from the ps step")
	}
	bg := debugExecBackground(t, e, "timeout", "-s", "INT", "60", "strace", "-p", e.workerPID, "-f", "-e", "trace=accept4,read,write")
	waitFor(t, 30*time.Second, "strace attached", func() bool { return strings.Contains(bg.out.String(), "attached") })
	labTraffic(t, e, "port-forward")
	time.Sleep(time.Second)
	debugExec(t, e, 20*time.Second, "killall", "-INT", "strace")
	out := bg.wait(t, 30*time.Second)
	writeFile(t, filepath.Join(e.answers, "star.txt"), out)
	if !regexp.MustCompile(`accept4\(\d+, .*\) = \d+`).MatchString(out) {
		t.Errorf("strace shows no successful accept4:\n%s", tail(out, 30))
	}
	// strace cuts strings at 32 bytes: the access-log line shows its client.
	if !regexp.MustCompile(`write\(\d+, "127\.0\.0\.1 - - \[`).MatchString(out) {
		t.Errorf("strace shows no access-log write of the requests:\n%s", tail(out, 30))
	}
}

func studentKubectlLogs(t *testing.T, e *env) {
	out := kubectl(t, e, 30*time.Second, "logs", podName, "-c", "nginx")
	writeFile(t, filepath.Join(e.captured, "kubectl-logs.txt"), out+"\n")
	if !strings.Contains(out, `"GET /?lab=`) {
		t.Errorf("kubectl logs holds no access line:\n%s", tail(out, 20))
	}
}

func cleanup(e *env) func(*testing.T) {
	return func(t *testing.T) {
		if e.kubectl == "" {
			t.Skip("no cluster")
		}
		if _, err := kubectlErr(e, 2*time.Minute, "delete", "pod,service", "-n", namespace, "-l", managedByLab, "--wait=true", "--timeout=90s"); err != nil {
			t.Errorf("delete the lab's objects: %v", err)
		}
		// The student's kubectl debug node/… pods are the student's, not lab's.
		if names, err := kubectlErr(e, 30*time.Second, "get", "pods", "-n", namespace, "-o", "name"); err == nil {
			for _, n := range strings.Fields(names) {
				if strings.HasPrefix(n, "pod/node-debugger-") {
					kubectlErr(e, time.Minute, "delete", n, "--wait=false")
				}
			}
		}
		if s, _ := kubectlErr(e, 30*time.Second, "get", "pods", "-A", "-o", "name"); strings.TrimSpace(s) != "" {
			t.Logf("pods left (deleted by harness down): %s", s)
		}
	}
}

// saveFixtures copies the answers and captured outputs into
// testdata/captured when LAB_E2E_UPDATE=1.
func saveFixtures(t *testing.T, e *env) {
	if os.Getenv("LAB_E2E_UPDATE") != "1" {
		return
	}
	dst := filepath.Join("testdata", "captured")
	if err := os.MkdirAll(filepath.Join(dst, "answers"), 0o755); err != nil {
		t.Error(err)
		return
	}
	for _, src := range []string{e.answers, e.captured} {
		entries, _ := os.ReadDir(src)
		for _, en := range entries {
			b, err := os.ReadFile(filepath.Join(src, en.Name()))
			if err != nil {
				t.Error(err)
				continue
			}
			to := filepath.Join(dst, en.Name())
			if src == e.answers {
				to = filepath.Join(dst, "answers", en.Name())
			}
			if err := os.WriteFile(to, b, 0o644); err != nil {
				t.Error(err)
			}
		}
	}
	t.Logf("fixtures updated in %s", dst)
}

// ---------------------------------------------------------------- helpers

type background struct {
	cmd  *exec.Cmd
	out  *lockedBuffer
	done chan error
}

func (b *background) wait(t *testing.T, d time.Duration) string {
	select {
	case err := <-b.done:
		if err != nil {
			t.Logf("%v exited: %v", b.cmd.Args, err)
		}
	case <-time.After(d):
		b.cmd.Process.Kill()
		<-b.done
		t.Errorf("%v did not stop within %s", b.cmd.Args, d)
	}
	return b.out.String()
}

// debugExecBackground runs a command in the ephemeral container, collecting
// stdout and stderr together as a terminal would show them.
func debugExecBackground(t *testing.T, e *env, args ...string) *background {
	a := append([]string{"--kubeconfig", e.kubeconfig, "exec", podName, "-c", debuggerName, "--"}, args...)
	cmd := exec.Command(e.kubectl, a...)
	b := &background{cmd: cmd, out: &lockedBuffer{}, done: make(chan error, 1)}
	cmd.Stdout, cmd.Stderr = b.out, b.out
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	go func() { b.done <- cmd.Wait() }()
	return b
}

func debugExec(t *testing.T, e *env, d time.Duration, args ...string) string {
	return kubectl(t, e, d, append([]string{"exec", podName, "-c", debuggerName, "--"}, args...)...)
}

func kubectl(t *testing.T, e *env, d time.Duration, args ...string) string {
	t.Helper()
	out, err := kubectlErr(e, d, args...)
	if err != nil {
		t.Fatalf("kubectl %s: %v\n%s", strings.Join(args, " "), err, tail(out, 40))
	}
	return out
}

func kubectlErr(e *env, d time.Duration, args ...string) (string, error) {
	ctx, cancel := context.WithTimeout(context.Background(), d)
	defer cancel()
	cmd := exec.CommandContext(ctx, e.kubectl, append([]string{"--kubeconfig", e.kubeconfig}, args...)...)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	err := cmd.Run()
	if err != nil {
		return stdout.String() + stderr.String(), err
	}
	return strings.TrimRight(stdout.String(), "\n"), nil
}

func run(t *testing.T, d time.Duration, name string, args ...string) (string, error) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), d)
	defer cancel()
	cmd := exec.CommandContext(ctx, name, args...)
	var out lockedBuffer
	cmd.Stdout, cmd.Stderr = &out, &out
	err := cmd.Run()
	if errors.Is(ctx.Err(), context.DeadlineExceeded) {
		err = fmt.Errorf("timed out after %s", d)
	}
	return out.String(), err
}

// ownPIDs lists the live processes of the harness's cluster.
func ownPIDs(e *env) string {
	var all []string
	for _, dir := range []string{e.state, e.run} {
		if dir == "" {
			continue
		}
		if p := livePIDs("-f", dir+"/"); p != "" {
			all = append(all, p)
		}
	}
	return strings.Join(all, " ")
}

// livePIDs runs pgrep and drops zombies (PID 1 may reap the harness's
// servers late).
func livePIDs(flag, pattern string) string {
	out, _ := exec.Command("pgrep", flag, "--", pattern).Output()
	var live []string
	for _, pid := range strings.Fields(string(out)) {
		b, err := os.ReadFile("/proc/" + pid + "/stat")
		if err != nil {
			continue
		}
		if i := strings.LastIndexByte(string(b), ')'); i > 0 && len(b) > i+2 && (b[i+2] == 'Z' || b[i+2] == 'X') {
			continue
		}
		live = append(live, pid)
	}
	return strings.Join(live, " ")
}

func waitFor(t *testing.T, d time.Duration, what string, ok func() bool) {
	t.Helper()
	deadline := time.Now().Add(d)
	for !ok() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out after %s waiting for %s", d, what)
		}
		time.Sleep(500 * time.Millisecond)
	}
}

func writeFile(t *testing.T, path, s string) {
	t.Helper()
	if err := os.WriteFile(path, []byte(s), 0o644); err != nil {
		t.Fatal(err)
	}
}

func tail(s string, n int) string {
	l := strings.Split(strings.TrimRight(s, "\n"), "\n")
	if len(l) > n {
		l = l[len(l)-n:]
	}
	return strings.Join(l, "\n")
}

type lockedBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *lockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *lockedBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

// harnessEnv is one value of `harness env` (STATE, RUN, CACHE, ...).
func harnessEnv(t *testing.T, e *env, key string) string {
	t.Helper()
	out, err := run(t, 30*time.Second, e.harness, "env")
	if err != nil {
		t.Fatalf("harness env: %v\n%s", err, out)
	}
	for _, l := range strings.Split(out, "\n") {
		if v, ok := strings.CutPrefix(strings.TrimSpace(l), key+"="); ok {
			return v
		}
	}
	t.Fatalf("harness env prints no %s=", key)
	return ""
}

// repoStatus is git status of the repository, untracked files included,
// outside test/e2e/testdata (which LAB_E2E_UPDATE=1 rewrites on purpose).
func repoStatus() string {
	out, err := exec.Command("git", "-C", "../..", "status", "--porcelain", "--untracked-files=all", "--", ".", ":(exclude)test/e2e/testdata").Output()
	if err != nil {
		return "git status: " + err.Error()
	}
	return string(out)
}
