package fingerprint

import (
	"os"
	"path/filepath"
	"testing"
)

const repoRoot = "../../.."

// Fingerprinting reads whatever a student handed in: it must never panic
// and never keep more than its bounds, whatever the bytes.
func FuzzFingerprint(f *testing.F) {
	for file := range seedSamplesFor(f) {
		data, err := os.ReadFile(file)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(data)
	}
	if pcap, err := os.ReadFile(filepath.Join(repoRoot, "checks/parse/tcpdump/testdata/any-sll2.pcap")); err == nil {
		f.Add(pcap)
	}
	f.Add([]byte("\xff\xfe1\x002\x00:\x00"))
	parsers := []string{"tcpdump", "strace", "podlog", "pod-table", "ls", "ps"}
	f.Fuzz(func(t *testing.T, data []byte) {
		for _, p := range parsers {
			fps, info := Read(p, data)
			if len(fps) > len(kindNames)*maxPerKind+1 {
				t.Fatalf("%s: %d fingerprints", p, len(fps))
			}
			for _, fp := range fps {
				if len(fp.Value) > maxValueBytes && fp.Kind != KindFile {
					t.Fatalf("%s: a value of %d bytes", p, len(fp.Value))
				}
			}
			if info.Lines < 0 || len(info.Hash) != 32 {
				t.Fatalf("%s: info %+v", p, info)
			}
		}
	})
}

// seedSamplesFor lists the seed write-up's samples for a fuzz corpus.
func seedSamplesFor(f *testing.F) map[string]bool {
	out := map[string]bool{}
	files, _ := filepath.Glob(filepath.Join(repoRoot, "checks/testdata/answers/seed/*"))
	more, _ := filepath.Glob(filepath.Join(repoRoot, "checks/parse/*/testdata/seed*.txt"))
	for _, file := range append(files, more...) {
		out[file] = true
	}
	if len(out) == 0 {
		f.Fatal("no seed samples")
	}
	return out
}
