package cli

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"time"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"

	"github.com/k8s-debug-lab/lab/checks"
	"github.com/k8s-debug-lab/lab/checks/live"
	"github.com/k8s-debug-lab/lab/checks/spec"
	"github.com/k8s-debug-lab/lab/internal/i18n"
	"github.com/k8s-debug-lab/lab/lab/kube"
	"github.com/k8s-debug-lab/lab/lab/record"
	"github.com/k8s-debug-lab/lab/lab/state"
)

// liveFetchTimeout bounds asking the cluster for the live checks: a
// student grading on a train must get the offline verdict at once, not
// after client-go's retries.
const liveFetchTimeout = 3 * time.Second

// debuggerNamespaces are where node debug pods are looked for: the lab's
// namespace and default, since kubectl debug node/… creates its pod in the
// kubeconfig's current namespace, whatever -n the lab was deployed with.
func debuggerNamespaces(ns string) []string {
	if ns == kube.DefaultNamespace {
		return []string{ns}
	}
	return []string{ns, kube.DefaultNamespace}
}

// gatherLive reads what the live checks compare answers with: the lab's
// pod (nil when it does not exist), the node debug pods, and, from the
// lab's state, the nonce and the addresses lab traffic came from. An error
// means the cluster did not answer the pod's read; lists that are refused
// (a namespaced user) only leave the node debuggers unknown.
func gatherLive(ctx context.Context, c kubernetes.Interface, a *spec.Assignment, namespace string, st *state.Lab) (live.Snapshot, error) {
	snap := live.For(a, namespace)
	pod, err := c.CoreV1().Pods(namespace).Get(ctx, snap.PodName, metav1.GetOptions{})
	switch {
	case apierrors.IsNotFound(err):
	case err != nil:
		return snap, err
	default:
		snap.Pod = pod
	}
	for _, ns := range debuggerNamespaces(namespace) {
		l, err := c.CoreV1().Pods(ns).List(ctx, metav1.ListOptions{})
		if err != nil {
			continue
		}
		for _, p := range l.Items {
			if strings.HasPrefix(p.Name, kube.NodeDebuggerPrefix) {
				snap.Pods = append(snap.Pods, p)
			}
		}
	}
	if st != nil {
		snap.Nonce = st.Nonce
		snap.TrafficSources = st.Sources()
		snap.Server = st.Server()
	}
	return snap, nil
}

// readState reads the lab's state file if lab traffic ever wrote one; a
// missing file means no nonce (the cross-checks that need it are not
// applied), never a fresh one.
func readState(t *kube.Target) (*state.Lab, error) {
	p, err := state.Path(t.Context, t.Namespace)
	if err != nil {
		return nil, err
	}
	if _, err := os.Stat(p); errors.Is(err, fs.ErrNotExist) {
		return nil, nil
	}
	return state.Load(p, t.Context, t.Namespace)
}

// liveRun is what a live lab check read: where, the snapshot and the
// state, kept for the lab record, and the grader's live value.
type liveRun struct {
	target *kube.Target
	snap   live.Snapshot
	state  *state.Lab
	live   *checks.Live
	at     time.Time
}

// liveChecks asks the lab's cluster for the live facts, unless --offline;
// nil means grading without the cluster. A cluster that does not answer
// within liveFetchTimeout means grading offline, said in one line on
// stderr; only a cluster the user named with --context or --kubeconfig
// that does not answer is an error (exit 3).
func (o *checkOptions) liveChecks(ctx context.Context) (*liveRun, error) {
	if o.offline {
		return nil, nil
	}
	offline := func(why string) (*liveRun, error) {
		fmt.Fprintln(o.streams.ErrOut, i18n.For(o.lang).Sprintf("lab check: %s; graded offline (against the lab record if the answers folder holds one, else steps proven only live are skipped; --offline says this is meant)", why))
		return nil, nil
	}
	sess := newSession(o.streams, o.globals, &o.kf, o.lab)
	t, c, err := sess.readOnly(liveFetchTimeout, true)
	var no *errNoCluster
	switch {
	case errors.As(err, &no):
		return offline(no.why)
	case err != nil:
		return nil, err
	}
	st, serr := readState(t)
	if serr != nil {
		fmt.Fprintln(o.streams.ErrOut, i18n.For(o.lang).Sprintf("lab check: %v; the nonce cross-checks are skipped", serr))
	}
	fctx, cancel := context.WithTimeout(ctx, liveFetchTimeout)
	defer cancel()
	start := time.Now()
	snap, err := gatherLive(fctx, c, o.lab.Spec, t.Namespace, st)
	if err != nil {
		if ctx.Err() != nil {
			return nil, ctx.Err()
		}
		if err := sess.unanswered(t, err, i18n.For(o.lang).Sprintf(", or grade the files alone with --offline")); !errors.As(err, &no) {
			return nil, err
		}
		return offline(no.why)
	}
	if o.globals.verbosity > 0 {
		fmt.Fprintf(o.streams.ErrOut, "lab check: live checks against context %s, namespace %s (read in %s)\n", t.Context, t.Namespace, time.Since(start).Round(time.Millisecond))
		if snap.Pod == nil {
			fmt.Fprintf(o.streams.ErrOut, "lab check: no pod %s in namespace %s\n", snap.PodName, t.Namespace)
		}
	}
	snap.Lang = o.lang
	return &liveRun{target: t, snap: snap, state: st, live: live.Evaluate(snap), at: start}, nil
}

// writeRecord writes the lab record of a live run into the answers folder
// dir: every step graded against the live facts (rep when it is that
// already, else graded again), the files hashed. It says where on stderr.
func writeRecord(ctx context.Context, streams Streams, a *spec.Assignment, by, dir string, lr *liveRun, rep *checks.Report) error {
	if fi, err := os.Stat(dir); err != nil || !fi.IsDir() {
		return nil // lab check --file with no answers folder: nothing to record
	}
	fsys := os.DirFS(dir)
	if rep == nil || len(rep.Results) != len(a.Steps) {
		var err error
		if rep, err = checks.Grade(ctx, a, nil, checks.Options{Answers: fsys, AnswersName: dir, Live: lr.live}); err != nil {
			return err
		}
	}
	rec, err := record.New(a, record.Input{
		By: by, Now: lr.at, Context: lr.target.Context, Server: lr.target.Server,
		Snapshot: lr.snap, State: lr.state, Report: rep, Answers: fsys,
	})
	if err != nil {
		return err
	}
	if err := rec.Write(dir); err != nil {
		return err
	}
	fmt.Fprintf(streams.ErrOut, "%s: wrote %s, the lab record grading without the cluster checks the answers against\n", by, filepath.Join(dir, record.FileName))
	return nil
}

// shortAPIError drops the request URL from a connection error: the
// server is named already, and the cause ("connection refused", a
// certificate that does not fit) is what the user acts on.
func shortAPIError(err error) string {
	var ue *url.Error
	if errors.As(err, &ue) {
		return ue.Err.Error()
	}
	return err.Error()
}
