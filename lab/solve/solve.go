// Package solve is lab's autopilot: it performs each step of a lab the way
// its spec's `solve:` actions say (the built-in lab's: an ephemeral
// debugger with SYS_PTRACE, ps to find the main process and its worker,
// ls through /proc/<pid>/root, tcpdump and strace while lab traffic runs,
// the pod's row of kubectl get pod -o wide, a node debug pod reading the
// pod's log files), through the Kubernetes API as kubectl debug does, and
// writes a reference answers folder that lab check passes. Instructors run
// it to prove a cluster is fit for class; the output says, per step, what
// was done and how long it took.
//
// The actions are a fixed set (start, run, kubectl, traffic; see
// spec.Action): a lab folder describes its solution as data, and no lab
// needs Go code of its own here.
//
// Solve never overwrites an answers file unless told to (Options.Force),
// and never deletes a file.
package solve

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"text/template"
	"time"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"
	"k8s.io/utils/ptr"

	"github.com/k8s-debug-lab/lab/checks"
	"github.com/k8s-debug-lab/lab/checks/facts"
	"github.com/k8s-debug-lab/lab/checks/live"
	"github.com/k8s-debug-lab/lab/checks/spec"
	"github.com/k8s-debug-lab/lab/lab/kube"
	"github.com/k8s-debug-lab/lab/lab/traffic"
)

// Files are the answers files the steps' actions save, in order.
func Files(steps []spec.Step) []string {
	var out []string
	for _, s := range steps {
		for _, a := range s.Solve {
			if a.Save != "" && !slices.Contains(out, a.Save) {
				out = append(out, a.Save)
			}
		}
	}
	return out
}

// Existing lists the answers files the steps would write that are already
// in dir: solve refuses to overwrite them without Force.
func Existing(steps []spec.Step, dir string) []string {
	var out []string
	for _, f := range Files(steps) {
		if _, err := os.Lstat(filepath.Join(dir, f)); err == nil {
			out = append(out, filepath.Join(dir, f))
		}
	}
	return out
}

// Env is what solve needs of the lab's cluster.
type Env struct {
	Client    kubernetes.Interface
	Namespace string
	// Exec runs a command in a container (kube.Streamer.Exec).
	Exec func(ctx context.Context, o kube.ExecOptions) error
	// Logs reads a container's log (kube.Streamer.Logs).
	Logs func(ctx context.Context, namespace, pod, container string, follow bool) (io.ReadCloser, error)
	// Traffic sends lab traffic via the given ways and remembers it in the
	// lab's state, as lab traffic does; it returns a one-line summary.
	Traffic func(ctx context.Context, via traffic.Via) (string, error)
	// Status is told what solve is waiting for.
	Status func(msg string)
	// Debugf is told detail (-v).
	Debugf func(format string, args ...any)
}

// Options shape a run.
type Options struct {
	// Answers is the folder the answers files are written into.
	Answers string
	// Force overwrites answers files that exist.
	Force bool
	// StartTimeout bounds waiting for a debug container or pod to start
	// (a first image pull); zero means three minutes.
	StartTimeout time.Duration
	// CaptureTimeout is the timeout a capture (while: traffic) runs under
	// in the debug container, so that it ends even if lab is killed; zero
	// means two minutes.
	CaptureTimeout time.Duration
	// Settle is how long a capture keeps running after the traffic, for
	// the last packets and calls; zero means one second.
	Settle time.Duration
}

func (o Options) startTimeout() time.Duration {
	return orDur(o.StartTimeout, 3*time.Minute)
}
func (o Options) captureTimeout() time.Duration { return orDur(o.CaptureTimeout, 2*time.Minute) }
func (o Options) settle() time.Duration         { return orDur(o.Settle, time.Second) }

func orDur(d, def time.Duration) time.Duration {
	if d == 0 {
		return def
	}
	return d
}

