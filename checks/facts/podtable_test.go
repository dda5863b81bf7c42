package facts

import (
	"path/filepath"
	"testing"

	"github.com/google/go-cmp/cmp"
)

func TestPodTableFacts(t *testing.T) {
	dir := "../parse/kubectl/testdata"
	names := []string{"pod", "pod.running", "pod.ready", "pod.wide", "pod.status", "pod.ip", "pod.node", "namespace", "wide", "header", "other", "error", "line", "unknown"}
	tests := []struct {
		file   string
		format string
		want   map[string]Fact
	}{
		{"seed_headerless_wide.txt", "kubectl get pod -o wide", map[string]Fact{
			"pod":         {Count: 1, Values: []string{"nginx-distroless"}},
			"pod.running": {Count: 1, Values: []string{"nginx-distroless"}},
			"pod.ready":   {Count: 1, Values: []string{"nginx-distroless"}},
			"pod.wide":    {Count: 1, Values: []string{"nginx-distroless"}},
			"pod.status":  {Count: 1, Values: []string{"nginx-distroless=Running"}},
			"pod.ip":      {Count: 1, Values: []string{"nginx-distroless=10.244.0.12"}},
			"pod.node":    {Count: 1, Values: []string{"nginx-distroless=minikube"}},
			"wide":        {Count: 1},
			"line":        {Count: 1},
		}},
		{"public_crashloop_not_wide.txt", "kubectl get pod", map[string]Fact{
			"pod": {Count: 5, Values: []string{"coreapi-cd8c6d9b4-h9llr", "elasticsearch-master-0", "jobs-app-kafka-0",
				"loader-764db4f5b7-n6qgw", "resumes-86bbf46b88-78wql"}},
			"pod.running": {Count: 1, Values: []string{"coreapi-cd8c6d9b4-h9llr"}},
			"pod.ready":   {Count: 1, Values: []string{"coreapi-cd8c6d9b4-h9llr"}},
			"pod.status": {Count: 5, Values: []string{"coreapi-cd8c6d9b4-h9llr=Running", "elasticsearch-master-0=PodInitializing",
				"jobs-app-kafka-0=ContainerCreating", "loader-764db4f5b7-n6qgw=CrashLoopBackOff", "resumes-86bbf46b88-78wql=CrashLoopBackOff"}},
			"header": {Count: 1},
			"line":   {Count: 8},
		}},
		{"public_get_all_prefixed.txt", "kubectl get pod", map[string]Fact{
			"pod":         {Count: 2, Values: []string{"kubia-0", "kubia-1"}},
			"pod.running": {Count: 1, Values: []string{"kubia-0"}},
			"pod.ready":   {Count: 1, Values: []string{"kubia-0"}},
			"pod.status":  {Count: 2, Values: []string{"kubia-0=Running", "kubia-1=ContainerCreating"}},
			"header":      {Count: 1},
			"other":       {Count: 3},
			"line":        {Count: 7},
		}},
		{"public_old_all_namespaces.txt", "kubectl get pod -o wide", map[string]Fact{
			"pod":         {Count: 5, Values: []string{"cilium-nq9bq", "cilium-vthgc", "cilium-xzmn4", "kube-dns-54f558d499-txllg", "kube-dns-54f558d499-vtkkc"}},
			"pod.running": {Count: 5, Values: []string{"cilium-nq9bq", "cilium-vthgc", "cilium-xzmn4", "kube-dns-54f558d499-txllg", "kube-dns-54f558d499-vtkkc"}},
			"pod.ready":   {Count: 5, Values: []string{"cilium-nq9bq", "cilium-vthgc", "cilium-xzmn4", "kube-dns-54f558d499-txllg", "kube-dns-54f558d499-vtkkc"}},
			"pod.wide":    {Count: 5, Values: []string{"cilium-nq9bq", "cilium-vthgc", "cilium-xzmn4", "kube-dns-54f558d499-txllg", "kube-dns-54f558d499-vtkkc"}},
			"pod.status": {Count: 5, Values: []string{"cilium-nq9bq=Running", "cilium-vthgc=Running", "cilium-xzmn4=Running",
				"kube-dns-54f558d499-txllg=Running", "kube-dns-54f558d499-vtkkc=Running"}},
			"pod.ip": {Count: 5, Values: []string{"cilium-nq9bq=192.168.2.152", "cilium-vthgc=192.168.2.151", "cilium-xzmn4=192.168.2.150",
				"kube-dns-54f558d499-txllg=10.200.0.3", "kube-dns-54f558d499-vtkkc=10.200.0.2"}},
			"pod.node": {Count: 5, Values: []string{"cilium-nq9bq=worker-node-2", "cilium-vthgc=worker-node-1", "cilium-xzmn4=worker-node-0",
				"kube-dns-54f558d499-txllg=worker-node-0", "kube-dns-54f558d499-vtkkc=worker-node-0"}},
			"namespace": {Count: 5, Values: []string{"kube-system"}},
			"wide":      {Count: 5},
			"header":    {Count: 1},
			"line":      {Count: 7},
		}},
		{"public_notfound.txt", "", map[string]Fact{
			"error": {Count: 1, Values: []string{`Error from server (NotFound): pods "taint1" not found`}},
			"line":  {Count: 2},
		}},
		{"public_no_resources.txt", "", map[string]Fact{
			"error": {Count: 1, Values: []string{"No resources found in default namespace."}},
			"line":  {Count: 2},
		}},
	}
	for _, tt := range tests {
		t.Run(tt.file, func(t *testing.T) {
			s := extractFile(t, "pod-table", filepath.Join(dir, tt.file))
			if s.Format != tt.format {
				t.Errorf("Format = %q, want %q", s.Format, tt.format)
			}
			if diff := cmp.Diff(tt.want, pick(s, names...)); diff != "" {
				t.Errorf("facts (-want +got):\n%s", diff)
			}
		})
	}
}
