package cli

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/k8s-debug-lab/lab/lab/cluster"
	"github.com/k8s-debug-lab/lab/lab/images"
)

// fakeDocker makes lab's container engine testdata/fake-docker.sh, with
// the images given (name → platform) already in it. It returns the file
// its calls are logged to.
func fakeDocker(t *testing.T, have map[string]string) string {
	t.Helper()
	dir := t.TempDir()
	script, err := filepath.Abs("testdata/fake-docker.sh")
	if err != nil {
		t.Fatal(err)
	}
	t.Setenv("FAKE_DOCKER_DIR", dir)
	key := strings.NewReplacer("/", "_", ":", "_", "@", "_")
	for name, platform := range have {
		goos, arch, _ := strings.Cut(platform, "/")
		inspect := fmt.Sprintf(`{"Id":"sha256:%x","RepoDigests":["%s@sha256:feed"],"Os":"%s","Architecture":"%s"}`, len(name)*7919, name, goos, arch)
		if err := os.WriteFile(filepath.Join(dir, "img."+key.Replace(name)), []byte(inspect+"\n"), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	useDeps(t, func(d *Deps) {
		d.ProbeEngines = func(context.Context) []cluster.Engine {
			return []cluster.Engine{{Name: "docker", Path: script, Version: "28.2.2"}}
		}
	})
	return filepath.Join(dir, "calls")
}

// allLabImages are the built-in lab's images, with kind's node image.
func allLabImages(platform string) map[string]string {
	return map[string]string{
		cluster.DefaultNodeImage: platform, "kyos0109/nginx-distroless": platform,
		"nicolaka/netshoot": platform, "ubuntu": platform, "curlimages/curl": platform,
	}
}

func TestBundleSaveFromTheEngine(t *testing.T) {
	calls := fakeDocker(t, allLabImages(bundlePlatform()))
	t.Setenv("FAKE_DOCKER_OFFLINE", "1")
	out := filepath.Join(t.TempDir(), "lab-bundle.tar")
	r := lab(t, "bundle", "save", out).must(t, ExitOK)
	m, err := images.Verify(out, bundlePlatform())
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, img := range m.All() {
		got = append(got, img.Role+" "+img.Name)
	}
	want := []string{"node " + images.StripDigest(cluster.DefaultNodeImage), "workload kyos0109/nginx-distroless:latest",
		"debugger nicolaka/netshoot:latest", "nodeDebugger ubuntu:latest", "trafficClient curlimages/curl:latest"}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("bundle (-want +got):\n%s", diff)
	}
	log, _ := os.ReadFile(calls)
	if strings.Contains(string(log), "pull") {
		t.Errorf("images the engine holds were pulled:\n%s", log)
	}
	// The node image is named by digest; the archive needs a tag.
	if !strings.Contains(string(log), "tag ") {
		t.Errorf("the node image was not tagged for docker save:\n%s", log)
	}
	if !strings.Contains(r.out, "5 images for "+bundlePlatform()) || !strings.Contains(r.out, "lab up --provider kind --bundle") {
		t.Errorf("summary:\n%s", r.out)
	}
}

func TestBundleSaveOfflineExplains(t *testing.T) {
	have := allLabImages(bundlePlatform())
	delete(have, "ubuntu")
	fakeDocker(t, have)
	t.Setenv("FAKE_DOCKER_OFFLINE", "1")
	out := filepath.Join(t.TempDir(), "lab-bundle.tar")
	r := lab(t, "bundle", "save", out).must(t, ExitFailed)
	for _, want := range []string{"ubuntu", "(dns)", "docker pull --platform"} {
		if !strings.Contains(r.returnedError.Error(), want) {
			t.Errorf("error lacks %q: %v", want, r.returnedError)
		}
	}
	if _, err := os.Stat(out); !os.IsNotExist(err) {
		t.Errorf("a bundle was left behind: %v", err)
	}
	if left, _ := filepath.Glob(filepath.Join(filepath.Dir(out), ".lab-bundle-*")); len(left) > 0 {
		t.Errorf("work files left behind: %v", left)
	}
}

func TestBundleSavePullsWhatIsMissing(t *testing.T) {
	have := allLabImages("linux/s390x")
	calls := fakeDocker(t, have)
	out := filepath.Join(t.TempDir(), "lab-bundle.tar")
	lab(t, "bundle", "save", "--platform", "linux/arm64", out).must(t, ExitOK)
	log, _ := os.ReadFile(calls)
	if n := strings.Count(string(log), "pull --platform linux/arm64"); n != 5 {
		t.Errorf("%d pulls for linux/arm64, want 5 (every image was for another platform):\n%s", n, log)
	}
	if _, err := images.Verify(out, "linux/arm64"); err != nil {
		t.Error(err)
	}
}

func TestBundleWithoutAVerbIsAUsageError(t *testing.T) {
	for _, args := range [][]string{{"bundle"}, {"bundle", "load"}, {"bundle", "save"}} {
		if r := lab(t, args...); r.code != ExitUsage {
			t.Errorf("lab %v: exit %d, want %d", args, r.code, ExitUsage)
		}
	}
}

// A bundle lab up cannot use is refused before any cluster exists.
func TestUpRefusesABadBundle(t *testing.T) {
	calls := fakeDocker(t, nil)
	dir := t.TempDir()
	damaged := filepath.Join(dir, "damaged.tar")
	os.WriteFile(damaged, []byte("not a bundle"), 0o644)
	tests := []struct {
		name string
		args []string
		want string
	}{
		{"damaged", []string{"up", "--provider", "kind", "--bundle", damaged}, "not a lab bundle"},
		{"missing", []string{"up", "--provider", "kind", "--bundle", filepath.Join(dir, "none.tar")}, "no such file"},
		{"wrong platform", []string{"up", "--provider", "kind", "--bundle", writeBundle(t, "linux/mips64")}, "holds images for linux/mips64"},
		{"with --node-image", []string{"up", "--provider", "kind", "--node-image", "x", "--bundle", writeBundle(t, bundlePlatform())}, "leave out --node-image"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := lab(t, tt.args...).must(t, ExitUsage)
			if !strings.Contains(r.returnedError.Error(), tt.want) {
				t.Errorf("error %v, want %q", r.returnedError, tt.want)
			}
		})
	}
	if log, _ := os.ReadFile(calls); len(log) > 0 {
		t.Errorf("the engine was used for a refused bundle:\n%s", log)
	}
	newLabCluster(t)
	r := lab(t, "up", "--provider", "existing", "--bundle", writeBundle(t, bundlePlatform())).must(t, ExitUsage)
	if !strings.Contains(r.returnedError.Error(), "kind provider only") {
		t.Errorf("a bundle for someone else's cluster: %v", r.returnedError)
	}
}

