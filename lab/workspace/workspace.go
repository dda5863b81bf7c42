// Package workspace writes a student's workspace for an assignment: the
// repository an instructor turns into a GitHub Classroom template, or a
// student starts from on their own machine.
//
// Everything in it is derived from the assignment spec, so a custom
// assignment gets its own: an answers/ folder whose README says, step by
// step, which file to save, with which command, and how to check it; a
// GitHub Actions workflow that grades answers/ offline on every push and
// reports the score to GitHub Classroom; a .gitignore that keeps answers
// tracked. Init never overwrites a file and never writes into an answers
// folder that already exists: it reports what it kept.
package workspace

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"regexp"
	"strings"

	"github.com/k8s-debug-lab/lab/checks"
	"github.com/k8s-debug-lab/lab/checks/spec"
	"github.com/k8s-debug-lab/lab/internal/i18n"
	"github.com/k8s-debug-lab/lab/lab/labfolder"
	"github.com/k8s-debug-lab/lab/lab/record"
	"github.com/k8s-debug-lab/lab/lab/version"
)

// AssignmentDir is where a custom lab folder is copied in a workspace, so
// that the workflow grades against the same spec as the student, and the
// student's lab up and lab lesson use its manifests and lessons.
const AssignmentDir = "assignment"

// WorkflowFile is the autograding workflow, where GitHub Classroom looks.
const WorkflowFile = ".github/workflows/classroom.yml"

// Module is lab's Go module, which the workflow installs lab from.
const Module = "github.com/k8s-debug-lab/lab"

// Options say what to write.
type Options struct {
	// Assignment is the spec the workspace is for.
	Assignment *spec.Assignment
	// AssignmentDir is the folder a custom assignment was loaded from; it
	// is copied into the workspace. Empty for the built-in one.
	AssignmentDir string
	// Version is the lab the workflow installs, as Pin returned it: a
	// release tag, a pseudo-version or a commit; Init refuses anything
	// else, so that a course's grades never move under it.
	Version string
	// Lang is the language of the READMEs (English when empty); the
	// workflow, read by GitHub, stays English.
	Lang i18n.Lang
}

// Result lists what Init did, paths relative to the workspace.
type Result struct {
	Created []string
	// Kept are files (or an answers folder) that existed and were left
	// as they were.
	Kept []string
}

type file struct {
	name string
	data []byte
}

// Init writes the workspace into dir, creating it if needed.
func Init(dir string, o Options) (Result, error) {
	var res Result
	if o.Version == "" {
		return res, errors.New("no lab version for the workflow to install: give the release the course uses with --lab-version vX.Y.Z")
	}
	if _, _, err := Pin("", o.Version); err != nil {
		return res, err
	}
	if fi, err := os.Stat(dir); err == nil && !fi.IsDir() {
		return res, fmt.Errorf("%s is a file: give a folder for the workspace", dir)
	}
	files, err := render(o)
	if err != nil {
		return res, err
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return res, fmt.Errorf("creating %s: %w", dir, err)
	}
	// A student's answers folder is theirs: lab reads it, never writes it.
	answersExisted := false
	if _, err := os.Lstat(filepath.Join(dir, checks.AnswersDir)); err == nil {
		answersExisted = true
		res.Kept = append(res.Kept, checks.AnswersDir+"/")
	}
	for _, f := range files {
		if answersExisted && strings.HasPrefix(f.name, checks.AnswersDir+"/") {
			continue
		}
		p := filepath.Join(dir, filepath.FromSlash(f.name))
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			return res, fmt.Errorf("creating %s: %w", filepath.Dir(p), err)
		}
		created, err := labfolder.WriteNew(p, f.data, 0o644)
		if err != nil {
			return res, err
		}
		if created {
			res.Created = append(res.Created, f.name)
		} else {
			res.Kept = append(res.Kept, f.name)
		}
	}
	return res, nil
}

// render produces every file of the workspace.
func render(o Options) ([]file, error) {
	a := o.Assignment
	if a == nil {
		return nil, errors.New("no assignment to make a workspace for")
	}
	flag := ""
	if o.AssignmentDir != "" {
		flag = " --assignment " + AssignmentDir
	}
	files := []file{
		{"README.md", []byte(workspaceReadme(a, flag, o.Lang))},
		{checks.AnswersDir + "/README.md", []byte(answersReadme(a, flag, o.Lang))},
		{WorkflowFile, []byte(workflow(a, flag, o.Version))},
		{".gitignore", []byte(gitignore)},
	}
	if o.AssignmentDir != "" {
		copied, err := assignmentFiles(o.AssignmentDir)
		if err != nil {
			return nil, err
		}
		files = append(files, copied...)
	}
	return files, nil
}

