package cli

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"

	"github.com/spf13/cobra"

	"github.com/k8s-debug-lab/lab/checks"
	"github.com/k8s-debug-lab/lab/checks/report"
	"github.com/k8s-debug-lab/lab/checks/spec"
	"github.com/k8s-debug-lab/lab/internal/i18n"
	"github.com/k8s-debug-lab/lab/lab/labfolder"
	"github.com/k8s-debug-lab/lab/lab/record"
	"github.com/k8s-debug-lab/lab/lab/version"
)

// checkOptions are lab check's flags, completed into what grading needs.
type checkOptions struct {
	streams Streams
	globals *globals

	steps      []string
	answers    string
	file       string
	assignment string
	format     string
	offline    bool
	requireRec bool
	kf         kubeconfigFlags

	lang   i18n.Lang
	lab    *labfolder.Lab
	fmt    report.Format
	output *os.File
}

func newCheckCmd(streams Streams, g *globals) *cobra.Command {
	o := &checkOptions{streams: streams, globals: g}
	cmd := &cobra.Command{
		Use:   "check [step-N ...|all]",
		Short: "Grade the saved outputs in answers/",
		Long: `Grade each step from the output you saved in the answers folder.

Every step names its file: answers/step-3.txt, step-5.txt (or step-5.pcap
from tcpdump -w), step-6.txt, step-7.txt and star.txt. lab never changes
them.
A failed step says what is missing, what to do, and shows the line of your
output closest to what was expected.

When the lab's cluster answers (within 3 s), lab check also proves steps 1
and 2 and the node debugger against it, and compares your files with it:
the pod's IP, node and UID, and the nonce lab traffic put in its requests.
An answer made on another cluster fails, naming the difference. When no
cluster answers, the files are graded without it (one line on stderr says
so); --offline does that without asking.

A live check writes the lab record, answers/lab-record.json: what the
cluster showed and a checksum of each file. Graded without the cluster,
the answers are checked against it: steps 1 and 2 are scored from it, the
cross-checks use its facts, and a file changed since it fails, named. A
record of another assignment is an input error. --require-record (or
record: required in the assignment) fails a hand-in without a record.

Exit codes: 0 all selected steps pass (skipped ones do not count against
you), 1 a step failed, 2 usage error or unreadable input, 3 the cluster
named with --context or --kubeconfig did not answer.`,
		Example: `  lab check
  lab check step-5 star
  lab check step-5 --file ~/capture.pcap
  lab check --format json | jq .summary
  lab check --assignment ./my-course --answers ./answers`,
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
			return o.run(cmd)
		},
	}
	f := cmd.Flags()
	f.StringVar(&o.answers, "answers", checks.AnswersDir, "the answers folder")
	f.StringVar(&o.file, "file", "", "grade this file instead of the step's answers file (one step only)")
	f.StringVar(&o.assignment, "assignment", "", labFlagHelp)
	f.StringVarP(&o.format, "format", "o", string(report.Text), "output format: text, json, junit or classroom")
	f.BoolVar(&o.offline, "offline", false, "grade without the lab's cluster: against the lab record answers/lab-record.json if there is one")
	f.BoolVar(&o.requireRec, "require-record", false, "graded without the cluster, fail every step when there is no lab record (as the spec's record: required does)")
	o.kf.addTo(cmd)
	_ = cmd.RegisterFlagCompletionFunc("format", completeChoices(report.Formats))
	_ = cmd.MarkFlagDirname("answers")
	_ = cmd.MarkFlagDirname("assignment")
	return cmd
}

// complete loads the assignment and resolves the flags.
func (o *checkOptions) complete(args []string) error {
	o.steps = args
	var err error
	if o.lang, err = o.globals.language(); err != nil {
		return err
	}
	if o.fmt, err = report.ParseFormat(o.format); err != nil {
		return usageErrorf("%v", err)
	}
	if o.lab, err = loadLab(o.assignment); err != nil {
		return err
	}
	return nil
}

