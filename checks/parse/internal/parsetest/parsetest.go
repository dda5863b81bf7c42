// Package parsetest holds what every parser's tests share, so that each
// parser's test file is about its parser: the samples under testdata/,
// lines split the way lab check's decoder splits an answers file, a fuzz
// corpus made of the samples, and a benchmark input of real lines.
package parsetest

import (
	"bytes"
	"iter"
	"os"
	"path/filepath"
	"slices"
	"testing"

	"github.com/k8s-debug-lab/lab/checks/decode"
)

// Lines yields data's lines as lab check hands them to a parser: decoded
// (BOM, UTF-16, CRLF, terminal codes), without line ends.
func Lines(data []byte) iter.Seq[[]byte] {
	return decode.New(bytes.NewReader(data)).Lines()
}

// Samples lists the files the patterns match (filepath.Glob, relative to
// the package), sorted, leaving out golden files and notes; it fails the
// test when there are none, so that a moved testdata/ cannot pass quietly.
func Samples(tb testing.TB, patterns ...string) []string {
	tb.Helper()
	var out []string
	for _, p := range patterns {
		files, err := filepath.Glob(p)
		if err != nil {
			tb.Fatal(err)
		}
		for _, f := range files {
			if ext := filepath.Ext(f); ext != ".golden" && ext != ".md" {
				out = append(out, f)
			}
		}
	}
	if len(out) == 0 {
		tb.Fatalf("no samples match %v", patterns)
	}
	slices.Sort(out)
	return slices.Compact(out)
}

// Read returns a file's content or fails the test.
func Read(tb testing.TB, name string) []byte {
	tb.Helper()
	b, err := os.ReadFile(name)
	if err != nil {
		tb.Fatal(err)
	}
	return b
}

// Corpus seeds a fuzz target with the samples, each cut to limit bytes
// when limit > 0. T is the fuzz target's argument type: a corpus already
// stored under testdata/fuzz keeps its type.
func Corpus[T string | []byte](f *testing.F, limit int, patterns ...string) {
	f.Helper()
	for _, name := range Samples(f, patterns...) {
		data := Read(f, name)
		if limit > 0 && len(data) > limit {
			data = data[:limit]
		}
		f.Add(T(data))
	}
}

// BenchLines repeats the named samples to at least size bytes and splits
// them into lines (what a parser sees of a large answers file), and tells
// the benchmark how many bytes one iteration reads.
func BenchLines(b *testing.B, size int, files ...string) [][]byte {
	b.Helper()
	var one []byte
	for _, f := range files {
		one = append(one, Read(b, f)...)
	}
	if len(one) == 0 {
		b.Fatalf("empty benchmark input %v", files)
	}
	big := make([]byte, 0, size+len(one))
	for len(big) < size {
		big = append(big, one...)
	}
	b.SetBytes(int64(len(big)))
	b.ReportAllocs()
	return bytes.Split(big, []byte("\n"))
}

// Seq yields lines one by one, as a parser's input.
func Seq(lines [][]byte) iter.Seq[[]byte] {
	return func(yield func([]byte) bool) {
		for _, l := range lines {
			if !yield(l) {
				return
			}
		}
	}
}