// Result is what one step did.
type Result struct {
	Step string `json:"step"`
	OK   bool   `json:"ok"`
	// Did says what was done, one line per action, for the instructor.
	Did []string `json:"did,omitempty"`
	// File is the answers file written ("" for none).
	File string `json:"file,omitempty"`
	// Took is how long the step took (its prerequisites included).
	Took time.Duration `json:"took"`
	// Err says why the step failed.
	Err error `json:"-"`

	fileLine int // the Did line that names the file written
}

// solver carries what later steps reuse from earlier ones.
type solver struct {
	env  Env
	opts Options
	spec *spec.Assignment
	w    spec.Workload

	pod      *corev1.Pod
	debugger string
	master   int
	worker   int
	psErr    error
	dbgErr   error
	nodeRan  bool
}

// Run performs the steps in order, calling report after each. A step that
// fails does not stop the others, except that actions needing the debug
// container or the workload's PIDs fail with the reason those could not
// be had. The error is for what stops everything: the lab's pod cannot be
// read.
func Run(ctx context.Context, a *spec.Assignment, env Env, opts Options, steps []spec.Step, report func(Result)) ([]Result, error) {
	if err := os.MkdirAll(opts.Answers, 0o755); err != nil {
		return nil, fmt.Errorf("creating the answers folder: %w", err)
	}
	s := &solver{env: env, opts: opts, spec: a, w: a.Workload}
	if err := s.readPod(ctx); err != nil {
		return nil, err
	}
	var out []Result
	for _, st := range steps {
		if err := ctx.Err(); err != nil {
			return out, err
		}
		start := time.Now()
		r := Result{Step: st.ID}
		err := s.step(ctx, st, &r)
		r.OK, r.Err, r.Took = err == nil, err, time.Since(start)
		out = append(out, r)
		if report != nil {
			report(r)
		}
	}
	return out, ctx.Err()
}

// step does one step's actions, then checks what lab check will check: its
// answers file offline, and its live checks on the pods as they are now.
func (s *solver) step(ctx context.Context, st spec.Step, r *Result) error {
	for _, a := range st.Solve {
		if err := s.do(ctx, a, r); err != nil {
			return err
		}
	}
	if r.File != "" {
		if err := s.verify(ctx, st, r); err != nil {
			return err
		}
	}
	return s.liveChecks(ctx, st, r)
}

func (s *solver) do(ctx context.Context, a spec.Action, r *Result) error {
	switch {
	case a.Start == spec.StartDebugger:
		return s.ensureDebugger(ctx, r)
	case a.Traffic != "":
		return s.traffic(ctx, r, traffic.Via(a.Traffic))
	case a.Kubectl == spec.KubectlPodWide:
		if err := s.readPod(ctx); err != nil {
			return err
		}
		var b bytes.Buffer
		if err := WritePodTable(&b, []corev1.Pod{*s.pod}, time.Now()); err != nil {
			return err
		}
		return s.write(r, a.Save, b.String(), "kubectl get pod "+s.w.Pod+" -o wide")
	case a.Run != "":
		cmd, err := s.fill(ctx, a.Run, r)
		if err != nil {
			return err
		}
		var out string
		switch {
		case a.In == spec.InNode:
			out, err = s.inNode(ctx, r, cmd)
		case a.While == spec.WhileTraffic:
			out, err = s.whileTraffic(ctx, r, cmd, a.Ready, a.Output == spec.OutputStderr)
		default:
			out, err = s.inDebugger(ctx, cmd, a.Output == spec.OutputStderr)
		}
		if err != nil {
			return err
		}
		what := cmd
		if a.While != "" {
			what += " while the traffic ran"
		}
		if a.In == spec.InNode {
			what = "its output"
		}
		if a.Save == "" {
			r.Did = append(r.Did, what)
			return nil
		}
		return s.write(r, a.Save, out, what)
	}
	return fmt.Errorf("lab solve cannot do %+v (a bug: the spec loader accepted it)", a)
}

