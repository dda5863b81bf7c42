package cli

import (
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/k8s-debug-lab/lab/checks"
	"github.com/k8s-debug-lab/lab/checks/live"
	"github.com/k8s-debug-lab/lab/checks/spec"
	"github.com/k8s-debug-lab/lab/lab/kube"
	"github.com/k8s-debug-lab/lab/lab/labfolder"
	"github.com/k8s-debug-lab/lab/lab/record"
	"github.com/k8s-debug-lab/lab/lab/solve"
	"github.com/k8s-debug-lab/lab/lab/state"
	"github.com/k8s-debug-lab/lab/lab/traffic"
)

// solveOptions are lab solve's flags.
type solveOptions struct {
	streams Streams
	globals *globals
	kf      kubeconfigFlags
	lf      labFlag

	answers string
	force   bool
	yes     bool
	count   int
	output  string

	lab   *labfolder.Lab
	steps []spec.Step
}

// Traffic lab solve sends while tcpdump and strace run: enough requests
// for every capture, fast.
const (
	solveTrafficRate = 20
)

func newSolveCmd(streams Streams, g *globals) *cobra.Command {
	o := &solveOptions{streams: streams, globals: g}
	cmd := &cobra.Command{
		Use:   "solve [step-N ...|all]",
		Short: "Perform the assignment's steps on the lab and write reference answers",
		Long: `The autopilot: perform each step of the assignment on the lab's cluster
the way kubectl debug does, and write a reference answers folder that lab
check passes. Instructors run it to prove a cluster is fit for class; each
step says what it did and how long it took. What each step does is the lab
folder's solve: actions; the built-in lab's are:

  step-1  checks the pod: shares its PID namespace, container nginx, Running
  step-2  adds an ephemeral container debugger-xxxxx (nicolaka/netshoot,
          --target=nginx, SYS_PTRACE as --profile=general adds), or reuses a
          running one that fits
  step-3  ps finds the nginx master (PID 1 is /pause); ls -la
          /proc/<master>/root/etc/nginx/                       > step-3.txt
  step-5  tcpdump -nn -i any -e port 80 while lab traffic runs both ways
                                                               > step-5.txt
  step-6  the pod's row of kubectl get pod -o wide             > step-6.txt
  step-7  a node debug pod node-debugger-<node>-xxxxx (ubuntu, the node's /
          at /host) runs chroot /host cat /var/log/pods/<ns>_<pod>_<uid>/nginx/*.log
                                                               > step-7.txt
  star    strace -f -p <worker> while lab traffic runs         > star.txt

Every file is graded offline as it is written; lab check --answers DIR then
grades the folder against the cluster. The traffic is recorded in the lab's
state as lab traffic's is. lab solve never overwrites an answers file
without --force and never deletes one; the node debug pods of earlier lab
solve runs on the node are replaced (they carry lab's label). With -o json
stdout holds only the report (every step: ok, file, took, what was done,
the error), for a course's CI to keep.

Exit codes: 0 every selected step was done and its file passes, 1 a step
failed or the lab is not deployed or not Ready, 2 usage error (an unknown
step, answers files that exist without --force, a refused context), 3 the
cluster could not be reached.`,
		Example: `  lab solve all --answers /tmp/reference && lab check --answers /tmp/reference
  lab solve all --answers /tmp/reference -o json | jq '.steps[] | select(.ok | not)'
  lab solve step-5 star --answers /tmp/reference --force
  lab solve -n lab-solve --answers ./ref`,
		ValidArgsFunction: func(*cobra.Command, []string, string) ([]string, cobra.ShellCompDirective) {
			l, err := labfolder.Builtin()
			if err != nil {
				return nil, cobra.ShellCompDirectiveNoFileComp
			}
			return append(l.Spec.IDs(), "all"), cobra.ShellCompDirectiveNoFileComp
		},
		RunE: func(cmd *cobra.Command, args []string) error {
			if err := o.complete(args); err != nil {
				return err
			}
			if err := o.validate(); err != nil {
				return err
			}
			return o.run(cmd.Context())
		},
	}
	o.kf.addTo(cmd)
	o.lf.addTo(cmd)
	f := cmd.Flags()
	f.StringVar(&o.answers, "answers", checks.AnswersDir, "the folder to write the answers files into (created if missing)")
	f.BoolVar(&o.force, "force", false, "replace answers files that exist")
	f.BoolVar(&o.yes, "yes", false, "confirm a context whose API server is not on this machine (with --context)")
	f.IntVar(&o.count, "count", defaultTrafficCount, "requests lab traffic sends each way during a capture")
	addOutputFlag(cmd, &o.output, "report")
	_ = cmd.MarkFlagDirname("answers")
	return cmd
}

