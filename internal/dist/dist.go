package main

import (
	"archive/tar"
	"archive/zip"
	"bytes"
	"compress/gzip"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"time"
)

// Platforms are the GOOS/GOARCH pairs a release carries.
var Platforms = []string{"linux/amd64", "linux/arm64", "darwin/amd64", "darwin/arm64", "windows/amd64", "windows/arm64"}

// versionVar is what the linker stamps the version into; the Makefile's
// LDFLAGS name the same one.
const versionVar = "github.com/k8s-debug-lab/lab/lab/version.Version"

// epoch is every archive entry's time: a reproducible archive cannot carry
// the time it was made.
var epoch = time.Date(2020, 1, 1, 0, 0, 0, 0, time.UTC)

type options struct {
	version   string
	out       string
	platforms string
}

// entry is one file in an archive.
type entry struct {
	name string
	mode os.FileMode
	data []byte
}

type platform struct{ goos, goarch string }

func parsePlatforms(s string) ([]platform, error) {
	var out []platform
	for _, p := range strings.Split(s, ",") {
		goos, goarch, ok := strings.Cut(strings.TrimSpace(p), "/")
		if !ok || goos == "" || goarch == "" || strings.Contains(goarch, "/") {
			return nil, fmt.Errorf("platform %q is not GOOS/GOARCH", p)
		}
		out = append(out, platform{goos, goarch})
	}
	return out, nil
}

// archiveName is the file a platform's release is packed in.
func archiveName(version string, p platform) string {
	ext := ".tar.gz"
	if p.goos == "windows" {
		ext = ".zip"
	}
	return fmt.Sprintf("lab_%s_%s_%s%s", version, p.goos, p.goarch, ext)
}

func (o *options) run(log io.Writer) error {
	if o.version == "" || strings.ContainsAny(o.version, " /\\") {
		return fmt.Errorf("-version %q: give the version to stamp in, such as v1.2.3", o.version)
	}
	platforms, err := parsePlatforms(o.platforms)
	if err != nil {
		return err
	}
	readme, err := os.ReadFile("README.md")
	if err != nil {
		return fmt.Errorf("reading the README to ship (run from the repository's root): %w", err)
	}
	if err := os.RemoveAll(o.out); err != nil {
		return fmt.Errorf("emptying %s: %w", o.out, err)
	}
	if err := os.MkdirAll(o.out, 0o755); err != nil {
		return fmt.Errorf("creating %s: %w", o.out, err)
	}
	tmp, err := os.MkdirTemp("", "lab-dist-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(tmp)

	sums := map[string]string{}
	for _, p := range platforms {
		start := time.Now()
		bin := "lab"
		if p.goos == "windows" {
			bin = "lab.exe"
		}
		binPath := filepath.Join(tmp, p.goos+"_"+p.goarch, bin)
		cmd := exec.Command("go", "build", "-trimpath", "-ldflags", "-s -w -X "+versionVar+"="+o.version, "-o", binPath, "./cmd/lab")
		cmd.Env = append(os.Environ(), "GOOS="+p.goos, "GOARCH="+p.goarch, "CGO_ENABLED=0")
		cmd.Stdout, cmd.Stderr = log, log
		if err := cmd.Run(); err != nil {
			return fmt.Errorf("building lab for %s/%s: %w", p.goos, p.goarch, err)
		}
		data, err := os.ReadFile(binPath)
		if err != nil {
			return err
		}
		name := archiveName(o.version, p)
		dir := strings.TrimSuffix(strings.TrimSuffix(name, ".tar.gz"), ".zip")
		entries := []entry{
			{dir + "/" + bin, 0o755, data},
			{dir + "/README.md", 0o644, readme},
		}
		var buf bytes.Buffer
		if p.goos == "windows" {
			err = writeZip(&buf, entries)
		} else {
			err = writeTarGz(&buf, entries)
		}
		if err != nil {
			return fmt.Errorf("packing %s: %w", name, err)
		}
		if err := os.WriteFile(filepath.Join(o.out, name), buf.Bytes(), 0o644); err != nil {
			return err
		}
		sum := sha256.Sum256(buf.Bytes())
		sums[name] = hex.EncodeToString(sum[:])
		fmt.Fprintf(log, "dist: %s (%.1f MB, %s)\n", filepath.Join(o.out, name), float64(buf.Len())/1e6, time.Since(start).Round(time.Second))
	}
	if err := os.WriteFile(filepath.Join(o.out, "SHA256SUMS"), sumsFile(sums), 0o644); err != nil {
		return err
	}
	fmt.Fprintf(log, "dist: %s\n", filepath.Join(o.out, "SHA256SUMS"))
	return nil
}

// sumsFile is SHA256SUMS in the format sha256sum -c reads: "<hex>  <name>",
// sorted by name.
func sumsFile(sums map[string]string) []byte {
	names := make([]string, 0, len(sums))
	for n := range sums {
		names = append(names, n)
	}
	slices.Sort(names)
	var b bytes.Buffer
	for _, n := range names {
		fmt.Fprintf(&b, "%s  %s\n", sums[n], n)
	}
	return b.Bytes()
}

func writeTarGz(w io.Writer, entries []entry) error {
	gz, err := gzip.NewWriterLevel(w, gzip.BestCompression)
	if err != nil {
		return err
	}
	tw := tar.NewWriter(gz)
	for _, e := range entries {
		hdr := &tar.Header{
			Name: e.name, Mode: int64(e.mode), Size: int64(len(e.data)), ModTime: epoch,
			Typeflag: tar.TypeReg, Uname: "root", Gname: "root", Format: tar.FormatPAX,
		}
		if err := tw.WriteHeader(hdr); err != nil {
			return err
		}
		if _, err := tw.Write(e.data); err != nil {
			return err
		}
	}
	return errors.Join(tw.Close(), gz.Close())
}

func writeZip(w io.Writer, entries []entry) error {
	zw := zip.NewWriter(w)
	for _, e := range entries {
		hdr := &zip.FileHeader{Name: e.name, Method: zip.Deflate, Modified: epoch}
		hdr.SetMode(e.mode)
		f, err := zw.CreateHeader(hdr)
		if err != nil {
			return err
		}
		if _, err := f.Write(e.data); err != nil {
			return err
		}
	}
	return zw.Close()
}
