package grade_test

import (
	"context"
	"runtime"
	"runtime/metrics"
	"testing"
	"time"

	"github.com/k8s-debug-lab/lab/lab/grade"
	"github.com/k8s-debug-lab/lab/lab/grade/gradetest"
)

// BenchmarkGradeClass1000 grades a generated class of 1,000 submissions
// (real outputs of every shape, a few copies and broken folders) the way
// lab grade does, one job per CPU. The target is 5 s on 2 cores
// (go test -bench GradeClass -cpu 2); it reports the ratio to that target
// (<= 1 meets it), the heap's peak, and per-submission figures. bench/grade
// measures the same on the built binary, with the process's max RSS.
func BenchmarkGradeClass1000(b *testing.B) {
	a := builtin(b)
	dir := b.TempDir()
	if _, err := gradetest.Generate(dir, repoRoot, a, gradetest.Config{Students: 1000, Seed: 1, Copies: 20, SeedCopies: 5, Broken: 25}); err != nil {
		b.Fatal(err)
	}
	// Warm the page cache as a second run of lab grade would find it.
	if _, err := grade.Run(context.Background(), a, dir, grade.Options{}); err != nil {
		b.Fatal(err)
	}
	runtime.GC()
	sample := []metrics.Sample{{Name: "/memory/classes/heap/objects:bytes"}}
	var peak uint64
	stop := make(chan struct{})
	done := make(chan struct{})
	go func() {
		defer close(done)
		t := time.NewTicker(5 * time.Millisecond)
		defer t.Stop()
		for {
			select {
			case <-stop:
				return
			case <-t.C:
				metrics.Read(sample)
				peak = max(peak, sample[0].Value.Uint64())
			}
		}
	}()
	b.ResetTimer()
	for b.Loop() {
		if _, err := grade.Run(context.Background(), a, dir, grade.Options{}); err != nil {
			b.Fatal(err)
		}
	}
	b.StopTimer()
	close(stop)
	<-done
	perRun := b.Elapsed().Seconds() / float64(b.N)
	b.ReportMetric(perRun/5, "ratio-to-5s")
	b.ReportMetric(perRun*1e6/1000, "µs/submission")
	b.ReportMetric(float64(peak)/(1<<20), "peak-heap-MB")
}
