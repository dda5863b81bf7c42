package main

import (
	"archive/tar"
	"archive/zip"
	"bytes"
	"compress/gzip"
	"io"
	"os"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

var files = []entry{
	{"lab_v1.2.3_linux_arm64/lab", 0o755, []byte("\x7fELF binary")},
	{"lab_v1.2.3_linux_arm64/README.md", 0o644, []byte("# lab\n")},
}

type got struct {
	Name string
	Mode os.FileMode
	Data string
}

func TestTarGz(t *testing.T) {
	var a, b bytes.Buffer
	if err := writeTarGz(&a, files); err != nil {
		t.Fatal(err)
	}
	if err := writeTarGz(&b, files); err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(a.Bytes(), b.Bytes()) {
		t.Error("two archives of the same files differ: checksums would not be reproducible")
	}
	gz, err := gzip.NewReader(&a)
	if err != nil {
		t.Fatal(err)
	}
	tr := tar.NewReader(gz)
	var entries []got
	for {
		h, err := tr.Next()
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		data, _ := io.ReadAll(tr)
		if !h.ModTime.Equal(epoch) {
			t.Errorf("%s: time %v", h.Name, h.ModTime)
		}
		entries = append(entries, got{h.Name, h.FileInfo().Mode(), string(data)})
	}
	want := []got{{files[0].name, 0o755, string(files[0].data)}, {files[1].name, 0o644, string(files[1].data)}}
	if diff := cmp.Diff(want, entries); diff != "" {
		t.Errorf("(-want +got):\n%s", diff)
	}
}

func TestZip(t *testing.T) {
	var a, b bytes.Buffer
	if err := writeZip(&a, files); err != nil {
		t.Fatal(err)
	}
	if err := writeZip(&b, files); err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(a.Bytes(), b.Bytes()) {
		t.Error("two archives of the same files differ: checksums would not be reproducible")
	}
	zr, err := zip.NewReader(bytes.NewReader(a.Bytes()), int64(a.Len()))
	if err != nil {
		t.Fatal(err)
	}
	var entries []got
	for _, f := range zr.File {
		rc, err := f.Open()
		if err != nil {
			t.Fatal(err)
		}
		data, _ := io.ReadAll(rc)
		rc.Close()
		entries = append(entries, got{f.Name, f.Mode(), string(data)})
	}
	want := []got{{files[0].name, 0o755, string(files[0].data)}, {files[1].name, 0o644, string(files[1].data)}}
	if diff := cmp.Diff(want, entries); diff != "" {
		t.Errorf("(-want +got):\n%s", diff)
	}
}

// SHA256SUMS is what sha256sum -c reads: two spaces, sorted names.
func TestSumsFile(t *testing.T) {
	got := string(sumsFile(map[string]string{"lab_v1_windows_amd64.zip": "bb", "lab_v1_darwin_arm64.tar.gz": "aa"}))
	want := "aa  lab_v1_darwin_arm64.tar.gz\nbb  lab_v1_windows_amd64.zip\n"
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("(-want +got):\n%s", diff)
	}
}

func TestPlatforms(t *testing.T) {
	ps, err := parsePlatforms(strings.Join(Platforms, ","))
	if err != nil || len(ps) != 6 {
		t.Fatalf("%v, %v", ps, err)
	}
	var names []string
	for _, p := range ps {
		names = append(names, archiveName("v1.2.3", p))
	}
	want := []string{
		"lab_v1.2.3_linux_amd64.tar.gz", "lab_v1.2.3_linux_arm64.tar.gz",
		"lab_v1.2.3_darwin_amd64.tar.gz", "lab_v1.2.3_darwin_arm64.tar.gz",
		"lab_v1.2.3_windows_amd64.zip", "lab_v1.2.3_windows_arm64.zip",
	}
	if diff := cmp.Diff(want, names); diff != "" {
		t.Errorf("(-want +got):\n%s", diff)
	}
	for _, bad := range []string{"linux", "linux/", "/amd64", "linux/arm/v7", ""} {
		if _, err := parsePlatforms(bad); err == nil {
			t.Errorf("%q was taken for a platform", bad)
		}
	}
}

func TestRunRefusesNoVersion(t *testing.T) {
	for _, v := range []string{"", "v1 2", "a/b"} {
		o := options{version: v, out: t.TempDir(), platforms: "linux/amd64"}
		if err := o.run(io.Discard); err == nil {
			t.Errorf("version %q was taken", v)
		}
	}
}
