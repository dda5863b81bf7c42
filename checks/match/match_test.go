package match

import (
	"strings"
	"testing"

	"github.com/k8s-debug-lab/lab/checks/facts"
)

func TestEval(t *testing.T) {
	s := facts.NewSet()
	for _, v := range []string{".", "..", "hostname", "hosts"} {
		s.Add("entry", v)
	}
	s.Add("request", "GET /?lab=k3x9 HTTP/1.1")
	s.Inc("syn")
	s.Inc("syn")
	many := facts.NewSet()
	for i := 0; i < facts.MaxValues+1; i++ {
		many.Add("entry", strings.Repeat("x", i+1))
	}
	pause := []string{".", "..", "hostname", "hosts", "mtab", "resolv.conf"}
	tests := []struct {
		name string
		set  *facts.Set
		m    Matcher
		want bool
	}{
		{"present", s, Matcher{Fact: "syn", Kind: Present}, true},
		{"present, default kind", s, Matcher{Fact: "syn"}, true},
		{"present min met", s, Matcher{Fact: "syn", Kind: Present, Min: 2}, true},
		{"present min missed", s, Matcher{Fact: "syn", Kind: Present, Min: 3}, false},
		{"present, never seen", s, Matcher{Fact: "nothing", Kind: Present}, false},
		{"absent, never seen", s, Matcher{Fact: "nothing", Kind: Absent}, true},
		{"absent, seen", s, Matcher{Fact: "syn", Kind: Absent}, false},
		{"anyOf hit", s, Matcher{Fact: "entry", Kind: AnyOf, Values: []string{"nginx.conf", "hosts"}}, true},
		{"anyOf miss", s, Matcher{Fact: "entry", Kind: AnyOf, Values: []string{"nginx.conf"}}, false},
		{"noneOf holds", s, Matcher{Fact: "entry", Kind: NoneOf, Values: []string{"nginx.conf"}}, true},
		{"noneOf fails", s, Matcher{Fact: "entry", Kind: NoneOf, Values: []string{"hosts"}}, false},
		{"noneOf, never seen", s, Matcher{Fact: "nothing", Kind: NoneOf, Values: []string{"x"}}, true},
		{"subsetOf holds", s, Matcher{Fact: "entry", Kind: SubsetOf, Values: pause}, true},
		{"subsetOf fails", s, Matcher{Fact: "entry", Kind: SubsetOf, Values: []string{".", ".."}}, false},
		{"subsetOf, never seen is not a subset", s, Matcher{Fact: "nothing", Kind: SubsetOf, Values: pause}, false},
		{"subsetOf, overflowed is never a subset", many, Matcher{Fact: "entry", Kind: SubsetOf, Values: []string{"x"}}, false},
		{"contains hit", s, Matcher{Fact: "request", Kind: Contains, Values: []string{"lab=k3x9"}}, true},
		{"contains miss", s, Matcher{Fact: "request", Kind: Contains, Values: []string{"lab=zzzz"}}, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := tt.m.Eval(tt.set); got != tt.want {
				t.Errorf("%s: Eval() = %v, want %v", tt.m, got, tt.want)
			}
		})
	}
}

func TestParseKind(t *testing.T) {
	for _, k := range Kinds {
		got, err := ParseKind(string(k))
		if err != nil || got != k {
			t.Errorf("ParseKind(%q) = %q, %v", k, got, err)
		}
	}
	if k, err := ParseKind(""); err != nil || k != Present {
		t.Errorf(`ParseKind("") = %q, %v; want present`, k, err)
	}
	_, err := ParseKind("regex")
	if err == nil || !strings.Contains(err.Error(), `unknown matcher "regex"`) || !strings.Contains(err.Error(), "subsetOf") {
		t.Errorf("ParseKind(regex) error = %v", err)
	}
}

func TestAll(t *testing.T) {
	s := facts.NewSet()
	s.Inc("a")
	if !All(nil, s) {
		t.Error("an empty list must hold")
	}
	if All([]Matcher{{Fact: "a"}, {Fact: "b"}}, s) {
		t.Error("All must fail when one matcher fails")
	}
}
