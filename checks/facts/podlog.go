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
		{"access", "nginx access entries inside CRI or json-file lines whose request is an HTTP request line; values: request lines"},
		{"access.invalid", "framed access entries whose request is not an HTTP request line (TLS or SSH handshake bytes sent to port 80, telnet bytes, garbage): nginx answered 400, no request was made; values: the request fields"},
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
		{"pod.name", "pod names of those directory names; values: names"},
		{"pod.namespace", "namespaces of those directory names; values: names"},
		{"nginx.version", "versions nginx names itself with (the master's \"nginx/1.22.1\" notice at start); values: versions"},
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
		version        = s.Counter("nginx.version")
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
		if ns, pod, uid := podlog.PodDir(b); uid != nil {
			s.AddBytes("pod.uid", uid)
			s.AddBytes("pod.name", pod)
			s.AddBytes("pod.namespace", ns)
		} else if uid := podlog.PodUID(b); uid != nil {
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
				if !isRequestLine(&r.Access) {
					s.AddBytes("access.invalid", r.Access.Request)
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
				addNginxVersions(version, r.Msg, r.Incomplete)
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

// isRequestLine reports whether an access entry's "$request" is an HTTP
// request line ("GET /?lab=x HTTP/1.1", or HTTP/0.9's "GET /"). nginx logs
// whatever a client sent before it gave up, escaped: a TLS ClientHello sent
// to port 80 shows as "\x16\x03\x01…" with status 400, and proves no
// request, only that something connected.
func isRequestLine(e *podlog.Entry) bool {
	method, target := e.Method, e.Target
	if len(method) == 0 { // no "HTTP/x" at the end: HTTP/0.9 at best
		m, t, ok := bytes.Cut(e.Request, []byte(" "))
		if !ok || bytes.IndexByte(t, ' ') >= 0 {
			return false
		}
		method, target = m, t
	}
	if len(method) == 0 || len(method) > 16 || len(target) == 0 {
		return false
	}
	for _, c := range method {
		if (c < 'A' || c > 'Z') && c != '-' && c != '_' {
			return false
		}
	}
	switch target[0] {
	case '/', '*':
		return true
	}
	return bytes.HasPrefix(target, []byte("http://")) || bytes.HasPrefix(target, []byte("https://")) || len(e.Method) > 0 && string(method) == "CONNECT"
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
