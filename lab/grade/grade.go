// Package grade grades a whole class: a folder of submissions, one per
// student, each graded by the same checks.Grade a student runs, in
// parallel, into one class report (a table, CSV and JSON, and each
// student's own report with its hints), with likely copying flagged.
//
// It is the library behind `lab grade`; the command only parses flags and
// writes files. Grading is offline (the students' clusters are gone by the
// time an instructor grades), never writes into a submission, and never
// stops for one bad submission: an unreadable, half-missing or oddly
// encoded one is graded as far as it goes, with what was wrong, and the
// class run goes on.
package grade

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"regexp"
	"runtime"
	"slices"
	"sort"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/k8s-debug-lab/lab/checks"
	"github.com/k8s-debug-lab/lab/checks/facts/fingerprint"
	"github.com/k8s-debug-lab/lab/checks/spec"
	"github.com/k8s-debug-lab/lab/internal/i18n"
	"github.com/k8s-debug-lab/lab/lab/record"
)

// Kind is the class report document's kind.
const Kind = "ClassReport"

// Submission is one student's folder.
type Submission struct {
	// Name is the student: the folder's name.
	Name string
	// Dir is the folder.
	Dir string
	// Answers is the answers folder found in it; empty when none was.
	Answers string
	// Problems say what was wrong with the folder itself.
	Problems []string
}

// Ignored is an entry of the submissions folder that is not a submission.
type Ignored struct {
	Name   string `json:"name"`
	Reason string `json:"reason"`
}

// answerFile matches the answers files of any lab assignment, so that an
// answers folder is recognised even when it holds none of this spec's.
var answerFile = regexp.MustCompile(`^(step-[0-9]+|star)\.(txt|log|pcap|pcapng)$`)

var archive = regexp.MustCompile(`(?i)\.(zip|tar|tgz|tar\.gz|tar\.xz|tar\.bz2|7z|rar)$`)

// class reads a submissions folder through an os.Root: a link is followed
// only while it stays inside the class folder, so no submission can make
// lab list, open or quote what lies outside it (an instructor's files, /etc).
// Paths are relative to the class folder, slash-separated.
type class struct {
	root *os.Root
	dir  string // the class folder as given, to name submissions by
}

// stat follows links inside the class.
func (c class) stat(rel string) (fs.FileInfo, error) { return c.root.Stat(rel) }

// readDir lists a folder; anything else (a FIFO would block an open) is
// refused before it is opened.
func (c class) readDir(rel string) ([]fs.DirEntry, error) {
	fi, err := c.stat(rel)
	if err != nil {
		return nil, err
	}
	if !fi.IsDir() {
		return nil, fmt.Errorf("%s is not a folder", rel)
	}
	f, err := c.root.Open(rel)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	return f.ReadDir(-1)
}

// linkProblem says why a link could not be followed, or "" when err is no
// link's fault.
func linkProblem(err error) string {
	switch {
	case errors.Is(err, syscall.ELOOP):
		return "a link that loops"
	case err != nil && strings.Contains(err.Error(), "escapes"):
		return "a link to outside the class folder: not followed"
	}
	return ""
}

// looksLikeAnswers reports whether the folder rel holds answers files
// directly. It lists the folder once and opens nothing in it.
func (c class) looksLikeAnswers(rel string, names map[string]bool) bool {
	entries, err := c.readDir(rel)
	if err != nil {
		return false
	}
	for _, e := range entries {
		if names[e.Name()] || answerFile.MatchString(e.Name()) {
			return true
		}
	}
	return false
}

