package kubectl

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/k8s-debug-lab/lab/checks/parse/internal/parsetest"
	"github.com/k8s-debug-lab/lab/internal/golden"
)

func TestGolden(t *testing.T) {
	files, err := filepath.Glob("testdata/*.txt")
	if err != nil || len(files) == 0 {
		t.Fatalf("no testdata: %v", err)
	}
	for _, f := range files {
		t.Run(strings.TrimSuffix(filepath.Base(f), ".txt"), func(t *testing.T) {
			in, err := os.ReadFile(f)
			if err != nil {
				t.Fatal(err)
			}
			var b strings.Builder
			for r := range Parse(parsetest.Lines(in)) {
				b.WriteString(r.String() + "\n")
			}
			got := b.String()
			goldenPath := strings.TrimSuffix(f, ".txt") + ".golden"
			golden.Check(t, goldenPath, got)
		})
	}
}

func TestRows(t *testing.T) {
	tests := []struct {
		name, in string
		want     []string
	}{
		{"seed row without header", "nginx-distroless   1/1     Running   0          8m56s   10.244.0.12   minikube   <none>           <none>",
			[]string{`pod ns="" name="nginx-distroless" ready="1/1" status="Running" restarts="0" age="8m56s" ip="10.244.0.12" node="minikube" "NOMINATED NODE"="<none>" "READINESS GATES"="<none>"`}},
		{"headerless -A row with restarts ago", "default   nginx-distroless   1/1   Running   2 (3m ago)   1h   10.244.0.12   kind-worker   <none>   <none>",
			[]string{`pod ns="default" name="nginx-distroless" ready="1/1" status="Running" restarts="2 (3m ago)" age="1h" ip="10.244.0.12" node="kind-worker" "NOMINATED NODE"="<none>" "READINESS GATES"="<none>"`}},
		{"headerless row without -o wide", "nginx-distroless   1/1     Running   0          8m56s",
			[]string{`pod ns="" name="nginx-distroless" ready="1/1" status="Running" restarts="0" age="8m56s"`}},
		{"pending row has no address", "NAME    READY   STATUS    RESTARTS   AGE   IP       NODE     NOMINATED NODE   READINESS GATES\n" +
			"nginx   0/1     Pending   0          5s    <none>   <none>   <none>           <none>",
			[]string{`header line="NAME    READY   STATUS    RESTARTS   AGE   IP       NODE     NOMINATED NODE   READINESS GATES"`,
				`pod ns="" name="nginx" ready="0/1" status="Pending" restarts="0" age="5s" ip="<none>" node="<none>" "NOMINATED NODE"="<none>" "READINESS GATES"="<none>"`}},
		{"show-labels", "NAME    READY   STATUS    RESTARTS   AGE   LABELS\nnginx   1/1     Running   0          5s    app=nginx,tier=web",
			[]string{`header line="NAME    READY   STATUS    RESTARTS   AGE   LABELS"`,
				`pod ns="" name="nginx" ready="1/1" status="Running" restarts="0" age="5s" "LABELS"="app=nginx,tier=web"`}},
		{"prose is unknown", "the pod runs on minikube (see above)", []string{`unknown line="the pod runs on minikube (see above)"`}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var got []string
			for r := range Parse(parsetest.Lines([]byte(tt.in))) {
				got = append(got, r.String())
			}
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("(-want +got):\n%s", diff)
			}
		})
	}
}

func TestHasAddress(t *testing.T) {
	for _, tt := range []struct {
		in   string
		want bool
	}{
		{"nginx-distroless   1/1     Running   0          8m56s   10.244.0.12   minikube   <none>           <none>", true},
		{"nginx   0/1     Pending   0          5s    <none>   <none>   <none>           <none>", false},
		{"nginx-distroless   1/1     Running   0          8m56s", false},
	} {
		var got []bool
		for r := range Parse(parsetest.Lines([]byte(tt.in))) {
			got = append(got, r.HasAddress())
		}
		if diff := cmp.Diff([]bool{tt.want}, got); diff != "" {
			t.Errorf("%q (-want +got):\n%s", tt.in, diff)
		}
	}
}

func FuzzParse(f *testing.F) {
	parsetest.Corpus[[]byte](f, 0, "testdata/*.txt")
	f.Add([]byte("a 1/1 b 0 (x\n(  (( ) a"))
	f.Fuzz(func(t *testing.T, in []byte) {
		lines := bytes.Count(in, []byte("\n")) + 1
		n := 0
		for r := range Parse(parsetest.Lines(in)) {
			n++
			if len(r.Extra) > maxCols {
				t.Fatalf("unbounded extra cells: %d", len(r.Extra))
			}
		}
		if n > lines {
			t.Fatalf("%d records from %d lines", n, lines)
		}
	})
}

func BenchmarkParse(b *testing.B) {
	lines := parsetest.BenchLines(b, 1<<20, "testdata/public_all_namespaces_restarts_ago.txt", "testdata/public_wide_minikube.txt", "testdata/seed_headerless_wide.txt")
	for b.Loop() {
		n := 0
		for r := range Parse(parsetest.Seq(lines)) {
			if r.Kind == Pod {
				n++
			}
		}
		if n == 0 {
			b.Fatal("no pods")
		}
	}
}
