// Package choice reads a named choice (a report format, a provider, a
// language, a way to send traffic) from its fixed set of documented
// constants, the way kubectl debug reads --profile: any other value is an
// error that names the value and every choice, so one message format
// serves every flag.
package choice

import (
	"fmt"
	"strings"
)

// Parse returns the choice s names exactly; otherwise the error "unknown
// what: s (want a, b or c)".
func Parse[T ~string](what, s string, choices []T) (T, error) {
	for _, c := range choices {
		if s == string(c) {
			return c, nil
		}
	}
	return "", fmt.Errorf("unknown %s: %s (want %s)", what, s, List(choices))
}

// List names the choices for a message: "a", "a or b", "a, b or c".
func List[T ~string](choices []T) string {
	names := make([]string, len(choices))
	for i, c := range choices {
		names[i] = string(c)
	}
	if len(names) < 2 {
		return strings.Join(names, "")
	}
	return strings.Join(names[:len(names)-1], ", ") + " or " + names[len(names)-1]
}