// Discover lists the submissions in root: each folder in it is one
// student's, holding an answers/ folder (a repository made with lab init),
// or being an answers folder itself (a download of just the files), or
// wrapping one of those in a single folder (an unpacked archive:
// alice/lab-main/answers). Entries that are not folders are listed as
// ignored, hidden ones (.git) skipped. A link is followed only while it
// stays inside root: one that leaves it is a submission with that problem
// (so the instructor sees it), one that loops is ignored. An error means
// root itself cannot be graded: it does not exist, or it is one student's
// answers.
func Discover(root string, a *spec.Assignment) ([]Submission, []Ignored, error) {
	fi, err := os.Stat(root)
	switch {
	case errors.Is(err, fs.ErrNotExist):
		return nil, nil, fmt.Errorf("no folder %s: give the folder that holds one folder per student", root)
	case err != nil:
		return nil, nil, fmt.Errorf("cannot read %s: %w", root, err)
	case !fi.IsDir():
		return nil, nil, fmt.Errorf("%s is not a folder: give the folder that holds one folder per student (unpack an archive first)", root)
	}
	r, err := os.OpenRoot(root)
	if err != nil {
		return nil, nil, fmt.Errorf("cannot read %s: %w", root, err)
	}
	defer r.Close()
	c := class{root: r, dir: root}
	names := map[string]bool{}
	for _, s := range a.Steps {
		for _, f := range s.Files {
			names[f] = true
		}
	}
	if fi, err := c.stat(checks.AnswersDir); c.looksLikeAnswers(".", names) || (err == nil && fi.IsDir()) {
		return nil, nil, fmt.Errorf("%s looks like one student's work, not a class: grade it with lab check --answers, or give lab grade the folder that holds one folder per student", root)
	}
	entries, err := c.readDir(".")
	if err != nil {
		return nil, nil, fmt.Errorf("cannot list %s: %w", root, err)
	}
	var subs []Submission
	var ignored []Ignored
	for _, e := range entries {
		name := e.Name()
		if strings.HasPrefix(name, ".") {
			continue
		}
		dir := filepath.Join(root, name)
		fi, err := c.stat(name)
		if p := linkProblem(err); p != "" {
			if errors.Is(err, syscall.ELOOP) {
				ignored = append(ignored, Ignored{Name: name, Reason: p})
			} else {
				subs = append(subs, Submission{Name: name, Dir: dir, Problems: []string{name + " is " + p}})
			}
			continue
		}
		if err != nil || !fi.IsDir() {
			reason := "not a folder"
			if archive.MatchString(name) {
				reason = "an archive: unpack it into a folder of its own"
			}
			ignored = append(ignored, Ignored{Name: name, Reason: reason})
			continue
		}
		subs = append(subs, c.locate(Submission{Name: name, Dir: dir}, names))
	}
	sort.Slice(subs, func(i, j int) bool { return subs[i].Name < subs[j].Name })
	return subs, ignored, nil
}

// locate finds the answers folder inside one submission.
func (c class) locate(s Submission, names map[string]bool) Submission {
	find := func(rel string) (string, bool) {
		ans := path.Join(rel, checks.AnswersDir)
		fi, err := c.stat(ans)
		if p := linkProblem(err); p != "" {
			s.Problems = append(s.Problems, "answers is "+p)
			return "", true
		}
		if err == nil {
			if fi.IsDir() {
				return ans, true
			}
			s.Problems = append(s.Problems, "answers is not a folder")
			return "", true
		}
		if c.looksLikeAnswers(rel, names) {
			return rel, true
		}
		return "", false
	}
	abs := func(rel string) string { return filepath.Join(c.dir, filepath.FromSlash(rel)) }
	if ans, ok := find(s.Name); ok {
		if ans != "" {
			s.Answers = abs(ans)
		}
		return s
	}
	// One folder inside, nothing else: an unpacked archive's wrapper.
	if entries, err := c.readDir(s.Name); err == nil {
		var only string
		n := 0
		for _, e := range entries {
			if strings.HasPrefix(e.Name(), ".") {
				continue
			}
			n++
			inner := path.Join(s.Name, e.Name())
			fi, err := c.stat(inner)
			if p := linkProblem(err); p != "" {
				s.Problems = append(s.Problems, e.Name()+" is "+p)
				continue
			}
			if err == nil && fi.IsDir() {
				only = inner
			}
		}
		if n == 1 && only != "" {
			if ans, ok := find(only); ok {
				if ans != "" {
					s.Answers = abs(ans)
				}
				return s
			}
		}
	} else {
		s.Problems = append(s.Problems, fmt.Sprintf("cannot list the folder: %v", errors.Unwrap(err)))
		return s
	}
	s.Problems = append(s.Problems, "no answers folder: expected answers/ holding the answers files, or the files themselves")
	return s
}

// Options tune a class run.
type Options struct {
	// Jobs is how many submissions are graded at once; 0 means one per
	// CPU. Grading is CPU-bound: more jobs than cores only adds memory.
	Jobs int
	// Progress, when set, is called after each submission with how many
	// are done; calls come from one goroutine at a time.
	Progress func(done, total int)
	// Now stamps the report; zero means time.Now (tests pin it).
	Now time.Time
	// Lang is the language of the students' reports (titles, messages,
	// hints); English when empty.
	Lang i18n.Lang
	// RequireRecord fails every step of a submission without a lab
	// record, as the spec's record: required does.
	RequireRecord bool
	// LabVersion is the grading lab's version, recorded in the class's
	// report and every student's.
	LabVersion string
}