// liveChecks runs the step's live checks as lab check will. The node
// debugger is a note, not a failure, when this run has not reached a step
// that runs in a node debug pod yet.
func (s *solver) liveChecks(ctx context.Context, st spec.Step, r *Result) error {
	if len(st.Live) == 0 {
		return nil
	}
	if err := s.readPod(ctx); err != nil {
		return err
	}
	pods, _ := s.nodeDebuggers(ctx)
	snap := live.For(s.spec, s.env.Namespace)
	snap.Pod, snap.Pods = s.pod, pods
	l := live.Evaluate(snap)
	for _, name := range st.Live {
		lr := l.Checks[name]
		switch {
		case lr.OK:
			if len(r.Did) == 0 {
				r.Did = append(r.Did, s.liveLine(name))
			}
		case name == live.NodeDebugger && !s.nodeRan:
			r.Did = append(r.Did, fmt.Sprintf("note: lab check %s also needs a node debugger pod on %s; the step that runs in a node debug pod makes one", st.ID, s.pod.Spec.NodeName))
		default:
			return fmt.Errorf("lab check would still fail: %s (%s)", lr.Message, lr.Hint)
		}
	}
	return nil
}

// liveLine says what a passing live check saw, for a step that did nothing
// else.
func (s *solver) liveLine(name string) string {
	switch name {
	case live.PodSharesPID:
		return fmt.Sprintf("pod %s shares its PID namespace, has container %s and is Running on %s (IP %s)",
			s.w.Pod, s.w.Container, s.pod.Spec.NodeName, s.pod.Status.PodIP)
	case live.EphemeralDebugger:
		return fmt.Sprintf("ephemeral container %s runs (target %s, SYS_PTRACE)", s.debugger, s.w.Container)
	}
	return "lab check " + name + " passes"
}

func (s *solver) status(msg string) {
	if s.env.Status != nil {
		s.env.Status(msg)
	}
}

func (s *solver) debugf(format string, args ...any) {
	if s.env.Debugf != nil {
		s.env.Debugf(format, args...)
	}
}

func (s *solver) readPod(ctx context.Context) error {
	cctx, cancel := context.WithTimeout(ctx, kube.CallTimeout)
	defer cancel()
	p, err := s.env.Client.CoreV1().Pods(s.env.Namespace).Get(cctx, s.w.Pod, metav1.GetOptions{})
	if err != nil {
		return fmt.Errorf("reading pod %s/%s: %w", s.env.Namespace, s.w.Pod, err)
	}
	s.pod = p
	return nil
}

// fill puts the lab's facts into a command's {{.Name}} placeholders. Only
// the facts the command names are found: the PIDs cost a ps in the debug
// container, the debugger its start.
func (s *solver) fill(ctx context.Context, cmd string, r *Result) (string, error) {
	names := spec.Placeholders(cmd)
	if len(names) == 0 {
		return cmd, nil
	}
	facts := kube.PodFactsOf(s.pod, s.w.Container)
	vars := map[string]string{
		"Namespace": s.env.Namespace, "Pod": s.w.Pod, "Container": s.w.Container,
		"PodUID": facts.UID, "PodIP": facts.IP, "Node": facts.Node, "LogDir": facts.ContainerLogDir() + "/",
	}
	for _, n := range names {
		switch n {
		case "Debugger":
			if err := s.ensureDebugger(ctx, r); err != nil {
				return "", fmt.Errorf("needs the debug container: %w", err)
			}
			vars[n] = s.debugger
		case "MasterPID", "WorkerPID":
			if err := s.findProcesses(ctx, r); err != nil {
				return "", err
			}
			vars["MasterPID"], vars["WorkerPID"] = strconv.Itoa(s.master), strconv.Itoa(s.worker)
		}
	}
	t, err := template.New("run").Option("missingkey=error").Parse(cmd)
	if err != nil {
		return "", fmt.Errorf("the command %q: %w", cmd, err)
	}
	var b strings.Builder
	if err := t.Execute(&b, vars); err != nil {
		return "", fmt.Errorf("the command %q: %w", cmd, err)
	}
	return b.String(), nil
}

