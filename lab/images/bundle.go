package images

import (
	"archive/tar"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path"
	"slices"
	"strings"
)

// A bundle is one tar file that carries every image a lab needs into a
// room without a registry: the kind node image (loaded into the container
// engine) and the pods' images (loaded into the nodes), each a `docker
// save` archive, after a manifest that says what is inside:
//
//	manifest.json    Manifest: names, image IDs, digests, platform, lab version, checksums
//	node-image.tar   docker save of the kind node image
//	images.tar       docker save of the workload, debugger and client images
//
// The manifest comes first, so that reading what a bundle holds is quick;
// the checksums of the other members are in it, so that a copy damaged on
// its way (a USB stick pulled early) is refused before anything is made.
const (
	BundleAPIVersion = "lab/v1"
	BundleKind       = "ImageBundle"

	ManifestMember  = "manifest.json"
	NodeImageMember = "node-image.tar"
	ImagesMember    = "images.tar"
)

// maxManifestSize bounds the manifest member.
const maxManifestSize = 1 << 20

// Manifest is a bundle's table of contents.
type Manifest struct {
	APIVersion string `json:"apiVersion"`
	Kind       string `json:"kind"`
	// LabVersion is the lab binary that wrote the bundle.
	LabVersion string `json:"labVersion"`
	// Lab names the lab folder and its assignment's digest, so that an
	// instructor can tell bundles for different labs apart.
	Lab string `json:"lab,omitempty"`
	// Platform is the one platform every image is for ("linux/amd64").
	Platform string `json:"platform"`
	// NodeImage is kind's node image; Images are the pods' images.
	NodeImage Image   `json:"nodeImage"`
	Images    []Image `json:"images"`
	// Files are the other members, with their sizes and checksums.
	Files []File `json:"files"`
}

// Image is one image in a bundle.
type Image struct {
	// Name is the reference the archive carries (always with a tag:
	// "kindest/node:v1.37.0", "nicolaka/netshoot:latest").
	Name string `json:"name"`
	// Role says what the lab uses it for: node, workload, debugger, …
	Role string `json:"role,omitempty"`
	// ID is the image's config digest, as `docker image inspect` shows it.
	ID string `json:"id"`
	// RepoDigests are the registry digests it was pulled by.
	RepoDigests []string `json:"repoDigests,omitempty"`
	Platform    string   `json:"platform"`
	// Member is the archive member that holds it.
	Member string `json:"member"`
}

// File is one member after the manifest.
type File struct {
	Name   string `json:"name"`
	Size   int64  `json:"size"`
	SHA256 string `json:"sha256"`
}

// All is the node image then the pods' images.
func (m *Manifest) All() []Image {
	return append([]Image{m.NodeImage}, m.Images...)
}

// Has reports whether the bundle carries image (compared by Normalize).
func (m *Manifest) Has(image string) bool {
	want := Normalize(image)
	return slices.ContainsFunc(m.All(), func(i Image) bool {
		return Normalize(i.Name) == want || Normalize(StripDigest(image)) == Normalize(i.Name)
	})
}

// BundleError is a bundle lab refuses, with the reason.
type BundleError struct {
	Path, Problem string
}

func (e *BundleError) Error() string {
	return fmt.Sprintf("bundle %s: %s", e.Path, e.Problem)
}

func refuse(p, format string, args ...any) error {
	return &BundleError{Path: p, Problem: fmt.Sprintf(format, args...)}
}

// WriteBundle writes the bundle to w: the manifest (its Files filled in
// from members) and then each member, a name in the archive mapped to a
// file on disk. Members are read twice, once for their checksums.
func WriteBundle(w io.Writer, m Manifest, members map[string]string) error {
	m.APIVersion, m.Kind = BundleAPIVersion, BundleKind
	m.Files = nil
	names := make([]string, 0, len(members))
	for name := range members {
		names = append(names, name)
	}
	slices.Sort(names)
	for _, name := range names {
		sum, size, err := hashFile(members[name])
		if err != nil {
			return err
		}
		m.Files = append(m.Files, File{Name: name, Size: size, SHA256: sum})
	}
	if err := m.check("(being written)"); err != nil {
		return err
	}
	data, err := json.MarshalIndent(m, "", "  ")
	if err != nil {
		return err
	}
	tw := tar.NewWriter(w)
	if err := tw.WriteHeader(&tar.Header{Name: ManifestMember, Mode: 0o644, Size: int64(len(data)), Typeflag: tar.TypeReg, Format: tar.FormatPAX}); err != nil {
		return fmt.Errorf("writing the bundle: %w", err)
	}
	if _, err := tw.Write(data); err != nil {
		return fmt.Errorf("writing the bundle: %w", err)
	}
	for _, f := range m.Files {
		if err := copyMember(tw, f, members[f.Name]); err != nil {
			return err
		}
	}
	if err := tw.Close(); err != nil {
		return fmt.Errorf("writing the bundle: %w", err)
	}
	return nil
}

