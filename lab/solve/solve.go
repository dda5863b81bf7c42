// Package solve is lab's autopilot: it performs each step of the built-in
// assignment through the Kubernetes API the way `kubectl debug` does, and
// writes a reference answers folder that `lab check` passes. Instructors
// run it to prove a cluster is fit for class; the output says, per step,
// what was done and how long it took.
//
// The steps are the assignment's: an ephemeral container debugger-xxxxx
// (nicolaka/netshoot, --target=nginx, SYS_PTRACE as --profile=general
// adds) on the lab's pod; ps in it to find the nginx master and worker
// (PID 1 is /pause: the pod shares its PID namespace); ls -la
// /proc/<master>/root/etc/nginx/; tcpdump and strace of the worker while
// lab traffic runs both ways; the pod's row of kubectl get pod -o wide; and
// a node debug pod (node-debugger-<node>-xxxxx, the node's / at /host)
// that reads the pod's log files with chroot /host cat.
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
	"time"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"
	"k8s.io/utils/ptr"

	"github.com/k8s-debug-lab/lab/assets"
	"github.com/k8s-debug-lab/lab/checks"
	"github.com/k8s-debug-lab/lab/checks/decode"
	"github.com/k8s-debug-lab/lab/checks/live"
	"github.com/k8s-debug-lab/lab/checks/parse/ps"
	"github.com/k8s-debug-lab/lab/checks/spec"
	"github.com/k8s-debug-lab/lab/lab/kube"
	"github.com/k8s-debug-lab/lab/lab/traffic"
)

// Step is one step the autopilot performs.
type Step struct {
	// ID is the assignment's step id (step-3, star).
	ID string
	// File is the answers file it writes ("" for the steps proven live).
	File string
}

// Steps are the steps in the order solve performs them: the assignment's.
var Steps = []Step{
	{ID: "step-1"},
	{ID: "step-2"},
	{ID: "step-3", File: "step-3.txt"},
	{ID: "step-5", File: "step-5.txt"},
	{ID: "step-6", File: "step-6.txt"},
	{ID: "step-7", File: "step-7.txt"},
	{ID: "star", File: "star.txt"},
}

// IDs are the step ids, for help and errors.
func IDs() []string {
	ids := make([]string, len(Steps))
	for i, s := range Steps {
		ids[i] = s.ID
	}
	return ids
}

// Select resolves ids ("all", "step-3", "3", "star") to steps, in solve's
// order; none means all.
func Select(ids []string) ([]Step, error) {
	want := map[string]bool{}
	for _, id := range ids {
		if id == "all" {
			return Steps, nil
		}
		if _, err := strconv.Atoi(id); err == nil {
			id = "step-" + id
		}
		if !slices.Contains(IDs(), id) {
			why := ""
			if id == "step-4" {
				why = "; step-4 (setting up tcpdump) is part of step-5"
			}
			return nil, fmt.Errorf("unknown step %q (want %s or all%s)", id, strings.Join(IDs(), ", "), why)
		}
		want[id] = true
	}
	if len(want) == 0 {
		return Steps, nil
	}
	var out []Step
	for _, s := range Steps {
		if want[s.ID] {
			out = append(out, s)
		}
	}
	return out, nil
}