// ensureDebugger makes sure a debug container runs: a running one from
// earlier that fits is reused (ephemeral containers can never be removed,
// so adding one per run would pile them up), else one is added.
func (s *solver) ensureDebugger(ctx context.Context, r *Result) error {
	if s.debugger != "" || s.dbgErr != nil {
		return s.dbgErr
	}
	s.dbgErr = s.addDebugger(ctx, r)
	return s.dbgErr
}

func (s *solver) addDebugger(ctx context.Context, r *Result) error {
	if err := s.readPod(ctx); err != nil {
		return err
	}
	image, target := s.spec.Images.Debugger, s.w.Container
	if name := kube.ReusableDebugger(s.pod, image, target); name != "" {
		s.debugger = name
		r.Did = append(r.Did, fmt.Sprintf("reused the running ephemeral container %s (%s, target %s, SYS_PTRACE)", name, image, target))
		return nil
	}
	name := kube.DebuggerPrefix + kube.Suffix()
	s.status(fmt.Sprintf("adding ephemeral container %s (%s) to %s", name, image, s.w.Pod))
	start := time.Now()
	if _, err := kube.AddDebugContainer(ctx, s.env.Client, s.env.Namespace, s.w.Pod, kube.DebugContainer(name, image, target)); err != nil {
		return err
	}
	s.status(fmt.Sprintf("waiting for ephemeral container %s to run (pulling %s)", name, image))
	p, err := kube.WaitPod(ctx, s.env.Client, s.env.Namespace, s.w.Pod, s.opts.startTimeout(), kube.EphemeralRunning(name))
	if p != nil {
		s.pod = p
	}
	if err != nil {
		return fmt.Errorf("the debug container %s did not start: %w", name, err)
	}
	s.debugger = name
	r.Did = append(r.Did, fmt.Sprintf("added ephemeral container %s (%s, --target=%s, SYS_PTRACE as --profile=general adds), running after %s",
		name, image, target, round(time.Since(start))))
	return nil
}

// exec runs a command in the debug container and returns its stdout and
// stderr.
func (s *solver) exec(ctx context.Context, timeout time.Duration, cmd ...string) (string, string, error) {
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	var stdout, stderr bytes.Buffer
	err := s.env.Exec(ctx, kube.ExecOptions{
		Namespace: s.env.Namespace, Pod: s.w.Pod, Container: s.debugger,
		Command: cmd, Stdout: &stdout, Stderr: &stderr,
	})
	if err != nil {
		return stdout.String(), stderr.String(), withOutput(err, stderr.String())
	}
	return stdout.String(), stderr.String(), nil
}

// inDebugger runs a shell command in the debug container and returns the
// stream the action saves.
func (s *solver) inDebugger(ctx context.Context, cmd string, stderr bool) (string, error) {
	if err := s.ensureDebugger(ctx, &Result{}); err != nil {
		return "", fmt.Errorf("needs the debug container: %w", err)
	}
	s.status(cmd)
	out, errOut, err := s.exec(ctx, execTimeout, "sh", "-c", cmd)
	if err != nil {
		return "", fmt.Errorf("%s in %s: %w", cmd, s.debugger, err)
	}
	if stderr {
		return errOut, nil
	}
	return out, nil
}

// withOutput adds the last lines a failed command printed to its error.
func withOutput(err error, stderr string) error {
	stderr = strings.TrimSpace(stderr)
	if stderr == "" {
		return err
	}
	lines := strings.Split(stderr, "\n")
	if len(lines) > 3 {
		lines = lines[len(lines)-3:]
	}
	return fmt.Errorf("%w: %s", err, strings.Join(lines, " / "))
}

// execTimeout bounds a short command (ps, ls, kill).
const execTimeout = 30 * time.Second

