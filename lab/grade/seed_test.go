package grade

import (
	"bytes"
	"io/fs"
	"testing"

	"github.com/k8s-debug-lab/lab/assets"
	"github.com/k8s-debug-lab/lab/checks/facts/fingerprint"
)

const repoRoot = "../.."

// The fingerprints name the write-up's random values, and none of the
// write-up's text beyond them ships in the binary.
func TestSeedFingerprintsHoldTheWriteUpsRandomValues(t *testing.T) {
	seed, err := SeedFingerprints()
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []fingerprint.Token{
		{Parser: "tcpdump", Kind: fingerprint.KindISN, Value: "1202002200"},
		{Parser: "tcpdump", Kind: fingerprint.KindPacket, Value: "15:24:52.090511 127.0.0.1:34586 > 127.0.0.1:80"},
		{Parser: "tcpdump", Kind: fingerprint.KindClient, Value: "10.244.0.14:47584"},
		{Parser: "strace", Kind: fingerprint.KindAccept, Value: "accept4(9) = 6 from 127.0.0.1:33154"},
		{Parser: "podlog", Kind: fingerprint.KindLogTime, Value: "2026-02-14T15:22:26.515224136Z"},
		{Parser: "podlog", Kind: fingerprint.KindDebugPod, Value: "node-debugger-minikube-n47p5"},
		{Parser: "podlog", Kind: fingerprint.KindPodUID, Value: "84d58bd0-ac6b-4cb7-98a3-9b6726cd27ab"},
		{Parser: "pod-table", Kind: fingerprint.KindPodRow, Value: "nginx-distroless 10.244.0.12 minikube 8m56s"},
	} {
		if _, ok := seed[want]; !ok {
			t.Errorf("no seed fingerprint %+v", want)
		}
	}
	files := 0
	for tok, s := range seed {
		if tok.Kind == fingerprint.KindFile && s == fingerprint.Strong {
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
