package lessons

import (
	"regexp"
	"strconv"
	"strings"

	"github.com/yuin/goldmark"
	"github.com/yuin/goldmark/ast"
	"github.com/yuin/goldmark/text"
)

// Block is a code block a lesson marks runnable: the commands a student
// copies into a terminal on their own machine, in the order the lesson
// gives them, with the lab's facts filled in. The end-to-end test runs
// them on a real node, so that a lesson whose printed command does not
// produce a passing answer fails.
//
// A lesson marks a block with attributes after the language of its fence:
//
//	```sh {run}                                   each line runs, in order, and must exit 0
//	```sh {run background ready="listening on"}   each line starts and runs on (a capture);
//	                                              the next block waits for ready, which the
//	                                              command prints or writes to its answers file
//	```sh {run background exit="130"}             exit 130 is success too (strace after an
//	                                              interrupt); any block may say so
//
// A foreground block that follows background ones runs while they listen
// (lab traffic while tcpdump captures); they must have ended, by
// themselves, before the block after it. Commands typed inside an
// interactive shell are never marked: the lesson prints a
// non-interactive alternative, and marks that one.
type Block struct {
	// Lines are the commands, one a line, without blank lines and
	// whole-line comments.
	Lines []string
	// Background: the lines start and run on while later blocks run.
	Background bool
	// Ready is what a background command prints once it listens.
	Ready string
	// Exit is an exit code that counts as success besides 0; 0 is none.
	Exit int
}

// attribute is one key or key="value" in a fence's {…}.
var attribute = regexp.MustCompile(`([a-z]+)(?:="([^"]*)")?`)

// Runnable returns the blocks of md marked {run}, in order.
func Runnable(md string) []Block {
	src := []byte(md)
	doc := goldmark.New().Parser().Parse(text.NewReader(src))
	var out []Block
	_ = ast.Walk(doc, func(n ast.Node, entering bool) (ast.WalkStatus, error) {
		fc, ok := n.(*ast.FencedCodeBlock)
		if !entering || !ok || fc.Info == nil {
			return ast.WalkContinue, nil
		}
		b, ok := parseInfo(string(fc.Info.Segment.Value(src)))
		if !ok {
			return ast.WalkSkipChildren, nil
		}
		segs := fc.Lines()
		for i := 0; i < segs.Len(); i++ {
			seg := segs.At(i)
			line := strings.TrimSpace(string(seg.Value(src)))
			if line == "" || strings.HasPrefix(line, "#") {
				continue
			}
			b.Lines = append(b.Lines, line)
		}
		out = append(out, b)
		return ast.WalkSkipChildren, nil
	})
	return out
}

// parseInfo reads a fence's info string, "sh {run background
// ready=\"listening on\"}"; ok is false for a block not marked run.
func parseInfo(info string) (b Block, ok bool) {
	open := strings.IndexByte(info, '{')
	end := strings.LastIndexByte(info, '}')
	if open < 0 || end < open {
		return Block{}, false
	}
	for _, m := range attribute.FindAllStringSubmatch(info[open+1:end], -1) {
		switch m[1] {
		case "run":
			ok = true
		case "background":
			b.Background = true
		case "ready":
			b.Ready = m[2]
		case "exit":
			b.Exit, _ = strconv.Atoi(m[2])
		}
	}
	return b, ok
}