// findProcesses runs ps in the debug container and reads the workload's
// main process and first worker off it through the grader's facts (the
// ps extractor's finder: process titles, else parent PIDs and users).
// ps -ef is tried first (procps needs it to list every process); BusyBox's
// ps lists every process without options and refuses -ef.
func (s *solver) findProcesses(ctx context.Context, r *Result) error {
	if s.master != 0 || s.psErr != nil {
		return s.psErr
	}
	s.psErr = func() error {
		if err := s.ensureDebugger(ctx, r); err != nil {
			return fmt.Errorf("needs the debug container: %w", err)
		}
		s.status("ps in " + s.debugger)
		out, _, err := s.exec(ctx, execTimeout, "sh", "-c", "ps -ef 2>/dev/null || ps")
		if err != nil {
			return fmt.Errorf("ps in %s: %w", s.debugger, err)
		}
		s.debugf("ps in %s:\n%s", s.debugger, out)
		p := facts.ReadProcesses(out)
		if len(p.Masters) == 0 || len(p.Workers) == 0 {
			return fmt.Errorf("ps in %s shows no main process with a worker (%s); is %s running? lab status", s.debugger, p.Seen, s.w.Container)
		}
		s.master, s.worker = p.Masters[0], p.Workers[0]
		line := fmt.Sprintf("ps in %s: %s master PID %d, worker PID %d", s.debugger, s.w.Container, s.master, s.worker)
		if p.PauseIsPID1 {
			line += " (PID 1 is /pause)"
		}
		r.Did = append(r.Did, line)
		return nil
	}()
	return s.psErr
}

// capture is a long-running command in the debug container (tcpdump,
// strace) that lab stops with SIGINT once the traffic is through, as a
// student presses Ctrl-C. Its shell writes its PID to a file first, and
// then becomes the command (exec), so that the kill reaches it; the
// command runs under timeout(1), so that it ends even if lab dies.
type capture struct {
	s       *solver
	pidFile string
	stdout  bytes.Buffer
	stderr  *watchWriter
	done    chan error
}

func (s *solver) startCapture(ctx context.Context, ready, cmd string) (*capture, error) {
	c := &capture{
		s:       s,
		pidFile: "/tmp/lab-solve-" + kube.Suffix() + ".pid",
		stderr:  newWatchWriter(ready),
		done:    make(chan error, 1),
	}
	secs := int(s.opts.captureTimeout().Seconds())
	script := fmt.Sprintf("echo $$ > %s; exec timeout -s INT %d %s", c.pidFile, secs, cmd)
	// The stream's own bound is longer than the command's timeout, which
	// ends it first.
	cctx, cancel := context.WithTimeout(ctx, s.opts.captureTimeout()+30*time.Second)
	go func() {
		defer cancel()
		c.done <- s.env.Exec(cctx, kube.ExecOptions{
			Namespace: s.env.Namespace, Pod: s.w.Pod, Container: s.debugger,
			Command: []string{"sh", "-c", script}, Stdout: &c.stdout, Stderr: c.stderr,
		})
	}()
	select {
	case <-c.stderr.seen:
		return c, nil
	case err := <-c.done:
		if err == nil {
			err = errors.New("it ended at once")
		}
		return nil, withOutput(err, c.stderr.String())
	case <-time.After(execTimeout):
		c.stop(ctx)
		return nil, fmt.Errorf("it did not print %q within %s", ready, execTimeout)
	case <-ctx.Done():
		c.stop(ctx) // Ctrl-C: the command must not run on in the pod
		return nil, ctx.Err()
	}
}

// stop interrupts the command and waits for it to end; stdout and stderr
// are complete afterwards.
func (c *capture) stop(ctx context.Context) error {
	select {
	case <-time.After(c.s.opts.settle()):
	case <-ctx.Done():
	}
	kctx := context.WithoutCancel(ctx)
	_, _, kerr := c.s.exec(kctx, execTimeout, "sh", "-c", fmt.Sprintf("kill -INT $(cat %[1]s) 2>/dev/null; rm -f %[1]s", c.pidFile))
	select {
	case err := <-c.done:
		var code *kube.ExitCodeError
		if errors.As(err, &code) {
			// Interrupted tools may exit non-zero; what they printed is
			// what counts, and the grader judges it.
			return nil
		}
		return err
	case <-time.After(execTimeout):
		if kerr != nil {
			return fmt.Errorf("could not interrupt it: %w", kerr)
		}
		return errors.New("it did not end after SIGINT")
	}
}

