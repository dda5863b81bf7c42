//go:build linux || darwin

package facts

import (
	"runtime"
	"syscall"
)

// maxRSSMB is the process's peak resident memory in MB: Linux counts
// ru_maxrss in kilobytes, macOS in bytes.
func maxRSSMB() (int64, bool) {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0, false
	}
	if runtime.GOOS == "darwin" {
		return int64(ru.Maxrss) >> 20, true
	}
	return int64(ru.Maxrss) >> 10, true
}
