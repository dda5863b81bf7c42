// Package match is the fixed set of matchers an assignment spec may name.
//
// A matcher tests one fact of a facts.Set. The set is deliberately small and
// closed, like kubectl debug's profiles: an instructor writes a spec from a
// documented list, and a typo fails at load time ("unknown matcher") instead
// of silently never matching.
package match

import (
	"fmt"
	"slices"
	"strings"

	"github.com/k8s-debug-lab/lab/checks/facts"
)

// Kind names a matcher.
type Kind string

// The matchers a spec may name.
const (
	// Present holds when the fact was observed at least Min times (default 1).
	Present Kind = "present"
	// Absent holds when the fact was never observed.
	Absent Kind = "absent"
	// AnyOf holds when at least one of the fact's values is in Values.
	AnyOf Kind = "anyOf"
	// NoneOf holds when none of the fact's values is in Values (also when
	// the fact was never observed).
	NoneOf Kind = "noneOf"
	// SubsetOf holds when the fact was observed and every value it kept is
	// in Values; a fact with more distinct values than it keeps never is.
	SubsetOf Kind = "subsetOf"
	// Contains holds when at least one of the fact's values contains one of
	// Values as a substring (a path, a nonce inside a request line).
	Contains Kind = "contains"
)

// Kinds lists every matcher, in the order the documentation gives them.
var Kinds = []Kind{Present, Absent, AnyOf, NoneOf, SubsetOf, Contains}

// ParseKind turns a spec's word into a Kind.
func ParseKind(s string) (Kind, error) {
	if s == "" {
		return Present, nil
	}
	for _, k := range Kinds {
		if string(k) == s {
			return k, nil
		}
	}
	names := make([]string, len(Kinds))
	for i, k := range Kinds {
		names[i] = string(k)
	}
	return "", fmt.Errorf("unknown matcher %q (want one of %s)", s, strings.Join(names, ", "))
}

// NeedsValues says whether a matcher compares against a list of values.
func (k Kind) NeedsValues() bool {
	return k == AnyOf || k == NoneOf || k == SubsetOf || k == Contains
}

// Matcher is one condition on one fact.
type Matcher struct {
	Fact   string
	Kind   Kind
	Min    int
	Values []string
}

// Eval reports whether m holds for the facts in s.
func (m Matcher) Eval(s *facts.Set) bool {
	f := s.Get(m.Fact)
	switch m.Kind {
	case Present, "":
		return f.Count >= max(m.Min, 1)
	case Absent:
		return f.Count == 0
	case AnyOf:
		return slices.ContainsFunc(f.Values, func(v string) bool { return slices.Contains(m.Values, v) })
	case NoneOf:
		return !slices.ContainsFunc(f.Values, func(v string) bool { return slices.Contains(m.Values, v) })
	case SubsetOf:
		if f.Count == 0 || f.More {
			return false
		}
		for _, v := range f.Values {
			if !slices.Contains(m.Values, v) {
				return false
			}
		}
		return true
	case Contains:
		return slices.ContainsFunc(f.Values, func(v string) bool {
			return slices.ContainsFunc(m.Values, func(sub string) bool { return strings.Contains(v, sub) })
		})
	}
	return false
}

// String renders m the way a person reads it in a report.
func (m Matcher) String() string {
	switch m.Kind {
	case Present, "":
		if m.Min > 1 {
			return fmt.Sprintf("%s present at least %d times", m.Fact, m.Min)
		}
		return m.Fact + " present"
	case Absent:
		return m.Fact + " absent"
	default:
		return fmt.Sprintf("%s %s [%s]", m.Fact, m.Kind, strings.Join(m.Values, ", "))
	}
}

// All reports whether every matcher holds; an empty list holds.
func All(ms []Matcher, s *facts.Set) bool {
	for _, m := range ms {
		if !m.Eval(s) {
			return false
		}
	}
	return true
}
