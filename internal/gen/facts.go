package main

import (
	"fmt"
	"strings"

	"github.com/k8s-debug-lab/lab/checks/facts"
)

// renderFactsDoc is the list of facts the README links to, so that an
// instructor never reads about a fact that is not there (or misses one
// that is).
func renderFactsDoc() []byte {
	var b strings.Builder
	b.WriteString("# Facts a spec may test\n\n")
	b.WriteString("Generated from the extractors by `go generate ./...`; do not edit by hand.\n")
	b.WriteString("Each step of an assignment names a `parser`; its `diagnose` and `require` rules test the facts that parser reports.\n")
	for _, name := range facts.Names() {
		e, _ := facts.Lookup(name)
		fmt.Fprintf(&b, "\n## `%s`\n\n%s\n\n| fact | meaning |\n|------|---------|\n", name, e.Help())
		for _, d := range e.Facts() {
			fmt.Fprintf(&b, "| `%s` | %s |\n", d.Name, strings.ReplaceAll(d.Help, "|", `\|`))
		}
	}
	return []byte(b.String())
}
