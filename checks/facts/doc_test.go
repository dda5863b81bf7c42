package facts

import (
	"testing"
)

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
