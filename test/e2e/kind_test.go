//go:build e2e

// The kind leg: lab's default path, exercised exactly as students take it,
// offline, on two engines. The scripts under ./kind start the engine with
// roots of its own and no iptables changes on the host (TestKind: a
// dockerd of its own; TestKindPodman: rootful Podman alone in a network
// namespace of its own), build the lab's kind node image from Debian's
// packages and the harness's binaries, and serve the lab's images from a
// registry on the engine's bridge (172.30.0.1) that the node's containerd
// uses as the mirror of every registry. Then `lab up --provider kind`
// creates the cluster and deploys the lab, `lab up --preload` copies the
// images in, `lab solve all` and `lab check all` prove it, `lab down
// --yes` deletes it, and a bundle saved from the engine brings the lab up
// on an empty engine with no registry at all.
//
//	go test -tags e2e -count=1 -timeout 60m -v -run 'TestKind$|TestKindPodman$' ./test/e2e/...
//
// LAB_KIND_KEEP=1 leaves the cluster and the engine running at the end.

package e2e

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"
)

// kindLegDir holds the kind leg's scripts, relative to this package.
const kindLegDir = "kind"

// kindEngine is what differs between the leg's container engines: the
// script that starts and stops it (start|stop|env|wrap), the tools it
// needs, and what it may leave behind.
type kindEngine struct {
	name    string // its client: docker or podman
	script  string
	tools   []string
	install string // the Debian packages that bring the tools
	// loadNode loads the cached node image into the engine (dockerd gets
	// it from build-node-image.sh itself).
	loadNode bool
	// networks are those lab down may leave: the engine's own and kind's
	// "kind" network, which kind shares between clusters and never deletes.
	networks []string
	// rootVar is the script's variable for the engine's storage root: the
	// offline bundle part starts the engine again on an empty one.
	rootVar string
	// eventID formats an engine event as the ID of its object.
	eventID string
	// restored checks the engine left nothing on the host.
	restored func(t *testing.T)
}

var (
	kindDocker = kindEngine{
		name: "docker", script: "dockerd.sh",
		tools:    []string{"dockerd", "docker", "debootstrap", "containerd", "ctr", "jq"},
		install:  "docker.io debootstrap containerd jq",
		networks: []string{"bridge", "host", "none", "kind"},
		rootVar:  "LAB_KIND_DOCKER_ROOT",
		eventID:  "{{.Actor.ID}}",
		restored: kindDockerRestored,
	}
	kindPodman = kindEngine{
		name: "podman", script: "podman.sh",
		tools:    []string{"podman", "nsenter", "debootstrap", "containerd", "ctr"},
		install:  "podman debootstrap containerd",
		loadNode: true,
		networks: []string{"podman", "kind"},
		rootVar:  "LAB_KIND_PODMAN_ROOT",
		eventID:  "{{.ID}}",
		restored: kindPodmanRestored,
	}
)

// kindLeg is what the kind leg's steps share.
type kindLeg struct {
	engine     kindEngine
	root       string   // the repository
	lab        string   // the lab binary built for this run
	env        []string // the engine's variables and KUBECONFIG for lab, the engine's client and kubectl
	wrap       []string // the command every one of those runs under (podman: its network namespace)
	kubeconfig string
	image      string // the node image reference
	kubectlBin string // kubectl on PATH, else the harness's
}

// TestKind is the kind leg on Docker (a dockerd of its own).
func TestKind(t *testing.T) { runKindLeg(t, kindDocker) }

// TestKindPodman is the kind leg on rootful Podman, alone in a network
// namespace of its own (kind/podman.sh).
func TestKindPodman(t *testing.T) { runKindLeg(t, kindPodman) }

