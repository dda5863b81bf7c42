package ps

import "bytes"

// Students save a terminal session, not just the output: the command line
// they typed sits above the output, behind whatever prompt their shell drew
// (`~ # `, `root@node:/# `, `$ `, `PS C:\> `). It is recognised so that it
// is not mistaken for output the parser does not understand.

// promptEnds are the strings a shell prompt ends with, before the command.
var promptEnds = [][]byte{[]byte("# "), []byte("$ "), []byte("> "), []byte("% "), []byte("❯ "), []byte("➜ ")}

// commandWords start a command line a student may have saved with its
// output. A line that starts with one of them (and has arguments, or is a
// lone `ps`) is taken for an echoed command even without a prompt.
var commandWords = [][]byte{
	[]byte("ls"), []byte("cd"), []byte("kubectl"), []byte("k"), []byte("sudo"), []byte("busybox"),
	[]byte("/bin/ls"), []byte("chroot"), []byte("nsenter"), []byte("crictl"), []byte("docker"),
	[]byte("minikube"), []byte("ps"), []byte("sh"), []byte("bash"), []byte("exit"),
}

// commandLine returns the command of a line that echoes one (prompt
// stripped), or nil.
func commandLine(line []byte) []byte {
	t := bytes.TrimLeft(line, " \t")
	if startsWithCommand(t, true) {
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
			if startsWithCommand(rest, false) {
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
		if startsWithCommand(rest, false) {
			return rest
		}
	}
	return nil
}

// startsWithCommand reports whether b starts with a command word. Without a
// prompt (strict) a lone word other than ps is too likely a process name.
func startsWithCommand(b []byte, strict bool) bool {
	for _, w := range commandWords {
		if !bytes.HasPrefix(b, w) {
			continue
		}
		if len(b) == len(w) {
			return !strict || string(w) == "ps" || string(w) == "exit"
		}
		if b[len(w)] == ' ' || b[len(w)] == '\t' {
			return true
		}
	}
	return false
}
