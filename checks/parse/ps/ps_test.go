package ps

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

// testLines decodes a sample the way lab check decodes an answers file.

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
			var fi Finder
			for r := range Parse(parsetest.Lines(in)) {
				b.WriteString(r.String() + "\n")
				fi.Add(r)
			}
			b.WriteString("finder " + fi.String() + "\n")
			got := b.String()
			goldenPath := strings.TrimSuffix(f, ".txt") + ".golden"
			golden.Check(t, goldenPath, got)
		})
	}
}

type verdict struct {
	Masters, Workers, Pause []int
	Unknown                 int
}

func TestFinder(t *testing.T) {
	tests := []struct {
		file string
		want verdict
	}{
		{"procps_aux.txt", verdict{Masters: []int{11}, Workers: []int{12, 13}, Pause: []int{1}}},
		{"procps_auxf.txt", verdict{Masters: []int{11}, Workers: []int{12, 13}, Pause: []int{1}}},
		{"procps_ef.txt", verdict{Masters: []int{11}, Workers: []int{12, 13}, Pause: []int{1}}},
		{"procps_eo.txt", verdict{Masters: []int{11}, Workers: []int{12, 13}, Pause: []int{1}}},
		{"procps_axu_grep.txt", verdict{Masters: []int{11}, Workers: []int{12, 13}}},
		{"procps_ef_grep.txt", verdict{Masters: []int{11}, Workers: []int{12, 13}}},
		{"busybox_ps.txt", verdict{Masters: []int{11}, Workers: []int{12, 13}, Pause: []int{1}}},
		{"busybox_ps_o.txt", verdict{Masters: []int{11}, Workers: []int{12, 13}, Pause: []int{1}}},
		{"busybox_ps_grep.txt", verdict{Masters: []int{11}, Workers: []int{12, 13}}},
		{"busybox_session.txt", verdict{Masters: []int{11}, Workers: []int{12, 13}, Pause: []int{1}, Unknown: 26}},
		{"seed_rosetta_grep.txt", verdict{Masters: []int{7}, Workers: []int{13}}},
		{"public_busybox_shared_pid.txt", verdict{Masters: []int{6}, Workers: []int{11}, Pause: []int{1}}},
		{"public_busybox_debug.txt", verdict{Masters: []int{1}, Workers: []int{30}}},
	}
	for _, tt := range tests {
		t.Run(strings.TrimSuffix(tt.file, ".txt"), func(t *testing.T) {
			in, err := os.ReadFile(filepath.Join("testdata", tt.file))
			if err != nil {
				t.Fatal(err)
			}
			var (
				f   Finder
				got verdict
			)
			for r := range Parse(parsetest.Lines(in)) {
				f.Add(r)
				if IsPause(r) {
					got.Pause = append(got.Pause, r.PID)
				}
				if r.Kind == Unknown {
					got.Unknown++
				}
			}
			got.Masters, got.Workers = f.Result()
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("(-want +got):\n%s", diff)
			}
		})
	}
}

func TestFinderRules(t *testing.T) {
	tests := []struct {
		name, in     string
		masters, wks []int
	}{
		{"untitled with parents", "PID PPID USER COMMAND\n20 1 root nginx -g daemon off;\n21 20 root nginx -g daemon off;\n22 20 root nginx -g daemon off;",
			[]int{20}, []int{21, 22}},
		{"untitled all root, no parents: lowest PID is master", "  30 root  nginx\n  9 root  nginx\n  31 root  nginx",
			[]int{9}, []int{30, 31}},
		{"grep and shells mentioning nginx are not nginx", "root 5 0.0 0.0 1 1 ? S 10:00 0:00 grep nginx\nroot 6 0.0 0.0 1 1 ? S 10:00 0:00 sh -c ps aux | grep nginx",
			nil, nil},
		{"cache manager is neither", "PID USER COMMAND\n 1 root nginx: master process nginx\n 2 nginx nginx: cache manager process\n 3 nginx nginx: worker process",
			[]int{1}, []int{3}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var f Finder
			for r := range Parse(parsetest.Lines([]byte(tt.in))) {
				f.Add(r)
			}
			m, w := f.Result()
			if diff := cmp.Diff([][]int{tt.masters, tt.wks}, [][]int{m, w}); diff != "" {
				t.Errorf("(-want +got):\n%s", diff)
			}
		})
	}
}

func FuzzParse(f *testing.F) {
	parsetest.Corpus[[]byte](f, 0, "testdata/*.txt")
	f.Fuzz(func(t *testing.T, in []byte) {
		lines := bytes.Count(in, []byte("\n")) + 1
		n := 0
		var fi Finder
		for r := range Parse(parsetest.Lines(in)) {
			n++
			fi.Add(r)
		}
		if n > lines {
			t.Fatalf("%d records from %d lines", n, lines)
		}
		m, w := fi.Result()
		if len(m)+len(w) > maxNginx {
			t.Fatalf("unbounded finder: %d", len(m)+len(w))
		}
	})
}

func BenchmarkParse(b *testing.B) {
	lines := parsetest.BenchLines(b, 1<<20, "testdata/procps_aux.txt", "testdata/busybox_ps.txt", "testdata/procps_ef.txt")
	for b.Loop() {
		n := 0
		for r := range Parse(parsetest.Seq(lines)) {
			if r.Kind == Process {
				n++
			}
		}
		if n == 0 {
			b.Fatal("no processes")
		}
	}
}