// traffic runs lab traffic and notes it.
func (s *solver) traffic(ctx context.Context, r *Result, via traffic.Via) error {
	s.status("lab traffic --via " + string(via))
	line, err := s.env.Traffic(ctx, via)
	if err != nil {
		return fmt.Errorf("lab traffic --via %s: %w", via, err)
	}
	r.Did = append(r.Did, "lab traffic --via "+string(via)+": "+line)
	return nil
}

// whileTraffic runs a capture in the debug container, sends lab traffic
// both ways once it is ready, then interrupts it as a student presses
// Ctrl-C, and returns what it printed on the stream the action saves.
func (s *solver) whileTraffic(ctx context.Context, r *Result, cmd, ready string, stderr bool) (string, error) {
	if err := s.ensureDebugger(ctx, r); err != nil {
		return "", fmt.Errorf("needs the debug container: %w", err)
	}
	s.status("starting " + cmd)
	c, err := s.startCapture(ctx, ready, cmd)
	if err != nil {
		return "", fmt.Errorf("%s in %s: %w", cmd, s.debugger, err)
	}
	terr := s.traffic(ctx, r, traffic.Both)
	s.status("stopping " + strings.Fields(cmd)[0])
	if err := c.stop(ctx); err != nil {
		return "", fmt.Errorf("%s in %s: %w", cmd, s.debugger, err)
	}
	if terr != nil {
		return "", terr
	}
	if stderr {
		return c.stderr.String(), nil
	}
	return c.stdout.String(), nil
}

// nodeDebuggers lists the pods that may be node debuggers in the lab's
// namespace.
func (s *solver) nodeDebuggers(ctx context.Context) ([]corev1.Pod, error) {
	cctx, cancel := context.WithTimeout(ctx, kube.CallTimeout)
	defer cancel()
	l, err := s.env.Client.CoreV1().Pods(s.env.Namespace).List(cctx, metav1.ListOptions{})
	if err != nil {
		return nil, err
	}
	var out []corev1.Pod
	for _, p := range l.Items {
		if strings.HasPrefix(p.Name, kube.NodeDebuggerPrefix) {
			out = append(out, p)
		}
	}
	return out, nil
}

