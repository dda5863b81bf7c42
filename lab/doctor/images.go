package doctor

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"sync"

	"github.com/k8s-debug-lab/lab/lab/cluster"
	"github.com/k8s-debug-lab/lab/lab/images"
)

// roleWords say what the lab uses an image for.
var roleWords = map[string]string{
	RoleNode:        "kind's node image",
	RoleWorkload:    "the lab pod's image",
	"debugger":      "kubectl debug's image",
	"nodeDebugger":  "the node debugger's image",
	"trafficClient": "the traffic client's image",
}

// roleFix is how to name another image for a role.
var roleFix = map[string]string{
	RoleNode:     "lab up --node-image IMAGE",
	RoleWorkload: "lab up --nginx-image IMAGE",
}

// checkImages checks every image in parallel: offline, each registry
// query waits for its own timeout.
func checkImages(ctx context.Context, in Input, p Probes, facts *ClusterFacts, archs []NodePlatform) []Finding {
	out := make([]Finding, len(in.Images))
	var wg sync.WaitGroup
	for i, img := range in.Images {
		wg.Add(1)
		go func() {
			defer wg.Done()
			out[i] = checkImage(ctx, in, p, facts, archs, img)
		}()
	}
	wg.Wait()
	return out
}

// checkImage says whether lab up (and the steps after it) will have the
// image: in the bundle, on the nodes, in the engine (enough for the node
// image only), or pullable by whoever pulls it, for the nodes' platform.
func checkImage(ctx context.Context, in Input, p Probes, facts *ClusterFacts, archs []NodePlatform, img NeededImage) Finding {
	f := Finding{Check: "image/" + img.Role}
	what := img.Name
	if w := roleWords[img.Role]; w != "" {
		what = fmt.Sprintf("%s (%s)", img.Name, w)
	}
	by := ByNodes
	if img.Role == RoleNode {
		by = ByEngine
		// The engine runs on this machine: the node image is for it.
		archs = []NodePlatform{{"this machine", "linux", p.GOARCH}}
	}
	if in.Bundle != nil && in.Bundle.Has(img.Name) {
		f.Severity, f.Message = OK, what+": in the bundle"
		return f
	}
	if facts != nil && len(facts.Nodes) > 0 && slices.Contains(facts.Images, images.Normalize(img.Name)) {
		f.Severity, f.Message = OK, what+": present on every node"
		return f
	}
	engineErr := fmt.Errorf("not asked")
	enginePlatform := ""
	if p.EngineImage != nil && in.Provider == cluster.Kind {
		enginePlatform, engineErr = p.EngineImage(ctx, img.Name)
	}
	if engineErr == nil && by == ByEngine {
		f.Severity, f.Message = OK, fmt.Sprintf("%s: present in the container engine (%s)", what, enginePlatform)
		return f
	}
	if p.ImagePlatforms == nil {
		f.Severity, f.Message = Info, what+": not checked"
		return f
	}
	platforms, err := p.ImagePlatforms(ctx, img.Name, by)
	if err == nil {
		if missing := missingPlatforms(platforms, archs); len(missing) > 0 {
			fix := roleFix[img.Role]
			if fix == "" {
				fix = "name another image under images: in the lab's assignment.yaml"
			}
			f.Severity = Fail
			f.Message = fmt.Sprintf("%s is published for %s only, but %s", what, strings.Join(platforms, ", "), strings.Join(missing, "; "))
			f.Fix = fmt.Sprintf("use an image built for %s/%s: %s", archs[0].OS, archs[0].Arch, fix)
			return f
		}
		f.Severity = OK
		f.Message = fmt.Sprintf("%s: pullable by the %s (%s)", what, by, strings.Join(platforms, ", "))
		return f
	}
	pf := images.ClassifyPull(img.Name, err.Error())
	f.Severity = Fail
	if in.Provider == cluster.Existing {
		// The cluster's nodes have their own network; this machine not
		// reaching the registry does not mean they cannot.
		f.Severity = Warn
	}
	if engineErr == nil {
		f.Message = fmt.Sprintf("%s is in the container engine, but the nodes cannot pull it: %s (%s)", what, pf.Why, pf.Cause)
		f.Fix = "lab up --preload copies it from the engine into kind's nodes; or lab bundle save FILE, then lab up --bundle FILE"
		return f
	}
	where := "not on the nodes, not in the container engine"
	switch {
	case by == ByEngine:
		where = "not in the container engine"
	case in.Provider != cluster.Kind && facts == nil:
		where = "not known to be on the nodes"
	case in.Provider != cluster.Kind:
		where = "not on the nodes"
	}
	f.Message = fmt.Sprintf("%s is %s, and cannot be pulled (%s: %s): %s", what, where, pf.Cause, pf.Short(), pf.Why)
	f.Fix = strings.Join(pf.WaysOut(by == ByNodes), "; ")
	switch in.Provider {
	case cluster.Existing:
		f.Message += "; the cluster's nodes may still reach the registry"
		f.Fix = "if lab up then reports ImagePullBackOff, the nodes cannot reach it either: give them a proxy or a registry mirror, or use a kind cluster on this machine with lab up --provider kind --bundle FILE (lab bundle save FILE where the images can be pulled)"
	case cluster.Minikube:
		f.Fix = "load it into minikube from this machine's engine: minikube image load " + img.Name + "; or " + f.Fix
	}
	return f
}

func missingPlatforms(platforms []string, nodes []NodePlatform) []string {
	var missing []string
	for _, n := range nodes {
		want := n.OS + "/" + n.Arch
		if !slices.ContainsFunc(platforms, func(p string) bool { return p == want || strings.HasPrefix(p, want+"/") }) {
			missing = append(missing, fmt.Sprintf("%s is %s", n.Name, want))
		}
	}
	return missing
}
