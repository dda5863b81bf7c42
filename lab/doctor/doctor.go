// Package doctor checks a machine and its cluster for what the lab needs,
// and says how to fix what is missing: a container engine for kind,
// kubectl recent enough for the debug profiles, every image the lab needs
// (present, pullable for the nodes' platform, or neither), an offline
// bundle, inotify limits and CPUs for kind,
// the cluster answering, and the runtime's default capabilities (tcpdump
// needs NET_RAW). Every probe is a field of Probes, so tests decide what
// the machine looks like.
package doctor

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/url"
	"slices"
	"strconv"
	"strings"

	"golang.org/x/net/http/httpproxy"

	"github.com/k8s-debug-lab/lab/internal/i18n"
	"github.com/k8s-debug-lab/lab/lab/cluster"
	"github.com/k8s-debug-lab/lab/lab/images"
	"github.com/k8s-debug-lab/lab/lab/kube"
)

// Severity is how much a finding matters.
type Severity string

// Severities, from harmless to blocking.
const (
	// OK: the check passed.
	OK Severity = "ok"
	// Info: worth knowing, nothing to do.
	Info Severity = "info"
	// Warn: the lab works, but a step may trip on this.
	Warn Severity = "warn"
	// Fail: the lab cannot work until this is fixed.
	Fail Severity = "fail"
)

// Finding is the result of one check, with its fix.
type Finding struct {
	// Check names the check: engine, kubectl, cpus, inotify, cluster,
	// architecture, capabilities.
	Check    string   `json:"check"`
	Severity Severity `json:"severity"`
	Message  string   `json:"message"`
	// Fix says what to do; empty for ok and info.
	Fix string `json:"fix,omitempty"`
}

// Report is every finding; with -o json it is the whole of stdout.
type Report struct {
	APIVersion string    `json:"apiVersion"`
	Kind       string    `json:"kind"`
	Provider   string    `json:"provider,omitempty"`
	Findings   []Finding `json:"findings"`
	// Blocking is true when a finding is Fail.
	Blocking bool `json:"blocking"`
}

// ClusterFacts are what doctor learns from a cluster that answers.
type ClusterFacts struct {
	Context string
	Server  string
	Version string
	Nodes   []kube.NodeFacts
	// Images are the images present on every node, as containerd names
	// them (docker.io/library/nginx:latest, …@sha256:…).
	Images []string
}

// Probes look at the machine. A nil probe skips its check.
type Probes struct {
	// Engines probes the container engines.
	Engines func(ctx context.Context) []cluster.Engine
	// KubectlVersion is kubectl's client gitVersion ("v1.32.4"); an error
	// means it is not installed or does not run.
	KubectlVersion func(ctx context.Context) (string, error)
	// ReadFile reads /proc files.
	ReadFile func(path string) ([]byte, error)
	// NumCPU is the machine's CPU count.
	NumCPU func() int
	// GOOS and GOARCH are this machine's; a kind node has its architecture.
	GOOS, GOARCH string
	// Cluster connects and reads the cluster's version and nodes.
	Cluster func(ctx context.Context) (*ClusterFacts, error)
	// ImagePlatforms asks an image's registry which platforms it is
	// published for, the way by would pull it (through the engine's proxy
	// settings, or through those kind passes into its nodes). An answer
	// means the image is pullable.
	ImagePlatforms func(ctx context.Context, image string, by Puller) ([]string, error)
	// EngineImage reports the platform ("linux/amd64") of an image present
	// in the local container engine; an error means it is not there.
	EngineImage func(ctx context.Context, image string) (string, error)
}

// Puller is who pulls an image when lab up needs it.
type Puller string

// The pullers.
const (
	// ByEngine: the container engine pulls kind's node image, with its
	// own proxy settings (dockerd's environment, not lab's).
	ByEngine Puller = "engine"
	// ByNodes: the nodes' containerd pulls the pods' images; kind passes
	// lab's HTTP_PROXY, HTTPS_PROXY and NO_PROXY into its nodes.
	ByNodes Puller = "nodes"
)