// inNode runs a shell command in a node debug pod on the workload's node
// (kubectl debug node/… --image=<images.nodeDebugger>: host namespaces, the
// node's / at /host) and returns what it printed.
func (s *solver) inNode(ctx context.Context, r *Result, cmd string) (string, error) {
	if err := s.readPod(ctx); err != nil {
		return "", err
	}
	node, image := s.pod.Spec.NodeName, s.spec.Images.NodeDebugger
	argv := []string{"sh", "-c", cmd}
	dbg := kube.NodeDebugPod(s.env.Namespace, node, image, argv)
	pods := s.env.Client.CoreV1().Pods(s.env.Namespace)
	cctx, cancel := context.WithTimeout(ctx, kube.CallTimeout)
	created, err := pods.Create(cctx, dbg, metav1.CreateOptions{FieldManager: kube.FieldManager})
	cancel()
	if err != nil {
		return "", fmt.Errorf("creating the node debug pod %s: %w", dbg.Name, err)
	}
	start := time.Now()
	s.status(fmt.Sprintf("node debug pod %s: %s", dbg.Name, cmd))
	// Someone else's kubectl delete (a student tidying up, an instructor's
	// script) ends the pod before or while it reads: it is then gone, or
	// Failed while being deleted, or its log is gone; either way what it
	// printed is not the whole log.
	deleted := func() error {
		return fmt.Errorf("the node debug pod %s was deleted before lab read what it printed (%s); nothing was saved: run lab solve %s again", dbg.Name, cmd, r.Step)
	}
	done, err := kube.WaitPod(ctx, s.env.Client, s.env.Namespace, dbg.Name, s.opts.startTimeout(), kube.PodFinished)
	if errors.Is(err, kube.ErrPodDeleted) {
		return "", deleted()
	}
	if err != nil {
		// Unfinished, it has printed nothing lab check could use; left
		// behind (a timeout, a Ctrl-C) it would only wait for the next run.
		if derr := s.deletePod(ctx, created); derr != nil {
			return "", fmt.Errorf("the node debug pod %s did not finish: %w (deleting it failed too: %v; lab down removes it)", dbg.Name, err, derr)
		}
		return "", fmt.Errorf("the node debug pod %s did not finish: %w (deleted it)", dbg.Name, err)
	}
	if done.DeletionTimestamp != nil && done.Status.Phase != corev1.PodSucceeded {
		return "", deleted()
	}
	rc, err := s.env.Logs(ctx, s.env.Namespace, dbg.Name, dbg.Spec.Containers[0].Name, false)
	if err != nil {
		if s.podGone(ctx, created) {
			return "", deleted()
		}
		return "", fmt.Errorf("reading the node debug pod's output (kubectl logs %s -n %s): %w", dbg.Name, s.env.Namespace, err)
	}
	out, err := io.ReadAll(io.LimitReader(rc, maxAnswer))
	rc.Close()
	if err != nil {
		return "", fmt.Errorf("reading the node debug pod's output: %w", err)
	}
	if done.Status.Phase == corev1.PodFailed {
		return "", withOutput(fmt.Errorf("the node debug pod %s failed (%s)", dbg.Name, cmd), string(out))
	}
	s.nodeRan = true
	r.Did = append(r.Did, fmt.Sprintf("node debug pod %s (%s, host namespaces, / at %s) on %s ran %s in %s",
		dbg.Name, image, kube.HostMount, node, cmd, round(time.Since(start))))
	s.replaceOlderNodeDebuggers(ctx, r, created)
	return string(out), nil
}

// replaceOlderNodeDebuggers deletes the node debug pods earlier runs of lab
// solve left on the node (lab's label, kubectl's name): the newest one is
// what lab check needs, and one per run would pile up. Pods without lab's
// label (a student's kubectl debug node) are never touched.
func (s *solver) replaceOlderNodeDebuggers(ctx context.Context, r *Result, keep *corev1.Pod) {
	pods, err := s.nodeDebuggers(ctx)
	if err != nil {
		return
	}
	var gone []string
	for _, p := range pods {
		if p.UID == keep.UID || p.Name == keep.Name || !kube.IsManaged(&p) || p.Spec.NodeName != keep.Spec.NodeName {
			continue
		}
		if s.deletePod(ctx, &p) == nil {
			gone = append(gone, p.Name)
		}
	}
	if len(gone) > 0 {
		r.Did = append(r.Did, "deleted the node debug pods earlier lab solve runs left: "+strings.Join(gone, ", "))
	}
}

// podGone says whether the pod p is deleted or being deleted (or replaced
// by another of the same name).
func (s *solver) podGone(ctx context.Context, p *corev1.Pod) bool {
	cctx, cancel := context.WithTimeout(ctx, kube.CallTimeout)
	defer cancel()
	now, err := s.env.Client.CoreV1().Pods(s.env.Namespace).Get(cctx, p.Name, metav1.GetOptions{})
	if apierrors.IsNotFound(err) {
		return true
	}
	return err == nil && (now.UID != p.UID || now.DeletionTimestamp != nil)
}

// deletePod deletes a pod lab made, this very pod (its UID) and not one
// created since under the same name, even when ctx is already cancelled:
// cleaning up after a Ctrl-C is when it matters most.
func (s *solver) deletePod(ctx context.Context, p *corev1.Pod) error {
	cctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), kube.CallTimeout)
	defer cancel()
	err := s.env.Client.CoreV1().Pods(s.env.Namespace).Delete(cctx, p.Name, metav1.DeleteOptions{
		Preconditions: &metav1.Preconditions{UID: ptr.To(p.UID)},
	})
	if apierrors.IsNotFound(err) {
		return nil
	}
	return err
}

