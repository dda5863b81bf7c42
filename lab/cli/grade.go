package cli

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"strings"

	"github.com/spf13/cobra"

	"github.com/k8s-debug-lab/lab/internal/choice"
	"github.com/k8s-debug-lab/lab/internal/i18n"
	"github.com/k8s-debug-lab/lab/lab/grade"
	"github.com/k8s-debug-lab/lab/lab/grade/htmlreport"
	"github.com/k8s-debug-lab/lab/lab/labfolder"
	"github.com/k8s-debug-lab/lab/lab/version"
)

// gradeFormat is what lab grade prints on stdout.
type gradeFormat string

// The formats lab grade prints; the files in --out are written whatever
// the format.
const (
	gradeText gradeFormat = "text"
	gradeJSON gradeFormat = "json"
	gradeCSV  gradeFormat = "csv"
)

var gradeFormats = []gradeFormat{gradeText, gradeJSON, gradeCSV}

// gradeOptions are lab grade's flags, completed into what grading needs.
type gradeOptions struct {
	streams Streams
	globals *globals

	submissions string
	assignment  string
	out         string
	format      string
	jobs        int
	html        string
	requireRec  bool

	lab *labfolder.Lab
	fmt gradeFormat
	lng i18n.Lang
}

func newGradeCmd(streams Streams, g *globals) *cobra.Command {
	o := &gradeOptions{streams: streams, globals: g}
	cmd := &cobra.Command{
		Use:   "grade SUBMISSIONS",
		Short: "Grade a whole class: one folder per student",
		Long: `Grade every submission in the SUBMISSIONS folder with the same checks lab
check runs, offline and in parallel, and flag likely copies.

Each folder in SUBMISSIONS is one student's: a repository made with lab init
(answers in answers/), the answers files themselves, or an unpacked archive
holding either. A submission that is unreadable, half missing or oddly
encoded is graded as far as it goes; the run never stops for one student.

lab grade prints a table (✓/✗ per step, points) and writes into --out:
grades.csv (a row per student), grades.json (every verdict, the evidence of
copying), reports/<student>.txt (the report lab check gives that student,
with its hints) and report.html: the class at a glance for the instructor
(scores, each step's pass rate and most common reasons for failing, copies,
a student table that sorts and filters), one file that opens from disk,
in the language of lab's --lang. Nothing is ever written into SUBMISSIONS.

Copies are found from values each cluster picks at random (TCP sequence
numbers, client ports, log times, pod UIDs, the lab's nonce): answers that
share them came from one capture. Answers that match the sample outputs of
the write-up the assignment comes from are flagged too.

Exit codes: 0 every submission was graded (whatever the students scored),
1 grading was interrupted, 2 usage error, or SUBMISSIONS cannot be read or
holds no submission, or --out or --html cannot be written.`,
		Example: `  lab grade submissions/
  lab grade submissions/ --out grades-week3
  lab grade submissions/ --lang ru --html ~/week3.html
  lab grade submissions/ --assignment ./my-course -o csv > grades.csv
  lab grade submissions/ -o json | jq '.copies'`,
		Args: cobra.ExactArgs(1),
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
	f.StringVar(&o.assignment, "assignment", "", labFlagHelp)
	f.StringVar(&o.out, "out", "grades", "the folder for grades.csv, grades.json and reports/ (never inside SUBMISSIONS)")
	f.StringVarP(&o.format, "format", "o", string(gradeText), "what to print: text (a table), json or csv")
	f.IntVarP(&o.jobs, "jobs", "j", runtime.NumCPU(), "submissions graded at once")
	f.StringVar(&o.html, "html", "", "where to write the HTML class report (default: report.html in --out)")
	f.BoolVar(&o.requireRec, "require-record", false, "fail every step of a submission without a lab record (answers/lab-record.json), as the spec's record: required does")
	_ = cmd.MarkFlagDirname("assignment")
	_ = cmd.MarkFlagDirname("out")
	_ = cmd.RegisterFlagCompletionFunc("format", completeChoices(gradeFormats))
	return cmd
}

func (o *gradeOptions) complete(args []string) error {
	o.submissions = args[0]
	var err error
	if o.fmt, err = choice.Parse("format", o.format, gradeFormats); err != nil {
		return usageErrorf("%v", err)
	}
	// One language for the whole tool: the root --lang, else the locale;
	// the table, the students' reports and the HTML page all speak it.
	if o.lng, err = o.globals.language(); err != nil {
		return err
	}
	if o.html == "" {
		o.html = filepath.Join(o.out, htmlreport.File)
	}
	o.lab, err = loadLab(o.assignment)
	return err
}

func (o *gradeOptions) validate() error {
	if o.jobs < 1 {
		return usageErrorf("--jobs %d: grade at least one submission at a time", o.jobs)
	}
	fi, err := os.Stat(o.submissions)
	switch {
	case errors.Is(err, os.ErrNotExist):
		return usageErrorf("no folder %s: give the folder that holds one folder per student", o.submissions)
	case err != nil:
		return usageErrorf("cannot read %s: %v", o.submissions, err)
	case !fi.IsDir():
		return usageErrorf("%s is not a folder: give the folder that holds one folder per student (unpack an archive first)", o.submissions)
	}
	// lab never writes into a student's submission: refuse an output
	// folder inside SUBMISSIONS, or SUBMISSIONS where reports/ would go.
	subs, out := realPath(o.submissions), realPath(o.out)
	if within(out, subs) || within(subs, filepath.Join(out, grade.ReportsDir)) {
		return usageErrorf("--out %s is inside %s: lab never writes into the submissions; give an output folder outside it, e.g. --out %s",
			o.out, o.submissions, filepath.Join(filepath.Dir(filepath.Clean(subs)), "grades"))
	}
	if fi, err := os.Stat(o.out); err == nil && !fi.IsDir() {
		return usageErrorf("--out %s is a file: give a folder", o.out)
	}
	if within(realPath(o.html), subs) {
		return usageErrorf("--html %s is inside %s: lab never writes into the submissions; give a file outside it", o.html, o.submissions)
	}
	if fi, err := os.Stat(o.html); err == nil && fi.IsDir() {
		return usageErrorf("--html %s is a folder: give the file to write, e.g. --html %s", o.html, filepath.Join(o.html, htmlreport.File))
	}
	return nil
}

// realPath is p made absolute with the symlinks of its existing part
// resolved, so that two names of one folder compare equal.
func realPath(p string) string {
	abs, err := filepath.Abs(p)
	if err != nil {
		return filepath.Clean(p)
	}
	rest := ""
	for dir := abs; ; dir = filepath.Dir(dir) {
		if real, err := filepath.EvalSymlinks(dir); err == nil {
			return filepath.Join(real, rest)
		}
		if dir == filepath.Dir(dir) {
			return abs
		}
		rest = filepath.Join(filepath.Base(dir), rest)
	}
}

// within reports whether p is dir or inside it.
func within(p, dir string) bool {
	rel, err := filepath.Rel(dir, p)
	return err == nil && rel != ".." && !strings.HasPrefix(rel, ".."+string(filepath.Separator))
}

func (o *gradeOptions) run(cmd *cobra.Command) error {
	lang := o.lng
	opts := grade.Options{Jobs: o.jobs, Lang: lang, RequireRecord: o.requireRec, LabVersion: version.String()}
	// Progress is for a person watching a terminal; logs stay clean.
	if isTerminal(o.streams.ErrOut) {
		opts.Progress = func(done, total int) {
			fmt.Fprintf(o.streams.ErrOut, "\rlab grade: %d/%d", done, total)
			if done == total {
				fmt.Fprint(o.streams.ErrOut, "\r\x1b[K")
			}
		}
	}
	c, err := grade.Run(cmd.Context(), o.lab.Spec, o.submissions, opts)
	if err != nil {
		if cmd.Context().Err() != nil {
			return &ExitError{Code: ExitFailed, Err: fmt.Errorf("interrupted: %w; nothing was written", err)}
		}
		return usageErrorf("%v", err)
	}
	w, err := grade.Write(c, o.out)
	if err != nil {
		return usageErrorf("%v (--out %s)", err, o.out)
	}
	if err := htmlreport.WriteFile(o.html, htmlreport.Build(c, htmlreport.Lang(o.lng))); err != nil {
		return usageErrorf("%v (--html)", err)
	}
	switch o.fmt {
	case gradeJSON:
		err = grade.WriteJSON(o.streams.Out, c)
	case gradeCSV:
		err = grade.WriteCSV(o.streams.Out, c)
	default:
		err = grade.WriteTable(o.streams.Out, c, grade.TableOptions{Lang: lang})
	}
	if err != nil {
		return fmt.Errorf("writing the table: %w", err)
	}
	summary := fmt.Sprintf("wrote %s, %s, %s and %d reports in %s",
		filepath.Join(o.out, grade.CSVFile), filepath.Join(o.out, grade.JSONFile), o.html, w.Reports, filepath.Join(o.out, grade.ReportsDir))
	if o.fmt == gradeText {
		fmt.Fprintf(o.streams.Out, "\n%s\n", summary)
	} else if o.globals.verbosity > 0 {
		fmt.Fprintf(o.streams.ErrOut, "lab grade: %s\n", summary)
	}
	return nil
}