func runKindLeg(t *testing.T, e kindEngine) {
	if os.Geteuid() != 0 {
		t.Skipf("the kind leg starts %s: run as root", e.name)
	}
	for _, bin := range e.tools {
		if _, err := exec.LookPath(bin); err != nil {
			if os.Getenv("LAB_KIND_REQUIRED") == "1" {
				t.Fatalf("the kind leg on %s needs %s on PATH (apt-get install %s): %v", e.name, bin, e.install, err)
			}
			t.Skipf("the kind leg on %s needs %s on PATH (apt-get install %s): %v", e.name, bin, e.install, err)
		}
	}
	// As in TestE2E (which, run first, has set these already): lab's
	// registry questions fail at once instead of asking the machine's
	// resolver.
	keepOnMachine()
	root, err := filepath.Abs("../..")
	if err != nil {
		t.Fatal(err)
	}
	k := &kindLeg{engine: e, root: root}
	dir := filepath.Join(root, "test", "e2e", kindLegDir)
	script := func(name string) string { return filepath.Join(dir, name) }

	iptablesBefore := kindIptables(t)
	out, err := kindRun(t, 2*time.Minute, nil, script(e.script), "start")
	if err != nil {
		t.Fatalf("starting %s: %v\n%s", e.name, err, out)
	}
	keep := os.Getenv("LAB_KIND_KEEP") == "1"
	t.Cleanup(func() {
		if keep {
			t.Logf("LAB_KIND_KEEP=1: leaving %s, the registry and the cluster running", e.name)
			return
		}
		// The engine's script stops the registry first.
		if out, err := kindRun(t, 2*time.Minute, nil, script(e.script), "stop"); err != nil {
			t.Errorf("stopping %s: %v\n%s", e.name, err, out)
		}
		e.restored(t)
		if after := kindIptables(t); after != iptablesBefore {
			t.Errorf("iptables rules changed across the kind leg:\nbefore:\n%s\nafter:\n%s", iptablesBefore, after)
		}
	})
	env, err := kindRun(t, 10*time.Second, nil, script(e.script), "env")
	if err != nil {
		t.Fatalf("%s env: %v", e.script, err)
	}
	wrap, err := kindRun(t, 10*time.Second, nil, script(e.script), "wrap")
	if err != nil {
		t.Fatalf("%s wrap: %v", e.script, err)
	}
	k.kubeconfig = filepath.Join(t.TempDir(), "kubeconfig")
	k.env = append(strings.Fields(env), "KUBECONFIG="+k.kubeconfig)
	k.wrap = strings.Fields(wrap)

	start := time.Now()
	out, err = k.run(t, 45*time.Minute, script("build-node-image.sh"))
	if err != nil {
		// CI sets LAB_KIND_REQUIRED=1: there a broken image build must fail
		// the run, not hide behind a skip.
		if os.Getenv("LAB_KIND_REQUIRED") == "1" {
			t.Fatalf("building the kind node image: %v\n%s", err, kindTail(out, 30))
		}
		t.Skipf("the kind node image cannot be built on this machine: %v\n%s", err, kindTail(out, 30))
	}
	k.image = kindLastLine(out)
	if e.loadNode {
		if out, err := k.run(t, 10*time.Minute, script(e.script), "node-image", k.image); err != nil {
			t.Fatalf("loading the node image into %s: %v\n%s", e.name, err, out)
		}
	}
	// kubectl: the one on PATH, else the one the harness built.
	k.kubectlBin = "kubectl"
	if _, err := exec.LookPath("kubectl"); err != nil {
		bins, _ := filepath.Glob(filepath.Join(kindE2ECache(), "k8s-*", "bin", "kubectl"))
		if len(bins) == 0 {
			t.Fatalf("no kubectl on PATH or in %s", kindE2ECache())
		}
		k.kubectlBin = bins[0]
		k.env = append(k.env, "PATH="+filepath.Dir(bins[0])+string(os.PathListSeparator)+os.Getenv("PATH"))
	}
	t.Logf("node image %s ready in %s", k.image, time.Since(start).Round(time.Second))

	if out, err := k.run(t, 10*time.Minute, script("registry.sh"), "start"); err != nil {
		t.Fatalf("starting the registry: %v\n%s", err, out)
	}
	k.lab = filepath.Join(t.TempDir(), "lab")
	if out, err := kindRunIn(t, root, 10*time.Minute, nil, "go", "build", "-o", k.lab, "./cmd/lab"); err != nil {
		t.Fatalf("go build ./cmd/lab: %v\n%s", err, out)
	}

	t.Run("up", k.up(script("kind-config.yaml")))
	if !keep {
		t.Cleanup(func() { k.downIfUp(t) })
	}
	if kindClusterUp(t, k) {
		t.Run("preload", k.preload)
		t.Run("up again changes nothing", k.upAgain(script("kind-config.yaml")))
		t.Run("solve and check", k.solveAndCheck)
		if !keep {
			t.Run("down", k.down)
		}
	}
	if !keep {
		t.Run("offline bundle", k.offlineBundle(script, script("kind-config.yaml")))
	}
}