func copyMember(tw *tar.Writer, f File, src string) error {
	in, err := os.Open(src)
	if err != nil {
		return err
	}
	defer in.Close()
	// No times, owners or modes from the machine: the same images make
	// the same bundle.
	if err := tw.WriteHeader(&tar.Header{Name: f.Name, Mode: 0o644, Size: f.Size, Typeflag: tar.TypeReg, Format: tar.FormatPAX}); err != nil {
		return fmt.Errorf("writing %s into the bundle: %w", f.Name, err)
	}
	n, err := io.Copy(tw, in)
	if err != nil {
		return fmt.Errorf("writing %s into the bundle: %w", f.Name, err)
	}
	if n != f.Size {
		return fmt.Errorf("%s changed while the bundle was written", src)
	}
	return nil
}

func hashFile(p string) (string, int64, error) {
	f, err := os.Open(p)
	if err != nil {
		return "", 0, err
	}
	defer f.Close()
	h := sha256.New()
	n, err := io.Copy(h, f)
	if err != nil {
		return "", 0, fmt.Errorf("reading %s: %w", p, err)
	}
	return "sha256:" + hex.EncodeToString(h.Sum(nil)), n, nil
}

// check is what every manifest must satisfy.
func (m *Manifest) check(p string) error {
	switch {
	case m.APIVersion != BundleAPIVersion || m.Kind != BundleKind:
		return refuse(p, "its manifest is %s/%s, not a %s %s", m.APIVersion, m.Kind, BundleAPIVersion, BundleKind)
	case m.Platform == "":
		return refuse(p, "its manifest names no platform")
	case m.NodeImage.Name == "":
		return refuse(p, "it carries no kind node image")
	}
	files := map[string]bool{}
	for _, f := range m.Files {
		if f.Name == ManifestMember || path.Clean(f.Name) != f.Name || strings.ContainsAny(f.Name, `/\`) || files[f.Name] {
			return refuse(p, "its manifest lists a member named %q, which lab does not write", f.Name)
		}
		files[f.Name] = true
	}
	for _, img := range m.All() {
		if !files[img.Member] {
			return refuse(p, "image %s is said to be in %q, which the manifest does not list", img.Name, img.Member)
		}
		if img.Platform != m.Platform {
			return refuse(p, "image %s is for %s, the bundle for %s", img.Name, img.Platform, m.Platform)
		}
	}
	return nil
}

// ReadManifest reads a bundle's manifest without reading the rest: what a
// bundle holds, quickly. It does not prove the rest is whole; Verify does.
func ReadManifest(p string) (*Manifest, error) {
	f, err := os.Open(p)
	if err != nil {
		return nil, refuse(p, "%v", unwrapPath(err))
	}
	defer f.Close()
	m, _, err := readManifest(p, f)
	return m, err
}

func unwrapPath(err error) error {
	var pe *os.PathError
	if errors.As(err, &pe) {
		return pe.Err
	}
	return err
}

func readManifest(p string, r io.Reader) (*Manifest, *tar.Reader, error) {
	tr := tar.NewReader(r)
	h, err := tr.Next()
	if err != nil {
		if errors.Is(err, io.EOF) {
			return nil, nil, refuse(p, "it is empty; make one with lab bundle save FILE")
		}
		return nil, nil, refuse(p, "it is not a lab bundle (not a tar archive: %v); make one with lab bundle save FILE", err)
	}
	if h.Name != ManifestMember {
		return nil, nil, refuse(p, "it is not a lab bundle: it starts with %q, not %s (a docker save archive goes to lab up --image-archive)", h.Name, ManifestMember)
	}
	if h.Size > maxManifestSize {
		return nil, nil, refuse(p, "its manifest is %d bytes, more than a lab bundle's", h.Size)
	}
	data, err := io.ReadAll(tr)
	if err != nil {
		return nil, nil, refuse(p, "it is damaged: its manifest is cut short (%v)", err)
	}
	var m Manifest
	dec := json.NewDecoder(strings.NewReader(string(data)))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&m); err != nil {
		return nil, nil, refuse(p, "its manifest does not read: %v", err)
	}
	if err := m.check(p); err != nil {
		return nil, nil, err
	}
	return &m, tr, nil
}

// Verify reads the whole bundle and refuses it when it is not a lab
// bundle, is for another platform than platform ("" skips that check), or
// is damaged: a member missing, cut short, extra, or not matching its
// checksum.
func Verify(p, platform string) (*Manifest, error) {
	f, err := os.Open(p)
	if err != nil {
		return nil, refuse(p, "%v", unwrapPath(err))
	}
	defer f.Close()
	m, tr, err := readManifest(p, f)
	if err != nil {
		return nil, err
	}
	if platform != "" && m.Platform != platform {
		return nil, refuse(p, "it holds images for %s, but this machine's kind nodes are %s: save a bundle with lab bundle save --platform %s FILE", m.Platform, platform, platform)
	}
	want := map[string]File{}
	for _, f := range m.Files {
		want[f.Name] = f
	}
	for {
		h, err := tr.Next()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return nil, refuse(p, "it is damaged: %v (a copy that did not finish?)", err)
		}
		fw, ok := want[h.Name]
		if !ok {
			return nil, refuse(p, "it is damaged: it holds %q, which its manifest does not list", h.Name)
		}
		delete(want, h.Name)
		hash := sha256.New()
		n, err := io.Copy(hash, tr)
		if err != nil {
			return nil, refuse(p, "it is damaged: %s is cut short after %d of %d bytes (a copy that did not finish?)", h.Name, n, fw.Size)
		}
		if n != fw.Size {
			return nil, refuse(p, "it is damaged: %s has %d bytes, its manifest says %d", h.Name, n, fw.Size)
		}
		if sum := "sha256:" + hex.EncodeToString(hash.Sum(nil)); sum != fw.SHA256 {
			return nil, refuse(p, "it is damaged: %s does not match its checksum (%s, want %s); copy the bundle again", h.Name, sum, fw.SHA256)
		}
	}
	for name := range want {
		return nil, refuse(p, "it is damaged: %s is missing (a copy that did not finish?)", name)
	}
	return m, nil
}

// OpenMember opens one member of a bundle for reading (to pipe into
// `docker load` or a node's containerd). Close closes the file.
func OpenMember(p, name string) (io.ReadCloser, error) {
	f, err := os.Open(p)
	if err != nil {
		return nil, refuse(p, "%v", unwrapPath(err))
	}
	tr := tar.NewReader(f)
	for {
		h, err := tr.Next()
		if err != nil {
			f.Close()
			if errors.Is(err, io.EOF) {
				return nil, refuse(p, "it holds no %s", name)
			}
			return nil, refuse(p, "it is damaged: %v", err)
		}
		if h.Name == name {
			return struct {
				io.Reader
				io.Closer
			}{tr, f}, nil
		}
	}
}

// Normalize spells a reference the way containerd lists it:
// "nginx" is docker.io/library/nginx:latest, "a/b@sha256:…" keeps only the
// digest, a registry host stays.
func Normalize(ref string) string {
	name, digest, hasDigest := strings.Cut(ref, "@")
	domain := "docker.io"
	if first, rest, ok := strings.Cut(name, "/"); ok && (strings.ContainsAny(first, ".:") || first == "localhost") {
		domain, name = first, rest
	}
	if domain == "index.docker.io" {
		domain = "docker.io"
	}
	if domain == "docker.io" && !strings.Contains(name, "/") {
		name = "library/" + name
	}
	if hasDigest {
		if i := strings.LastIndex(name, ":"); i > strings.LastIndex(name, "/") {
			name = name[:i]
		}
		return domain + "/" + name + "@" + digest
	}
	if i := strings.LastIndex(name, ":"); i <= strings.LastIndex(name, "/") {
		name += ":latest"
	}
	return domain + "/" + name
}

// StripDigest drops "@sha256:…" and gives a tag ("latest" when there was
// none): the name an image carries in a docker save archive.
func StripDigest(ref string) string {
	name, _, _ := strings.Cut(ref, "@")
	if i := strings.LastIndex(name, ":"); i <= strings.LastIndex(name, "/") {
		name += ":latest"
	}
	return name
}