// NeededImage is an image the lab needs, and what for.
type NeededImage struct {
	// Role is node, workload, debugger, nodeDebugger or trafficClient.
	Role string
	Name string
}

// Image roles.
const (
	RoleNode     = "node"
	RoleWorkload = "workload"
)

// Input is what doctor knows before probing.
type Input struct {
	// Provider is the provider lab would use ("" when none can be chosen;
	// ProviderErr says why).
	Provider    cluster.Name
	ProviderErr error
	// ClusterMissing is true for a kind cluster not created yet: lab up
	// will create it, so not reaching it is not a problem.
	ClusterMissing bool
	// ClusterName describes the cluster for messages.
	ClusterName string
	// Images are the images the lab needs: the kind node image (for a
	// kind cluster not created yet), the workload's, the tools'.
	Images []NeededImage
	// Bundle is the offline bundle given with --bundle, verified; its
	// images count as present. BundleErr is why it was refused.
	Bundle     *images.Manifest
	BundlePath string
	BundleErr  error
	// NodeProxy is the proxy configuration kind passes into its nodes
	// (lab's environment), for the proxy finding.
	NodeProxy *httpproxy.Config
	// ReachHint says what to try when the cluster does not answer.
	ReachHint string
	// Lang is the language of the findings' messages and fixes; checks'
	// names stay English (machine names in JSON).
	Lang i18n.Lang
}

// Minimum and recommended versions and limits.
const (
	// minKubectlMinor: kubectl debug's --profile (general, …) is GA from 1.27.
	minKubectlMinor = 27
	// generalDefaultMinor: from 1.36 kubectl debug's default profile is
	// general instead of legacy.
	generalDefaultMinor = 36
	// kind's documented recommendations for a Linux host.
	inotifyWatches   = 524288
	inotifyInstances = 512
)

// Run runs every check and gathers the findings.
func Run(ctx context.Context, in Input, p Probes) *Report {
	pr := i18n.For(in.Lang)
	r := &Report{APIVersion: "lab/v1", Kind: "DoctorReport", Provider: string(in.Provider)}
	add := func(f Finding) {
		r.Findings = append(r.Findings, f)
		r.Blocking = r.Blocking || f.Severity == Fail
	}
	if in.ProviderErr != nil {
		msg := in.ProviderErr.Error()
		if errors.Is(in.ProviderErr, cluster.ErrNothingToUse) {
			// The engine check below says why each engine does not answer.
			msg = pr.Sprintf("no cluster to use: no container engine answers and the kubeconfig has no current context")
		}
		add(Finding{Check: "provider", Severity: Fail, Message: msg,
			Fix: pr.Sprintf("start Docker (or Podman) so that lab can create a kind cluster, or point lab at a cluster: --kubeconfig FILE --context NAME")})
	}
	if p.Engines != nil {
		add(checkEngines(pr, p.Engines(ctx), in.Provider))
	}
	if p.KubectlVersion != nil {
		v, err := p.KubectlVersion(ctx)
		add(checkKubectl(pr, v, err))
	}
	if p.NumCPU != nil {
		add(checkCPUs(pr, p.NumCPU(), in.Provider))
	}
	if in.Provider == cluster.Kind && p.GOOS == "linux" && p.ReadFile != nil {
		add(checkInotify(pr, p.ReadFile))
	}
	var facts *ClusterFacts
	switch {
	case in.Provider == "":
	case in.ClusterMissing:
		add(Finding{Check: "cluster", Severity: Info, Message: pr.Sprintf("%s does not exist yet; lab up creates it", in.ClusterName)})
	case p.Cluster != nil:
		f, err := p.Cluster(ctx)
		if err != nil {
			add(Finding{Check: "cluster", Severity: Fail, Message: err.Error(), Fix: in.ReachHint})
		} else {
			facts = f
			add(Finding{Check: "cluster", Severity: OK, Message: pr.Sprintf("context %s (%s) answers: Kubernetes %s, %d node(s)", f.Context, f.Server, f.Version, len(f.Nodes))})
		}
	}
	if in.BundleErr != nil {
		add(Finding{Check: "bundle", Severity: Fail, Message: in.BundleErr.Error(),
			Fix: "copy the bundle again, or make one for this machine with lab bundle save FILE where the images can be pulled"})
	} else if in.Bundle != nil {
		add(Finding{Check: "bundle", Severity: OK, Message: fmt.Sprintf("%s is whole: %d images for %s, written by lab %s", in.BundlePath, len(in.Bundle.All()), in.Bundle.Platform, in.Bundle.LabVersion)})
	}
	if in.Provider == cluster.Kind && in.NodeProxy != nil {
		add(checkProxy(in.NodeProxy))
	}
	var archs []NodePlatform
	switch {
	case facts != nil:
		for _, n := range facts.Nodes {
			archs = append(archs, NodePlatform{n.Name, orLinux(n.OS), n.Architecture})
		}
	case in.Provider == cluster.Kind:
		// kind's nodes are containers on this machine: its architecture.
		archs = append(archs, NodePlatform{pr.Sprintf("the kind node (this machine)"), "linux", p.GOARCH})
	}
	for _, f := range checkImages(ctx, in, p, facts, archs) {
		add(f)
	}
	if facts != nil {
		add(checkCapabilities(pr, facts.Nodes))
	}
	return r
}

