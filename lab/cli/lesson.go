package cli

import (
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"os/exec"
	"path"
	"runtime"
	"slices"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"
	"golang.org/x/term"

	"github.com/k8s-debug-lab/lab/checks"
	"github.com/k8s-debug-lab/lab/checks/facts"
	"github.com/k8s-debug-lab/lab/internal/i18n"
	"github.com/k8s-debug-lab/lab/lab/kube"
	"github.com/k8s-debug-lab/lab/lab/labfolder"
	"github.com/k8s-debug-lab/lab/lab/version"
	"github.com/k8s-debug-lab/lab/lessons"
)

// The targets lab lesson takes besides a lesson's id.
const (
	lessonList = "list"
	lessonNext = "next"
)

// maxLessonWidth caps the wrap width on a wide terminal: long lines of
// prose are hard to read.
const maxLessonWidth = 100

// minLessonWidth is the narrowest --width that still lays a lesson out.
const minLessonWidth = 20

// lessonFetchTimeout bounds the look at the cluster: a lesson must open
// at once, with placeholders, when no cluster answers.
const lessonFetchTimeout = 3 * time.Second

// lessonOptions are lab lesson's flags, completed into a lesson to show.
type lessonOptions struct {
	streams Streams
	globals *globals

	target     string
	plain      bool
	width      int
	answers    string
	assignment string
	kube       kubeconfigFlags

	langSet bool
	lng     lessons.Lang
	lab     *labfolder.Lab
	book    *lessons.Book
}

func newLessonCmd(streams Streams, g *globals) *cobra.Command {
	o := &lessonOptions{streams: streams, globals: g}
	cmd := &cobra.Command{
		Use:   "lesson [N|list|next]",
		Short: "Read the lesson for a step, with commands for your own cluster",
		Long: `Show the lesson for a step: its goal, the commands, the answers file to
save and how, what success looks like, and the common failures.

The commands are filled in from your lab's cluster when it answers (the
pod's namespace, UID, node and IP, the log folder on the node, the debug
container's name). Without a cluster the placeholders stay, each saying how
to find its value, e.g. <POD_UID: kubectl get pod nginx-distroless -o jsonpath='{.metadata.uid}'>.

  lab lesson 3       the lesson for step-3 (also: intro, star)
  lab lesson list    every lesson, and whether each step passes now
  lab lesson next    the first step whose answer does not pass yet (the default)

The language follows LC_ALL, LC_MESSAGES or LANG (ru… is Russian, anything
else English); --lang en|ru overrides it. On a terminal the lesson is styled
and paged ($PAGER, default less -R) when longer than the screen; piped, it
is plain text. --plain prints the markdown itself.

Exit codes: 0 shown, 2 an unknown lesson or language, or an unreadable
assignment or lesson.`,
		Example: `  lab lesson next
  lab lesson 5 --lang ru
  lab lesson list
  lab lesson 7 --plain > step-7.md
  lab lesson --assignment ./my-course 3`,
		Args: cobra.MaximumNArgs(1),
		ValidArgsFunction: func(_ *cobra.Command, args []string, _ string) ([]string, cobra.ShellCompDirective) {
			if len(args) > 0 {
				return nil, cobra.ShellCompDirectiveNoFileComp
			}
			ids := []string{lessonList, lessonNext}
			if all, err := builtinLessons(); err == nil {
				for _, l := range all {
					ids = append(ids, l.ID)
				}
			}
			return ids, cobra.ShellCompDirectiveNoFileComp
		},
		RunE: func(cmd *cobra.Command, args []string) error {
			o.langSet = o.globals.lang != ""
			if err := o.complete(args); err != nil {
				return err
			}
			if err := o.validate(); err != nil {
				return err
			}
			return o.run(cmd.Context())
		},
	}
	f := cmd.Flags()
	f.BoolVar(&o.plain, "plain", false, "print the lesson's markdown, personalised, without styling")
	f.IntVar(&o.width, "width", 0, fmt.Sprintf("wrap prose at this many columns (default: the terminal's, at most %d; %d when piped)", maxLessonWidth, lessons.DefaultWidth))
	f.StringVar(&o.answers, "answers", checks.AnswersDir, "the answers folder that list and next grade")
	f.StringVar(&o.assignment, "assignment", "", labFlagHelp)
	o.kube.addTo(cmd)
	_ = cmd.MarkFlagDirname("answers")
	_ = cmd.MarkFlagDirname("assignment")
	return cmd
}

