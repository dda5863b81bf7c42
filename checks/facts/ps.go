package facts

import (
	"bytes"
	"iter"
	"strconv"

	"github.com/k8s-debug-lab/lab/checks/parse/ps"
)

// psExtractor reads a process listing taken in the pod's shared PID
// namespace. Lessons and the autopilot use it to learn the nginx master and
// worker PIDs; a spec can use it to check that a student found them (and
// not /pause).
type psExtractor struct{}

func init() { register(psExtractor{}) }

func (psExtractor) Name() string { return "ps" }

func (psExtractor) Help() string {
	return "ps output: BusyBox ps (with or without TIME, -o columns) and procps ps aux/-ef/-o/f, with or without header (grep)"
}

func (psExtractor) Facts() []Doc {
	return []Doc{
		{"process", "process rows; values: their command lines"},
		{"nginx.master", "nginx master processes (by title, else parent or user, else lowest PID); values: PIDs"},
		{"nginx.worker", "nginx worker processes; values: PIDs"},
		{"pause", "the pod sandbox's /pause process; values: PIDs"},
		{"header", "column header lines"},
		{"command", "echoed command lines (prompt removed); values: the commands"},
		{"error", "errors printed by ps, the shell or kubectl; values: the messages"},
		{"line", "non-blank lines"},
		{"unknown", "lines that are not ps output; values: the first few"},
	}
}

func (psExtractor) Extract(lines iter.Seq[[]byte], s *Set) {
	var (
		finder  ps.Finder
		process = s.Counter("process")
		header  int
		buf     []byte
	)
	for r := range ps.Parse(lines) {
		s.Inc("line")
		switch r.Kind {
		case ps.Process:
			process.AddBytes(r.Command)
			finder.Add(r)
			if ps.IsPause(r) {
				buf = strconv.AppendInt(buf[:0], int64(r.PID), 10)
				s.AddBytes("pause", buf)
			}
		case ps.Header:
			header++
			s.Inc("header")
		case ps.Command:
			s.AddBytes("command", r.Command)
		case ps.Error:
			s.AddBytes("error", r.Message)
		case ps.Unknown:
			s.AddBytes("unknown", bytes.TrimSpace(r.Line))
		}
	}
	masters, workers := finder.Result()
	for _, pid := range masters {
		s.Add("nginx.master", strconv.Itoa(pid))
	}
	for _, pid := range workers {
		s.Add("nginx.worker", strconv.Itoa(pid))
	}
	if process.f.Count > 0 {
		s.Format = "ps"
		if header == 0 {
			s.Format = "ps (no header)"
		}
	}
}
