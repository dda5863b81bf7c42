//go:build linux || darwin

package checks_test

import "syscall"

// haveFifos says whether mkfifo makes a named pipe here.
const haveFifos = true

func mkfifo(path string) { _ = syscall.Mkfifo(path, 0o644) }