// assignmentFiles are the spec and lessons of a custom assignment, to be
// copied under AssignmentDir.
func assignmentFiles(dir string) ([]file, error) {
	fsys := os.DirFS(dir)
	var out []file
	err := fs.WalkDir(fsys, ".", func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() {
			if p != "." && !inLabDir(p) {
				return fs.SkipDir
			}
			return nil
		}
		keep := p == spec.FileName || p == labfolder.SchemaFile ||
			(strings.HasPrefix(p, labfolder.LessonsDir+"/") && path.Ext(p) == ".md") ||
			(strings.HasPrefix(p, labfolder.ManifestsDir+"/") && path.Ext(p) == ".yaml")
		if !keep || !d.Type().IsRegular() {
			return nil
		}
		data, err := fs.ReadFile(fsys, p)
		if err != nil {
			return err
		}
		out = append(out, file{path.Join(AssignmentDir, p), data})
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("copying the assignment from %s: %w", dir, err)
	}
	return out, nil
}

// inLabDir reports whether p is, or is inside, a folder a lab folder
// holds: what a student's lab up, lesson and check --assignment read.
func inLabDir(p string) bool {
	for _, d := range []string{labfolder.LessonsDir, labfolder.ManifestsDir} {
		if p == d || strings.HasPrefix(p, d+"/") {
			return true
		}
	}
	return false
}

// commit is a build made by `make` between tags: git describe's
// "v1.2.3-4-gabcdef0" or, with no tag yet, the bare abbreviated hash.
var commit = regexp.MustCompile(`^(?:v\d+\.\d+\.\d+-\d+-g)?([0-9a-f]{7,40})$`)

// hash is a commit, which go install takes as a fixed version too.
var hash = regexp.MustCompile(`^[0-9a-f]{7,40}$`)

// Pin says which lab the workflow installs: requested (lab init
// --lab-version) when given, else own, this binary's version. The result
// is always one fixed version, what `go install …@` takes, so that a
// release in the middle of a course cannot change a grade a student
// already has. warning is set when the pin is not a release (a
// development build pins its own commit): lab init says it loudly. A
// moving or unreproducible version (latest, a branch, a dirty tree, a
// build that knows no version) is an error that says what to give.
func Pin(own, requested string) (pin, warning string, err error) {
	if requested != "" {
		switch {
		case version.IsRelease(requested), version.IsPseudo(requested), hash.MatchString(requested):
			return requested, "", nil
		case strings.Contains(requested, "dirty"):
			return "", "", fmt.Errorf("--lab-version %s is a build of uncommitted changes, which no workflow can install: give a release tag, vX.Y.Z", requested)
		default:
			return "", "", fmt.Errorf("--lab-version %q is not one fixed version (latest, a branch or a range moves when lab is released, and grades move with it): give a release tag, vX.Y.Z", requested)
		}
	}
	switch {
	case version.IsRelease(own):
		return own, "", nil
	case strings.Contains(own, "dirty"):
		return "", "", fmt.Errorf("this lab (%s) is a development build of uncommitted changes, which no workflow can install: give the release the course uses with --lab-version vX.Y.Z", own)
	case version.IsPseudo(own):
		return own, fmt.Sprintf("this lab is a development build: the workflow installs it, %s@%s, a commit that is not a release; for a course, give a release with --lab-version vX.Y.Z", Module, own), nil
	}
	if m := commit.FindStringSubmatch(own); m != nil {
		return m[1], fmt.Sprintf("this lab is a development build (%s): the workflow installs its commit, %s@%s, which must be pushed to %s; for a course, give a release with --lab-version vX.Y.Z", own, Module, m[1], Module), nil
	}
	return "", "", fmt.Errorf("this lab (%s) is a development build that knows no version a workflow could install: give the release the course uses with --lab-version vX.Y.Z", own)
}