func TestDoctorChecksTheBundle(t *testing.T) {
	newLabCluster(t)
	dir := t.TempDir()
	damaged := filepath.Join(dir, "damaged.tar")
	good := writeBundle(t, bundlePlatform())
	data, _ := os.ReadFile(good)
	os.WriteFile(damaged, data[:len(data)-2000], 0o644)
	r := lab(t, "doctor", "--provider", "existing", "--bundle", damaged).must(t, ExitFailed)
	if !strings.Contains(r.out, "✗ bundle") || !strings.Contains(r.out, "damaged") {
		t.Errorf("doctor on a damaged bundle:\n%s", r.out)
	}
}

// writeBundle writes a small bundle of the built-in lab's images.
func writeBundle(t *testing.T, platform string) string {
	t.Helper()
	dir := t.TempDir()
	member := filepath.Join(dir, "m")
	os.WriteFile(member, []byte(strings.Repeat("layer", 1000)), 0o644)
	m := images.Manifest{Platform: platform, LabVersion: "test",
		NodeImage: images.Image{Name: "kindest/node:v1.37.0", Role: "node", ID: "sha256:1", Platform: platform, Member: images.NodeImageMember}}
	for name := range allLabImages(platform) {
		if !strings.HasPrefix(name, "kindest/") {
			m.Images = append(m.Images, images.Image{Name: images.StripDigest(name), ID: "sha256:2", Platform: platform, Member: images.ImagesMember})
		}
	}
	p := filepath.Join(dir, "bundle.tar")
	f, _ := os.Create(p)
	defer f.Close()
	if err := images.WriteBundle(f, m, map[string]string{images.NodeImageMember: member, images.ImagesMember: member}); err != nil {
		t.Fatal(err)
	}
	return p
}

// kind failing to pull its node image is no unreachable cluster (3),
// however much its message speaks of hosts not found.
func TestNodeImagePullIsNotUnreachable(t *testing.T) {
	err := (&session{}).clusterErr(&cluster.NodeImagePullError{
		Pull: images.ClassifyPull("kindest/node:v1.37.0", "dial tcp: lookup registry-1.docker.io on 127.0.0.53:53: no such host"),
		Err:  fmt.Errorf("creating kind cluster lab: failed to pull image"),
	})
	if got := ExitCode(err); got != ExitFailed {
		t.Errorf("exit %d, want %d", got, ExitFailed)
	}
}
