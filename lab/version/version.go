// Package version says which lab this is, for `lab version`, reports and the
// User-Agent of the traffic lab sends, so that a student's bug report and a
// server log both name the build.
package version

import "runtime/debug"

// Version is set at build time with
// -ldflags "-X github.com/k8s-debug-lab/lab/lab/version.Version=v1.2.3".
var Version = ""

// String returns the version, falling back to the module version recorded
// by `go install module@version`, then to "dev".
func String() string {
	if Version != "" {
		return Version
	}
	if bi, ok := debug.ReadBuildInfo(); ok && bi.Main.Version != "" && bi.Main.Version != "(devel)" {
		return bi.Main.Version
	}
	return "dev"
}