// Existing lists the answers files the steps would write that are already
// in dir: solve refuses to overwrite them without Force.
func Existing(steps []Step, dir string) []string {
	var out []string
	for _, s := range steps {
		if s.File == "" {
			continue
		}
		if _, err := os.Lstat(filepath.Join(dir, s.File)); err == nil {
			out = append(out, filepath.Join(dir, s.File))
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
	// DebuggerImage and NodeImage default to kube.DebuggerImage and
	// kube.NodeDebuggerImage.
	DebuggerImage, NodeImage string
	// StartTimeout bounds waiting for a debug container or pod to start
	// (a first image pull); zero means three minutes.
	StartTimeout time.Duration
	// CaptureTimeout is the timeout tcpdump and strace run under in the
	// debug container, so that they end even if lab is killed; zero means
	// two minutes.
	CaptureTimeout time.Duration
	// Settle is how long a capture keeps running after the traffic, for
	// the last packets and calls; zero means one second.
	Settle time.Duration
}

func (o Options) debuggerImage() string { return or(o.DebuggerImage, kube.DebuggerImage) }
func (o Options) nodeImage() string     { return or(o.NodeImage, kube.NodeDebuggerImage) }
func (o Options) startTimeout() time.Duration {
	return orDur(o.StartTimeout, 3*time.Minute)
}
func (o Options) captureTimeout() time.Duration { return orDur(o.CaptureTimeout, 2*time.Minute) }
func (o Options) settle() time.Duration         { return orDur(o.Settle, time.Second) }

func or(s, def string) string {
	if s == "" {
		return def
	}
	return s
}

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

	pod      *corev1.Pod
	debugger string
	master   int
	worker   int
	psErr    error
	dbgErr   error
	traffic  bool
}

// Run performs the steps in order, calling report after each. A step that
// fails does not stop the others, except that steps needing the debug
// container or the nginx PIDs fail with the reason those could not be had.
// The error is for what stops everything: the lab's pod cannot be read.
func Run(ctx context.Context, env Env, opts Options, steps []Step, report func(Result)) ([]Result, error) {
	a, err := spec.Load(assets.Lab(), assets.BuiltinSource)
	if err != nil {
		return nil, fmt.Errorf("the built-in assignment does not load (a bug in this build): %w", err)
	}
	if err := os.MkdirAll(opts.Answers, 0o755); err != nil {
		return nil, fmt.Errorf("creating the answers folder: %w", err)
	}
	s := &solver{env: env, opts: opts, spec: a}
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
		var err error
		switch st.ID {
		case "step-1":
			err = s.step1(ctx, &r)
		case "step-2":
			err = s.step2(ctx, &r)
		case "step-3":
			err = s.step3(ctx, &r)
		case "step-5":
			err = s.step5(ctx, &r)
		case "step-6":
			err = s.step6(ctx, &r)
		case "step-7":
			err = s.step7(ctx, &r)
		case "star":
			err = s.star(ctx, &r)
		}
		if err == nil && st.File != "" {
			err = s.verify(ctx, st, &r)
		}
		r.OK, r.Err, r.Took = err == nil, err, time.Since(start)
		out = append(out, r)
		if report != nil {
			report(r)
		}
	}
	return out, ctx.Err()
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
	p, err := s.env.Client.CoreV1().Pods(s.env.Namespace).Get(cctx, kube.PodName, metav1.GetOptions{})
	if err != nil {
		return fmt.Errorf("reading pod %s/%s: %w", s.env.Namespace, kube.PodName, err)
	}
	s.pod = p
	return nil
}

// liveCheck runs one of the grader's live checks on the pods as they are.
func (s *solver) liveCheck(name string, others []corev1.Pod) checks.LiveResult {
	l := live.Evaluate(live.Snapshot{Namespace: s.env.Namespace, PodName: kube.PodName, Pod: s.pod, Pods: others})
	return l.Checks[name]
}

