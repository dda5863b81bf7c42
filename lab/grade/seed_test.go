package grade

import (
	"bytes"
	"cmp"
	"encoding/json"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/k8s-debug-lab/lab/assets"
	"github.com/k8s-debug-lab/lab/checks/spec"
	"github.com/k8s-debug-lab/lab/internal/golden"
	"github.com/k8s-debug-lab/lab/lab/grade/gradetest"
)

const repoRoot = "../.."

// seedSamples are the seed write-up's outputs: the answers folder copied
// from it, and the parser samples taken from it, each with its parser.
func seedSamples(t *testing.T) map[string]string {
	t.Helper()
	a, err := spec.Load(assets.Lab(), assets.BuiltinSource)
	if err != nil {
		t.Fatal(err)
	}
	out := map[string]string{}
	seed := gradetest.SeedDir(repoRoot)
	entries, err := os.ReadDir(seed)
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range entries {
		for _, s := range a.Steps {
			if slices.Contains(s.Files, e.Name()) {
				out[filepath.Join(seed, e.Name())] = s.Parser
			}
		}
	}
	for _, parser := range []string{"ls", "ps", "tcpdump", "pod-table", "podlog", "strace"} {
		files, _ := filepath.Glob(filepath.Join(repoRoot, "checks", "parse", gradetest.ParserDir(parser), "testdata", "seed*"))
		for _, f := range files {
			if !strings.HasSuffix(f, ".golden") {
				out[f] = parser
			}
		}
	}
	if len(out) < 5 {
		t.Fatalf("only %d seed samples found", len(out))
	}
	return out
}

// buildSeedFingerprints computes what assets/seed/fingerprints.json holds.
// A whole seed file counts as strong evidence when it is distinctive: it
// holds a random value, or at least three lines (a one-line error message
// is what any student making the same mistake prints).
func buildSeedFingerprints(t *testing.T) []byte {
	t.Helper()
	seen := map[Token]Strength{}
	for file, parser := range seedSamples(t) {
		data, err := os.ReadFile(file)
		if err != nil {
			t.Fatal(err)
		}
		fps, info := fingerprint(parser, data)
		hasToken := false
		for _, fp := range fps {
			if fp.Kind == KindFile {
				continue
			}
			hasToken = true
			seen[fp.Token] = max(seen[fp.Token], fp.Strength)
		}
		if info.lines > 0 && (hasToken || info.lines >= 3) {
			seen[Token{Parser: parser, Kind: KindFile, Value: info.hash}] = Strong
		}
	}
	doc := seedFile{Source: "the sample outputs of the write-up the built-in assignment comes from (checks/testdata/answers/seed, checks/parse/*/testdata/seed*)"}
	for t, s := range seen {
		doc.Fingerprints = append(doc.Fingerprints, Fingerprint{Token: t, Strength: s})
	}
	slices.SortFunc(doc.Fingerprints, func(a, b Fingerprint) int {
		return cmp.Or(cmp.Compare(a.Parser, b.Parser), cmp.Compare(a.Kind, b.Kind), cmp.Compare(a.Value, b.Value))
	})
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	enc.SetIndent("", "  ")
	enc.SetEscapeHTML(false)
	if err := enc.Encode(doc); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

func TestSeedFingerprintsAreCurrent(t *testing.T) {
	// The file on disk is the one embedded in the binary.
	golden.Check(t, filepath.Join(repoRoot, "assets", "seed", assets.SeedFingerprintsFile), string(buildSeedFingerprints(t)))
}

// The fingerprints name the write-up's random values, and none of the
// write-up's text beyond them ships in the binary.
func TestSeedFingerprintsHoldTheWriteUpsRandomValues(t *testing.T) {
	seed, err := SeedFingerprints()
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []Token{
		{"tcpdump", KindISN, "1202002200"},
		{"tcpdump", KindPacket, "15:24:52.090511 127.0.0.1:34586 > 127.0.0.1:80"},
		{"tcpdump", KindClient, "10.244.0.14:47584"},
		{"strace", KindAccept, "accept4(9) = 6 from 127.0.0.1:33154"},
		{"podlog", KindLogTime, "2026-02-14T15:22:26.515224136Z"},
		{"podlog", KindDebugPod, "node-debugger-minikube-n47p5"},
		{"podlog", KindPodUID, "84d58bd0-ac6b-4cb7-98a3-9b6726cd27ab"},
		{"pod-table", KindPodRow, "nginx-distroless 10.244.0.12 minikube 8m56s"},
	} {
		if _, ok := seed[want]; !ok {
			t.Errorf("no seed fingerprint %+v", want)
		}
	}
	files := 0
	for tok, s := range seed {
		if tok.Kind == KindFile && s == Strong {
			files++
		}
	}
	// step-3, -5, -6, -7 and star of the answers folder, and the parser
	// samples that differ from them; not the one-line error messages.
	if files < 6 {
		t.Errorf("%d whole-file seed fingerprints, want at least 6", files)
	}
	data, _ := fs.ReadFile(assets.Seed(), assets.SeedFingerprintsFile)
	for _, text := range []string{"Flags [S]", "sa_family", "Running", "resolv.conf"} {
		if bytes.Contains(data, []byte(text)) {
			t.Errorf("the embedded fingerprints carry the write-up's text %q", text)
		}
	}
}
