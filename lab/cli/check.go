package cli

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"

	"github.com/spf13/cobra"

	"github.com/k8s-debug-lab/lab/checks"
	"github.com/k8s-debug-lab/lab/checks/report"
	"github.com/k8s-debug-lab/lab/lab/labfolder"
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
	kf         kubeconfigFlags

	lab    *labfolder.Lab
	fmt    report.Format
	fsys   fs.FS
	output *os.File
}

func newCheckCmd(streams Streams, g *globals) *cobra.Command {
	o := &checkOptions{streams: streams, globals: g}
	cmd := &cobra.Command{
		Use:   "check [step-N ...|all]",
		Short: "Grade the saved outputs in answers/",
		Long: `Grade each step from the output you saved in the answers folder.

Every step names its file: answers/step-3.txt, step-5.txt (or step-5.pcap
from tcpdump -w), step-6.txt, step-7.txt and star.txt. lab only reads them.
A failed step says what is missing, what to do, and shows the line of your
output closest to what was expected.

When the lab's cluster answers (within 3 s), lab check also proves steps 1
and 2 and the node debugger against it, and compares your files with it:
the pod's IP, node and UID, and the nonce lab traffic put in its requests.
An answer made on another cluster fails, naming the difference. When no
cluster answers, the files are graded alone (one line on stderr says so);
--offline does that without asking.

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
	f.StringVar(&o.answers, "answers", "answers", "the answers folder")
	f.StringVar(&o.file, "file", "", "grade this file instead of the step's answers file (one step only)")
	f.StringVar(&o.assignment, "assignment", "", "an assignment folder holding assignment.yaml (default: the built-in one)")
	f.StringVarP(&o.format, "format", "o", string(report.Text), "output format: text, json, junit or classroom")
	f.BoolVar(&o.offline, "offline", false, "grade the files only; do not contact the lab's cluster")
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
	if o.fmt, err = report.ParseFormat(o.format); err != nil {
		return usageErrorf("%v", err)
	}
	if o.lab, err = loadLab(o.assignment); err != nil {
		return err
	}
	if o.file == "" {
		o.fsys = os.DirFS(o.answers)
	}
	return nil
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
	if _, err := checks.Select(o.lab.Spec, o.steps); err != nil {
		return usageErrorf("%v", err)
	}
	if o.file != "" {
		steps, _ := checks.Select(o.lab.Spec, o.steps)
		if len(steps) != 1 {
			return usageErrorf("--file grades one step: name it, e.g. lab check step-5 --file %s", o.file)
		}
		if !steps[0].Graded() {
			return usageErrorf("%s has no answers file to replace: it is checked against the cluster", steps[0].ID)
		}
		return nil
	}
	fi, err := os.Stat(o.answers)
	switch {
	case errors.Is(err, fs.ErrNotExist):
		return usageErrorf("no answers folder at %s: run lab check where your answers/ folder is, or pass --answers DIR", o.answers)
	case err != nil:
		return usageErrorf("cannot read the answers folder %s: %v", o.answers, err)
	case !fi.IsDir():
		return usageErrorf("%s is not a folder: --answers takes the folder that holds step-3.txt, step-5.txt, …; grade one file with --file", o.answers)
	}
	return nil
}

func (o *checkOptions) run(cmd *cobra.Command) error {
	lv, err := o.liveChecks(cmd.Context())
	if err != nil {
		return err
	}
	rep, err := checks.Grade(cmd.Context(), o.lab.Spec, o.steps, checks.Options{
		Answers:     o.fsys,
		AnswersName: answersName(o.answers),
		File:        o.file,
		Live:        lv,
		KeepFacts:   o.fmt == report.JSON && o.globals.verbosity > 0,
		LabVersion:  version.String(),
	})
	if err != nil {
		return usageErrorf("%v", err)
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
