package facts

import (
	"os"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/k8s-debug-lab/lab/checks/decode"
)

func podlogExtract(t *testing.T, path string) *Set {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	e, ok := Lookup("podlog")
	if !ok {
		t.Fatal("no podlog extractor")
	}
	s := NewSet()
	e.Extract(decode.New(f).Lines(), s)
	return s
}

func podlogPick(s *Set, names ...string) map[string]Fact {
	out := map[string]Fact{}
	for _, n := range names {
		if f := s.Get(n); f.Count > 0 {
			out[n] = f
		}
	}
	return out
}

func TestPodlogFacts(t *testing.T) {
	const dir = "../parse/podlog/testdata/"
	const uid = "84d58bd0-ac6b-4cb7-98a3-9b6726cd27ab"
	names := []string{"cri", "json", "access", "access.invalid", "pod.name", "pod.namespace", "nginx.version", "access.client", "access.agent", "access.status", "nonce", "plain.access", "plain", "nginx.error", "stream", "partial", "path", "pod.uid", "banner", "error", "unknown"}
	reqs := []string{"GET /?lab=k7q2x9 HTTP/1.1", "GET /index.html?lab=k7q2x9&n=2 HTTP/1.1", "GET /missing?lab=k7q2x9 HTTP/1.1"}
	tests := []struct {
		file   string
		format string
		want   map[string]Fact
	}{
		{
			file:   "seed-json-file-debug-banner.txt",
			format: "docker json-file log",
			want: map[string]Fact{
				"json":          {Count: 5},
				"access":        {Count: 5, Values: []string{"GET / HTTP/1.1"}},
				"access.client": {Count: 5, Values: []string{"127.0.0.1", "10.244.0.13", "10.244.0.14"}},
				"access.agent":  {Count: 5, Values: []string{"curl/8.7.1", "curl/8.18.0"}},
				"access.status": {Count: 5, Values: []string{"200"}},
				"stream":        {Count: 5, Values: []string{"stdout"}},
				"banner":        {Count: 1},
			},
		},
		{
			// the same log hard-wrapped at 80 columns by a terminal copy
			file:   "seed-json-file-wrapped80.txt",
			format: "docker json-file log",
			want: map[string]Fact{
				"json":          {Count: 5},
				"access":        {Count: 5, Values: []string{"GET / HTTP/1.1"}},
				"access.client": {Count: 5, Values: []string{"127.0.0.1", "10.244.0.13", "10.244.0.14"}},
				"access.agent":  {Count: 5, Values: []string{"curl/8.7.1", "curl/8.18.0"}},
				"access.status": {Count: 5, Values: []string{"200"}},
				"stream":        {Count: 5, Values: []string{"stdout"}},
				"banner":        {Count: 1},
				"unknown":       {Count: 1, Values: []string{"ode minikube."}},
			},
		},
		{
			file:   "e2e-cri-wrapped80.txt",
			format: "CRI log",
			want: map[string]Fact{
				"cri":           {Count: 12},
				"access":        {Count: 6, Values: []string{"GET /?lab=c4fch3i2bc HTTP/1.1"}},
				"access.client": {Count: 6, Values: []string{"127.0.0.1", "10.244.0.3"}},
				"access.agent":  {Count: 6, Values: []string{"lab-traffic/dev"}},
				"access.status": {Count: 6, Values: []string{"200"}},
				"nonce":         {Count: 6, Values: []string{"c4fch3i2bc"}},
				"nginx.error":   {Count: 6, Values: []string{"notice"}},
				"nginx.version": {Count: 1, Values: []string{"1.22.1"}},
				"stream":        {Count: 12, Values: []string{"stderr", "stdout"}},
			},
		},
		{
			file:   "debug-node-ls-tail-cri.txt",
			format: "CRI log",
			want: map[string]Fact{
				"cri":           {Count: 3},
				"access":        {Count: 3, Values: reqs},
				"access.client": {Count: 3, Values: []string{"127.0.0.1", "::1"}},
				"access.agent":  {Count: 3, Values: []string{"curl/7.88.1", "lab-traffic/1.0"}},
				"access.status": {Count: 3, Values: []string{"200", "404"}},
				"nonce":         {Count: 3, Values: []string{"k7q2x9"}},
				"stream":        {Count: 3, Values: []string{"stdout"}},
				"path": {Count: 3, Values: []string{
					"/var/log/pods/default_nginx-distroless_" + uid + "/nginx/",
					"/var/log/pods/default_nginx-distroless_" + uid + "/nginx/*.log",
					"/var/log/pods/default_nginx-distroless_" + uid + "/nginx/0.log"}},
				"pod.uid":       {Count: 3, Values: []string{uid}},
				"pod.name":      {Count: 3, Values: []string{"nginx-distroless"}},
				"pod.namespace": {Count: 3, Values: []string{"default"}},
				"banner":        {Count: 8},
			},
		},
		{
			file:   "kubectl-logs-plain.txt",
			format: "kubectl logs",
			want: map[string]Fact{
				"plain.access":  {Count: 6, Values: []string{reqs[0], reqs[1], reqs[2], "GET /?lab=k7q2x9&long=" + repeatA(234), "POST /?lab=k7q2x9&post=1 HTTP/1.1", "GARBAGE"}},
				"plain":         {Count: 21},
				"nginx.error":   {Count: 15, Values: []string{"notice", "error"}},
				"nginx.version": {Count: 1, Values: []string{"1.22.1"}},
			},
		},
		{
			file:   "cri-offset-0800-partial.txt",
			format: "CRI log",
			want: map[string]Fact{
				"cri": {Count: 22},
				// "GARBAGE" 400 is no request line: it proves no request
				"access":         {Count: 5, Values: []string{reqs[0], reqs[1], reqs[2], "GET /?lab=k7q2x9&long=" + repeatA(234), "POST /?lab=k7q2x9&post=1 HTTP/1.1"}},
				"access.invalid": {Count: 1, Values: []string{"GARBAGE"}},
				"access.client":  {Count: 5, Values: []string{"127.0.0.1", "::1"}},
				"access.agent":   {Count: 5, Values: []string{"curl/7.88.1", "lab-traffic/1.0"}},
				"access.status":  {Count: 5, Values: []string{"200", "404", "405"}},
				"nginx.version":  {Count: 1, Values: []string{"1.22.1"}},
				"nonce":          {Count: 5, Values: []string{"k7q2x9"}},
				"nginx.error":    {Count: 15, Values: []string{"notice", "error"}},
				"stream":         {Count: 21, Values: []string{"stderr", "stdout"}},
				"partial":        {Count: 1},
			},
		},
		{
			file:   "cri-bind-failed-no-access.txt",
			format: "CRI log",
			want: map[string]Fact{
				"cri":         {Count: 17},
				"nginx.error": {Count: 17, Values: []string{"emerg", "notice"}},
				"stream":      {Count: 17, Values: []string{"stderr"}},
			},
		},
		{
			file:   "cat-placeholder-uid.txt",
			format: "",
			want: map[string]Fact{
				"banner": {Count: 1},
				"error":  {Count: 1, Values: []string{"cat: '/var/log/pods/default_nginx-distroless_<POD_UID>/nginx/*.log': No such file or directory"}},
				"path":   {Count: 1, Values: []string{"/var/log/pods/default_nginx-distroless_<POD_UID>/nginx/*.log"}},
			},
		},
		{
			file:   "seed-ls-var-log-pods.txt",
			format: "",
			want: map[string]Fact{
				"banner":        {Count: 1},
				"pod.uid":       {Count: 1, Values: []string{uid}},
				"pod.name":      {Count: 1, Values: []string{"nginx-distroless"}},
				"pod.namespace": {Count: 1, Values: []string{"default"}},
			},
		},
	}
	for _, tt := range tests {
		t.Run(tt.file, func(t *testing.T) {
			s := podlogExtract(t, dir+tt.file)
			if s.Format != tt.format {
				t.Errorf("Format = %q, want %q", s.Format, tt.format)
			}
			if diff := cmp.Diff(tt.want, podlogPick(s, names...)); diff != "" {
				t.Errorf("(-want +got)\n%s", diff)
			}
		})
	}
}

// repeatA is the 256-byte cut of the long request line's value.
func repeatA(n int) string {
	b := make([]byte, n)
	for i := range b {
		b[i] = 'a'
	}
	return string(b)
}

func TestPodlogFactsDocumented(t *testing.T) {
	e, _ := Lookup("podlog")
	for _, f := range []string{"cri", "json", "access", "access.client", "access.agent", "nonce", "plain.access", "nginx.error", "stream", "partial", "path", "pod.uid", "error", "line", "unknown"} {
		if !Documents(e, f) {
			t.Errorf("fact %q not documented", f)
		}
	}
}
