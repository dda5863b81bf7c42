// Package cli holds lab's commands, one file per verb. Each command is an
// options struct with complete, validate and run, as kubectl's are; streams
// are passed in so that tests drive commands without a terminal, and no
// command exits the process: errors travel back to main with their exit
// code.
package cli

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"

	"github.com/spf13/cobra"
	"golang.org/x/term"

	"github.com/k8s-debug-lab/lab/internal/i18n"
	"github.com/k8s-debug-lab/lab/lab/deploy"
	"github.com/k8s-debug-lab/lab/lab/kube"
	"github.com/k8s-debug-lab/lab/lab/labfolder"
)

// Exit codes, documented in the README.
const (
	// ExitOK: success, every selected step passes.
	ExitOK = 0
	// ExitFailed: a check failed.
	ExitFailed = 1
	// ExitUsage: usage error or unreadable input (a spec, an answers file).
	ExitUsage = 2
	// ExitCluster: the cluster could not be reached.
	ExitCluster = 3
)

// Streams are where a command reads and writes.
type Streams struct {
	In     io.Reader
	Out    io.Writer
	ErrOut io.Writer
}

// StdStreams are the process's own streams.
func StdStreams() Streams { return Streams{In: os.Stdin, Out: os.Stdout, ErrOut: os.Stderr} }

// ExitError carries an exit code back to main. A nil Err means the
// command already said everything (a failing report), so main prints
// nothing more.
type ExitError struct {
	Code int
	Err  error
}

func (e *ExitError) Error() string {
	if e.Err == nil {
		return fmt.Sprintf("exit status %d", e.Code)
	}
	return e.Err.Error()
}

func (e *ExitError) Unwrap() error { return e.Err }

// usageErrorf is an input or usage mistake: exit code 2.
func usageErrorf(format string, args ...any) error {
	return &ExitError{Code: ExitUsage, Err: fmt.Errorf(format, args...)}
}

// usageError is a usage mistake told in the user's language: exit code 2.
func usageError(p *i18n.Printer, key string, args ...any) error {
	return &ExitError{Code: ExitUsage, Err: errors.New(p.Sprintf(key, args...))}
}

// ExitCode is the process exit code for an error Run returned.
func ExitCode(err error) int {
	if err == nil {
		return ExitOK
	}
	var ee *ExitError
	if errors.As(err, &ee) {
		return ee.Code
	}
	return ExitFailed
}

// Silent reports whether err was already explained to the user.
func Silent(err error) bool {
	var ee *ExitError
	return errors.As(err, &ee) && ee.Err == nil
}

// globals are the flags every command shares, and what commands reach
// the world through.
type globals struct {
	verbosity int
	deps      Deps
	// lang is --lang as given; language() resolves it with the locale.
	lang string
}

// language is the one language choice of every command that prints for
// people: --lang when given, else LC_ALL / LC_MESSAGES / LANG, decided
// anew each run (nothing is remembered).
func (g *globals) language() (i18n.Lang, error) {
	l, err := i18n.Resolve(g.lang, os.Getenv)
	if err != nil {
		return "", usageErrorf("%v", err)
	}
	return l, nil
}

// printer prints in the command's language; a --lang that does not parse
// was refused before any command ran (PersistentPreRunE).
func (g *globals) printer() *i18n.Printer {
	l, _ := g.language()
	return i18n.For(l)
}

// Run builds the command tree and executes args.
func Run(ctx context.Context, args []string, streams Streams) error {
	return RunWith(ctx, args, streams, RealDeps())
}

// RunWith is Run with the given Deps: tests pass a fake cluster or
// terminal here.
func RunWith(ctx context.Context, args []string, streams Streams, deps Deps) error {
	root := newRoot(streams, deps)
	root.SetArgs(args)
	err := root.ExecuteContext(ctx)
	var ee *ExitError
	if err != nil && !errors.As(err, &ee) && strings.HasPrefix(err.Error(), "unknown command") {
		// cobra finds unknown verbs before any command runs.
		return &ExitError{Code: ExitUsage, Err: fmt.Errorf("%w; see lab --help", err)}
	}
	if err != nil && ctx.Err() != nil {
		// A Ctrl-C (or SIGTERM), whatever the command was waiting on when
		// it came: exit 1, saying so, never 3 for a request it cut short.
		return interrupted(err)
	}
	if err != nil && !errors.As(err, &ee) && kube.LostCluster(err) {
		// The cluster answered when the command began and then stopped (an
		// API server paused, a laptop's VM suspended): exit code 3, as if
		// it had not answered at all.
		return &ExitError{Code: ExitCluster, Err: fmt.Errorf("%w\nthe cluster stopped answering; lab status says when it is back", err)}
	}
	return err
}

// interrupted is err as an interrupted command's error: exit code 1, and
// "interrupted" in what it says. A command that already ends in exit 1
// has said what its interrupt did (solve's "interrupted after 1 of 3
// steps", in the student's language); that stays as it is.
func interrupted(err error) error {
	var ee *ExitError
	if errors.As(err, &ee) {
		if ee.Code == ExitFailed {
			return err
		}
		if ee.Err == nil {
			return &ExitError{Code: ExitFailed, Err: errors.New("interrupted")}
		}
		err = ee.Err
	}
	if !strings.Contains(err.Error(), "interrupted") {
		err = fmt.Errorf("interrupted: %w", err)
	}
	return &ExitError{Code: ExitFailed, Err: err}
}