// complete resolves the language and loads the assignment and its lessons.
func (o *lessonOptions) complete(args []string) error {
	o.target = lessonNext
	if len(args) == 1 {
		o.target = args[0]
	}
	var err error
	if o.lng, err = o.globals.language(); err != nil {
		return err
	}
	if o.lab, err = loadLab(o.assignment); err != nil {
		return err
	}
	o.book = o.lab.Lessons()
	have := o.book.Langs()
	if len(have) == 0 {
		return usageError(i18n.For(o.lng), "%s has no lessons: a lab folder keeps them in %s/<lang>/<step>.md, one folder per language (%s)", o.lab.Source, path.Join(o.lab.Source, labfolder.LessonsDir), i18n.Names(lessons.Langs))
	}
	if !slices.Contains(have, o.lng) {
		if o.langSet {
			return usageError(i18n.For(o.lng), "%s has no lessons in %s (it has %s): use --lang %s", o.book.Source(), o.lng, i18n.Names(have), have[0])
		}
		// The locale only suggested a language; a course written in
		// another is still better than nothing.
		if o.globals.verbosity > 0 {
			fmt.Fprintln(o.streams.ErrOut, i18n.For(o.lng).Sprintf("lab lesson: %s has no lessons in %s; showing %s", o.book.Source(), o.lng, have[0]))
		}
		o.lng = have[0]
	}
	return nil
}

// builtinLessons lists the built-in lab's lessons, for completion.
func builtinLessons() ([]lessons.Lesson, error) {
	l, err := labfolder.Builtin()
	if err != nil {
		return nil, err
	}
	return l.Lessons().List(lessons.English)
}

func (o *lessonOptions) validate() error {
	if o.width < 0 || (o.width > 0 && o.width < minLessonWidth) {
		return usageErrorf("--width %d: give %d columns or more, or 0 to fit the terminal", o.width, minLessonWidth)
	}
	return nil
}

func (o *lessonOptions) run(ctx context.Context) error {
	switch o.target {
	case lessonList:
		return o.list(ctx)
	case lessonNext:
		id, why, err := o.next(ctx)
		if err != nil {
			return err
		}
		if id == "" {
			fmt.Fprintln(o.streams.Out, why)
			return nil
		}
		fmt.Fprintf(o.streams.ErrOut, "lab lesson next: %s (%s)\n", id, why)
		if _, err := o.book.Lesson(o.lng, id); err != nil {
			// A course may leave a step without a lesson: say what the
			// spec asks for instead.
			if step, ok := o.lab.Spec.Step(id); ok {
				fmt.Fprintf(o.streams.Out, "%s: %s\n", step.ID, step.Title.In(o.lng))
				if p := step.Produce.In(o.lng); p != "" {
					fmt.Fprintf(o.streams.Out, "  %s\n", p)
				}
				fmt.Fprintln(o.streams.ErrOut, i18n.For(o.lng).Sprintf("lab lesson: %s has no lesson for %s; lab check %s says what it wants", o.book.Source(), id, id))
				return nil
			}
		}
		return o.show(ctx, id)
	}
	return o.show(ctx, o.target)
}

