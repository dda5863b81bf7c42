// Package version says which lab this is, for `lab version`, reports and the
// User-Agent of the traffic lab sends, so that a student's bug report, a
// grade and a server log all name the build.
//
// The version comes from one of three places, so that a binary built by
// `make`, by `make dist` and by `go install …@vX.Y.Z` at the same tag all
// say the same vX.Y.Z: the linker flag the Makefile sets (git describe),
// else the main module's version Go records in the build information
// (`go install module@version`, or a `go build` inside a git checkout,
// which records a pseudo-version), else "dev".
package version

import (
	"regexp"
	"runtime/debug"
	"strings"
)

// Version is set at build time with
// -ldflags "-X github.com/k8s-debug-lab/lab/lab/version.Version=v1.2.3".
var Version = ""

// Dev is the version of a build that knows nothing about its source: a
// `go run`, a test binary, a build outside a git checkout.
const Dev = "dev"

// String returns this binary's version.
func String() string {
	bi, _ := debug.ReadBuildInfo()
	return resolve(Version, bi)
}

// resolve picks the version: the linker's, else the main module's from the
// build information, else Dev. "(devel)" is what Go records when it knows
// no version (a build outside version control, -buildvcs=false).
func resolve(linked string, bi *debug.BuildInfo) string {
	if v := strings.TrimSpace(linked); v != "" {
		return v
	}
	if bi != nil && bi.Main.Version != "" && bi.Main.Version != "(devel)" {
		return bi.Main.Version
	}
	return Dev
}

var (
	// release is a tag a course can pin: vX.Y.Z, or a pre-release of one
	// (vX.Y.Z-rc.1), without build metadata.
	release = regexp.MustCompile(`^v\d+\.\d+\.\d+(-[0-9A-Za-z.]+)?$`)
	// pseudo is the version Go gives a commit that is not a tag
	// (v0.0.0-20260102150405-abcdef123456, vX.Y.(Z+1)-0.2026…-abcdef123456,
	// vX.Y.Z-pre.0.2026…-abcdef123456).
	pseudo = regexp.MustCompile(`^v\d+\.\d+\.\d+-(?:[0-9A-Za-z.]+\.)?(?:0\.)?\d{14}-[0-9a-f]{12}$`)
)

// IsRelease reports whether v is a release tag: the version a build of a
// tag reports, whether from make, make dist or go install.
func IsRelease(v string) bool {
	return release.MatchString(v) && !pseudo.MatchString(v) && !strings.HasSuffix(v, "-dirty")
}

// IsPseudo reports whether v is a Go pseudo-version: a commit between
// tags, fixed (go install …@v installs exactly it) but not a release.
func IsPseudo(v string) bool { return pseudo.MatchString(v) }
