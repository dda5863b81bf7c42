package cli

import (
	"fmt"
	"path/filepath"

	"github.com/spf13/cobra"

	"github.com/k8s-debug-lab/lab/lab/labfolder"
	"github.com/k8s-debug-lab/lab/lab/version"
	"github.com/k8s-debug-lab/lab/lab/workspace"
)

// initOptions are lab init's flags.
type initOptions struct {
	streams Streams
	globals *globals

	dir        string
	assignment string
	labVersion string

	// own is this binary's version; pin what the workflow installs.
	own     string
	pin     string
	warning string

	lab *labfolder.Lab
}

func newInitCmd(streams Streams, g *globals) *cobra.Command {
	o := &initOptions{streams: streams, globals: g, own: version.String()}
	cmd := &cobra.Command{
		Use:   "init [DIR]",
		Short: "Write a student workspace: answers/, the autograding workflow, .gitignore",
		Long: `Write a student workspace for the assignment into DIR (default: here).

It holds answers/ with a README saying, step by step, which file to save,
with which command and how to check it; a GitHub Actions workflow
(.github/workflows/classroom.yml) that runs lab check --format classroom
--offline on every push and reports the score to GitHub Classroom; a
.gitignore that keeps answers tracked; and a README for the student. Make it
the template repository of a GitHub Classroom assignment, or hand it out.

With --assignment, the custom assignment (its spec and lessons) is copied
into DIR/assignment, and the workflow grades against it.

The workflow installs one fixed lab, so that a release in the middle of a
course never changes a grade a student already has: this lab's own version
when it is a release, else the one given with --lab-version. A development
build pins its own commit and says so on stderr; one that has no commit (go
run) or was built from uncommitted changes refuses, as does a version that
moves (latest, a branch).

lab init never overwrites a file and never writes into an existing answers
folder: it says what it kept.

Exit codes: 0 the workspace is written, 2 usage error (DIR is a file, the
assignment has a mistake, a file cannot be written, no fixed lab version to
pin).`,
		Example: `  lab init my-lab
  lab init --lab-version v1.2.3 --assignment ./my-course classroom-template`,
		Args: cobra.MaximumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			if err := o.complete(args); err != nil {
				return err
			}
			if err := o.validate(); err != nil {
				return err
			}
			return o.run()
		},
	}
	cmd.Flags().StringVar(&o.assignment, "assignment", "", labFlagHelp)
	_ = cmd.MarkFlagDirname("assignment")
	cmd.Flags().StringVar(&o.labVersion, "lab-version", "", "the lab release the workflow installs, vX.Y.Z (default: this lab's own, when it is a release)")
	return cmd
}

func (o *initOptions) complete(args []string) error {
	o.dir = "."
	if len(args) == 1 {
		o.dir = args[0]
	}
	var err error
	o.lab, err = loadLab(o.assignment)
	return err
}

func (o *initOptions) validate() error {
	var err error
	o.pin, o.warning, err = workspace.Pin(o.own, o.labVersion)
	if err != nil {
		return usageErrorf("%v", err)
	}
	return nil
}

func (o *initOptions) run() error {
	lang, _ := o.globals.language()
	res, err := workspace.Init(o.dir, workspace.Options{Assignment: o.lab.Spec, AssignmentDir: o.assignment, Version: o.pin, Lang: lang})
	if err != nil {
		return usageErrorf("%v", err)
	}
	out, p := o.streams.Out, o.globals.printer()
	if o.warning != "" {
		fmt.Fprintf(o.streams.ErrOut, "%s %s\n", p.Sprintf("WARNING:"), o.warning)
	}
	fmt.Fprintln(out, p.Sprintf("lab init: a workspace for %s in %s", o.lab.Spec.Name, o.dir))
	for _, f := range res.Created {
		fmt.Fprintln(out, "  "+p.Sprintf("created %s", filepath.Join(o.dir, f)))
	}
	for _, f := range res.Kept {
		fmt.Fprintln(out, "  "+p.Sprintf("kept    %s (it exists; lab init does not overwrite)", filepath.Join(o.dir, f)))
	}
	flag := ""
	if o.assignment != "" {
		flag = " --assignment " + workspace.AssignmentDir
	}
	fmt.Fprintln(out, p.Sprintf("The workflow installs lab %s.", o.pin))
	fmt.Fprintln(out, "\n"+p.Sprintf("Next: cd %s, then lab up, lab lesson list, and lab check%s.", o.dir, flag))
	fmt.Fprintln(out, p.Sprintf("For GitHub Classroom, push it as the assignment's template repository."))
	return nil
}
