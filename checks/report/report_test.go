package report

import (
	"bytes"
	"context"
	"encoding/json"
	"encoding/xml"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/k8s-debug-lab/lab/assets"
	"github.com/k8s-debug-lab/lab/checks/spec"
	"github.com/k8s-debug-lab/lab/internal/golden"
	"github.com/k8s-debug-lab/lab/internal/i18n"

	"github.com/k8s-debug-lab/lab/checks"
)

// sample covers every status, a diff, an encoding note and a skipped step.
func sample() *checks.Report {
	rep := &checks.Report{
		APIVersion: "lab/v1", Kind: "CheckReport", Lang: "en", Assignment: "kubernetes-debug",
		AssignmentDigest: "sha256:9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08", LabVersion: "v1.2.3",
		Source: "built-in", Answers: "answers", Offline: true,
		Checked: checks.CheckedNothing, Notes: []string{checks.NotChecked},
	}
	results := []checks.Result{
		{Step: "step-1", Title: "A distroless nginx pod that shares its PID namespace", Status: checks.Skip, MaxPoints: 1,
			Message: "proven only against the lab's cluster; skipped offline", Hint: "run lab check without --offline where the lab's cluster answers"},
		{Step: "step-3", Title: "The nginx container's files through /proc/<pid>/root", Status: checks.Fail, MaxPoints: 2,
			File: "answers/step-3.txt", Format: "BusyBox ls -l", Message: "this is the /pause sandbox's filesystem, not nginx's",
			Hint: "PID 1 is /pause when the pod shares its PID namespace: list /proc/<nginx master PID>/root/…",
			Closest: []checks.Closest{{Want: "-rw-r--r-- <n> root root <n> Feb <n> <time> nginx.conf", Got: "-rw-r--r-- <n> root root <n> Feb <n> <time> hostname", Line: 4,
				Diff: "-rw-r--r-- <n> root root <n> Feb <n> <time> [-nginx.conf-]{+hostname+}"}}},
		{Step: "step-5", Title: "tcpdump sees the HTTP traffic on port 80", Status: checks.Pass, Points: 3, MaxPoints: 3,
			File: "answers/step-5.txt", Format: "tcpdump 4.99 text (LINUX_SLL2)", Encoding: "utf-16le"},
		{Step: "step-7", Title: "nginx's log files read on the node", Status: checks.Error, MaxPoints: 2,
			File: "answers/step-7.txt", Message: "answers/step-7.txt holds binary data, not the text a command prints",
			Hint: "save the command's text output: cat … > answers/step-7.txt"},
		{Step: "star", Title: "★ strace of the nginx worker handling a request", Status: checks.Fail, MaxPoints: 3,
			File: "answers/star.txt", Message: "answers/star.txt not found", Hint: "save it with: strace … > answers/star.txt"},
	}
	for _, r := range results {
		rep.Results = append(rep.Results, r)
		rep.Summary.Points += r.Points
		rep.Summary.MaxPoints += r.MaxPoints
		switch r.Status {
		case checks.Pass:
			rep.Summary.Passed++
		case checks.Fail:
			rep.Summary.Failed++
		case checks.Skip:
			rep.Summary.Skipped++
		case checks.Error:
			rep.Summary.Errors++
		}
	}
	return rep
}

// recorded is sample graded against a lab record: step-1 passes from it,
// and a changed file is noted.
func recorded() *checks.Report {
	rep := sample()
	at := time.Date(2026, 12, 5, 4, 30, 0, 0, time.UTC)
	rep.Checked, rep.Recorded = checks.CheckedRecord, &at
	rep.Notes = []string{"answers/step-3.txt changed after the lab record was made: run lab check where the lab's cluster answers again"}
	rep.Results[0].Status, rep.Results[0].Points = checks.Pass, 1
	rep.Results[0].Message, rep.Results[0].Hint = checks.RecordedAt(at), ""
	rep.Recount()
	return rep
}