// maxAnswer bounds what one answers file may hold.
const maxAnswer = 64 << 20

// write saves an answers file: created exclusively (never replacing a file
// that appeared since the check for existing ones) unless Force, then
// through a temporary file renamed over the old one, so that an
// interrupted run never leaves half a file.
func (s *solver) write(r *Result, name, content, what string) error {
	if strings.TrimSpace(content) == "" {
		return fmt.Errorf("%s printed nothing; %s not written", what, name)
	}
	p := filepath.Join(s.opts.Answers, name)
	if err := writeFile(p, []byte(content), s.opts.Force); err != nil {
		return err
	}
	r.File = p
	r.fileLine = len(r.Did)
	r.Did = append(r.Did, fmt.Sprintf("%s → %s (%d lines)", what, p, strings.Count(content, "\n")))
	return nil
}

// ErrExists means an answers file is there and Force was not given.
var ErrExists = errors.New("already exists (lab solve --force replaces it)")

func writeFile(p string, data []byte, force bool) error {
	if !force {
		f, err := os.OpenFile(p, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o644)
		if errors.Is(err, fs.ErrExist) {
			return fmt.Errorf("%s %w", p, ErrExists)
		}
		if err != nil {
			return fmt.Errorf("writing %s: %w", p, err)
		}
		_, werr := f.Write(data)
		cerr := f.Close()
		if err := errors.Join(werr, cerr); err != nil {
			os.Remove(p) // ours: created just now
			return fmt.Errorf("writing %s: %w", p, err)
		}
		return nil
	}
	tmp, err := os.CreateTemp(filepath.Dir(p), ".lab-solve-*")
	if err != nil {
		return fmt.Errorf("writing %s: %w", p, err)
	}
	defer os.Remove(tmp.Name()) // ours; gone after the rename anyway
	_, werr := tmp.Write(data)
	if err := errors.Join(werr, tmp.Chmod(0o644), tmp.Close()); err != nil {
		return fmt.Errorf("writing %s: %w", p, err)
	}
	if err := os.Rename(tmp.Name(), p); err != nil {
		return fmt.Errorf("writing %s: %w", p, err)
	}
	return nil
}

// verify grades the file just written, offline, with the built-in spec:
// a reference answer that lab check would fail is a failed step.
func (s *solver) verify(ctx context.Context, st spec.Step, r *Result) error {
	rep, err := checks.Grade(ctx, s.spec, []string{st.ID}, checks.Options{
		Answers: os.DirFS(s.opts.Answers), AnswersName: s.opts.Answers,
	})
	if err != nil {
		return err
	}
	res := rep.Results[0]
	if res.Status != checks.Pass {
		return fmt.Errorf("%s does not pass lab check: %s", r.File, res.Message)
	}
	r.Did[r.fileLine] += ", passes lab check offline"
	return nil
}

func round(d time.Duration) time.Duration {
	if d >= time.Second {
		return d.Round(100 * time.Millisecond)
	}
	return d.Round(time.Millisecond)
}

// watchWriter collects a stream and closes seen once it holds a phrase
// (tcpdump's "listening on", strace's "attached").
type watchWriter struct {
	mu     sync.Mutex
	buf    bytes.Buffer
	phrase string
	seen   chan struct{}
	closed bool
}

func newWatchWriter(phrase string) *watchWriter {
	return &watchWriter{phrase: phrase, seen: make(chan struct{})}
}

func (w *watchWriter) Write(p []byte) (int, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	n, _ := w.buf.Write(p)
	if !w.closed && bytes.Contains(w.buf.Bytes(), []byte(w.phrase)) {
		close(w.seen)
		w.closed = true
	}
	return n, nil
}

func (w *watchWriter) String() string {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.buf.String()
}