func (o *solveOptions) complete(args []string) error {
	var err error
	if o.lab, err = o.lf.load(); err != nil {
		return err
	}
	if o.steps, err = checks.Select(o.lab.Spec, args); err != nil {
		return usageErrorf("%v", err)
	}
	return nil
}

func (o *solveOptions) validate() error {
	if err := validateOutput(o.output); err != nil {
		return err
	}
	if err := (traffic.Options{Count: o.count, Nonce: "-"}).Validate(); err != nil {
		return usageErrorf("%v", err)
	}
	fi, err := os.Stat(o.answers)
	switch {
	case err == nil && !fi.IsDir():
		return usageErrorf("--answers %s is not a folder", o.answers)
	case err != nil && !errors.Is(err, fs.ErrNotExist):
		return usageErrorf("cannot use --answers %s: %v", o.answers, err)
	}
	if existing := solve.Existing(o.steps, o.answers); len(existing) > 0 && !o.force {
		return usageErrorf("nothing done: lab solve never overwrites answers, and these exist: %s; add --force to replace them, or write elsewhere with --answers DIR",
			strings.Join(existing, ", "))
	}
	return nil
}

func (o *solveOptions) run(ctx context.Context) error {
	s := newSession(o.streams, o.globals, &o.kf, o.lab)
	log := s.log
	defer log.Done()
	conn, err := s.openLab(ctx, o.yes)
	if err != nil {
		return err
	}
	st := conn.state
	env := solve.Env{
		Client:    conn.client,
		Namespace: conn.target.Namespace,
		Exec:      conn.streams.Exec,
		Logs:      conn.streams.Logs,
		Traffic:   o.trafficFunc(conn, st, log),
		Status:    log.Status,
		Debugf:    log.Debugf,
	}
	rep := &solveReport{APIVersion: "lab/v1", Kind: "SolveReport", Context: conn.target.Context,
		Namespace: conn.target.Namespace, Pod: conn.pod.Name, Answers: o.answers, Steps: []solveStep{}}
	text := o.output != outputJSON
	if text {
		fmt.Fprintln(o.streams.Out, o.globals.printer().Sprintf("lab solve: pod %s/%s in context %s, answers into %s", rep.Namespace, rep.Pod, rep.Context, rep.Answers))
	}
	start := time.Now()
	results, err := solve.Run(ctx, o.lab.Spec, env, solve.Options{Answers: o.answers, Force: o.force}, o.steps, func(r solve.Result) {
		log.Done()
		if text {
			writeSolveResult(o.streams.Out, r)
		}
	})
	log.Done()
	for _, r := range results {
		rep.add(r)
	}
	if ctx.Err() == nil && len(results) > 0 {
		if rerr := o.record(ctx, conn); rerr != nil {
			fmt.Fprintf(o.streams.ErrOut, "lab solve: the lab record: %v\n", rerr)
		}
	}
	rep.TookMs = time.Since(start).Milliseconds()
	var exit error
	switch {
	case ctx.Err() != nil:
		exit = &ExitError{Code: ExitFailed, Err: errors.New(o.globals.printer().Sprintf("interrupted after %d of %d steps", len(results), len(o.steps)))}
	case err != nil && kube.LostCluster(err):
		exit = &ExitError{Code: ExitCluster, Err: fmt.Errorf("%w\n%s", err, o.globals.printer().Sprintf("the cluster stopped answering; lab status says when it is back"))}
	case err != nil:
		exit = &ExitError{Code: ExitFailed, Err: err}
	case lostCluster(results):
		exit = &ExitError{Code: ExitCluster, Err: errors.New(o.globals.printer().Sprintf("the cluster stopped answering; lab status says when it is back"))}
	case rep.Failed > 0:
		exit = &ExitError{Code: ExitFailed}
	}
	if !text {
		if ee, ok := exit.(*ExitError); ok && ee.Err != nil {
			rep.Error = ee.Err.Error()
		}
		if err := writeJSON(o.streams.Out, rep); err != nil {
			return err
		}
		return exit
	}
	if exit == nil {
		fmt.Fprintln(o.streams.Out, o.globals.printer().Sprintf("all %d steps done in %s. Next: lab check --answers %s%s", len(results), round(time.Since(start)), o.answers, kubeFlagsHint(&o.kf)))
	} else if ctx.Err() == nil && err == nil {
		fmt.Fprintln(o.streams.Out, o.globals.printer().Sprintf("%d of %d steps failed in %s", rep.Failed, len(results), round(time.Since(start))))
	}
	return exit
}

