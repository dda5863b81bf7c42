package main

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/google/go-cmp/cmp"
)

// A registry, an extractor or the fingerprinting cannot change without the
// files made from them: the binary embeds the schema and the fingerprints,
// and the README links to the facts.
func TestGeneratedFilesAreCurrent(t *testing.T) {
	root, err := filepath.Abs("../..")
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range files {
		t.Run(f.path, func(t *testing.T) {
			want, err := f.build(root)
			if err != nil {
				t.Fatal(err)
			}
			have, err := os.ReadFile(filepath.Join(root, filepath.FromSlash(f.path)))
			if err != nil {
				t.Fatalf("%v: run go generate ./...", err)
			}
			if diff := cmp.Diff(string(want), string(have)); diff != "" {
				t.Errorf("%s is stale: run go generate ./... (-generated +on disk):\n%s", f.path, diff)
			}
		})
	}
}

// The check mode is what a developer runs before a commit; it must fail
// when a file is stale and leave the file alone.
func TestCheckReportsStaleFiles(t *testing.T) {
	root := t.TempDir()
	if err := os.WriteFile(filepath.Join(root, "go.mod"), []byte("module x\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	saved := files
	t.Cleanup(func() { files = saved })
	files = []generated{{"out.txt", func(string) ([]byte, error) { return []byte("new\n"), nil }}}
	if err := os.WriteFile(filepath.Join(root, "out.txt"), []byte("old\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	t.Chdir(root)
	if err := run(true); err == nil {
		t.Fatal("run -check passed on a stale file")
	}
	if b, _ := os.ReadFile(filepath.Join(root, "out.txt")); string(b) != "old\n" {
		t.Fatalf("run -check wrote the file: %q", b)
	}
	if err := run(false); err != nil {
		t.Fatal(err)
	}
	if b, _ := os.ReadFile(filepath.Join(root, "out.txt")); string(b) != "new\n" {
		t.Fatalf("run wrote %q", b)
	}
}