// kindE2ECache is the harness's cache (its binaries and image tarballs).
func kindE2ECache() string {
	if c := os.Getenv("LAB_E2E_CACHE"); c != "" {
		return c
	}
	return "/var/cache/lab-e2e"
}

// kindHarnessTars are the harness's image tarballs: the lab's pod images.
func kindHarnessTars(t *testing.T) []string {
	t.Helper()
	done, _ := filepath.Glob(filepath.Join(kindE2ECache(), "images-*", "tars", ".done"))
	if len(done) == 0 {
		t.Fatalf("no image tarballs under %s: run test/e2e/cluster/harness build", kindE2ECache())
	}
	tars, _ := filepath.Glob(filepath.Join(filepath.Dir(done[len(done)-1]), "*.tar"))
	return tars
}

// preload is `lab up --preload` on the running cluster: the lab's images,
// loaded into the engine from the harness's tarballs, reach the node's
// containerd, each under its own name (podman once saved them all as the
// first one).
func (k *kindLeg) preload(t *testing.T) {
	want := map[string]string{} // name in the node → image ID in the engine
	for _, tar := range kindHarnessTars(t) {
		k.engineCmd(t, "load", "-i", tar)
		ref, err := kindRun(t, time.Minute, nil, "sh", "-c", `tar -xOf "$0" manifest.json | sed -n 's/.*"RepoTags":\["\([^"]*\)".*/\1/p'`, tar)
		if err != nil {
			t.Fatal(err)
		}
		if ref = strings.TrimSpace(ref); strings.HasPrefix(ref, "docker.io/") {
			want[ref] = strings.TrimPrefix(k.engineCmd(t, "image", "inspect", "--format", "{{.Id}}", ref), "sha256:")
		}
	}
	start := time.Now()
	out, err := k.run(t, 5*time.Minute, k.lab, "up", "--provider", "kind", "--preload")
	if err != nil {
		t.Fatalf("lab up --preload: %v\n%s", err, kindTail(out, 20))
	}
	t.Logf("lab up --preload took %s", time.Since(start).Round(time.Second))
	// ctr's columns: REF TYPE DIGEST SIZE PLATFORMS LABELS; the image's ID
	// is its config's digest, which ctr shows as the target's only for a
	// single-manifest image: compare through crictl, which reports it.
	got := map[string]string{}
	lines := k.engineCmd(t, "exec", "lab-control-plane", "crictl", "images", "--no-trunc", "-o", "json")
	var images struct {
		Images []struct {
			ID       string   `json:"id"`
			RepoTags []string `json:"repoTags"`
		} `json:"images"`
	}
	if err := json.Unmarshal([]byte(lines), &images); err != nil {
		t.Fatalf("crictl images: %v\n%s", err, lines)
	}
	for _, img := range images.Images {
		for _, tag := range img.RepoTags {
			got[tag] = strings.TrimPrefix(img.ID, "sha256:")
		}
	}
	for ref, id := range want {
		if got[ref] != id {
			t.Errorf("node image %s has ID %q, want %s (the engine's)", ref, got[ref], id)
		}
	}
	for ref := range got {
		if strings.HasPrefix(ref, "localhost/") {
			t.Errorf("the node holds %s: an image saved under another's name", ref)
		}
	}
}