// record writes the lab record of the reference answers, as a live lab
// check would: what the cluster shows now, after the steps.
func (o *solveOptions) record(ctx context.Context, conn *labConn) error {
	fctx, cancel := context.WithTimeout(ctx, liveFetchTimeout)
	defer cancel()
	at := time.Now()
	snap, err := gatherLive(fctx, conn.client, o.lab.Spec, conn.target.Namespace, conn.state)
	if err != nil {
		return fmt.Errorf("reading the lab's pod: %w", err)
	}
	lr := &liveRun{target: conn.target, snap: snap, state: conn.state, live: live.Evaluate(snap), at: at}
	return writeRecord(ctx, o.streams, o.lab.Spec, record.BySolve, o.answers, lr, nil)
}

// solveReport is lab solve's report; with -o json it is all of stdout.
type solveReport struct {
	APIVersion string      `json:"apiVersion"`
	Kind       string      `json:"kind"`
	Context    string      `json:"context"`
	Namespace  string      `json:"namespace"`
	Pod        string      `json:"pod"`
	Answers    string      `json:"answers"`
	Steps      []solveStep `json:"steps"`
	Passed     int         `json:"passed"`
	Failed     int         `json:"failed"`
	TookMs     int64       `json:"tookMs"`
	// Error says why the run stopped early (interrupted, the lab gone).
	Error string `json:"error,omitempty"`
}

type solveStep struct {
	Step   string   `json:"step"`
	OK     bool     `json:"ok"`
	File   string   `json:"file,omitempty"`
	TookMs int64    `json:"tookMs"`
	Did    []string `json:"did"`
	Error  string   `json:"error,omitempty"`
}

func (rep *solveReport) add(r solve.Result) {
	st := solveStep{Step: r.Step, OK: r.OK, File: r.File, TookMs: r.Took.Milliseconds(), Did: r.Did}
	if st.Did == nil {
		st.Did = []string{}
	}
	if r.Err != nil {
		st.Error = r.Err.Error()
	}
	if r.OK {
		rep.Passed++
	} else {
		rep.Failed++
	}
	rep.Steps = append(rep.Steps, st)
}

// kubeFlagsHint repeats the kubeconfig flags for a suggested command.
func kubeFlagsHint(kf *kubeconfigFlags) string {
	var b strings.Builder
	if kf.kubeconfig != "" {
		b.WriteString(" --kubeconfig " + kf.kubeconfig)
	}
	if kf.context != "" {
		b.WriteString(" --context " + kf.context)
	}
	if kf.namespace != "" {
		b.WriteString(" -n " + kf.namespace)
	}
	return b.String()
}

func round(d time.Duration) time.Duration {
	if d >= time.Second {
		return d.Round(100 * time.Millisecond)
	}
	return d.Round(time.Millisecond)
}

// trafficFunc is solve's lab traffic: the same requests, nonce and state
// as the command's, summarised in one line.
func (o *solveOptions) trafficFunc(conn *labConn, st *state.Lab, log *progress) func(context.Context, traffic.Via) (string, error) {
	return func(ctx context.Context, via traffic.Via) (string, error) {
		tc := conn.trafficCluster(log)
		rep, err := sendTraffic(ctx, tc, st, via, o.count, solveTrafficRate)
		if serr := st.Save(conn.statePath); serr != nil {
			err = errors.Join(err, serr)
		}
		parts := make([]string, 0, len(rep.Runs))
		for _, r := range rep.Runs {
			parts = append(parts, fmt.Sprintf("%s %d/%d ok from %s (p50 %.1fms, p99 %.1fms)", r.Via, r.OK, r.Sent, r.Source, r.P50Ms, r.P99Ms))
		}
		return strings.Join(parts, ", ") + ", nonce " + st.Nonce, err
	}
}

func writeSolveResult(w io.Writer, r solve.Result) {
	mark := "✓"
	if !r.OK {
		mark = "✗"
	}
	fmt.Fprintf(w, "%s %-6s %6s", mark, r.Step, round(r.Took))
	lines := r.Did
	if r.Err != nil {
		lines = append(lines, "failed: "+r.Err.Error())
	}
	for i, l := range lines {
		if i == 0 {
			fmt.Fprintf(w, "  %s\n", l)
			continue
		}
		fmt.Fprintf(w, "%17s%s\n", "", l)
	}
	if len(lines) == 0 {
		fmt.Fprintln(w)
	}
}

// lostCluster reports whether a step failed because the cluster stopped
// answering: exit code 3, not a failed step.
func lostCluster(results []solve.Result) bool {
	for _, r := range results {
		if !r.OK && kube.LostCluster(r.Err) {
			return true
		}
	}
	return false
}
