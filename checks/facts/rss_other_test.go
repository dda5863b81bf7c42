//go:build !linux && !darwin

package facts

// maxRSSMB is not measured here (Windows has no getrusage): the memory
// bound is checked on Linux and macOS.
func maxRSSMB() (int64, bool) { return 0, false }