// offlineBundle is the classroom without a registry: a bundle saved from
// the images this leg has, the engine started again on an empty storage
// root and with no registry (the kind config's mirror points at the stopped one, so any
// pull fails), `lab up --bundle`, nothing pulled, solve and check pass,
// down leaves nothing.
func (k *kindLeg) offlineBundle(script func(string) string, config string) func(*testing.T) {
	return func(t *testing.T) {
		if _, err := kindRun(t, time.Minute, nil, k.lab, "bundle", "--help"); err != nil {
			t.Skip("this lab binary has no bundle command")
		}
		k.downIfUp(t)
		for _, tar := range kindHarnessTars(t) {
			k.engineCmd(t, "load", "-i", tar)
		}
		bundle := filepath.Join(t.TempDir(), "lab-bundle.tar")
		start := time.Now()
		out, err := k.run(t, 15*time.Minute, k.lab, "bundle", "save", "--node-image", k.image, bundle)
		if err != nil {
			t.Fatalf("lab bundle save: %v\n%s", err, kindTail(out, 20))
		}
		fi, _ := os.Stat(bundle)
		t.Logf("lab bundle save took %s, %d MB:\n%s", time.Since(start).Round(time.Second), fi.Size()>>20, kindTail(out, 8))

		// A fresh engine: nothing in it, and no registry anywhere.
		e := k.engine
		if out, err := kindRun(t, 2*time.Minute, nil, script(e.script), "stop"); err != nil {
			t.Fatalf("stopping %s: %v\n%s", e.name, err, out)
		}
		fresh, err := os.MkdirTemp("/var/lib", "lab-"+e.name+"-fresh-")
		if err != nil {
			t.Fatal(err)
		}
		freshEnv := []string{e.rootVar + "=" + fresh}
		defer func() {
			if out, err := kindRun(t, 2*time.Minute, freshEnv, script(e.script), "stop"); err != nil {
				t.Errorf("stopping the fresh %s: %v\n%s", e.name, err, out)
			}
			os.RemoveAll(fresh)
		}()
		if out, err := kindRun(t, 2*time.Minute, freshEnv, script(e.script), "start"); err != nil {
			t.Fatalf("starting a fresh %s: %v\n%s", e.name, err, out)
		}
		if imgs := k.engineCmd(t, "images", "-q"); imgs != "" {
			t.Fatalf("the fresh engine holds images: %s", imgs)
		}
		from := time.Now().Add(-time.Second).Unix()

		start = time.Now()
		out, err = k.run(t, 15*time.Minute, k.lab, "up", "--provider", "kind", "--bundle", bundle, "--kind-config", config, "--timeout", "5m")
		if err != nil {
			t.Fatalf("lab up --bundle: %v\n%s", err, kindTail(out, 40))
		}
		t.Logf("lab up --bundle took %s", time.Since(start).Round(time.Second))
		pulls := k.engineCmd(t, "events", "--since", fmt.Sprint(from), "--until", fmt.Sprint(time.Now().Unix()),
			"--filter", "type=image", "--filter", "event=pull", "--format", e.eventID)
		if pulls != "" {
			t.Errorf("the engine pulled during lab up --bundle: %s", pulls)
		}
		events := k.kubectl(t, "get", "events", "-A", "-o", "jsonpath={range .items[*]}{.reason} {.message}{\"\\n\"}{end}")
		for _, line := range strings.Split(events, "\n") {
			if strings.HasPrefix(line, "Pulling ") || (strings.HasPrefix(line, "Failed ") && strings.Contains(line, "pull")) {
				t.Errorf("a node pulled an image: %s", line)
			}
		}
		if !kindClusterUp(t, k) {
			t.Fatal("the lab pod is not Ready after lab up --bundle")
		}
		t.Run("solve and check", k.solveAndCheck)
		t.Run("down", k.down)
	}
}

func (k *kindLeg) up(config string) func(*testing.T) {
	return func(t *testing.T) {
		start := time.Now()
		args := []string{"up", "--provider", "kind", "--node-image", k.image, "--kind-config", config, "--timeout", "5m"}
		out, err := k.run(t, 15*time.Minute, k.lab, args...)
		if err != nil {
			t.Fatalf("lab up --provider kind: %v\n%s", err, kindTail(out, 40))
		}
		t.Logf("lab up (kind) took %s", time.Since(start).Round(time.Second))
		nodes := k.kubectl(t, "get", "nodes", "-o", "jsonpath={range .items[*]}{.metadata.name} {.status.conditions[?(@.type==\"Ready\")].status}{\"\\n\"}{end}")
		if !strings.Contains(nodes, "lab-control-plane True") {
			t.Errorf("want node lab-control-plane Ready, got:\n%s", nodes)
		}
		ready := k.kubectl(t, "get", "pod", podName, "-o", "jsonpath={.status.conditions[?(@.type==\"Ready\")].status}")
		if ready != "True" {
			t.Errorf("pod %s Ready = %q, want True", podName, ready)
		}
		// Every image came from the node's preload or the local registry.
		events := k.kubectl(t, "get", "events", "-A", "-o", "jsonpath={range .items[*]}{.reason} {.message}{\"\\n\"}{end}")
		for _, line := range strings.Split(events, "\n") {
			if strings.HasPrefix(line, "Failed ") && strings.Contains(line, "pull") {
				t.Errorf("an image pull failed: %s", line)
			}
		}
	}
}