// show personalises and prints one lesson.
func (o *lessonOptions) show(ctx context.Context, id string) error {
	l, err := o.book.Lesson(o.lng, id)
	var unknown *lessons.UnknownLessonError
	if errors.As(err, &unknown) {
		return usageError(i18n.For(o.lng), "%v; lab lesson list shows them with their titles", err)
	}
	if err != nil {
		return &ExitError{Code: ExitUsage, Err: err}
	}
	vars, err := labPodVars(ctx, newSession(o.streams, o.globals, &o.kube, o.lab), usesPIDs(l.Markdown))
	var exit *ExitError
	switch {
	case errors.As(err, &exit):
		return err
	case errors.Is(err, errPodGoing):
		fmt.Fprintln(o.streams.ErrOut, i18n.For(o.lng).Sprintf("lab lesson: pod %s/%s is being deleted: the commands name its UID %s, which its replacement will not have; lab up makes the new pod, then run lab lesson again", vars.Namespace, vars.Pod, vars.PodUID))
	case err != nil:
		fmt.Fprintln(o.streams.ErrOut, i18n.For(o.lng).Sprintf("lab lesson: %v; the commands keep placeholders such as <POD_UID: …>: lab up starts the lab, then run lab lesson again", err))
	case o.globals.verbosity > 0:
		fmt.Fprintf(o.streams.ErrOut, "lab lesson: filled in from pod %s/%s (uid %s, node %s, ip %s, runtime %s, debug container %q)\n",
			vars.Namespace, vars.Pod, vars.PodUID, vars.Node, vars.PodIP, vars.Runtime, vars.Debugger)
	}
	md, err := l.Personalise(vars)
	if err != nil {
		return &ExitError{Code: ExitUsage, Err: fmt.Errorf("%s: %w", o.book.Source(), err)}
	}
	if o.plain {
		_, err := io.WriteString(o.streams.Out, md)
		return err
	}
	tty := isTerminal(o.streams.Out)
	cols, rows := terminalSize(o.streams.Out)
	noColor := !colorTerminal(o.streams.Out)
	style, width := lessonLayout(tty, cols, o.width, noColor)
	text, err := lessons.Render(md, lessons.RenderOptions{Style: style, Width: width})
	if err != nil {
		return fmt.Errorf("rendering %s: %w", l.Path, err)
	}
	if tty && rows > 0 && strings.Count(text, "\n") >= rows {
		if pager := pagerCommand(os.Getenv("PAGER")); pager != nil {
			err := runPager(pager, text, o.streams.Out, o.streams.ErrOut)
			if err == nil {
				return nil
			}
			fmt.Fprintln(o.streams.ErrOut, i18n.For(o.lng).Sprintf("lab lesson: the pager %q failed (%v); printing instead", strings.Join(pager, " "), err))
		}
	}
	_, err = io.WriteString(o.streams.Out, text)
	return err
}

// lessonLayout picks glamour's style and the wrap width: glamour's own
// styles on a terminal (plain text when NO_COLOR or TERM=dumb asks for no
// colour), the notty style in a pipe; the terminal's width capped at
// maxLessonWidth, unless --width says otherwise.
func lessonLayout(tty bool, termCols, flagWidth int, noColor bool) (style string, width int) {
	style, width = lessons.StyleNoTTY, lessons.DefaultWidth
	if tty {
		if !noColor {
			style = lessons.StyleAuto
		}
		if termCols > 0 {
			width = min(termCols, maxLessonWidth)
		}
	}
	if flagWidth > 0 {
		width = flagWidth
	}
	return style, width
}

// terminalSize is w's size in columns and rows, or zeros when w is not a
// terminal.
func terminalSize(w io.Writer) (cols, rows int) {
	f, ok := w.(*os.File)
	if !ok {
		return 0, 0
	}
	cols, rows, err := term.GetSize(int(f.Fd()))
	if err != nil {
		return 0, 0
	}
	return cols, rows
}

// pagerCommand is the pager to run: $PAGER as the shell would run it, or
// less -R (which keeps the colours) when PAGER is unset; nil when there is
// none to run.
func pagerCommand(env string) []string {
	env = strings.TrimSpace(env)
	if env == "" {
		if _, err := exec.LookPath("less"); err != nil {
			return nil
		}
		return []string{"less", "-R"}
	}
	if env == "cat" {
		return nil
	}
	if runtime.GOOS == "windows" {
		return strings.Fields(env)
	}
	// PAGER may hold options and quoting ("less -FRX", "most -s"), which
	// git and man leave to the shell too.
	return []string{"sh", "-c", env}
}

// runPager pipes text through the pager to out, which is a terminal.
func runPager(pager []string, text string, out, errOut io.Writer) error {
	cmd := exec.Command(pager[0], pager[1:]...)
	cmd.Stdin = strings.NewReader(text)
	cmd.Stdout = out
	cmd.Stderr = errOut
	cmd.Env = os.Environ()
	if os.Getenv("LESSCHARSET") == "" {
		// less in the C locale shows Cyrillic as <D0><A8>.
		cmd.Env = append(cmd.Env, "LESSCHARSET=utf-8")
	}
	return cmd.Run()
}