// Student is one submission's verdict.
type Student struct {
	// Name is the student (the submission folder's name).
	Name string `json:"name"`
	// Answers is the answers folder graded, relative to the submissions
	// folder; empty when none was found.
	Answers   string `json:"answers"`
	Points    int    `json:"points"`
	MaxPoints int    `json:"maxPoints"`
	// Problems say what was wrong with the submission as a whole.
	Problems []string `json:"problems,omitempty"`
	// Copy names the group of likely copies this student is in.
	Copy *CopyRef `json:"copy,omitempty"`
	// Seed is what this student's answers share with the assignment's
	// sample write-up, when that is enough to call them copied.
	Seed *Match `json:"seed,omitempty"`
	// Verification says whether the answers were checked against the
	// student's cluster (through the lab record a live lab check writes).
	Verification Verification `json:"verification"`
	// ReportFile is the student's own report, relative to the output
	// folder, once written.
	ReportFile string `json:"reportFile,omitempty"`
	// Report is the same report lab check gives the student.
	Report *checks.Report `json:"report"`

	fingerprints []stepFingerprints
}

// VerificationStatus says how far a hand-in was checked against the
// cluster it was made on.
type VerificationStatus string

// The verification statuses a student can have.
const (
	// Unverified: no lab record; the answers were graded alone.
	Unverified VerificationStatus = "unverified"
	// Verified: a lab record that agrees with the answers.
	Verified VerificationStatus = "verified"
	// Incoherent: the record and the answers, or the answers among
	// themselves, disagree.
	Incoherent VerificationStatus = "incoherent"
)

// Verification is a student's VerificationStatus with why.
type Verification struct {
	Status VerificationStatus `json:"status"`
	// Recorded is when the record was written (a live lab check); zero
	// without one.
	Recorded time.Time `json:"recorded,omitzero"`
	// Context is the kubeconfig context the record was made in.
	Context string `json:"context,omitempty"`
	// Problems say what disagrees (Incoherent) or why there is no record.
	Problems []string `json:"problems,omitempty"`
}

// noRecord is why a student without a lab record is unverified.
const noRecord = "no lab record: the answers were not checked against a cluster"

// verify makes a student's Verification from the lab record (nil: none)
// and what disagrees: the record's reader's problems and, appended by
// whatever else checks the answers against each other, any other. A
// disagreement makes the student incoherent, with or without a record.
func verify(rec *record.Record, problems []string) Verification {
	v := Verification{Status: Verified, Problems: problems}
	if rec != nil {
		v.Recorded, v.Context = rec.Recorded, rec.Cluster.Context
	}
	switch {
	case len(problems) > 0:
		v.Status = Incoherent
	case rec == nil:
		v.Status, v.Problems = Unverified, []string{noRecord}
	}
	return v
}

// stepFingerprints are one answers file's fingerprints.
type stepFingerprints struct {
	step, file, parser string
	fps                []fingerprint.Fingerprint
	hash               string
	lines              int
}

// StepSummary counts one step's verdicts across the class.
type StepSummary struct {
	Step      string `json:"step"`
	Title     string `json:"title"`
	MaxPoints int    `json:"maxPoints"`
	Passed    int    `json:"passed"`
	Failed    int    `json:"failed"`
	Skipped   int    `json:"skipped"`
	Errors    int    `json:"errors"`
}

// Class is the verdict on a whole class.
type Class struct {
	APIVersion string `json:"apiVersion"`
	Kind       string `json:"kind"`
	Assignment string `json:"assignment"`
	Source     string `json:"source"`
	// AssignmentDigest and LabVersion name what graded the class (see
	// checks.Report): regrading with the same pair gives the same grades.
	AssignmentDigest string `json:"assignmentDigest"`
	LabVersion       string `json:"labVersion"`
	// Submissions is the submissions folder as given.
	Submissions string    `json:"submissions"`
	Offline     bool      `json:"offline"`
	Graded      time.Time `json:"graded"`
	// MaxPoints is what a student can earn; OfflineMaxPoints what an
	// offline run can award (live-only steps are skipped).
	MaxPoints        int           `json:"maxPoints"`
	OfflineMaxPoints int           `json:"offlineMaxPoints"`
	Steps            []StepSummary `json:"steps"`
	Students         []Student     `json:"students"`
	// Copies are groups of submissions that share values random per
	// cluster.
	Copies  []Group   `json:"copies"`
	Ignored []Ignored `json:"ignored,omitempty"`
	// Verification counts the students by VerificationStatus.
	Verification VerificationCounts `json:"verification"`
}

