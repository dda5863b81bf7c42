package facts

import (
	"bytes"
	"iter"
	"strconv"

	"github.com/k8s-debug-lab/lab/checks/decode"
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

// Processes is what a ps listing says about the workload's processes: its
// main process and workers (ps.Finder's roles: nginx's process titles, else
// parent PIDs and users), and whether PID 1 is the sandbox's /pause.
type Processes struct {
	Masters, Workers []int
	// PauseIsPID1 is true in a pod that shares its PID namespace.
	PauseIsPID1 bool
	// Seen says what was found, for a message when it is not enough.
	Seen string
}

// ReadProcesses reads a ps listing as the ps extractor does: what lab
// solve and lab lesson use to fill {{.MasterPID}} and {{.WorkerPID}}.
func ReadProcesses(out string) Processes {
	var f ps.Finder
	var p Processes
	for r := range ps.Parse(decode.String(out)) {
		f.Add(r)
		if ps.IsPause(r) && r.PID == 1 {
			p.PauseIsPID1 = true
		}
	}
	p.Masters, p.Workers = f.Result()
	p.Seen = f.String()
	return p
}
