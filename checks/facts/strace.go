package facts

import (
	"bytes"
	"iter"
	"slices"
	"strconv"

	"github.com/k8s-debug-lab/lab/checks/parse/strace"
)

// straceExtractor grades the star step: strace attached to the nginx worker
// while it handled a connection.
type straceExtractor struct{}

func init() { register(straceExtractor{}) }

func (straceExtractor) Name() string { return "strace" }

func (straceExtractor) Help() string {
	return "strace output (-f, -t/-tt/-ttt, -T, -yy, -s, -c, old and new formats)"
}

func (straceExtractor) Facts() []Doc {
	return []Doc{
		{"syscall", "system calls traced; values: their names"},
		{"accept", "successful accept/accept4 calls; values: peer IP addresses"},
		{"request", "HTTP request lines read by read/recvfrom/recv/readv/recvmsg; values: the request lines (as far as -s shows them)"},
		{"response", "HTTP status lines written by write/writev/send*; values: the status lines"},
		{"log.write", "access-log lines written (a line starting with a client address and \" - \"); values: the lines"},
		{"handled", "evidence that a connection was handled: accept, request, response or log.write; values: which of them"},
		{"rt_sigsuspend", "rt_sigsuspend calls: the nginx master waiting for signals"},
		{"master.only", "set once when rt_sigsuspend was traced but no connection was handled: the master, not the worker, was traced"},
		{"summary", "rows of a -c summary table; values: syscall names"},
		{"summary.only", "set once when the file holds a -c summary table but no traced call"},
		{"ptrace.denied", "attaches refused for lack of permission (no CAP_SYS_PTRACE); values: strace's messages"},
		{"attached", "processes strace attached to; values: PIDs"},
		{"accept.pid", "processes that accepted a connection: the [pid N] of the call, or the one process attached when lines carry no PID; values: PIDs"},
		{"rt_sigsuspend.pid", "processes that waited in rt_sigsuspend (an nginx master does; its workers never do), found the same way; values: PIDs"},
		{"nginx.version", "versions nginx names itself with in what it writes (\"Server: nginx/1.22.1\", error pages) when -s shows them whole; values: versions"},
		{"signal", "signals delivered to traced processes; values: signal names"},
		{"exit", "traced processes that exited; values: \"exited with N\" or \"killed by SIG…\""},
		{"joined", "calls put together from <unfinished ...> and <... resumed> lines"},
		{"errno", "calls that failed; values: error names such as EAGAIN"},
		{"nonce", "lab= query values seen in request lines and access-log lines"},
		{"error", "errors strace or the shell printed (failed attach, no such process, strace not found); values: the messages"},
		{"line", "non-blank lines"},
		{"unknown", "lines that are not strace output; values: the first few"},
	}
}

func (straceExtractor) Extract(lines iter.Seq[[]byte], s *Set) {
	var (
		traced, summary, errs, oldFormat int
		pidBuf                           []byte
		pids                             stracePIDs
		version                          = s.Counter("nginx.version")
	)
	counted := func(yield func([]byte) bool) {
		for l := range lines {
			if len(bytes.TrimSpace(l)) > 0 {
				s.Inc("line")
			}
			if !yield(l) {
				return
			}
		}
	}
	for r := range strace.Parse(counted) {
		switch r.Kind {
		case strace.Unknown:
			s.AddBytes("unknown", bytes.TrimSpace(r.Line))
		case strace.Unfinished:
			traced++
			s.AddBytes("syscall", r.Name)
			if string(r.Name) == "rt_sigsuspend" {
				s.Inc("rt_sigsuspend")
				pids.note(&pids.sigsuspend, r.PID)
			}
		case strace.Syscall:
			traced++
			if bytes.Contains(r.Args, []byte("->")) && bytes.Contains(r.Args, []byte("}, [")) {
				oldFormat++
			}
			if r.Joined {
				s.Inc("joined") // its name was counted with its first half
			} else {
				s.AddBytes("syscall", r.Name)
				if string(r.Name) == "rt_sigsuspend" {
					s.Inc("rt_sigsuspend")
					pids.note(&pids.sigsuspend, r.PID)
				}
			}
			straceCall(&r, s)
			if isAccept(r.Name) && !r.Failed() {
				pids.note(&pids.accept, r.PID)
			}
			if isWrite(r.Name) && !r.Failed() {
				addNginxVersions(version, r.Args, false)
			}
		case strace.Signal:
			s.AddBytes("signal", r.Name)
		case strace.Exit:
			s.AddBytes("exit", r.Message)
		case strace.Attached:
			pidBuf = strconv.AppendInt(pidBuf[:0], int64(r.PID), 10)
			s.AddBytes("attached", pidBuf)
			pids.attached = append(pids.attached, r.PID)
		case strace.AttachError:
			errs++
			s.AddBytes("error", r.Message)
			if bytes.Contains(r.ErrText, []byte("not permitted")) || bytes.Contains(r.ErrText, []byte("Permission denied")) {
				s.AddBytes("ptrace.denied", r.Message)
			}
		case strace.ToolError:
			errs++
			s.AddBytes("error", r.Message)
		case strace.SummaryRow:
			summary++
			s.AddBytes("summary", r.Name)
		}
	}
	pids.report(s)
	if s.Get("rt_sigsuspend").Count > 0 && s.Get("handled").Count == 0 {
		s.Inc("master.only")
	}
	if summary > 0 && traced == 0 {
		s.Inc("summary.only")
	}
	switch {
	case summary > 0 && traced == 0:
		s.Format = "strace -c summary"
	case traced > 0 && oldFormat > 0:
		s.Format = "strace (4.x/5.x format)"
	case traced > 0:
		s.Format = "strace"
	case errs > 0:
		s.Format = "strace (attach failed)"
	case s.Get("attached").Count > 0:
		s.Format = "strace (no calls traced)"
	}
}