// NewRoot returns the lab command with every verb attached.
func NewRoot(streams Streams) *cobra.Command { return newRoot(streams, RealDeps()) }

func newRoot(streams Streams, deps Deps) *cobra.Command {
	g := &globals{deps: deps}
	root := &cobra.Command{
		Use:   "lab",
		Short: "A self-grading Kubernetes debugging lab",
		Long: `lab turns the kubectl debug assignment into a reproducible, self-grading lab.

  lab up               bring the lab up: kind, minikube, or any cluster in your kubeconfig
  lab lesson           the next step to do, with this cluster's names filled in
  lab traffic          send requests your tcpdump, strace and log files will show
  lab check            grade the outputs you saved in answers/ (step by step: lab check step-5)
  lab status, reset, down, doctor   look after the lab

Instructors: lab init, lab grade, lab assignment, lab solve.

Exit codes: 0 success (every selected step passes), 1 a check failed,
2 usage error or unreadable input, 3 the cluster could not be reached.`,
		SilenceUsage:  true,
		SilenceErrors: true,
	}
	root.SetIn(streams.In)
	root.SetOut(streams.Out)
	root.SetErr(streams.ErrOut)
	root.PersistentFlags().CountVarP(&g.verbosity, "verbose", "v", "more detail on stderr (repeat for more)")
	root.PersistentFlags().StringVar(&g.lang, "lang", "", "language of what lab prints for people: en or ru (default from LC_ALL, LC_MESSAGES, LANG)")
	_ = root.RegisterFlagCompletionFunc("lang", completeChoices(i18n.Langs))
	// An unknown --lang is refused whatever the command, before it acts.
	root.PersistentPreRunE = func(*cobra.Command, []string) error {
		_, err := g.language()
		return err
	}
	root.SetFlagErrorFunc(func(_ *cobra.Command, err error) error {
		return &ExitError{Code: ExitUsage, Err: err}
	})
	root.AddCommand(
		newCheckCmd(streams, g),
		newVersionCmd(streams),
		newLessonCmd(streams, g),
		newUpCmd(streams, g),
		newStatusCmd(streams, g),
		newResetCmd(streams, g),
		newDownCmd(streams, g),
		newDoctorCmd(streams, g),
		newInitCmd(streams, g),
		newGradeCmd(streams, g),
		newAssignmentCmd(streams),
		newTrafficCmd(streams, g),
		newSolveCmd(streams, g),
		newBundleCmd(streams, g),
	)
	// Bad argument counts are usage errors too.
	for _, c := range root.Commands() {
		wrapArgs(c)
	}
	return root
}

// options is what each command's options struct does, in kubectl's order:
// fill in what the flags imply, refuse what cannot work, then act.
type options interface {
	complete() error
	validate() error
	run(ctx context.Context) error
}

// runOptions is the RunE of a command that takes no arguments.
func runOptions(o options) func(*cobra.Command, []string) error {
	return func(cmd *cobra.Command, _ []string) error {
		if err := o.complete(); err != nil {
			return err
		}
		if err := o.validate(); err != nil {
			return err
		}
		return o.run(cmd.Context())
	}
}

// completeChoices completes a flag whose value is one of a fixed set of
// named constants (a format, a provider, a language).
func completeChoices[T ~string](choices []T) cobra.CompletionFunc {
	return func(*cobra.Command, []string, string) ([]string, cobra.ShellCompDirective) {
		names := make([]string, len(choices))
		for i, c := range choices {
			names[i] = string(c)
		}
		return names, cobra.ShellCompDirectiveNoFileComp
	}
}

// usageWhenShown sets a flag's usage text only when the command's help is
// printed: some texts name a value that costs work to find (the image in
// the embedded manifests), and every start of lab, lab check included,
// would pay for it.
func usageWhenShown(cmd *cobra.Command, flag string, usage func() string) {
	var help func(*cobra.Command, []string)
	help = func(c *cobra.Command, args []string) {
		if f := cmd.Flags().Lookup(flag); f != nil {
			f.Usage = usage()
		}
		// Print with the help cobra would use without this one.
		c.SetHelpFunc(nil)
		defer c.SetHelpFunc(help)
		c.HelpFunc()(c, args)
	}
	cmd.SetHelpFunc(help)
}

// wrapArgs makes a command's argument validation return exit code 2.
func wrapArgs(c *cobra.Command) {
	inner := c.Args
	if inner == nil {
		return
	}
	c.Args = func(cmd *cobra.Command, args []string) error {
		if err := inner(cmd, args); err != nil {
			return &ExitError{Code: ExitUsage, Err: err}
		}
		return nil
	}
}

// builtinImage is the built-in lab's workload image, for help texts.
func builtinImage() string {
	l, err := labfolder.Builtin()
	if err != nil {
		return "?"
	}
	return deploy.DefaultImage(l)
}

// isTerminal reports whether w is a terminal, for colour and styles.
func isTerminal(w io.Writer) bool {
	f, ok := w.(*os.File)
	return ok && term.IsTerminal(int(f.Fd()))
}