// labPodVars asks the lab's cluster for what lessons put into their
// commands: the pod's namespace, UID, node and IP, the node's container
// runtime, and the newest running debug container. It reads the pod and
// its node once, through lab/kube, within lessonFetchTimeout: a lesson must
// open at once, with placeholders, when no cluster answers. The Vars it
// returns are usable even with an error, which only says why some values
// stay unknown.
// usesPIDs: the lesson names nginx's PIDs, which cost a ps in the debug
// container; the other lessons open without it.
func usesPIDs(md string) bool {
	return strings.Contains(md, ".MasterPID") || strings.Contains(md, ".WorkerPID")
}

func labPodVars(ctx context.Context, s *session, pids bool) (lessons.Vars, error) {
	w := s.workload()
	v := lessons.Vars{Namespace: s.kf.namespace, Pod: w.Pod, Container: w.Container}
	if v.Namespace == "" {
		v.Namespace = kube.DefaultNamespace
	}
	t, c, err := s.readOnly(lessonFetchTimeout, false)
	if err != nil {
		return v, err
	}
	ctx, cancel := context.WithTimeout(ctx, lessonFetchTimeout)
	defer cancel()
	f, err := s.labPod(ctx, c, t.Namespace)
	switch {
	case errors.Is(err, kube.ErrNotDeployed):
		return v, errors.New(s.g.printer().Sprintf("no pod %s in namespace %s at %s", v.Pod, t.Namespace, t.Server))
	case err != nil:
		return v, fmt.Errorf("%s: %w", s.g.printer().Sprintf("the cluster at %s did not answer", t.Server), err)
	}
	v.PodUID, v.Node, v.PodIP = f.UID, f.Node, f.IP
	if n := f.NodeFacts; n != nil && n.Runtime.Name != "" {
		// Reading nodes needs a cluster-wide permission a namespaced user
		// may lack; without it the runtime stays a placeholder.
		v.Runtime = n.Runtime.Name
		if n.Runtime.Version != "" {
			v.Runtime += "://" + n.Runtime.Version
		}
	}
	if f.Reason == kube.ReasonTerminating {
		// Filled in from a pod that is going: the student is told, and no
		// ps is run in a debug container that is being stopped.
		return v, errPodGoing
	}
	v.Debugger = newestDebugger(f.Ephemeral, w.Container)
	if pids && v.Debugger != "" {
		// The PIDs are what the student's own ps shows, so that the
		// commands of steps 3 and ★ paste as printed. Without them the
		// placeholders say how to find them; the lesson still opens.
		v.MasterPID, v.WorkerPID = debuggerPIDs(ctx, s, t, t.Namespace, w.Pod, v.Debugger)
	}
	return v, nil
}

// errPodGoing is labPodVars' word for a lab pod that is being deleted:
// its values are filled in, and are about to be wrong.
var errPodGoing = errors.New("the lab's pod is being deleted")

// debuggerPIDs runs ps in the debug container, as lab solve does, and
// reads the workload's main process and first worker; zeros when the
// container does not answer within the lesson's time.
func debuggerPIDs(ctx context.Context, s *session, t *kube.Target, namespace, pod, debugger string) (master, worker int) {
	streams, err := s.g.deps.NewStreams(t)
	if err != nil {
		return 0, 0
	}
	var out strings.Builder
	err = streams.Exec(ctx, kube.ExecOptions{
		Namespace: namespace, Pod: pod, Container: debugger,
		Command: []string{"sh", "-c", "ps -ef 2>/dev/null || ps"}, Stdout: &out,
	})
	if err != nil {
		return 0, 0
	}
	p := facts.ReadProcesses(out.String())
	if len(p.Masters) == 0 || len(p.Workers) == 0 {
		return 0, 0
	}
	return p.Masters[0], p.Workers[0]
}

// newestDebugger names the running ephemeral container aimed at the
// workload's container that a student's later commands exec into: the
// newest one that can ptrace (strace and other users' /proc/<pid>/root
// need SYS_PTRACE), else the newest one. "" when none runs.
func newestDebugger(eph []kube.EphemeralFacts, target string) string {
	best, bestPtrace := -1, false
	for i, e := range eph {
		if e.State != "running" || e.Target != target || e.Started == nil {
			continue
		}
		ptrace := slices.Contains(e.Capabilities, "SYS_PTRACE") || e.Profile == kube.ProfileSysadmin
		switch {
		case best < 0, ptrace && !bestPtrace, ptrace == bestPtrace && e.Started.After(*eph[best].Started):
			best, bestPtrace = i, ptrace
		}
	}
	if best < 0 {
		return ""
	}
	return eph[best].Name
}