func (s *solver) step1(ctx context.Context, r *Result) error {
	if err := s.readPod(ctx); err != nil {
		return err
	}
	if lr := s.liveCheck(live.PodSharesPID, nil); !lr.OK {
		return fmt.Errorf("%s (%s)", lr.Message, lr.Hint)
	}
	r.Did = append(r.Did, fmt.Sprintf("pod %s shares its PID namespace, has container nginx and is Running on %s (IP %s)",
		kube.PodName, s.pod.Spec.NodeName, s.pod.Status.PodIP))
	return nil
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
	image := s.opts.debuggerImage()
	if name := kube.ReusableDebugger(s.pod, image, kube.ContainerName); name != "" {
		s.debugger = name
		r.Did = append(r.Did, fmt.Sprintf("reused the running ephemeral container %s (%s, target nginx, SYS_PTRACE)", name, image))
		return nil
	}
	name := kube.DebuggerPrefix + kube.Suffix()
	s.status(fmt.Sprintf("adding ephemeral container %s (%s) to %s", name, image, kube.PodName))
	start := time.Now()
	if _, err := kube.AddDebugContainer(ctx, s.env.Client, s.env.Namespace, kube.PodName, kube.DebugContainer(name, image, kube.ContainerName)); err != nil {
		return err
	}
	s.status(fmt.Sprintf("waiting for ephemeral container %s to run (pulling %s)", name, image))
	p, err := kube.WaitPod(ctx, s.env.Client, s.env.Namespace, kube.PodName, s.opts.startTimeout(), kube.EphemeralRunning(name))
	if p != nil {
		s.pod = p
	}
	if err != nil {
		return fmt.Errorf("the debug container %s did not start: %w", name, err)
	}
	s.debugger = name
	r.Did = append(r.Did, fmt.Sprintf("added ephemeral container %s (%s, --target=nginx, SYS_PTRACE as --profile=general adds), running after %s",
		name, image, round(time.Since(start))))
	return nil
}

func (s *solver) step2(ctx context.Context, r *Result) error {
	if err := s.ensureDebugger(ctx, r); err != nil {
		return err
	}
	if lr := s.liveCheck(live.EphemeralDebugger, nil); !lr.OK {
		return fmt.Errorf("lab check would still fail: %s", lr.Message)
	}
	if len(r.Did) == 0 {
		r.Did = append(r.Did, fmt.Sprintf("ephemeral container %s runs (target nginx, SYS_PTRACE)", s.debugger))
	}
	return nil
}

// exec runs a command in the debug container and returns its stdout.
func (s *solver) exec(ctx context.Context, timeout time.Duration, cmd ...string) (string, string, error) {
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	var stdout, stderr bytes.Buffer
	err := s.env.Exec(ctx, kube.ExecOptions{
		Namespace: s.env.Namespace, Pod: kube.PodName, Container: s.debugger,
		Command: cmd, Stdout: &stdout, Stderr: &stderr,
	})
	if err != nil {
		return stdout.String(), stderr.String(), withOutput(err, stderr.String())
	}
	return stdout.String(), stderr.String(), nil
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

// findNginx runs ps in the debug container and reads the nginx master and
// worker PIDs off it with the grader's own finder. ps -ef is tried first
// (procps needs it to list every process); BusyBox's ps lists every
// process without options and refuses -ef.
func (s *solver) findNginx(ctx context.Context, r *Result) error {
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
		var f ps.Finder
		pause := 0
		for rec := range ps.Parse(decode.String(out)) {
			f.Add(rec)
			if ps.IsPause(rec) {
				pause = rec.PID
			}
		}
		masters, workers := f.Result()
		if len(masters) == 0 || len(workers) == 0 {
			return fmt.Errorf("ps in %s shows no nginx master and worker (%s); is nginx running? lab status", s.debugger, f.String())
		}
		s.master, s.worker = masters[0], workers[0]
		line := fmt.Sprintf("ps in %s: nginx master PID %d, worker PID %d", s.debugger, s.master, s.worker)
		if pause == 1 {
			line += " (PID 1 is /pause)"
		}
		r.Did = append(r.Did, line)
		return nil
	}()
	return s.psErr
}