// VerificationCounts count a class's students by VerificationStatus.
type VerificationCounts struct {
	Verified   int `json:"verified"`
	Unverified int `json:"unverified"`
	Incoherent int `json:"incoherent"`
}

// Run discovers and grades every submission in root.
func Run(ctx context.Context, a *spec.Assignment, root string, opts Options) (*Class, error) {
	subs, ignored, err := Discover(root, a)
	if err != nil {
		return nil, err
	}
	if len(subs) == 0 {
		return nil, fmt.Errorf("no submissions in %s: it should hold one folder per student, each with that student's answers/", root)
	}
	c, err := Grade(ctx, a, root, subs, opts)
	if err != nil {
		return nil, err
	}
	c.Ignored = ignored
	return c, nil
}

// Grade grades the given submissions of the folder root, at most
// opts.Jobs at a time, and looks for copies among them and of the
// assignment's sample write-up.
func Grade(ctx context.Context, a *spec.Assignment, root string, subs []Submission, opts Options) (*Class, error) {
	jobs := opts.Jobs
	if jobs <= 0 {
		jobs = runtime.NumCPU()
	}
	jobs = min(jobs, max(len(subs), 1))
	now := opts.Now
	if now.IsZero() {
		now = time.Now().UTC().Truncate(time.Second)
	}
	c := &Class{
		APIVersion: spec.APIVersion, Kind: Kind, Assignment: a.Name, Source: a.Source,
		AssignmentDigest: a.Digest, LabVersion: opts.LabVersion, Submissions: root, Offline: true, Graded: now, MaxPoints: a.MaxPoints(),
		Students: make([]Student, len(subs)), Copies: []Group{},
	}
	for _, s := range a.Steps {
		c.Steps = append(c.Steps, StepSummary{Step: s.ID, Title: s.Title.In(opts.Lang), MaxPoints: s.Points})
		if s.Graded() {
			c.OfflineMaxPoints += s.Points
		}
	}

	// The answers are opened through the class folder's root, like
	// Discover looks at them: a link out of the class is never followed.
	r, err := os.OpenRoot(root)
	if err != nil {
		return nil, fmt.Errorf("cannot read %s: %w", root, err)
	}
	defer r.Close()

	work := make(chan int)
	done := make(chan int)
	var wg sync.WaitGroup
	for range jobs {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range work {
				c.Students[i] = gradeOne(ctx, a, r, root, subs[i], opts.RequireRecord || a.Record == spec.RecordRequired, opts.LabVersion, opts.Lang)
				done <- i
			}
		}()
	}
	go func() {
		defer close(work)
		for i := range subs {
			select {
			case work <- i:
			case <-ctx.Done():
				return
			}
		}
	}()
	go func() { wg.Wait(); close(done) }()
	n := 0
	for range done {
		n++
		if opts.Progress != nil {
			opts.Progress(n, len(subs))
		}
	}
	if err := ctx.Err(); err != nil {
		return nil, fmt.Errorf("grading stopped after %d of %d submissions: %w", n, len(subs), err)
	}

	for i := range c.Students {
		switch c.Students[i].Verification.Status {
		case Verified:
			c.Verification.Verified++
		case Incoherent:
			c.Verification.Incoherent++
		default:
			c.Verification.Unverified++
		}
		for j, r := range c.Students[i].Report.Results {
			sum := &c.Steps[j]
			switch r.Status {
			case checks.Pass:
				sum.Passed++
			case checks.Fail:
				sum.Failed++
			case checks.Skip:
				sum.Skipped++
			case checks.Error:
				sum.Errors++
			}
		}
	}
	detectCopies(c, a)
	return c, nil
}

