package cli

import (
	"fmt"
	"io/fs"
	"path/filepath"

	"github.com/spf13/cobra"

	"github.com/k8s-debug-lab/lab/assets"
	"github.com/k8s-debug-lab/lab/lab/labfolder"
)

func newAssignmentCmd(streams Streams) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "assignment",
		Short: "Write and check custom assignments",
		Long: `An assignment is a folder: DIR/assignment.yaml (the spec, apiVersion lab/v1)
and, optionally, DIR/lessons/<lang>/*.md. lab check, grade and init take one
with --assignment DIR; without it they use the built-in assignment.

  lab assignment new DIR        start one from the built-in assignment
  lab assignment validate DIR   check it: the first mistake, as file:line: field
  lab assignment schema         print the spec's JSON Schema (for editors)`,
		Args: cobra.NoArgs,
		RunE: func(*cobra.Command, []string) error {
			return usageErrorf("name what to do: lab assignment new DIR, validate DIR or schema")
		},
	}
	for _, sub := range []*cobra.Command{newAssignmentValidateCmd(streams), newAssignmentNewCmd(streams), newAssignmentSchemaCmd(streams)} {
		wrapArgs(sub)
		cmd.AddCommand(sub)
	}
	return cmd
}

func newAssignmentValidateCmd(streams Streams) *cobra.Command {
	return &cobra.Command{
		Use:   "validate DIR",
		Short: "Check an assignment folder: its spec and lessons",
		Long: `Load DIR/assignment.yaml the way lab check does and check DIR/lessons.

A mistake stops it with its place (exit code 2):

  course/assignment.yaml:31: steps[2].require[0].fact: parser ls reports no fact "entries" (it reports: …)

What loads but will puzzle students (a step without produce or expect, one
file for two steps, a step worth nothing) is listed as a warning on stderr.

Exit codes: 0 valid (warnings or not), 2 a mistake, or no such folder.`,
		Example: `  lab assignment validate ./my-course
  lab assignment validate ./my-course/assignment.yaml`,
		Args: cobra.ExactArgs(1),
		RunE: func(_ *cobra.Command, args []string) error {
			l, err := labfolder.Open(args[0])
			if err != nil {
				return &ExitError{Code: ExitUsage, Err: err}
			}
			v, err := l.Validate()
			if err != nil {
				return &ExitError{Code: ExitUsage, Err: err}
			}
			for _, w := range v.Warnings {
				fmt.Fprintf(streams.ErrOut, "warning: %v\n", w)
			}
			for _, line := range l.Summary(v) {
				fmt.Fprintln(streams.Out, line)
			}
			fmt.Fprintf(streams.Out, "ok: use it with --assignment %s\n", l.Source)
			return nil
		},
	}
}

func newAssignmentNewCmd(streams Streams) *cobra.Command {
	return &cobra.Command{
		Use:   "new DIR",
		Short: "Start an assignment folder from the built-in assignment",
		Long: `Write DIR/assignment.yaml (a copy of the built-in spec, with a modeline that
points editors at the schema), DIR/assignment.schema.json and DIR/README.md
(the folder's layout and the spec format). Existing files are kept, never
overwritten.

Exit codes: 0 written, 2 DIR is a file or cannot be written.`,
		Example: `  lab assignment new ./my-course && $EDITOR ./my-course/assignment.yaml`,
		Args:    cobra.ExactArgs(1),
		RunE: func(_ *cobra.Command, args []string) error {
			dir := args[0]
			w, err := labfolder.New(dir)
			if err != nil {
				return usageErrorf("%v", err)
			}
			for _, f := range w.Created {
				fmt.Fprintf(streams.Out, "created %s\n", filepath.Join(dir, f))
			}
			for _, f := range w.Kept {
				fmt.Fprintf(streams.Out, "kept    %s (it exists; not overwritten)\n", filepath.Join(dir, f))
			}
			fmt.Fprintf(streams.Out, "\nNext: edit %s, then lab assignment validate %s\n", filepath.Join(dir, "assignment.yaml"), dir)
			return nil
		},
	}
}

func newAssignmentSchemaCmd(streams Streams) *cobra.Command {
	return &cobra.Command{
		Use:   "schema",
		Short: "Print the JSON Schema of the assignment spec",
		Long: `Print the JSON Schema (draft 2020-12) of the assignment spec this lab reads:
its fields, parsers, each parser's facts, matchers and live checks. Point an
editor's YAML language server at it for completion and early errors:

  # yaml-language-server: $schema=./assignment.schema.json`,
		Example: `  lab assignment schema > assignment.schema.json`,
		Args:    cobra.NoArgs,
		RunE: func(*cobra.Command, []string) error {
			data, err := fs.ReadFile(assets.Schema(), assets.SchemaFile)
			if err != nil {
				return fmt.Errorf("reading the schema (a bug in this build): %w", err)
			}
			_, err = streams.Out.Write(data)
			return err
		},
	}
}