func (k *kindLeg) upAgain(config string) func(*testing.T) {
	return func(t *testing.T) {
		start := time.Now()
		out, err := k.run(t, 5*time.Minute, k.lab, "up", "--provider", "kind",
			"--node-image", k.image, "--kind-config", config)
		if err != nil {
			t.Fatalf("second lab up: %v\n%s", err, kindTail(out, 20))
		}
		t.Logf("second lab up (kind) took %s", time.Since(start).Round(time.Second))
	}
}

// solveAndCheck runs the autopilot and the grader on its answers.
func (k *kindLeg) solveAndCheck(t *testing.T) {
	answers := filepath.Join(t.TempDir(), "answers")
	start := time.Now()
	out, err := k.run(t, 20*time.Minute, k.lab, "solve", "all", "--answers", answers)
	if err != nil {
		t.Fatalf("lab solve all: %v\n%s", err, kindTail(out, 60))
	}
	// Each step's line with its time: where a slow run spent it.
	var steps []string
	for _, l := range strings.Split(out, "\n") {
		if strings.HasPrefix(l, "✓") || strings.HasPrefix(l, "✗") {
			steps = append(steps, l)
		}
	}
	t.Logf("lab solve all took %s:\n%s", time.Since(start).Round(time.Second), strings.Join(steps, "\n"))
	out, err = k.run(t, 10*time.Minute, k.lab, "check", "all", "--answers", answers)
	if err != nil {
		t.Fatalf("lab check all: %v\n%s", err, kindTail(out, 60))
	}
}

func (k *kindLeg) down(t *testing.T) {
	start := time.Now()
	out, err := k.run(t, 5*time.Minute, k.lab, "down", "--provider", "kind", "--yes")
	if err != nil {
		t.Fatalf("lab down --yes: %v\n%s", err, kindTail(out, 20))
	}
	t.Logf("lab down took %s", time.Since(start).Round(time.Second))
	if ps := k.engineCmd(t, "ps", "-aq"); ps != "" {
		t.Errorf("containers left after lab down: %s", ps)
	}
	if vols := k.engineCmd(t, "volume", "ls", "-q"); vols != "" {
		t.Errorf("volumes left after lab down: %s", vols)
	}
	// kind shares its "kind" network between all kind clusters and never
	// deletes it; lab does not either (it deletes only what it created).
	// Anything else but the engine's own is a leak.
	for _, n := range strings.Fields(k.engineCmd(t, "network", "ls", "--format", "{{.Name}}")) {
		if !slices.Contains(k.engine.networks, n) {
			t.Errorf("network left after lab down: %s", n)
		}
	}
}

// kindClusterUp says whether lab up left a Ready lab pod to go on with.
func kindClusterUp(t *testing.T, k *kindLeg) bool {
	out, err := k.run(t, time.Minute, k.kubectlBin, "--context", "kind-lab", "get", "pod", podName,
		"-o", "jsonpath={.status.conditions[?(@.type==\"Ready\")].status}")
	return err == nil && strings.TrimSpace(out) == "True"
}

// downIfUp deletes the cluster when a step failed before down ran.
// With no engine answering (the offline bundle part stops its own),
// there is no cluster either.
func (k *kindLeg) downIfUp(t *testing.T) {
	ps, err := k.run(t, time.Minute, k.engine.name, "ps", "-aq", "--filter", "label=io.x-k8s.kind.cluster=lab")
	if err != nil || strings.TrimSpace(ps) == "" {
		return
	}
	if out, err := k.run(t, 5*time.Minute, k.lab, "down", "--provider", "kind", "--yes"); err != nil {
		t.Errorf("lab down after a failure: %v\n%s", err, out)
	}
}

func (k *kindLeg) kubectl(t *testing.T, args ...string) string {
	t.Helper()
	out, err := k.run(t, time.Minute, k.kubectlBin, append([]string{"--context", "kind-lab"}, args...)...)
	if err != nil {
		t.Fatalf("kubectl %s: %v\n%s", strings.Join(args, " "), err, out)
	}
	return strings.TrimSpace(out)
}