// gradeOne grades one submission; it never fails: what goes wrong is
// reported in the student's results and problems.
func gradeOne(ctx context.Context, a *spec.Assignment, class *os.Root, root string, s Submission, requireRecord bool, labVersion string, lang i18n.Lang) (st Student) {
	st = Student{Name: s.Name, Problems: slices.Clone(s.Problems), MaxPoints: a.MaxPoints(),
		Verification: verify(nil, nil)}
	// name is how reports show the answers folder: escaped, as it may hold
	// any byte a folder name can.
	name := Printable(path.Join(filepath.ToSlash(relTo(root, s.Dir)), checks.AnswersDir))
	var fsys fs.FS = checks.NoAnswers
	if s.Answers != "" {
		rel := filepath.ToSlash(relTo(root, s.Answers))
		name = Printable(rel)
		st.Answers = rel
		// Opened inside the class folder's root: neither the answers
		// folder nor a link in it leads out of the class.
		r, err := class.OpenRoot(rel)
		if err != nil {
			st.Problems = append(st.Problems, fmt.Sprintf("cannot read the answers folder: %v", err))
		} else {
			defer r.Close()
			fsys = r.FS()
		}
	}
	defer func() {
		// Parsers never panic on any input (they are fuzzed); if one
		// does, it costs this student's report, not the class run.
		if p := recover(); p != nil {
			st.Problems = append(st.Problems, fmt.Sprintf("lab failed grading this submission (a bug in lab; please report it): %v", p))
			st.Report = emptyReport(a, name, labVersion)
		}
	}()
	// The grader reads each answers file once; the fingerprints are taken
	// from the same bytes, so a class is read from disk once.
	rec := &recordFS{FS: fsys, files: map[string]*recorded{}}
	// A record that cannot be used (another assignment, damaged) is a
	// disagreement: the answers are graded without it.
	var disagree []string
	labRec, err := record.Read(fsys, a)
	switch {
	case errors.Is(err, record.ErrNone):
		labRec = nil
	case err != nil:
		labRec, disagree = nil, append(disagree, err.Error())
	}
	var rep *checks.Report
	out, err := record.Grade(ctx, a, nil, checks.Options{Answers: rec, AnswersName: name, LabVersion: labVersion, Lang: lang}, labRec, requireRecord)
	if err != nil {
		st.Problems = append(st.Problems, err.Error())
		rep = emptyReport(a, name, labVersion)
	} else {
		rep = out.Report
		disagree = append(disagree, out.Problems...)
		// Answers that contradict each other are incoherent whether or
		// not a record came with them.
		for _, d := range rep.Disagreements {
			disagree = append(disagree, d.Message)
		}
	}
	st.Verification = verify(labRec, disagree)
	st.Report = rep
	st.Points = rep.Summary.Points
	for _, step := range a.Steps {
		for _, file := range step.Files {
			r, ok := rec.files[file]
			if !ok {
				continue
			}
			fps, info := fingerprint.Read(step.Parser, r.data)
			st.fingerprints = append(st.fingerprints, stepFingerprints{step: step.ID, parser: step.Parser, file: path.Join(name, file), fps: fps, hash: info.Hash, lines: info.Lines})
			break
		}
	}
	return st
}

// recordFS is an answers folder that keeps the first MaxScanBytes of each
// file the grader reads, for fingerprinting.
type recordFS struct {
	fs.FS
	files map[string]*recorded
}

type recorded struct{ data []byte }

func (r *recordFS) Open(name string) (fs.File, error) {
	f, err := r.FS.Open(name)
	if err != nil {
		return nil, err
	}
	rec := &recorded{}
	if fi, err := f.Stat(); err == nil && fi.Mode().IsRegular() {
		rec.data = make([]byte, 0, min(fi.Size(), fingerprint.MaxScanBytes))
	}
	r.files[name] = rec
	return &recordFile{File: f, rec: rec}, nil
}

// Stat keeps fs.Stat from opening (and so recording) a file.
func (r *recordFS) Stat(name string) (fs.FileInfo, error) { return fs.Stat(r.FS, name) }

type recordFile struct {
	fs.File
	rec *recorded
}

func (f *recordFile) Read(p []byte) (int, error) {
	n, err := f.File.Read(p)
	if room := fingerprint.MaxScanBytes - len(f.rec.data); room > 0 && n > 0 {
		f.rec.data = append(f.rec.data, p[:min(n, room)]...)
	}
	return n, err
}

func emptyReport(a *spec.Assignment, name, labVersion string) *checks.Report {
	return &checks.Report{
		APIVersion: spec.APIVersion, Kind: "CheckReport", Assignment: a.Name, Source: a.Source,
		AssignmentDigest: a.Digest, LabVersion: labVersion, Answers: name, Offline: true, Results: []checks.Result{},
	}
}

// relTo names p relative to root, for reports that read the same on any
// machine.
func relTo(root, p string) string {
	if r, err := filepath.Rel(root, p); err == nil {
		return r
	}
	return p
}
