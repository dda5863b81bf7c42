package facts

import (
	"bytes"
	"iter"

	"github.com/k8s-debug-lab/lab/checks/parse/kubectl"
)

// podTableExtractor grades step-6: `kubectl get pod -o wide` showing the
// lab's pod Running with its IP and NODE. Facts name pods, so a spec
// states which pod it wants ("pod.running anyOf [nginx-distroless]") and no
// pod name is written in Go; per-pod values are "<pod>=<value>" so a live
// cross-check can compare them with the cluster's.
type podTableExtractor struct{}

func init() { register(podTableExtractor{}) }

func (podTableExtractor) Name() string { return "pod-table" }

func (podTableExtractor) Help() string {
	return "kubectl get pod[s] tables: -o wide or not, -A, -L/--show-labels, with or without header, and kubectl's errors"
}

func (podTableExtractor) Facts() []Doc {
	return []Doc{
		{"pod", "pod rows; values: pod names"},
		{"pod.running", "pods whose STATUS is Running; values: pod names"},
		{"pod.ready", "pods whose READY is n/n with n > 0; values: pod names"},
		{"pod.wide", "pods whose row shows an assigned IP and NODE (-o wide, not <none>); values: pod names"},
		{"pod.status", "every pod's STATUS; values: <pod>=<STATUS>"},
		{"pod.ip", "pods' IPs from -o wide; values: <pod>=<ip>"},
		{"pod.node", "pods' nodes from -o wide; values: <pod>=<node>"},
		{"namespace", "namespaces of a table with a NAMESPACE column (-A); values: names"},
		{"wide", "rows that have the IP and NODE columns (-o wide), with or without header"},
		{"header", "pod table header lines"},
		{"other", "header and rows of other resources' tables (kubectl get all)"},
		{"command", "echoed command lines (prompt removed); values: the commands"},
		{"error", "what kubectl printed instead of a table (No resources found, Error from server (NotFound), connection refused); values: the messages"},
		{"line", "non-blank lines"},
		{"unknown", "lines that are not kubectl get output; values: the first few"},
	}
}

func (podTableExtractor) Extract(lines iter.Seq[[]byte], s *Set) {
	var (
		pod     = s.Counter("pod")
		running = s.Counter("pod.running")
		ready   = s.Counter("pod.ready")
		placed  = s.Counter("pod.wide")
		status  = s.Counter("pod.status")
		ip      = s.Counter("pod.ip")
		node    = s.Counter("pod.node")
		buf     []byte
		pods    int
		wide    int
	)
	pair := func(c *Counter, name, v []byte) {
		buf = append(append(append(buf[:0], name...), '='), v...)
		c.AddBytes(buf)
	}
	for r := range kubectl.Parse(lines) {
		s.Inc("line")
		switch r.Kind {
		case kubectl.Pod:
			pods++
			pod.AddBytes(r.Name)
			pair(status, r.Name, r.Status)
			if string(r.Status) == "Running" {
				running.AddBytes(r.Name)
			}
			if isAllReady(r.Ready) {
				ready.AddBytes(r.Name)
			}
			if len(r.Namespace) > 0 {
				s.AddBytes("namespace", r.Namespace)
			}
			if r.Wide {
				wide++
				s.Inc("wide")
				pair(ip, r.Name, r.IP)
				pair(node, r.Name, r.Node)
				if r.HasAddress() {
					placed.AddBytes(r.Name)
				}
			}
		case kubectl.Header:
			s.Inc("header")
		case kubectl.Other:
			s.Inc("other")
		case kubectl.Command:
			s.AddBytes("command", bytes.TrimSpace(r.Line))
		case kubectl.Error:
			s.AddBytes("error", r.Message)
		case kubectl.Unknown:
			s.AddBytes("unknown", bytes.TrimSpace(r.Line))
		}
	}
	switch {
	case wide > 0:
		s.Format = "kubectl get pod -o wide"
	case pods > 0:
		s.Format = "kubectl get pod"
	}
}

// isAllReady reports whether READY reads n/n with n > 0.
func isAllReady(b []byte) bool {
	i := bytes.IndexByte(b, '/')
	return i > 0 && bytes.Equal(b[:i], b[i+1:]) && string(b[:i]) != "0"
}