func title(a *spec.Assignment, lang i18n.Lang) string {
	if t := a.Title.In(lang); t != "" {
		return t
	}
	return a.Name
}

// answersFiles names a step's answers files, "answers/step-5.txt (or …)".
func answersFiles(p *i18n.Printer, s spec.Step) string {
	names := make([]string, len(s.Files))
	for i, f := range s.Files {
		names[i] = "`" + checks.AnswersDir + "/" + f + "`"
	}
	if len(names) == 1 {
		return names[0]
	}
	return names[0] + " " + p.Sprintf("(or %s)", strings.Join(names[1:], ", "))
}

func workspaceReadme(a *spec.Assignment, flag string, lang i18n.Lang) string {
	p := i18n.For(lang)
	var b strings.Builder
	fmt.Fprintf(&b, "# %s\n\n", text(title(a, lang)))
	b.WriteString(p.Sprintf("This is your workspace for the assignment. You work on your own lab cluster,\nsave what your tools print into `answers/`, and let `lab` grade it.") + "\n\n")
	b.WriteString("```sh\n")
	b.WriteString(p.Sprintf("lab up                 # start the lab: a cluster with the pod you will debug") + "\n")
	b.WriteString(p.Sprintf("lab lesson list        # the lessons, one per step") + "\n")
	b.WriteString(p.Sprintf("lab check%s              # grade everything saved in answers/", flag) + "\n")
	b.WriteString(p.Sprintf("git add answers && git commit -m answers && git push   # hand it in") + "\n")
	b.WriteString("```\n\n")
	b.WriteString(p.Sprintf("| step | what it proves | points | save it in |") + "\n|------|----------------|--------|------------|\n")
	for _, s := range a.Steps {
		where := p.Sprintf("nothing to save: checked on your cluster")
		if s.Graded() {
			where = answersFiles(p, s)
		}
		fmt.Fprintf(&b, "| %s | %s | %d | %s |\n", s.ID, text(s.Title.In(lang)), s.Points, where)
	}
	b.WriteString("\n" + p.Sprintf("`answers/README.md` says, step by step, which command writes each file.") + "\n\n")
	b.WriteString(p.Sprintf("## Grading") + "\n\n")
	b.WriteString(p.Sprintf("Every push runs `lab check` on GitHub (`%s`), offline: it\ngrades the files in `answers/` and shows the score in the Actions tab and in\nGitHub Classroom. Run `lab check%s` on your machine with the lab up\nbefore you push: it proves the steps checked against your cluster and writes\n`answers/%s`, the lab record, the one file lab writes into\n`answers/`. Hand it in: the workflow and your instructor (`lab grade`) grade\nyour answers against what it recorded (those steps included, shown as\nrecorded live). An answer changed after the record fails until you run\n`lab check` with the lab up again; without a record the report says your\nanswers were not checked against a cluster.", WorkflowFile, flag, record.FileName) + "\n\n")
	b.WriteString(p.Sprintf("Save each output as the command prints it: `lab` reads UTF-8 or UTF-16 (PowerShell),\nWindows line ends, colours and prompts; it never changes your files.\nOutputs copied from someone else (or from a write-up) carry the other\ncluster's sequence numbers, ports, times and UIDs, and are flagged.") + "\n")
	return b.String()
}

func answersReadme(a *spec.Assignment, flag string, lang i18n.Lang) string {
	p := i18n.For(lang)
	var b strings.Builder
	b.WriteString("# " + p.Sprintf("Answers: %s", text(title(a, lang))) + "\n\n")
	b.WriteString(p.Sprintf("Save here what each command prints, one file per step, as named below;\n`lab check%s` grades them and `lab check%s step-N` one step. `lab lesson list`\nshows the lesson for each step.", flag, flag) + "\n\n")
	b.WriteString(p.Sprintf("`%s` is the one file lab writes here: `lab check` writes it\nwhen your lab's cluster answers (what the cluster showed, each step's verdict,\na checksum of each file). Hand it in with the answers; after changing an\nanswer, run `lab check` with the lab up again.", record.FileName) + "\n")
	for _, s := range a.Steps {
		fmt.Fprintf(&b, "\n## %s: %s (%s)\n\n", s.ID, text(s.Title.In(lang)), p.Sprintf("%d points", s.Points))
		if !s.Graded() {
			b.WriteString(p.Sprintf("Nothing to save: `lab check` proves this step against your lab's cluster\nand records it in `%s`, from which the GitHub workflow scores it.", record.FileName) + "\n")
			continue
		}
		b.WriteString(p.Sprintf("- Save: %s", answersFiles(p, s)) + "\n")
		if how := s.Produce.In(lang); how != "" {
			b.WriteString(p.Sprintf("- How: %s", code(oneLine(how))) + "\n")
		}
		b.WriteString(p.Sprintf("- Check: `lab check%s %s`", flag, s.ID) + "\n")
		if len(s.Live) > 0 {
			b.WriteString(p.Sprintf("- Also checked against your lab's cluster when it is up.") + "\n")
		}
	}
	return b.String()
}