// grade checks the answers folder offline; nil when there is none yet.
func (o *lessonOptions) grade(ctx context.Context) (*checks.Report, error) {
	fi, err := os.Stat(o.answers)
	switch {
	case errors.Is(err, fs.ErrNotExist):
		return nil, nil
	case err != nil:
		return nil, usageError(i18n.For(o.lng), "cannot read the answers folder %s: %v", o.answers, err)
	case !fi.IsDir():
		return nil, usageError(i18n.For(o.lng), "%s is not a folder: --answers takes the folder that holds step-3.txt, step-5.txt, …", o.answers)
	}
	fsys, closeAnswers, err := checks.OpenAnswers(o.answers)
	if err != nil {
		return nil, usageError(i18n.For(o.lng), "cannot read the answers folder %s: %v", o.answers, err)
	}
	defer closeAnswers()
	rep, err := checks.Grade(ctx, o.lab.Spec, nil, checks.Options{
		Answers:     fsys,
		AnswersName: answersName(o.answers),
		Lang:        o.lng,
		LabVersion:  version.String(),
	})
	if err != nil {
		return nil, usageErrorf("%v", err)
	}
	return rep, nil
}

// list prints every lesson with its title and, for a graded step, whether
// its answer passes now.
func (o *lessonOptions) list(ctx context.Context) error {
	all, err := o.book.List(o.lng)
	if err != nil {
		return &ExitError{Code: ExitUsage, Err: err}
	}
	rep, err := o.grade(ctx)
	if err != nil {
		return err
	}
	results := map[string]checks.Result{}
	if rep != nil {
		for _, r := range rep.Results {
			results[r.Step] = r
		}
	}
	p := i18n.For(o.lng)
	var table strings.Builder
	tw := tabwriter.NewWriter(&table, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, p.Sprintf("LESSON\tTITLE\tNOW"))
	for _, l := range all {
		status := ""
		if r, ok := results[l.ID]; ok {
			switch r.Status {
			case checks.Pass:
				status = p.Sprintf("✓ passes")
			case checks.Skip:
				status = p.Sprintf("· checked against the cluster: lab check %s", l.ID)
			case checks.Error:
				status = p.Sprintf("! unreadable: %s", r.Message)
			default:
				status = p.Sprintf("✗ not yet: %s", r.Message)
			}
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\n", l.ID, l.Title, status)
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	for line := range strings.Lines(table.String()) {
		// tabwriter pads an empty last cell.
		fmt.Fprintln(o.streams.Out, strings.TrimRight(line, " \n"))
	}
	if rep == nil {
		fmt.Fprintf(o.streams.Out, "\n%s\n", p.Sprintf("No %s folder here yet: lab lesson intro says how to start.", o.answers+"/"))
	}
	return nil
}

// next picks the lesson of the first step not done yet, and says why:
// intro when there is no answers folder; otherwise the first step that
// fails. A step proven only against the cluster cannot be judged offline:
// it counts as done once a later step passes, so that a student who has
// moved on is not sent back, and one who has not started begins at step
// 1. An empty id means every step is done.
func (o *lessonOptions) next(ctx context.Context) (id, why string, err error) {
	p := i18n.For(o.lng)
	rep, err := o.grade(ctx)
	if err != nil {
		return "", "", err
	}
	if rep == nil {
		all, err := o.book.List(o.lng)
		if err != nil {
			return "", "", &ExitError{Code: ExitUsage, Err: err}
		}
		return all[0].ID, p.Sprintf("no %s folder yet: start here", o.answers+"/"), nil
	}
	for i, r := range rep.Results {
		switch r.Status {
		case checks.Pass:
			continue
		case checks.Skip:
			later := slices.ContainsFunc(rep.Results[i+1:], func(r checks.Result) bool { return r.Status == checks.Pass })
			if later {
				continue
			}
		}
		return r.Step, p.Sprintf("the first step whose answer does not pass yet; lab check says why"), nil
	}
	return "", p.Sprintf("Every step passes offline. lab check proves the rest against the cluster."), nil
}
