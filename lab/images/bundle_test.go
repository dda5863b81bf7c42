package images

import (
	"archive/tar"
	"bytes"
	"errors"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

// writeTestBundle writes a bundle of two small members and returns its path.
func writeTestBundle(t *testing.T, platform string) (string, Manifest) {
	t.Helper()
	dir := t.TempDir()
	node := filepath.Join(dir, "node.tar")
	pods := filepath.Join(dir, "pods.tar")
	os.WriteFile(node, bytes.Repeat([]byte("node layer "), 1000), 0o600)
	os.WriteFile(pods, []byte("pods' layers"), 0o600)
	m := Manifest{
		LabVersion: "v0.9.0", Lab: "kubernetes-debug", Platform: platform,
		NodeImage: Image{Name: "kindest/node:v1.37.0", Role: "node", ID: "sha256:aa", Platform: platform, Member: NodeImageMember,
			RepoDigests: []string{"kindest/node@sha256:a1ed"}},
		Images: []Image{
			{Name: "kyos0109/nginx-distroless:latest", Role: "workload", ID: "sha256:bb", Platform: platform, Member: ImagesMember},
			{Name: "nicolaka/netshoot:latest", Role: "debugger", ID: "sha256:cc", Platform: platform, Member: ImagesMember},
		},
	}
	p := filepath.Join(dir, "lab.bundle")
	var buf bytes.Buffer
	if err := WriteBundle(&buf, m, map[string]string{NodeImageMember: node, ImagesMember: pods}); err != nil {
		t.Fatal(err)
	}
	os.WriteFile(p, buf.Bytes(), 0o600)
	return p, m
}

func TestBundleRoundTrip(t *testing.T) {
	p, m := writeTestBundle(t, "linux/amd64")
	got, err := Verify(p, "linux/amd64")
	if err != nil {
		t.Fatal(err)
	}
	m.APIVersion, m.Kind = BundleAPIVersion, BundleKind
	if diff := cmp.Diff(m.All(), got.All()); diff != "" {
		t.Errorf("images (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff([]string{ImagesMember, NodeImageMember}, []string{got.Files[0].Name, got.Files[1].Name}); diff != "" {
		t.Errorf("files (-want +got):\n%s", diff)
	}
	quick, err := ReadManifest(p)
	if err != nil || quick.Platform != "linux/amd64" {
		t.Errorf("ReadManifest: %v, %+v", err, quick)
	}
	for _, img := range []string{"kindest/node:v1.37.0@sha256:a1ed", "nicolaka/netshoot", "docker.io/kyos0109/nginx-distroless:latest"} {
		if !got.Has(img) {
			t.Errorf("the bundle does not have %s", img)
		}
	}
	if got.Has("ubuntu") {
		t.Error("the bundle has ubuntu, which it does not carry")
	}
	r, err := OpenMember(p, ImagesMember)
	if err != nil {
		t.Fatal(err)
	}
	data, _ := io.ReadAll(r)
	r.Close()
	if string(data) != "pods' layers" {
		t.Errorf("member %s reads %q", ImagesMember, data)
	}
	// The same images make the same bundle, byte for byte.
	again, _ := writeTestBundle(t, "linux/amd64")
	a, _ := os.ReadFile(p)
	b, _ := os.ReadFile(again)
	if !bytes.Equal(a, b) {
		t.Error("two bundles of the same images differ")
	}
}

func TestBundleRefused(t *testing.T) {
	good, _ := writeTestBundle(t, "linux/amd64")
	data, _ := os.ReadFile(good)
	dir := t.TempDir()
	write := func(name string, b []byte) string {
		p := filepath.Join(dir, name)
		os.WriteFile(p, b, 0o600)
		return p
	}
	flipped := bytes.Clone(data)
	i := bytes.Index(flipped, []byte("node layer"))
	flipped[i+3] ^= 0x20
	var dockerSave bytes.Buffer
	tw := tar.NewWriter(&dockerSave)
	tw.WriteHeader(&tar.Header{Name: "manifest.json.x", Size: 2, Mode: 0o644})
	tw.Write([]byte("[]"))
	tw.Close()
	var extra bytes.Buffer
	extra.Write(data[:len(data)-1024]) // drop the end-of-archive blocks
	tw = tar.NewWriter(&extra)
	tw.WriteHeader(&tar.Header{Name: "evil.sh", Size: 2, Mode: 0o755})
	tw.Write([]byte("hi"))
	tw.Close()
	tests := []struct {
		name, path, platform, want string
	}{
		{"missing", filepath.Join(dir, "nope"), "", "no such file"},
		{"empty", write("empty", nil), "", "it is empty"},
		{"not a tar", write("text", []byte("hello, this is not a tar archive at all, but it is long enough to look at: "+strings.Repeat("x", 600))), "", "not a lab bundle"},
		{"a docker save archive", write("save.tar", dockerSave.Bytes()), "", "--image-archive"},
		{"wrong platform", good, "linux/arm64", "holds images for linux/amd64, but this machine's kind nodes are linux/arm64"},
		{"cut short", write("short", data[:len(data)/2]), "", "cut short"},
		{"a flipped bit", write("flipped", flipped), "", "does not match its checksum"},
		{"an extra member", write("extra", extra.Bytes()), "", `holds "evil.sh"`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := Verify(tt.path, tt.platform)
			var be *BundleError
			if !errors.As(err, &be) || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("Verify = %v, want a BundleError with %q", err, tt.want)
			}
		})
	}
}

func TestBundleManifestChecked(t *testing.T) {
	dir := t.TempDir()
	f := filepath.Join(dir, "f")
	os.WriteFile(f, []byte("x"), 0o600)
	m := Manifest{Platform: "linux/amd64",
		NodeImage: Image{Name: "kindest/node:v1", Platform: "linux/arm64", Member: NodeImageMember}}
	err := WriteBundle(io.Discard, m, map[string]string{NodeImageMember: f})
	if err == nil || !strings.Contains(err.Error(), "is for linux/arm64, the bundle for linux/amd64") {
		t.Errorf("a mixed-platform bundle was written: %v", err)
	}
}

func TestNormalize(t *testing.T) {
	tests := map[string]string{
		"nginx":                                 "docker.io/library/nginx:latest",
		"kyos0109/nginx-distroless":             "docker.io/kyos0109/nginx-distroless:latest",
		"docker.io/library/ubuntu:24.04":        "docker.io/library/ubuntu:24.04",
		"kindest/node:v1.37.0@sha256:a1ed":      "docker.io/kindest/node@sha256:a1ed",
		"127.0.0.1:5055/lab/nginx-distroless":   "127.0.0.1:5055/lab/nginx-distroless:latest",
		"localhost/nginx:1":                     "localhost/nginx:1",
		"index.docker.io/curlimages/curl:8.1.2": "docker.io/curlimages/curl:8.1.2",
	}
	for in, want := range tests {
		if got := Normalize(in); got != want {
			t.Errorf("Normalize(%q) = %q, want %q", in, got, want)
		}
	}
}
