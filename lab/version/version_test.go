package version

import (
	"runtime/debug"
	"testing"
)

// A binary built at a tag says the tag whichever way it was built.
func TestResolve(t *testing.T) {
	main := func(v string) *debug.BuildInfo {
		return &debug.BuildInfo{Main: debug.Module{Path: "github.com/k8s-debug-lab/lab", Version: v}}
	}
	for _, tc := range []struct {
		name   string
		linked string
		bi     *debug.BuildInfo
		want   string
	}{
		{"make and make dist stamp the tag", "v1.2.3", main("(devel)"), "v1.2.3"},
		{"the linker's wins over go build's VCS stamp", "v1.2.3", main("v1.2.3-0.20261205051037-6cca3d0abcde"), "v1.2.3"},
		{"go install at a tag", "", main("v1.2.3"), "v1.2.3"},
		{"go build in a checkout", "", main("v0.0.0-20261205051037-6cca3d0abcde+dirty"), "v0.0.0-20261205051037-6cca3d0abcde+dirty"},
		{"go build outside version control", "", main("(devel)"), Dev},
		{"no build information", "", nil, Dev},
		{"an empty -X", " ", main(""), Dev},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := resolve(tc.linked, tc.bi); got != tc.want {
				t.Errorf("got %q, want %q", got, tc.want)
			}
		})
	}
}

func TestIsRelease(t *testing.T) {
	for v, want := range map[string]bool{
		"v1.2.3":                               true,
		"v1.3.0-rc.1":                          true,
		"v1.2.3-dirty":                         false,
		"v1.2.3-4-g6cca3d0":                    false,
		"v0.0.0-20261205051037-6cca3d0abcde":   false,
		"v1.2.4-0.20261205051037-6cca3d0abcde": false,
		"v1.2.3+meta":                          false,
		"dev":                                  false,
		"latest":                               false,
		"1.2.3":                                false,
	} {
		if got := IsRelease(v); got != want {
			t.Errorf("IsRelease(%q) = %v", v, got)
		}
	}
	for v, want := range map[string]bool{
		"v0.0.0-20261205051037-6cca3d0abcde":        true,
		"v1.2.4-0.20261205051037-6cca3d0abcde":      true,
		"v1.3.0-rc.1.0.20261205051037-6cca3d0abcde": true,
		"v1.2.3": false,
		"v0.0.0-20261205051037-6cca3d0abcde+dirty": false,
	} {
		if got := IsPseudo(v); got != want {
			t.Errorf("IsPseudo(%q) = %v", v, got)
		}
	}
}
