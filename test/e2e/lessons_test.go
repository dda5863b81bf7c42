//go:build e2e

package e2e

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/k8s-debug-lab/lab/assets"
	"github.com/k8s-debug-lab/lab/checks/spec"
	"github.com/k8s-debug-lab/lab/lessons"
)

// The lessons are tests: a student copies the commands of every lesson in
// turn, and each step must then pass lab check live. lessonRunner renders
// each lesson for the live lab (lab lesson N --plain), takes the code
// blocks the lesson marks runnable ({run}, see lessons.Runnable), runs
// their lines in a shell from a folder of its own, the way a student pastes
// them, and runs lab check on the lesson's step. Commands the lessons type
// inside an interactive shell are not marked; the lessons print the
// non-interactive alternative next to them, and that one is.
//
// English and Russian lessons share their code blocks and attributes (a
// unit test in ./lessons holds them equal), so the English ones stand for
// both.

// lessonCommandTimeout bounds one pasted line: lab up and the image pulls
// are done by then, a capture stops itself within a minute.
const lessonCommandTimeout = 3 * time.Minute

func lessonRunner(t *testing.T, e *env) {
	dir := t.TempDir()
	if err := os.Mkdir(filepath.Join(dir, "answers"), 0o755); err != nil {
		t.Fatal(err)
	}
	// The student's PATH has lab and kubectl; KUBECONFIG points at the
	// harness's cluster as a student's points at theirs.
	environ := append(os.Environ(),
		"KUBECONFIG="+e.kubeconfig, "LAB_PROVIDER=existing",
		"PATH="+filepath.Dir(e.lab)+string(os.PathListSeparator)+filepath.Dir(e.kubectl)+string(os.PathListSeparator)+os.Getenv("PATH"),
	)
	a, err := spec.Load(assets.Lab(), assets.BuiltinSource)
	if err != nil {
		t.Fatal(err)
	}
	ids := []string{"intro", "step-1", "step-2", "step-3", "step-4", "step-5", "step-6", "step-7", "star"}
	start := time.Now()
	for _, id := range ids {
		ok := t.Run(id, func(t *testing.T) {
			lessonStart := time.Now()
			md := labOK(t, e, time.Minute, "lesson", id, "--plain", "--lang", "en")
			blocks := lessons.Runnable(md)
			r := &lessonShell{t: t, dir: dir, env: environ}
			for _, b := range blocks {
				r.block(b)
			}
			r.waitBackground()
			if _, graded := a.Step(id); graded {
				rep, code, out := labCheck(t, e, filepath.Join(dir, "answers"), id)
				if code != 0 || rep.Offline || len(rep.Results) != 1 || rep.Results[0].Status != "pass" {
					t.Errorf("after lesson %s's commands, lab check %s: exit %d, offline %v:\n%s", id, id, code, rep.Offline, out)
				}
			}
			t.Logf("lesson %s: %d runnable blocks, %s", id, len(blocks), time.Since(lessonStart).Round(time.Millisecond))
		})
		if !ok && (id == "step-2" || id == "step-3") {
			t.Fatalf("lesson %s failed; the later lessons need its debug container and PIDs", id)
		}
	}
	t.Logf("every lesson's commands: %s", time.Since(start).Round(time.Millisecond))
	if os.Getenv("LAB_E2E_UPDATE") == "1" {
		entries, _ := os.ReadDir(filepath.Join(dir, "answers"))
		for _, en := range entries {
			b, err := os.ReadFile(filepath.Join(dir, "answers", en.Name()))
			if err == nil {
				writeFile(t, filepath.Join(e.captured, "lesson-"+en.Name()), string(b))
			}
		}
	}
}

// lessonShell runs a lesson's lines as a student's terminals would.
type lessonShell struct {
	t          *testing.T
	dir        string
	env        []string
	background []*background
	allowed    []int // per background command, the exit code its block allows
}

var redirect = regexp.MustCompile(`>\s*(answers/\S+)`)

func (r *lessonShell) block(b lessons.Block) {
	r.t.Helper()
	if !b.Background {
		// A foreground block is what the student types once the captures
		// started before it listen; the captures end before the next one.
		defer r.waitBackground()
	}
	for _, line := range b.Lines {
		if b.Background {
			r.start(line, b)
			continue
		}
		r.run(line, b.Exit)
	}
}

func (r *lessonShell) command(ctx context.Context, line string) *exec.Cmd {
	cmd := exec.CommandContext(ctx, "bash", "-c", line)
	cmd.Dir, cmd.Env = r.dir, r.env
	return cmd
}

// success: the command ended well, or with the exit code its block
// allows.
func success(err error, allowed int) bool {
	var ee *exec.ExitError
	return err == nil || allowed != 0 && errors.As(err, &ee) && ee.ExitCode() == allowed
}

func (r *lessonShell) run(line string, allowed int) {
	r.t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), lessonCommandTimeout)
	defer cancel()
	cmd := r.command(ctx, line)
	var out lockedBuffer
	cmd.Stdout, cmd.Stderr = &out, &out
	start := time.Now()
	err := cmd.Run()
	r.t.Logf("$ %s\n%s(%s)", line, tail(out.String(), 15)+"\n", time.Since(start).Round(time.Millisecond))
	if !success(err, allowed) {
		r.t.Errorf("the lesson's command failed: %s: %v\n%s", line, err, tail(out.String(), 30))
	}
}

// start runs a capture in the background and returns once it says ready
// (on the terminal, or in the answers file it writes).
func (r *lessonShell) start(line string, blk lessons.Block) {
	r.t.Helper()
	cmd := r.command(context.Background(), line)
	b := &background{cmd: cmd, out: &lockedBuffer{}, done: make(chan error, 1)}
	cmd.Stdout, cmd.Stderr = b.out, b.out
	if err := cmd.Start(); err != nil {
		r.t.Fatal(err)
	}
	go func() { b.done <- cmd.Wait() }()
	r.background = append(r.background, b)
	r.allowed = append(r.allowed, blk.Exit)
	ready := blk.Ready
	r.t.Logf("$ %s &", line)
	if ready == "" {
		return
	}
	var files []string
	for _, m := range redirect.FindAllStringSubmatch(line, -1) {
		files = append(files, filepath.Join(r.dir, m[1]))
	}
	waitFor(r.t, time.Minute, fmt.Sprintf("%q from %s", ready, line), func() bool {
		if strings.Contains(b.out.String(), ready) {
			return true
		}
		for _, f := range files {
			if s, err := os.ReadFile(f); err == nil && strings.Contains(string(s), ready) {
				return true
			}
		}
		return false
	})
}

func (r *lessonShell) waitBackground() {
	r.t.Helper()
	for i, b := range r.background {
		select {
		case err := <-b.done:
			r.t.Logf("%s ended (%v):\n%s", b.cmd.Args[2], err, tail(b.out.String(), 10))
			if !success(err, r.allowed[i]) {
				r.t.Errorf("the lesson's capture failed: %s: %v\n%s", b.cmd.Args[2], err, tail(b.out.String(), 30))
			}
		case <-time.After(2 * time.Minute):
			b.cmd.Process.Kill()
			<-b.done
			r.t.Errorf("the lesson's capture did not stop by itself within 2m: %s", b.cmd.Args[2])
		}
	}
	r.background, r.allowed = nil, nil
}