func TestGolden(t *testing.T) {
	for _, tt := range []struct {
		format Format
		golden string
		opts   Options
		rep    func() *checks.Report
	}{
		{Text, "report.txt", Options{}, nil},
		{Text, "report.color.txt", Options{Color: true}, nil},
		{JSON, "report.json", Options{}, nil},
		{JUnit, "report.junit.xml", Options{}, nil},
		{Classroom, "report.classroom.json", Options{}, nil},
		{Text, "report.recorded.txt", Options{}, recorded},
		{JSON, "report.recorded.json", Options{}, recorded},
		{JUnit, "report.recorded.junit.xml", Options{}, recorded},
	} {
		t.Run(tt.golden, func(t *testing.T) {
			var buf bytes.Buffer
			rep := sample
			if tt.rep != nil {
				rep = tt.rep
			}
			if err := Write(&buf, tt.format, rep(), tt.opts); err != nil {
				t.Fatal(err)
			}
			path := filepath.Join("testdata", tt.golden)
			golden.Check(t, path, buf.String())
		})
	}
}

// The machine formats must stay parseable whatever the messages hold.
func TestMachineFormatsParse(t *testing.T) {
	rep := sample()
	rep.Results[1].Message = `quotes " and <tags> & ampersands ]]>`
	var buf bytes.Buffer
	if err := Write(&buf, JSON, rep, Options{}); err != nil {
		t.Fatal(err)
	}
	var back checks.Report
	if err := json.Unmarshal(buf.Bytes(), &back); err != nil {
		t.Fatalf("json does not parse: %v", err)
	}
	if diff := cmp.Diff(rep, &back); diff != "" {
		t.Errorf("json round trip (-want +got):\n%s", diff)
	}
	buf.Reset()
	if err := Write(&buf, JUnit, rep, Options{}); err != nil {
		t.Fatal(err)
	}
	var suites junitSuites
	if err := xml.Unmarshal(buf.Bytes(), &suites); err != nil {
		t.Fatalf("junit does not parse: %v", err)
	}
	if got := suites.Suites[0].Cases[1].Failure.Message; got != rep.Results[1].Message {
		t.Errorf("junit failure message = %q", got)
	}
	buf.Reset()
	if err := Write(&buf, Classroom, rep, Options{}); err != nil {
		t.Fatal(err)
	}
	var cr classroom
	if err := json.Unmarshal(buf.Bytes(), &cr); err != nil {
		t.Fatalf("classroom does not parse: %v", err)
	}
	// The skipped live step is left out of the classroom score; the note
	// that nothing was checked against a cluster comes first, worth nothing.
	if cr.MaxScore != 10 || len(cr.Tests) != 5 || cr.Status != "error" {
		t.Errorf("classroom max_score %d, %d tests, status %q; want 10, 5, error", cr.MaxScore, len(cr.Tests), cr.Status)
	}
	if len(cr.Tests) > 0 && (cr.Tests[0].Message != checks.NotChecked || cr.Tests[0].Score != 0) {
		t.Errorf("classroom first test = %+v, want the note %q worth 0", cr.Tests[0], checks.NotChecked)
	}
}

func TestParseFormat(t *testing.T) {
	for _, f := range Formats {
		if got, err := ParseFormat(string(f)); err != nil || got != f {
			t.Errorf("ParseFormat(%q) = %q, %v", f, got, err)
		}
	}
	if _, err := ParseFormat("yaml"); err == nil || !strings.Contains(err.Error(), "unknown format: yaml (want text, json, junit or classroom)") {
		t.Errorf("ParseFormat(yaml) error = %v", err)
	}
}

// What lab check prints on real answers (the write-up's, and a good
// folder), in each language: the words come from the built-in spec and
// the catalog, the machine fields of JSON stay English.
func TestCheckGolden(t *testing.T) {
	a, err := spec.Load(assets.Lab(), assets.BuiltinSource)
	if err != nil {
		t.Fatal(err)
	}
	// "empty" is a student who saved nothing yet: every file's hint.
	empty := t.TempDir()
	for _, answers := range []string{"good", "seed", "empty"} {
		for _, lang := range i18n.Langs {
			for _, f := range []Format{Text, JSON} {
				name := fmt.Sprintf("check.%s.%s.%s", answers, lang, map[Format]string{Text: "txt", JSON: "json"}[f])
				t.Run(name, func(t *testing.T) {
					dir := filepath.Join("..", "testdata", "answers", answers)
					if answers == "empty" {
						dir = empty
					}
					rep, err := checks.Grade(context.Background(), a, nil, checks.Options{
						Answers: os.DirFS(dir), AnswersName: "answers", Lang: lang,
					})
					if err != nil {
						t.Fatal(err)
					}
					var buf bytes.Buffer
					if err := Write(&buf, f, rep, Options{}); err != nil {
						t.Fatal(err)
					}
					golden.Check(t, filepath.Join("testdata", name), buf.String())
				})
			}
		}
	}
}
