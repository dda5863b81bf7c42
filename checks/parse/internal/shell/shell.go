// Package shell recognises the command lines students save above their
// output. Students save a terminal session, not just what a tool printed:
// the command they typed sits above the output, behind whatever prompt
// their shell drew (`~ # `, `root@node:/# `, `$ `, `PS C:\> `). Parsers use
// it so that such a line is not taken for output they do not understand,
// and ls reads it to learn which directory a bare `ls -l` listed.
//
// It is internal to the parsers: they stay free of the rest of the project.
package shell

import (
	"bytes"
	"slices"
)

// promptEnds are the strings a shell prompt ends with, before the command.
var promptEnds = [][]byte{[]byte("# "), []byte("$ "), []byte("> "), []byte("% "), []byte("❯ "), []byte("➜ ")}

// commandWords start a command line a student may have saved with its
// output. A line that starts with one of them (and has arguments, or is a
// lone word the caller allows) is taken for an echoed command even without
// a prompt.
var commandWords = [][]byte{
	[]byte("ls"), []byte("cd"), []byte("kubectl"), []byte("k"), []byte("sudo"), []byte("busybox"),
	[]byte("/bin/ls"), []byte("chroot"), []byte("nsenter"), []byte("crictl"), []byte("docker"),
	[]byte("minikube"), []byte("ps"), []byte("sh"), []byte("bash"), []byte("exit"),
}

// Command returns the command of a line that echoes one (prompt stripped),
// or nil. Without a prompt, a lone word is a command only when it is "exit"
// or one of lone (a bare `ls` is a command, a bare `nginx` is a file name).
func Command(line []byte, lone ...string) []byte {
	t := bytes.TrimLeft(line, " \t")
	if startsWithCommand(t, true, lone) {
		return t
	}
	limit := min(len(t), 200)
	if bytes.HasPrefix(t, []byte("➜")) || bytes.HasPrefix(t, []byte("❯")) {
		// oh-my-zsh and starship: "➜  repo git:(main) ✗ kubectl get pod"
		rest := t
		for range 6 {
			i := bytes.IndexByte(rest, ' ')
			if i < 0 {
				break
			}
			rest = bytes.TrimLeft(rest[i:], " ")
			if startsWithCommand(rest, false, nil) {
				return rest
			}
		}
	}
	for _, end := range promptEnds {
		i := bytes.Index(t[:limit], end)
		if i < 0 {
			continue
		}
		rest := bytes.TrimLeft(t[i+len(end):], " ")
		if startsWithCommand(rest, false, nil) {
			return rest
		}
	}
	return nil
}

// startsWithCommand reports whether b starts with a command word. Without a
// prompt (strict), a lone word must be "exit" or one of lone.
func startsWithCommand(b []byte, strict bool, lone []string) bool {
	for _, w := range commandWords {
		if !bytes.HasPrefix(b, w) {
			continue
		}
		if len(b) == len(w) {
			return !strict || string(w) == "exit" || slices.Contains(lone, string(w))
		}
		if b[len(w)] == ' ' || b[len(w)] == '\t' {
			return true
		}
	}
	return false
}

// Words splits a command line on blanks and drops the quotes around each
// word, so that `sh -c 'ls -la /x'` still shows its ls and argument. Quoted
// blanks are not honoured: a path with a space is rare on a cluster node and
// only costs the path, never a wrong verdict. It reuses dst.
func Words(dst [][]byte, cmd []byte) [][]byte {
	dst = dst[:0]
	for _, w := range bytes.Fields(cmd) {
		if len(dst) == 64 {
			break
		}
		if len(w) > 1 {
			w = bytes.TrimRight(w, ";")
		}
		w = bytes.Trim(w, "'\"")
		if len(w) > 0 {
			dst = append(dst, w)
		}
	}
	return dst
}

// IsSeparator reports whether a shell word ends one command.
func IsSeparator(w []byte) bool {
	switch string(w) {
	case "|", "||", "&&", ";", ">", ">>", "2>", "2>&1", "&":
		return true
	}
	return false
}
