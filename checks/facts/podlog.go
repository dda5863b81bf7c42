package facts

import (
	"bytes"
	"iter"
	"strconv"

	"github.com/k8s-debug-lab/lab/checks/parse/podlog"
)

// podlogExtractor grades step 7: the nginx container's log file read on the
// node, with its CRI or json-file framing, not `kubectl logs` output.
type podlogExtractor struct{}

func init() { register(podlogExtractor{}) }

func (podlogExtractor) Name() string { return "podlog" }

func (podlogExtractor) Help() string {
	return "a pod's log file from /var/log/pods (CRI or docker json-file lines), or kubectl logs output"
}

func (podlogExtractor) Facts() []Doc {
	return []Doc{
		{"cri", "CRI log lines (\"<time> stdout|stderr F|P message\")"},
		{"json", "docker json-file log lines ({\"log\":…,\"stream\":…,\"time\":…})"},
		{"access", "nginx access entries inside CRI or json-file lines; values: request lines"},
		{"access.client", "client addresses of those entries; values: IPs"},
		{"access.agent", "user agents of those entries; values: agents"},
		{"access.status", "HTTP status codes of those entries; values: codes"},
		{"nonce", "lab= query values in the request lines of framed access entries"},
		{"plain.access", "nginx access entries NOT wrapped in CRI/json framing, as kubectl logs prints them; values: request lines"},
		{"plain", "bare nginx output lines (access, error-log, entrypoint): kubectl logs output"},
		{"nginx.error", "nginx error-log lines, framed or bare; values: their levels"},
		{"stream", "streams of framed lines; values: stdout, stderr"},
		{"partial", "messages joined from partial pieces (CRI P lines, json-file entries without a newline)"},
		{"path", "pod and container log paths mentioned (headers, ls, commands, errors); values: the paths"},
		{"pod.uid", "pod UIDs seen in /var/log/pods/<ns>_<pod>_<uid> names; values: UIDs"},
		{"banner", "kubectl debug banners, tail/head headers and ls lines around the log"},
		{"error", "errors printed by the shell, cat, ls or kubectl; values: the messages"},
		{"line", "non-blank lines"},
		{"unknown", "lines that are neither log lines nor known noise; values: the first few"},
	}
}

func (podlogExtractor) Extract(lines iter.Seq[[]byte], s *Set) {
	var (
		cri, js, plain int
		num            []byte
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
	paths := func(b []byte) {
		podlog.LogPaths(b, func(p []byte) { s.AddBytes("path", p) })
		if uid := podlog.PodUID(b); uid != nil {
			s.AddBytes("pod.uid", uid)
		}
	}
	for r := range podlog.Parse(counted) {
		switch r.Kind {
		case podlog.Message:
			if r.Partial {
				s.Inc("partial")
			}
			switch r.Format {
			case podlog.CRI:
				cri += r.Pieces
				for range r.Pieces {
					s.Inc("cri") // lines, not messages: a P+F pair is two
				}
			case podlog.JSON:
				js += r.Pieces
				for range r.Pieces {
					s.Inc("json")
				}
			default:
				plain++
				s.Inc("plain")
			}
			if r.Format != podlog.Plain {
				s.AddBytes("stream", r.Stream)
			}
			if r.Path != nil {
				paths(r.Path)
			}
			switch r.Content {
			case podlog.Access:
				if r.Format == podlog.Plain {
					s.AddBytes("plain.access", r.Access.Request)
					continue
				}
				s.AddBytes("access", r.Access.Request)
				s.AddBytes("access.client", r.Access.Client)
				if r.Access.HasAgent {
					s.AddBytes("access.agent", r.Access.Agent)
				}
				num = strconv.AppendInt(num[:0], int64(r.Access.Status), 10)
				s.AddBytes("access.status", num)
				podlogAddNonce(s, r.Access.Request)
			case podlog.NginxError:
				s.AddBytes("nginx.error", r.Level)
			}
		case podlog.Banner, podlog.Header, podlog.Listing:
			s.Inc("banner")
			paths(r.Line)
		case podlog.Command:
			paths(r.Line)
		case podlog.ToolError:
			s.AddBytes("error", bytes.TrimSpace(r.Line))
			paths(r.Line)
		default:
			s.AddBytes("unknown", bytes.TrimSpace(r.Line))
		}
	}
	switch {
	case cri > 0 && js > 0:
		s.Format = "CRI and json-file logs"
	case cri > 0:
		s.Format = "CRI log"
	case js > 0:
		s.Format = "docker json-file log"
	case plain > 0:
		s.Format = "kubectl logs"
	}
}

// podlogAddNonce records the lab= query values of a request line.
func podlogAddNonce(s *Set, req []byte) {
	for {
		i := bytes.Index(req, []byte("lab="))
		if i < 0 {
			return
		}
		v := req[i+4:]
		if i > 0 && (req[i-1] == '?' || req[i-1] == '&') {
			j := 0
			for j < len(v) && v[j] != '&' && v[j] != ' ' && v[j] != '#' && j < 64 {
				j++
			}
			if j > 0 {
				s.AddBytes("nonce", v[:j])
			}
		}
		req = v
	}
}