func (s *solver) step3(ctx context.Context, r *Result) error {
	if err := s.findNginx(ctx, r); err != nil {
		return err
	}
	dir := fmt.Sprintf("/proc/%d/root/etc/nginx/", s.master)
	s.status("ls -la " + dir)
	out, _, err := s.exec(ctx, execTimeout, "ls", "-la", dir)
	if err != nil {
		return fmt.Errorf("ls -la %s in %s: %w", dir, s.debugger, err)
	}
	return s.write(r, "step-3.txt", out, "ls -la "+dir)
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

func (s *solver) startCapture(ctx context.Context, ready string, argv ...string) (*capture, error) {
	c := &capture{
		s:       s,
		pidFile: "/tmp/lab-solve-" + kube.Suffix() + ".pid",
		stderr:  newWatchWriter(ready),
		done:    make(chan error, 1),
	}
	secs := int(s.opts.captureTimeout().Seconds())
	script := fmt.Sprintf("echo $$ > %s; exec timeout -s INT %d %s", c.pidFile, secs, shellJoin(argv))
	// The stream's own bound is longer than the command's timeout, which
	// ends it first.
	cctx, cancel := context.WithTimeout(ctx, s.opts.captureTimeout()+30*time.Second)
	go func() {
		defer cancel()
		c.done <- s.env.Exec(cctx, kube.ExecOptions{
			Namespace: s.env.Namespace, Pod: kube.PodName, Container: s.debugger,
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

// trafficBoth runs lab traffic both ways and notes it.
func (s *solver) trafficBoth(ctx context.Context, r *Result, via traffic.Via) error {
	s.status("lab traffic --via " + string(via))
	line, err := s.env.Traffic(ctx, via)
	if err != nil {
		return fmt.Errorf("lab traffic --via %s: %w", via, err)
	}
	s.traffic = true
	r.Did = append(r.Did, "lab traffic --via "+string(via)+": "+line)
	return nil
}

func (s *solver) step5(ctx context.Context, r *Result) error {
	if err := s.ensureDebugger(ctx, r); err != nil {
		return fmt.Errorf("needs the debug container: %w", err)
	}
	argv := []string{"tcpdump", "-l", "-nn", "-i", "any", "-e", "-c", strconv.Itoa(tcpdumpPackets), "port", "80"}
	s.status("starting " + strings.Join(argv, " "))
	c, err := s.startCapture(ctx, "listening on", argv...)
	if err != nil {
		return fmt.Errorf("tcpdump in %s: %w", s.debugger, err)
	}
	terr := s.trafficBoth(ctx, r, traffic.Both)
	s.status("stopping tcpdump")
	if err := c.stop(ctx); err != nil {
		return fmt.Errorf("tcpdump in %s: %w", s.debugger, err)
	}
	if terr != nil {
		return terr
	}
	return s.write(r, "step-5.txt", c.stdout.String(), strings.Join(argv, " ")+" while the traffic ran")
}

// tcpdumpPackets is tcpdump's -c: far more than a run's packets, so that
// the interrupt, not the count, ends the capture, and yet a bound.
const tcpdumpPackets = 5000

func (s *solver) star(ctx context.Context, r *Result) error {
	if err := s.findNginx(ctx, r); err != nil {
		return err
	}
	// -s 256: the request line and the access-log line show whole, nonce
	// included; strace writes its trace to stderr.
	argv := []string{"strace", "-f", "-s", "256", "-p", strconv.Itoa(s.worker)}
	s.status("starting " + strings.Join(argv, " "))
	c, err := s.startCapture(ctx, "attached", argv...)
	if err != nil {
		return fmt.Errorf("strace of worker %d in %s: %w", s.worker, s.debugger, err)
	}
	terr := s.trafficBoth(ctx, r, traffic.Both)
	s.status("stopping strace")
	if err := c.stop(ctx); err != nil {
		return fmt.Errorf("strace in %s: %w", s.debugger, err)
	}
	if terr != nil {
		return terr
	}
	return s.write(r, "star.txt", c.stderr.String(), strings.Join(argv, " ")+" while the traffic ran")
}

func (s *solver) step6(ctx context.Context, r *Result) error {
	if err := s.readPod(ctx); err != nil {
		return err
	}
	var b bytes.Buffer
	if err := WritePodTable(&b, []corev1.Pod{*s.pod}, time.Now()); err != nil {
		return err
	}
	if err := s.write(r, "step-6.txt", b.String(), "kubectl get pod "+kube.PodName+" -o wide"); err != nil {
		return err
	}
	if pods, err := s.nodeDebuggers(ctx); err == nil {
		if lr := s.liveCheck(live.NodeDebugger, pods); !lr.OK {
			r.Did = append(r.Did, "note: lab check step-6 also needs a node debugger pod on "+s.pod.Spec.NodeName+"; lab solve step-7 runs one")
		}
	}
	return nil
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

func (s *solver) step7(ctx context.Context, r *Result) error {
	if !s.traffic {
		// The log must hold this lab's nonce: send some first.
		if err := s.trafficBoth(ctx, r, traffic.PortForward); err != nil {
			return err
		}
	}
	if err := s.readPod(ctx); err != nil {
		return err
	}
	node := s.pod.Spec.NodeName
	dir := kube.PodFactsOf(s.pod).ContainerLogDir(kube.ContainerName)
	cmd := []string{"chroot", kube.HostMount, "sh", "-c", "cat " + dir + "/*.log"}
	dbg := kube.NodeDebugPod(s.env.Namespace, node, s.opts.nodeImage(), cmd)
	pods := s.env.Client.CoreV1().Pods(s.env.Namespace)
	cctx, cancel := context.WithTimeout(ctx, kube.CallTimeout)
	created, err := pods.Create(cctx, dbg, metav1.CreateOptions{FieldManager: kube.FieldManager})
	cancel()
	if err != nil {
		return fmt.Errorf("creating the node debug pod %s: %w", dbg.Name, err)
	}
	start := time.Now()
	s.status(fmt.Sprintf("node debug pod %s: %s", dbg.Name, strings.Join(cmd, " ")))
	done, err := kube.WaitPod(ctx, s.env.Client, s.env.Namespace, dbg.Name, s.opts.startTimeout(), kube.PodFinished)
	if err != nil {
		// Unfinished, it has printed nothing lab check could use; left
		// behind (a timeout, a Ctrl-C) it would only wait for the next run.
		if derr := s.deletePod(ctx, created); derr != nil {
			return fmt.Errorf("the node debug pod %s did not finish: %w (deleting it failed too: %v; lab down removes it)", dbg.Name, err, derr)
		}
		return fmt.Errorf("the node debug pod %s did not finish: %w (deleted it)", dbg.Name, err)
	}
	rc, err := s.env.Logs(ctx, s.env.Namespace, dbg.Name, dbg.Spec.Containers[0].Name, false)
	if err != nil {
		return fmt.Errorf("reading the node debug pod's output (kubectl logs %s -n %s): %w", dbg.Name, s.env.Namespace, err)
	}
	out, err := io.ReadAll(io.LimitReader(rc, maxAnswer))
	rc.Close()
	if err != nil {
		return fmt.Errorf("reading the node debug pod's output: %w", err)
	}
	if done.Status.Phase == corev1.PodFailed {
		return withOutput(fmt.Errorf("the node debug pod %s failed (%s)", dbg.Name, strings.Join(cmd, " ")), string(out))
	}
	r.Did = append(r.Did, fmt.Sprintf("node debug pod %s (%s, host namespaces, / at %s) on %s ran %s in %s",
		dbg.Name, s.opts.nodeImage(), kube.HostMount, node, strings.Join(cmd, " "), round(time.Since(start))))
	if err := s.write(r, "step-7.txt", string(out), "its output"); err != nil {
		return err
	}
	s.replaceOlderNodeDebuggers(ctx, r, created)
	return nil
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
func (s *solver) verify(ctx context.Context, st Step, r *Result) error {
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

// shellJoin quotes argv for sh -c.
func shellJoin(argv []string) string {
	q := make([]string, len(argv))
	for i, a := range argv {
		if a != "" && strings.Trim(a, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-_./=:,") == "" {
			q[i] = a
			continue
		}
		q[i] = "'" + strings.ReplaceAll(a, "'", `'\''`) + "'"
	}
	return strings.Join(q, " ")
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
