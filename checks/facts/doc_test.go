package facts

import (
	"fmt"
	"strings"
	"testing"

	"github.com/k8s-debug-lab/lab/internal/golden"
)

// docPath is the README's list of facts, kept in step with the extractors
// by this test so that an instructor never reads about a fact that is not
// there (or misses one that is).
const docPath = "../../docs/facts.md"

func renderDoc() string {
	var b strings.Builder
	b.WriteString("# Facts a spec may test\n\n")
	b.WriteString("Generated from the extractors by `go test ./checks/facts -update`; do not edit by hand.\n")
	b.WriteString("Each step of an assignment names a `parser`; its `diagnose` and `require` rules test the facts that parser reports.\n")
	for _, name := range Names() {
		e, _ := Lookup(name)
		fmt.Fprintf(&b, "\n## `%s`\n\n%s\n\n| fact | meaning |\n|------|---------|\n", name, e.Help())
		for _, d := range e.Facts() {
			fmt.Fprintf(&b, "| `%s` | %s |\n", d.Name, strings.ReplaceAll(d.Help, "|", `\|`))
		}
	}
	return b.String()
}

func TestDocInStep(t *testing.T) {
	got := renderDoc()
	golden.Check(t, docPath, got)
}

// Every extractor documents line, unknown and error, the facts every
// spec may rely on whatever the parser.
func TestExtractorsDocumentCommonFacts(t *testing.T) {
	for _, name := range Names() {
		e, _ := Lookup(name)
		for _, f := range []string{"line", "unknown", "error"} {
			if !Documents(e, f) {
				t.Errorf("extractor %s does not document fact %q", name, f)
			}
		}
		seen := map[string]bool{}
		for _, d := range e.Facts() {
			if seen[d.Name] {
				t.Errorf("extractor %s documents %q twice", name, d.Name)
			}
			seen[d.Name] = true
			if d.Help == "" {
				t.Errorf("extractor %s: fact %q has no help", name, d.Name)
			}
		}
	}
}