func orLinux(os string) string {
	if os == "" {
		return "linux"
	}
	return os
}

func checkEngines(pr *i18n.Printer, engines []cluster.Engine, provider cluster.Name) Finding {
	if e, ok := cluster.FirstAnswering(engines); ok {
		return Finding{Check: "engine", Severity: OK, Message: pr.Sprintf("%s answers (kind can run its nodes there)", e)}
	}
	var why []string
	for _, e := range engines {
		why = append(why, e.String())
	}
	msg := pr.Sprintf("no container engine answers: %s", strings.Join(why, "; "))
	switch provider {
	case "":
		return Finding{Check: "engine", Severity: Warn, Message: msg,
			Fix: pr.Sprintf("start Docker (sudo systemctl start docker, or open Docker Desktop) or Podman, so that lab can create a kind cluster")}
	case cluster.Kind:
		return Finding{Check: "engine", Severity: Fail, Message: msg,
			Fix: pr.Sprintf("start Docker (sudo systemctl start docker, or open Docker Desktop) or Podman; or use a cluster you have: lab up --provider existing --context NAME")}
	}
	return Finding{Check: "engine", Severity: Info, Message: msg + pr.Sprintf("; provider %s does not need one", provider)}
}

// parseMinor reads "v1.32.4-dispatcher" as 1, 32.
func parseMinor(v string) (major, minor int, ok bool) {
	v = strings.TrimPrefix(v, "v")
	parts := strings.SplitN(v, ".", 3)
	if len(parts) < 2 {
		return 0, 0, false
	}
	ma, err1 := strconv.Atoi(parts[0])
	digits := strings.TrimRightFunc(parts[1], func(r rune) bool { return r < '0' || r > '9' })
	mi, err2 := strconv.Atoi(digits)
	return ma, mi, err1 == nil && err2 == nil
}

