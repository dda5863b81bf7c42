// Command gen writes the files lab ships that are made from its own code:
// the assignment JSON Schema (from the spec's registries), docs/facts.md
// (from the fact extractors) and the seed write-up's fingerprints (from the
// write-up's sample outputs, read by the grader's fingerprinting).
//
// Run it through `go generate ./...` (the directive sits in package assets,
// which embeds two of the files). TestGeneratedFilesAreCurrent fails when a
// file on disk is not what gen would write, so a change to a registry, an
// extractor or the fingerprinting cannot land with a stale file.
package main

import (
	"bytes"
	"errors"
	"flag"
	"fmt"
	"os"
	"path/filepath"
)

// generated is one file gen writes, relative to the module root.
type generated struct {
	path  string
	build func(root string) ([]byte, error)
}

var files = []generated{
	{"assets/schema/assignment.schema.json", func(string) ([]byte, error) { return buildSchema(), nil }},
	{"docs/facts.md", func(string) ([]byte, error) { return renderFactsDoc(), nil }},
	{"assets/seed/fingerprints.json", buildSeedFingerprints},
}

func main() {
	check := flag.Bool("check", false, "only report the files that are stale; exit 1 if any is")
	flag.Parse()
	if err := run(*check); err != nil {
		fmt.Fprintln(os.Stderr, "gen:", err)
		os.Exit(1)
	}
}

func run(check bool) error {
	root, err := moduleRoot()
	if err != nil {
		return err
	}
	stale := 0
	for _, f := range files {
		want, err := f.build(root)
		if err != nil {
			return fmt.Errorf("generating %s: %w", f.path, err)
		}
		path := filepath.Join(root, filepath.FromSlash(f.path))
		have, _ := os.ReadFile(path)
		if bytes.Equal(have, want) {
			continue
		}
		if check {
			fmt.Fprintf(os.Stderr, "stale: %s\n", f.path)
			stale++
			continue
		}
		if err := os.WriteFile(path, want, 0o644); err != nil {
			return err
		}
		fmt.Fprintf(os.Stderr, "wrote %s\n", f.path)
	}
	if stale > 0 {
		return fmt.Errorf("%d generated file(s) stale: run go generate ./...", stale)
	}
	return nil
}

// moduleRoot is the nearest directory above the working directory that
// holds go.mod: go generate runs gen in the directive's package.
func moduleRoot() (string, error) {
	dir, err := os.Getwd()
	if err != nil {
		return "", err
	}
	for {
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
			return dir, nil
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			return "", errors.New("no go.mod above the working directory")
		}
		dir = parent
	}
}