// straceCall turns one finished call into the facts that show a handled
// connection.
func straceCall(r *strace.Record, s *Set) {
	if r.Failed() {
		s.AddBytes("errno", r.Errno)
		return
	}
	name := string(r.Name)
	switch name {
	case "accept", "accept4":
		s.AddBytes("accept", r.Peer)
		s.Add("handled", "accept")
	case "read", "recvfrom", "recv", "readv", "recvmsg", "pread64":
		if r.RetOK && r.Ret > 0 {
			if line := straceRequestLine(r.Str); line != nil {
				s.AddBytes("request", line)
				s.Add("handled", "request")
				straceAddNonce(s, r.Str, r.StrCut)
			}
		}
	case "write", "writev", "send", "sendto", "sendmsg", "pwrite64", "pwritev", "pwritev2":
		if bytes.HasPrefix(r.Str, []byte("HTTP/")) {
			s.AddBytes("response", straceFirstLine(r.Str))
			s.Add("handled", "response")
		} else if straceIsAccessLog(r.Str) {
			s.AddBytes("log.write", straceFirstLine(r.Str))
			s.Add("handled", "log.write")
			straceAddNonce(s, r.Str, r.StrCut)
		}
	}
}

// straceRequestLine returns the request line when b starts with one
// ("GET /?lab=x HTTP/1.1\r\n...").
func straceRequestLine(b []byte) []byte {
	i := 0
	for i < len(b) && b[i] >= 'A' && b[i] <= 'Z' {
		i++
	}
	if i < 3 || i > 10 || i+1 >= len(b) || b[i] != ' ' {
		return nil
	}
	if c := b[i+1]; c != '/' && c != '*' && c != 'h' {
		return nil
	}
	return straceFirstLine(b)
}

func straceFirstLine(b []byte) []byte {
	if i := bytes.IndexAny(b, "\r\n"); i >= 0 {
		return b[:i]
	}
	return b
}

// straceIsAccessLog says whether b starts like nginx's combined log format:
// a client address, " - ", then the user.
func straceIsAccessLog(b []byte) bool {
	i := 0
	for i < len(b) && (straceIsAddrByte(b[i])) {
		i++
	}
	return i >= 2 && bytes.HasPrefix(b[i:], []byte(" - "))
}

func straceIsAddrByte(c byte) bool {
	return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F') || c == '.' || c == ':'
}

// straceAddNonce records each "lab=" query value in b. A value that runs into the
// end of a string strace cut is incomplete and not kept.
func straceAddNonce(s *Set, b []byte, cut bool) {
	for {
		i := bytes.Index(b, []byte("lab="))
		if i < 0 {
			return
		}
		if i == 0 || (b[i-1] != '?' && b[i-1] != '&') {
			b = b[i+4:]
			continue
		}
		v := b[i+4:]
		j := 0
		for j < len(v) && straceIsNonceByte(v[j]) {
			j++
		}
		if j > 0 && (j < len(v) || !cut) {
			s.AddBytes("nonce", v[:j])
		}
		b = v[j:]
	}
}

func straceIsNonceByte(c byte) bool {
	return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '-' || c == '_' || c == '.'
}

func isAccept(name []byte) bool { return string(name) == "accept" || string(name) == "accept4" }

func isWrite(name []byte) bool {
	switch string(name) {
	case "write", "writev", "send", "sendto", "sendmsg", "pwrite64", "pwritev", "pwritev2":
		return true
	}
	return false
}

// stracePIDs tells which processes did what. Without -f, or with -f while
// one process is traced, strace prints no "[pid N]": such a call belongs
// to the one process attached, known only once the whole file is read.
type stracePIDs struct {
	attached           []int
	accept, sigsuspend map[int]bool // 0: a call that named no PID
}

func (p *stracePIDs) note(m *map[int]bool, pid int) {
	if *m == nil {
		*m = map[int]bool{}
	}
	(*m)[pid] = true
}

func (p *stracePIDs) report(s *Set) {
	one := 0
	if len(p.attached) > 0 && !slicesHasOther(p.attached, p.attached[0]) {
		one = p.attached[0]
	}
	for _, f := range []struct {
		name string
		m    map[int]bool
	}{{"accept.pid", p.accept}, {"rt_sigsuspend.pid", p.sigsuspend}} {
		var pids []int
		for pid := range f.m {
			switch {
			case pid != 0:
				pids = append(pids, pid)
			case one != 0:
				pids = append(pids, one)
			}
		}
		slices.Sort(pids)
		for _, pid := range slices.Compact(pids) {
			s.Add(f.name, strconv.Itoa(pid))
		}
	}
}

func slicesHasOther(pids []int, pid int) bool {
	return slices.ContainsFunc(pids, func(p int) bool { return p != pid })
}