func checkKubectl(pr *i18n.Printer, version string, err error) Finding {
	install := pr.Sprintf("install kubectl 1.27 or newer: https://kubernetes.io/docs/tasks/tools/")
	if err != nil {
		return Finding{Check: "kubectl", Severity: Fail, Message: pr.Sprintf("kubectl does not run: %v", err), Fix: install}
	}
	major, minor, ok := parseMinor(version)
	switch {
	case !ok:
		return Finding{Check: "kubectl", Severity: Warn, Message: pr.Sprintf("kubectl reports version %q, which lab cannot read", version), Fix: install}
	case major < 1 || (major == 1 && minor < minKubectlMinor):
		return Finding{Check: "kubectl", Severity: Fail, Message: pr.Sprintf("kubectl %s is older than 1.%d: kubectl debug has no --profile", version, minKubectlMinor), Fix: install}
	case major == 1 && minor < generalDefaultMinor:
		return Finding{Check: "kubectl", Severity: Warn,
			Message: pr.Sprintf("kubectl %s: before 1.%d kubectl debug's default profile is legacy, which adds no capabilities", version, generalDefaultMinor),
			Fix:     pr.Sprintf("type --profile=general with kubectl debug: it adds SYS_PTRACE, which strace and /proc/<pid>/root need")}
	}
	return Finding{Check: "kubectl", Severity: OK, Message: pr.Sprintf("kubectl %s (debug's default profile is general)", version)}
}

func checkCPUs(pr *i18n.Printer, n int, provider cluster.Name) Finding {
	if n < 2 && provider == cluster.Kind {
		return Finding{Check: "cpus", Severity: Warn, Message: pr.Sprintf("%d CPU: a kind control plane wants at least 2", n),
			Fix: pr.Sprintf("give the machine (or Docker Desktop's VM) at least 2 CPUs")}
	}
	return Finding{Check: "cpus", Severity: OK, Message: pr.Sprintf("%d CPUs", n)}
}

func checkInotify(pr *i18n.Printer, read func(string) ([]byte, error)) Finding {
	get := func(name string) (int, error) {
		b, err := read("/proc/sys/fs/inotify/" + name)
		if err != nil {
			return 0, err
		}
		return strconv.Atoi(strings.TrimSpace(string(b)))
	}
	watches, err1 := get("max_user_watches")
	instances, err2 := get("max_user_instances")
	if err1 != nil || err2 != nil {
		return Finding{Check: "inotify", Severity: Info, Message: pr.Sprintf("could not read the inotify limits under /proc/sys/fs/inotify")}
	}
	if watches < inotifyWatches || instances < inotifyInstances {
		return Finding{Check: "inotify", Severity: Warn,
			Message: pr.Sprintf("inotify limits are low for kind (max_user_watches %d, max_user_instances %d): pods may fail with \"too many open files\"", watches, instances),
			Fix: pr.Sprintf("sudo sysctl fs.inotify.max_user_watches=%d fs.inotify.max_user_instances=%d (add them to /etc/sysctl.conf to keep them)",
				max(watches, inotifyWatches), max(instances, inotifyInstances))}
	}
	return Finding{Check: "inotify", Severity: OK, Message: pr.Sprintf("inotify limits suit kind (max_user_watches %d, max_user_instances %d)", watches, instances)}
}

// NodePlatform is a node that runs the lab's pod: its name, OS and
// architecture, as Kubernetes reports them.
type NodePlatform struct{ Name, OS, Arch string }

// NodePlatformOf is a node's platform; an OS left out is linux.
func NodePlatformOf(n kube.NodeFacts) NodePlatform {
	return NodePlatform{n.Name, orLinux(n.OS), n.Architecture}
}