func oneLine(s string) string { return strings.Join(strings.Fields(s), " ") }

// text escapes what markdown would take for markup in a spec's words:
// "/proc/<pid>/root" must not become an HTML tag that GitHub hides.
var mdEscaper = strings.NewReplacer("<", `\<`, ">", `\>`, "|", `\|`, "*", `\*`, "_", `\_`, "`", "\\`")

func text(s string) string { return mdEscaper.Replace(oneLine(s)) }

// code puts a command in a code span, fenced with more backticks than it
// holds.
func code(s string) string {
	fence := "`"
	for strings.Contains(s, fence) {
		fence += "`"
	}
	if strings.HasPrefix(s, "`") || strings.HasSuffix(s, "`") {
		s = " " + s + " "
	}
	return fence + s + fence
}

func workflow(a *spec.Assignment, flag, version string) string {
	return `# GitHub Classroom autograding for "` + oneLine(title(a, i18n.English)) + `", written by lab init.
# On every push it grades the files in answers/ with lab check, offline (no
# cluster is needed), shows lab's report in the log, and reports the score to
# GitHub Classroom through its grading reporter. It grades against the lab
# record answers/` + record.FileName + ` that lab check writes when the student's
# cluster answers; without one, the report says the answers were not checked
# against a cluster. To fail a hand-in without a record, add --require-record
# to both lab check lines below (or set record: required in the assignment).
name: Autograding Tests
on:
  - push
  - workflow_dispatch
  - repository_dispatch
permissions:
  checks: write
  actions: read
  contents: read
jobs:
  run-autograding-tests:
    # The reporter finds the check run by this name.
    name: Autograding Tests
    runs-on: ubuntu-latest
    if: github.actor != 'github-classroom[bot]'
    steps:
      - uses: actions/checkout@v4
      - uses: actions/setup-go@v5
        with:
          go-version: "1.26"
          cache: false
      - name: Install lab
        # One fixed version for the whole course: a later release cannot
        # change a grade a student already has.
        run: go install ` + Module + `/cmd/lab@` + version + `
      - name: Grade answers/
        id: lab
        run: |
          lab="$(go env GOPATH)/bin/lab"
          # The report a student reads; a failed step must not stop the job
          # before the score is reported.
          "$lab" check --offline` + flag + ` || true
          set +e
          "$lab" check --format classroom --offline` + flag + ` > lab-result.json
          code=$?
          set -e
          # 0: all passed, 1: a step failed, 2: an answer was unreadable;
          # all three are graded. Anything else, or no result, is a broken
          # setup (a mistake in the assignment, lab not installed).
          if [ "$code" -gt 2 ] || [ ! -s lab-result.json ]; then
            echo "lab check could not grade answers/ (exit code $code)" >&2
            exit 1
          fi
          echo "result=$(base64 -w 0 lab-result.json)" >> "$GITHUB_OUTPUT"
      - name: Autograding Reporter
        uses: classroom-resources/autograding-grading-reporter@v1
        env:
          LAB_RESULTS: "${{ steps.lab.outputs.result }}"
        with:
          runners: lab
`
}

// gitignore keeps answers tracked: they are what is handed in, a .pcap
// included.
const gitignore = `# Written by lab init. Everything in answers/ is handed in (a step-5.pcap
# too): do not ignore it. Only what editors, systems and the grading
# workflow leave behind is ignored. answers/` + record.FileName + `, which lab check
# writes, is handed in with the answers: keep it.
.DS_Store
Thumbs.db
*.swp
*~
.idea/
.vscode/
/bin/
/lab-result.json
!/answers/` + record.FileName + `
`