// gradeOffline grades without the cluster: against the lab record in the
// answers folder when there is one. A record that cannot be used (another
// assignment, a format this lab does not read, damaged) is an input error,
// exit 2.
func (o *checkOptions) gradeOffline(ctx context.Context, opts checks.Options) (*checks.Report, error) {
	rec, err := record.Read(os.DirFS(o.answers), o.lab.Spec)
	switch {
	case errors.Is(err, record.ErrNone):
		rec = nil
	case err != nil:
		return nil, &ExitError{Code: ExitUsage, Err: fmt.Errorf("%s: %w", o.answers, err)}
	}
	out, err := record.Grade(ctx, o.lab.Spec, o.steps, opts, rec, o.requireRec || o.lab.Spec.Record == spec.RecordRequired)
	if err != nil {
		return nil, usageErrorf("%v", err)
	}
	return out.Report, nil
}

// loadLab opens the lab folder --assignment names, or the built-in lab;
// a folder that does not open is a usage error (exit 2) with its place.
func loadLab(dir string) (*labfolder.Lab, error) {
	l, err := labfolder.Open(dir)
	if err != nil {
		if dir == "" {
			return nil, err
		}
		return nil, &ExitError{Code: ExitUsage, Err: fmt.Errorf("--assignment %s: %w", dir, err)}
	}
	return l, nil
}

func (o *checkOptions) validate() error {
	p := i18n.For(o.lang)
	steps, err := checks.SelectIn(o.lab.Spec, o.steps, o.lang)
	if err != nil {
		return usageErrorf("%v", err)
	}
	if o.file != "" {
		if len(steps) != 1 {
			return usageError(p, "--file grades one step: name it, e.g. lab check step-5 --file %s", o.file)
		}
		if !steps[0].Graded() {
			return usageError(p, "%s has no answers file to replace: it is checked against the cluster", steps[0].ID)
		}
		return nil
	}
	fi, err := os.Stat(o.answers)
	switch {
	case errors.Is(err, fs.ErrNotExist):
		return usageError(p, "no answers folder at %s: run lab check where your answers/ folder is, or pass --answers DIR", o.answers)
	case err != nil:
		return usageError(p, "cannot read the answers folder %s: %v", o.answers, err)
	case !fi.IsDir():
		return usageError(p, "%s is not a folder: --answers takes the folder that holds step-3.txt, step-5.txt, …; grade one file with --file", o.answers)
	}
	return nil
}

func (o *checkOptions) run(cmd *cobra.Command) error {
	ctx := cmd.Context()
	lr, err := o.liveChecks(ctx)
	if err != nil {
		return err
	}
	// --file is read through its folder, by the rule the answers folder
	// is read by.
	dir, file, name := o.answers, "", answersName(o.answers)
	if o.file != "" {
		dir, file = filepath.Dir(o.file), filepath.Base(o.file)
		name = filepath.ToSlash(dir)
	}
	fsys, closeAnswers, err := checks.OpenAnswers(dir)
	if err != nil {
		return usageError(i18n.For(o.lang), "cannot read %s: %v", dir, err)
	}
	defer closeAnswers()
	opts := checks.Options{
		Answers:     fsys,
		AnswersName: name,
		File:        file,
		KeepFacts:   o.fmt == report.JSON && o.globals.verbosity > 0,
		Lang:        o.lang,
		LabVersion:  version.String(),
	}
	var rep *checks.Report
	if lr != nil {
		opts.Live = lr.live
		if rep, err = checks.Grade(ctx, o.lab.Spec, o.steps, opts); err != nil {
			return usageErrorf("%v", err)
		}
		full := rep
		if o.file != "" {
			full = nil // the record is of the answers folder, not of --file
		}
		if err := writeRecord(ctx, o.streams, o.lab.Spec, record.ByCheck, strings.TrimSuffix(o.answers, "/"), lr, full); err != nil {
			fmt.Fprintf(o.streams.ErrOut, "lab check: %v; offline grading will not find this run\n", err)
		}
	} else if rep, err = o.gradeOffline(ctx, opts); err != nil {
		return err
	}
	err = report.Write(o.streams.Out, o.fmt, rep, report.Options{Color: o.fmt == report.Text && colorTerminal(o.streams.Out)})
	if err != nil {
		return fmt.Errorf("writing the report: %w", err)
	}
	if code := rep.ExitCode(); code != ExitOK {
		return &ExitError{Code: code}
	}
	return nil
}

// answersName is the answers folder as messages name it: without the
// trailing separator a shell's completion adds ("answers/", PowerShell's
// "answers\").
func answersName(dir string) string {
	if t := strings.TrimRight(dir, "/"+string(filepath.Separator)); t != "" {
		return t
	}
	return dir
}