// engineCmd runs the engine's client.
func (k *kindLeg) engineCmd(t *testing.T, args ...string) string {
	t.Helper()
	out, err := k.run(t, time.Minute, k.engine.name, args...)
	if err != nil {
		t.Fatalf("%s %s: %v\n%s", k.engine.name, strings.Join(args, " "), err, out)
	}
	return strings.TrimSpace(out)
}

// run runs a command the way the engine's clients must run: with its
// environment, under its wrapper.
func (k *kindLeg) run(t *testing.T, d time.Duration, name string, args ...string) (string, error) {
	t.Helper()
	if len(k.wrap) > 0 {
		name, args = k.wrap[0], append(append(k.wrap[1:len(k.wrap):len(k.wrap)], name), args...)
	}
	return kindRun(t, d, k.env, name, args...)
}

// kindDockerRestored checks that stopping dockerd left no dockerd of its
// own, no docker0 or kind bridge.
func kindDockerRestored(t *testing.T) {
	t.Helper()
	if out, _ := exec.Command("pgrep", "-f", "dockerd .*--exec-root /run/lab-docker").Output(); len(out) > 0 {
		t.Errorf("the kind leg's dockerd still runs: %s", out)
	}
	links, _ := exec.Command("ip", "-o", "link", "show").Output()
	for _, l := range strings.Split(string(links), "\n") {
		if strings.Contains(l, " docker0:") || strings.Contains(l, " br-") {
			t.Errorf("a docker bridge is left: %s", l)
		}
	}
}

// kindPodmanRestored checks that podman.sh stop left no network namespace,
// no podman, conmon or aardvark-dns process (podman runs no daemon; its
// systemd units never start here), no mount of its roots.
func kindPodmanRestored(t *testing.T) {
	t.Helper()
	if _, err := os.Stat("/run/netns/lab-podman"); err == nil {
		t.Errorf("the podman leg's network namespace is left: /run/netns/lab-podman")
	}
	for _, name := range []string{"podman", "conmon", "aardvark-dns", "netavark"} {
		if out, _ := exec.Command("pgrep", "-a", "-x", name).Output(); len(out) > 0 {
			t.Errorf("%s still runs: %s", name, out)
		}
	}
	if mounts, err := os.ReadFile("/proc/self/mountinfo"); err == nil {
		for _, l := range strings.Split(string(mounts), "\n") {
			if strings.Contains(l, " /run/lab-podman") || strings.Contains(l, " /var/lib/lab-podman") {
				t.Errorf("a mount of the podman leg is left: %s", l)
			}
		}
	}
}

// kindIptables lists the rules and chains of the filter and nat tables
// that dockerd or podman's netavark could add (DOCKER, NETAVARK, for
// docker0, podman's bridges or the kind network's 172.30.0.0/24), and the
// FORWARD policy; the harness's own rules come and go with its cluster and
// are not this leg's business.
func kindIptables(t *testing.T) string {
	t.Helper()
	var b strings.Builder
	for _, table := range []string{"filter", "nat"} {
		out, err := exec.Command("iptables", "-t", table, "-S").Output()
		if err != nil {
			t.Fatalf("iptables -t %s -S: %v", table, err)
		}
		for _, l := range strings.Split(string(out), "\n") {
			if strings.Contains(l, "DOCKER") || strings.Contains(l, "docker0") || strings.Contains(l, "NETAVARK") ||
				strings.Contains(l, "podman") || strings.Contains(l, "172.30.0.") || strings.HasPrefix(l, "-P FORWARD") {
				b.WriteString(table + " " + l + "\n")
			}
		}
	}
	return b.String()
}

// kindRun runs a command with extra environment, its stdout and stderr
// together, bounded by d.
func kindRun(t *testing.T, d time.Duration, env []string, name string, args ...string) (string, error) {
	return kindRunIn(t, "", d, env, name, args...)
}

func kindRunIn(t *testing.T, dir string, d time.Duration, env []string, name string, args ...string) (string, error) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), d)
	defer cancel()
	cmd := exec.CommandContext(ctx, name, args...)
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), env...)
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	err := cmd.Run()
	if ctx.Err() != nil {
		err = ctx.Err()
	}
	return out.String(), err
}

func kindLastLine(s string) string {
	lines := strings.Split(strings.TrimSpace(s), "\n")
	return strings.TrimSpace(lines[len(lines)-1])
}

func kindTail(s string, n int) string {
	lines := strings.Split(strings.TrimRight(s, "\n"), "\n")
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return strings.Join(lines, "\n")
}