// Architecture compares the platforms image is published for (err: they
// could not be learnt) with the nodes', saying so in pr's language. A Fail
// says which node lacks a variant and what to do; lab doctor reports it,
// and lab up states it before it deploys, since the pod would otherwise
// fail minutes later with ImagePullBackOff or "exec format error" (an
// amd64-only image on an Apple silicon or other arm64 laptop).
func Architecture(pr *i18n.Printer, image string, platforms []string, err error, nodes []NodePlatform) Finding {
	if err != nil {
		return Finding{Check: "architecture", Severity: Info,
			Message: pr.Sprintf("could not learn which platforms %s is published for (%v); if the pod fails with ImagePullBackOff or \"exec format error\", check that it has a %s/%s variant",
				image, err, nodes[0].OS, nodes[0].Arch)}
	}
	var missing []string
	want := ""
	for _, n := range nodes {
		p := n.OS + "/" + n.Arch
		if !slices.ContainsFunc(platforms, func(q string) bool { return q == p || strings.HasPrefix(q, p+"/") }) {
			missing = append(missing, pr.Sprintf("%s is %s", n.Name, p))
			if want == "" {
				want = p
			}
		}
	}
	if len(missing) > 0 {
		return Finding{Check: "architecture", Severity: Fail,
			Message: pr.Sprintf("%s is published for %s only, but %s", image, strings.Join(platforms, ", "), strings.Join(missing, "; ")),
			Fix:     pr.Sprintf("give the lab an nginx-distroless image built for %s (one your instructor publishes, or one you build and load with --image-archive): lab up --nginx-image IMAGE; or run the lab on a %s machine or cluster", want, strings.Join(platforms, " or "))}
	}
	return Finding{Check: "architecture", Severity: OK, Message: pr.Sprintf("%s has a variant for every node (%s)", image, strings.Join(platforms, ", "))}
}

func checkCapabilities(pr *i18n.Printer, nodes []kube.NodeFacts) Finding {
	var crio []string
	var runtimes []string
	for _, n := range nodes {
		rt := n.Runtime.Name
		if !slices.Contains(runtimes, rt) {
			runtimes = append(runtimes, rt)
		}
		if rt == "cri-o" {
			crio = append(crio, n.Name)
		}
	}
	if len(crio) > 0 {
		return Finding{Check: "capabilities", Severity: Warn,
			Message: pr.Sprintf("node %s runs CRI-O, whose default capabilities leave out NET_RAW: tcpdump in a --profile=general debug container fails (\"socket: Operation not permitted\")", strings.Join(crio, ", ")),
			Fix:     pr.Sprintf("capture with kubectl debug --profile=netadmin (it adds NET_ADMIN and NET_RAW), or add NET_RAW to default_capabilities in crio.conf")}
	}
	if len(runtimes) == 0 {
		return Finding{Check: "capabilities", Severity: Info, Message: pr.Sprintf("the cluster has no nodes to check")}
	}
	return Finding{Check: "capabilities", Severity: OK,
		Message: pr.Sprintf("%s keeps NET_RAW in containers' default capabilities: tcpdump works from a --profile=general debug container", strings.Join(runtimes, ", "))}
}

// checkProxy says which proxy kind's nodes will pull through. A proxy on
// this machine's loopback is the classic trap: inside a node container
// 127.0.0.1 is the node itself.
func checkProxy(cfg *httpproxy.Config) Finding {
	if cfg.HTTPSProxy == "" && cfg.HTTPProxy == "" {
		return Finding{Check: "proxy", Severity: Info, Message: "no HTTP_PROXY or HTTPS_PROXY: kind's nodes reach registries directly"}
	}
	var loopback []string
	for _, v := range []string{cfg.HTTPSProxy, cfg.HTTPProxy} {
		u, err := url.Parse(v)
		if err != nil || u.Host == "" {
			u, err = url.Parse("http://" + v)
		}
		if err != nil {
			continue
		}
		h := u.Hostname()
		if ip := net.ParseIP(h); h == "localhost" || (ip != nil && ip.IsLoopback()) {
			loopback = append(loopback, v)
		}
	}
	msg := fmt.Sprintf("kind passes HTTPS_PROXY=%q HTTP_PROXY=%q NO_PROXY=%q (plus the cluster's subnets) into its nodes", cfg.HTTPSProxy, cfg.HTTPProxy, cfg.NoProxy)
	if len(loopback) > 0 {
		return Finding{Check: "proxy", Severity: Warn, Message: msg + "; " + strings.Join(loopback, ", ") + " is this machine's loopback, which inside a node is the node itself",
			Fix: "name the proxy by an address the node containers reach (the docker bridge's gateway, e.g. http://172.17.0.1:3128, with the proxy listening there), or use lab up --bundle FILE"}
	}
	return Finding{Check: "proxy", Severity: OK, Message: msg}
}
