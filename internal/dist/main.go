// Command dist builds lab's release archives: `make dist` runs it.
//
// For each of the six platforms a student's laptop or a CI runner has
// (linux, darwin, windows × amd64, arm64) it cross-compiles cmd/lab with
// the version stamped in, packs it with the README into
// lab_<version>_<os>_<arch>.tar.gz (.zip for Windows, which opens it
// without extra tools), and writes SHA256SUMS, the file `sha256sum -c`
// and `shasum -a 256 -c` check. Archives are reproducible: entries are
// sorted, with fixed times, owners and modes, so that two builds of one
// tag give the same checksums.
//
// It is a small program rather than goreleaser: goreleaser v2 needs a
// newer Go than the module pins and brings hundreds of modules for six
// `go build`s and a checksum file.
//
//	go run ./internal/dist -version v1.2.3 -out dist
package main

import (
	"flag"
	"fmt"
	"os"
	"strings"
)

func main() {
	var o options
	flag.StringVar(&o.version, "version", "", "the version to stamp in and name the archives with (make passes git describe)")
	flag.StringVar(&o.out, "out", "dist", "the folder to write the archives and SHA256SUMS into (emptied first)")
	flag.StringVar(&o.platforms, "platforms", strings.Join(Platforms, ","), "comma-separated GOOS/GOARCH pairs to build")
	flag.Usage = func() {
		fmt.Fprintf(flag.CommandLine.Output(), "usage: go run ./internal/dist -version vX.Y.Z [-out DIR] [-platforms os/arch,...]\n")
		flag.PrintDefaults()
	}
	flag.Parse()
	if flag.NArg() > 0 {
		flag.Usage()
		os.Exit(2)
	}
	if err := o.run(os.Stderr); err != nil {
		fmt.Fprintf(os.Stderr, "dist: %v\n", err)
		os.Exit(1)
	}
}
