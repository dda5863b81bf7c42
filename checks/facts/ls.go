package facts

import (
	"bytes"
	"iter"

	"github.com/k8s-debug-lab/lab/checks/parse/ls"
)

// lsExtractor grades step-3: a long listing of the nginx container's own
// files, reached through /proc/<pid>/root. Its facts let a spec tell that
// listing from the /pause sandbox's root (entry ⊆ the pause files), from an
// error alone and from bare names.
type lsExtractor struct{}

func init() { register(lsExtractor{}) }

func (lsExtractor) Name() string { return "ls" }

func (lsExtractor) Help() string {
	return "ls output: GNU and BusyBox long listings (-l, -a, -A, -h, -F, -i, -s, -R, --full-time), bare names, ls errors, with prompts and kubectl banners"
}

func (lsExtractor) Facts() []Doc {
	return []Doc{
		{"entry", "entries of a long listing, without . and ..; values: their base names (no path, no -F mark)"},
		{"entry.dir", "directories among the entries; values: their names"},
		{"entry.symlink", "symbolic links among the entries; values: their names"},
		{"entry.size", "regular files among the entries with their sizes as ls printed them (bytes, or -h's 2.8K); values: <name>=<size>"},
		{"path", "directories whose contents were listed, from `dir:` headers, the echoed ls command or entries named by path; values: the paths"},
		{"root.pid", "listings reached through /proc/<pid>/root; values: the PIDs"},
		{"root.path", "the same directories as the target container sees them (the part after /proc/<pid>/root); values: the paths"},
		{"total", "\"total N\" lines that head a directory's long listing (any language)"},
		{"bare", "names printed without details (ls or ls -a without -l); values: the names"},
		{"command", "echoed command lines (prompt removed); values: the commands"},
		{"error", "errors printed by ls, the shell or kubectl (No such file or directory, Permission denied, executable file not found); values: the messages"},
		{"line", "non-blank lines"},
		{"unknown", "lines that are not ls output; values: the first few"},
	}
}

func (lsExtractor) Extract(lines iter.Seq[[]byte], s *Set) {
	var (
		entry    = s.Counter("entry")
		dirs     = s.Counter("entry.dir")
		links    = s.Counter("entry.symlink")
		sizes    = s.Counter("entry.size")
		buf      []byte
		path     = s.Counter("path")
		rootPID  = s.Counter("root.pid")
		rootPath = s.Counter("root.path")
		lastDir  []byte
		long     int
		bare     int
		errs     int
	)
	// a listing repeats its directory on every line: look at it once
	seenDir := func(d []byte) {
		if len(d) == 0 || bytes.Equal(d, lastDir) {
			return
		}
		lastDir = append(lastDir[:0], d...)
		path.AddBytes(d)
		if pid, inner, ok := procRoot(d); ok {
			rootPID.AddBytes(pid)
			rootPath.AddBytes(inner)
		}
	}
	for r := range ls.Parse(lines) {
		s.Inc("line")
		switch r.Kind {
		case ls.Entry:
			long++
			seenDir(r.Dir)
			if r.IsDotEntry() {
				continue
			}
			entry.AddBytes(r.Name)
			switch r.Type {
			case 'd':
				dirs.AddBytes(r.Name)
			case 'l':
				links.AddBytes(r.Name)
			case '-':
				if len(r.Size) > 0 {
					buf = append(append(append(buf[:0], r.Name...), '='), r.Size...)
					sizes.AddBytes(buf)
				}
			}
		case ls.Total:
			long++
			s.Inc("total")
			seenDir(r.Dir)
		case ls.Header:
			seenDir(r.Dir)
		case ls.Bare:
			bare++
			for _, n := range r.Names {
				s.AddBytes("bare", n)
			}
		case ls.Error:
			errs++
			s.AddBytes("error", r.Message)
		case ls.Command:
			s.AddBytes("command", r.Command)
		case ls.Unknown:
			s.AddBytes("unknown", bytes.TrimSpace(r.Line))
		}
	}
	switch {
	case long > 0:
		s.Format = "ls -l listing"
	case bare > 0:
		s.Format = "ls names (no -l)"
	case errs > 0:
		s.Format = "ls error"
	}
}

// procRoot splits /proc/<pid>/root/<inner> into the PID and the path the
// container itself sees ("/" for its root).
func procRoot(d []byte) (pid, inner []byte, ok bool) {
	rest, ok := bytes.CutPrefix(d, []byte("/proc/"))
	if !ok {
		return nil, nil, false
	}
	i := bytes.IndexByte(rest, '/')
	if i <= 0 {
		return nil, nil, false
	}
	pid, rest = rest[:i], rest[i:]
	for _, c := range pid {
		if c < '0' || c > '9' {
			if string(pid) != "self" {
				return nil, nil, false
			}
			break
		}
	}
	inner, ok = bytes.CutPrefix(rest, []byte("/root"))
	if !ok || (len(inner) > 0 && inner[0] != '/') {
		return nil, nil, false
	}
	if len(inner) == 0 {
		inner = []byte("/")
	}
	return pid, inner, true
}
