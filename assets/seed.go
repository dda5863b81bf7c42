package assets

import (
	"embed"
	"io/fs"
)

//go:embed seed/fingerprints.json
var seedFiles embed.FS

// SeedFingerprintsFile is the fingerprint list's name inside Seed().
const SeedFingerprintsFile = "fingerprints.json"

// Seed holds the fingerprints of the sample outputs in the write-up the
// built-in assignment comes from: the values in them that are random per
// cluster (TCP sequence numbers, log times, pod UIDs, …) and hashes of the
// whole files. `lab grade` flags answers that share them, since an answer
// copied from that public write-up is not the student's own. Only the
// fingerprints ship, not the write-up; they are generated from the sample
// files under checks/testdata by `go test ./lab/grade -update`, and a test
// fails when they are stale.
func Seed() fs.FS {
	return sub(seedFiles, "seed")
}
