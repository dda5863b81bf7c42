package main

import (
	"bytes"
	"cmp"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"

	"github.com/k8s-debug-lab/lab/assets"
	"github.com/k8s-debug-lab/lab/checks/facts/fingerprint"
	"github.com/k8s-debug-lab/lab/checks/spec"
	"github.com/k8s-debug-lab/lab/lab/grade/gradetest"
)

// seedSamples are the seed write-up's outputs: the answers folder copied
// from it, and the parser samples taken from it, each with its parser.
func seedSamples(root string) (map[string]string, error) {
	a, err := spec.Load(assets.Lab(), assets.BuiltinSource)
	if err != nil {
		return nil, err
	}
	out := map[string]string{}
	seed := gradetest.SeedDir(root)
	entries, err := os.ReadDir(seed)
	if err != nil {
		return nil, err
	}
	for _, e := range entries {
		for _, s := range a.Steps {
			if slices.Contains(s.Files, e.Name()) {
				out[filepath.Join(seed, e.Name())] = s.Parser
			}
		}
	}
	for _, parser := range []string{"ls", "ps", "tcpdump", "pod-table", "podlog", "strace"} {
		files, _ := filepath.Glob(filepath.Join(root, "checks", "parse", gradetest.ParserDir(parser), "testdata", "seed*"))
		for _, f := range files {
			if !strings.HasSuffix(f, ".golden") {
				out[f] = parser
			}
		}
	}
	if len(out) < 5 {
		return nil, fmt.Errorf("only %d seed samples found under %s", len(out), root)
	}
	return out, nil
}

// buildSeedFingerprints computes what assets/seed/fingerprints.json holds.
// A whole seed file counts as strong evidence when it is distinctive: it
// holds a random value, or at least three lines (a one-line error message
// is what any student making the same mistake prints).
func buildSeedFingerprints(root string) ([]byte, error) {
	samples, err := seedSamples(root)
	if err != nil {
		return nil, err
	}
	seen := map[fingerprint.Token]fingerprint.Strength{}
	for file, parser := range samples {
		data, err := os.ReadFile(file)
		if err != nil {
			return nil, err
		}
		fps, info := fingerprint.Read(parser, data)
		hasToken := false
		for _, fp := range fps {
			if fp.Kind == fingerprint.KindFile {
				continue
			}
			hasToken = true
			seen[fp.Token] = max(seen[fp.Token], fp.Strength)
		}
		if info.Lines > 0 && (hasToken || info.Lines >= 3) {
			seen[fingerprint.Token{Parser: parser, Kind: fingerprint.KindFile, Value: info.Hash}] = fingerprint.Strong
		}
	}
	doc := fingerprint.SeedFile{Source: "the sample outputs of the write-up the built-in assignment comes from (checks/testdata/answers/seed, checks/parse/*/testdata/seed*)"}
	for t, s := range seen {
		doc.Fingerprints = append(doc.Fingerprints, fingerprint.Fingerprint{Token: t, Strength: s})
	}
	slices.SortFunc(doc.Fingerprints, func(a, b fingerprint.Fingerprint) int {
		return cmp.Or(cmp.Compare(a.Parser, b.Parser), cmp.Compare(a.Kind, b.Kind), cmp.Compare(a.Value, b.Value))
	})
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	enc.SetIndent("", "  ")
	enc.SetEscapeHTML(false)
	if err := enc.Encode(doc); err != nil {
		return nil, err
	}
	return b.Bytes(), nil
}
