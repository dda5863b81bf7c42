package cli

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"runtime"
	"slices"
	"time"

	"github.com/spf13/cobra"
	"golang.org/x/net/http/httpproxy"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/k8s-debug-lab/lab/internal/i18n"
	"github.com/k8s-debug-lab/lab/lab/cluster"
	"github.com/k8s-debug-lab/lab/lab/deploy"
	"github.com/k8s-debug-lab/lab/lab/doctor"
	"github.com/k8s-debug-lab/lab/lab/images"
	"github.com/k8s-debug-lab/lab/lab/kube"
	"github.com/k8s-debug-lab/lab/lab/labfolder"
)

// doctorOptions are lab doctor's flags.
type doctorOptions struct {
	streams    Streams
	globals    *globals
	kf         kubeconfigFlags
	pf         providerFlags
	nginxImage string
	nodeImage  string
	bundle     string
	output     string

	lf labFlag
	s  *session
}

// machineProbes are the machine's real probes; the engines and the
// cluster are the command's session's.
func machineProbes(engines func(context.Context) []cluster.Engine, clusterFacts func(context.Context) (*doctor.ClusterFacts, error)) doctor.Probes {
	return doctor.Probes{
		Engines:        engines,
		KubectlVersion: kubectlVersion,
		ReadFile:       os.ReadFile,
		NumCPU:         runtime.NumCPU,
		GOOS:           runtime.GOOS,
		GOARCH:         runtime.GOARCH,
		Cluster:        clusterFacts,
		ImagePlatforms: func(ctx context.Context, image string, by doctor.Puller) ([]string, error) {
			// The nodes pull through what kind passes them; the engine
			// through its own settings.
			e, _ := cluster.FirstAnswering(engines(ctx))
			proxy := kindNodeProxy(e.Name)
			if e.Answers() && by == doctor.ByEngine {
				proxy = e.Proxy(ctx)
			}
			return doctor.ImagePlatforms(ctx, doctor.RegistryClient(proxy), image)
		},
		EngineImage: func(ctx context.Context, image string) (string, error) {
			e, ok := cluster.FirstAnswering(engines(ctx))
			if !ok {
				return "", errors.New("no container engine answers")
			}
			info, err := e.InspectImage(ctx, image)
			return info.Platform(), err
		},
	}
}

func newDoctorCmd(streams Streams, g *globals) *cobra.Command {
	o := &doctorOptions{streams: streams, globals: g}
	cmd := &cobra.Command{
		Use:   "doctor",
		Short: "Check this machine and the cluster for what the lab needs",
		Long: `Check what the lab needs and say how to fix what is missing: a container
engine that answers (for kind), kubectl 1.27 or newer (and whether
--profile=general must be typed), the CPU count and inotify limits kind
wants, the cluster answering, the runtime's default capabilities (CRI-O
leaves out NET_RAW, so tcpdump fails with --profile=general), and every
image the lab needs: kind's node image (when the cluster is still to be
made), the pod's, the debuggers' and the traffic client's. Each is present
(in --bundle, on the nodes, or for the node image in the engine), pullable
for the nodes' platform (through the proxy the puller uses: dockerd's own
settings for the node image, HTTP_PROXY/HTTPS_PROXY/NO_PROXY as kind passes
them into the nodes for the rest), or neither, which blocks the lab.

It only reads. Exit codes: 0 nothing blocks the lab (warnings may remain),
1 something blocks it, 2 usage error, 3 the cluster could not be reached
and nothing else blocks.`,
		Example: `  lab doctor
  lab doctor --provider kind --bundle /media/usb/lab-bundle.tar
  lab doctor -o json | jq '.findings[] | select(.severity != "ok")'`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if err := validateOutput(o.output); err != nil {
				return err
			}
			var err error
			if o.s, err = newClusterSession(o.streams, o.globals, &o.kf, &o.pf, &o.lf); err != nil {
				return err
			}
			return o.run(cmd.Context())
		},
	}
	o.kf.addTo(cmd)
	o.pf.addTo(cmd)
	o.lf.addTo(cmd)
	f := cmd.Flags()
	f.StringVar(&o.nginxImage, "nginx-image", "", "the nginx image to check (default: the lab's own)")
	f.StringVar(&o.nodeImage, "node-image", "", "kind: the node image lab up will be given (default: kind's own)")
	f.StringVar(&o.bundle, "bundle", "", "check this offline bundle (lab bundle save) and count its images as present")
	_ = cmd.MarkFlagFilename("bundle", "tar")
	usageWhenShown(cmd, "nginx-image", func() string {
		return "the nginx image to check (default " + builtinImage() + ")"
	})
	addOutputFlag(cmd, &o.output, "report")
	return cmd
}

func (o *doctorOptions) run(ctx context.Context) error {
	s := o.s
	defer s.log.Done()
	in := doctor.Input{Lang: o.globals.printer().Lang()}
	if o.bundle != "" {
		s.log.Status("reading the bundle " + o.bundle)
		in.BundlePath = o.bundle
		in.Bundle, in.BundleErr = images.Verify(o.bundle, bundlePlatform())
	}
	s.log.Status("checking the machine")
	if err := s.choose(ctx); err != nil {
		var ee *ExitError
		if errors.As(err, &ee) && ee.Code == ExitUsage {
			return err
		}
		in.ProviderErr = err
	} else {
		in.Provider = s.prov.Name()
		in.ClusterName = s.prov.Describe()
		t, err := s.prov.Target(ctx)
		in.ReachHint = s.reachHint(t)
		if errors.Is(err, cluster.ErrNoCluster) && in.Provider == cluster.Kind {
			in.ClusterMissing = true
		}
	}
	needed, err := neededImages(s.lab, o.nginxImage)
	if err != nil {
		return err
	}
	if in.ClusterMissing || (in.Provider == "" && o.nodeImage != "") {
		node := o.nodeImage
		switch {
		case node != "":
		case in.Bundle != nil:
			node = in.Bundle.NodeImage.Name
		default:
			node = cluster.DefaultNodeImage
		}
		needed = append([]doctor.NeededImage{{Role: doctor.RoleNode, Name: node}}, needed...)
	}
	in.Images = needed
	e, _ := cluster.FirstAnswering(s.probedEngines(ctx))
	in.NodeProxy = kindNodeProxy(e.Name)
	rep := doctor.Run(ctx, in, o.globals.deps.DoctorProbes(s.probedEngines, o.clusterFacts))
	s.log.Done()
	if o.output == outputJSON {
		if err := writeJSON(o.streams.Out, rep); err != nil {
			return err
		}
	} else {
		writeDoctor(o.streams.Out, o.globals.printer(), rep, colorTerminal(o.streams.Out))
	}
	return doctorExit(rep)
}

// doctorExit is 0 when nothing blocks, 3 when only the cluster's
// reachability does, 1 otherwise.
func doctorExit(rep *doctor.Report) error {
	if !rep.Blocking {
		return nil
	}
	for _, f := range rep.Findings {
		if f.Severity == doctor.Fail && f.Check != "cluster" && f.Check != "provider" {
			return &ExitError{Code: ExitFailed}
		}
	}
	return &ExitError{Code: ExitCluster}
}

// clusterFacts connects to the provider's cluster and reads its version
// and nodes.
func (o *doctorOptions) clusterFacts(ctx context.Context) (*doctor.ClusterFacts, error) {
	s := o.s
	t, err := s.prov.Target(ctx)
	if err != nil {
		return nil, err
	}
	o.s.log.Status("asking the cluster at " + t.Server)
	c, err := o.globals.deps.NewClient(t)
	if err != nil {
		return nil, err
	}
	if _, err := kube.Ping(ctx, c, t.Server, t.Namespace); err != nil {
		return nil, err
	}
	f := &doctor.ClusterFacts{Context: t.Context, Server: t.Server}
	if v, err := kube.ServerVersion(ctx, c); err == nil {
		f.Version = v
	}
	lctx, cancel := context.WithTimeout(ctx, kube.CallTimeout)
	defer cancel()
	nodes, err := c.CoreV1().Nodes().List(lctx, metav1.ListOptions{})
	if err != nil {
		return nil, fmt.Errorf("listing the cluster's nodes: %w", err)
	}
	for i := range nodes.Items {
		f.Nodes = append(f.Nodes, kube.NodeFactsOf(&nodes.Items[i]))
	}
	f.Images = imagesOnEveryNode(nodes.Items)
	return f, nil
}

// imagesOnEveryNode are the image names (containerd's spelling) every
// node lists in its status.
func imagesOnEveryNode(nodes []corev1.Node) []string {
	count := map[string]int{}
	for _, n := range nodes {
		seen := map[string]bool{}
		for _, img := range n.Status.Images {
			for _, name := range img.Names {
				if !seen[name] {
					seen[name] = true
					count[name]++
				}
			}
		}
	}
	var out []string
	for name, c := range count {
		if c == len(nodes) {
			out = append(out, name)
		}
	}
	slices.Sort(out)
	return out
}

// neededImages are the images the lab runs, with what each is for: the
// pod's (--nginx-image replacing the workload's) and the tools'.
func neededImages(l *labfolder.Lab, nginxImage string) ([]doctor.NeededImage, error) {
	m, err := deploy.Render(deploy.Options{Lab: l, NginxImage: nginxImage})
	if err != nil {
		return nil, err
	}
	out := []doctor.NeededImage{{Role: doctor.RoleWorkload, Name: m.Image()}}
	imgs := l.Spec.Images
	for _, t := range []doctor.NeededImage{{Role: "debugger", Name: imgs.Debugger}, {Role: "nodeDebugger", Name: imgs.NodeDebugger}, {Role: "trafficClient", Name: imgs.TrafficClient}} {
		if t.Name != "" && !slices.ContainsFunc(out, func(n doctor.NeededImage) bool { return n.Name == t.Name }) {
			out = append(out, t)
		}
	}
	return out, nil
}

// kindNodeProxy is the proxy configuration kind would pass into its
// nodes, running on engine ("" when none answers: docker's rules).
func kindNodeProxy(engine string) *httpproxy.Config {
	if engine == "" {
		engine = "docker"
	}
	return cluster.NodeProxy(engine, os.Getenv, os.ReadFile)
}

// bundlePlatform is the platform a bundle must be for here: kind's nodes
// are containers on this machine.
func bundlePlatform() string { return "linux/" + runtime.GOARCH }

// kubectlVersion runs kubectl version --client -o json.
func kubectlVersion(ctx context.Context) (string, error) {
	path, err := exec.LookPath("kubectl")
	if err != nil {
		return "", errors.New("kubectl is not on the PATH")
	}
	ctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	out, err := exec.CommandContext(ctx, path, "version", "--client", "-o", "json").Output()
	if err != nil {
		return "", fmt.Errorf("%s version --client: %w", path, err)
	}
	var v struct {
		ClientVersion struct {
			GitVersion string `json:"gitVersion"`
		} `json:"clientVersion"`
	}
	if err := json.Unmarshal(out, &v); err != nil {
		return "", fmt.Errorf("reading %s version --client: %w", path, err)
	}
	return v.ClientVersion.GitVersion, nil
}

var doctorMarks = map[doctor.Severity]string{doctor.OK: "✓", doctor.Info: "·", doctor.Warn: "!", doctor.Fail: "✗"}

var doctorColors = map[doctor.Severity]string{doctor.OK: "32", doctor.Info: "2", doctor.Warn: "33", doctor.Fail: "31"}

func writeDoctor(w io.Writer, p *i18n.Printer, rep *doctor.Report, color bool) {
	width := 0
	for _, f := range rep.Findings {
		width = max(width, len(f.Check))
	}
	fixedBy := map[string]string{}
	for _, f := range rep.Findings {
		mark := doctorMarks[f.Severity]
		if color {
			mark = "\x1b[" + doctorColors[f.Severity] + "m" + mark + "\x1b[0m"
		}
		fmt.Fprintf(w, "%s %-*s  %s\n", mark, width, f.Check, f.Message)
		switch first, seen := fixedBy[f.Fix]; {
		case f.Fix == "":
		case seen:
			// Offline, every image has the same way out: say it once.
			fmt.Fprintf(w, "  %-*s  %s %s\n", width, "", p.Sprintf("fix:"), p.Sprintf("as for %s", first))
		default:
			fixedBy[f.Fix] = f.Check
			fmt.Fprintf(w, "  %-*s  %s %s\n", width, "", p.Sprintf("fix:"), f.Fix)
		}
	}
	fails, warns := 0, 0
	for _, f := range rep.Findings {
		switch f.Severity {
		case doctor.Fail:
			fails++
		case doctor.Warn:
			warns++
		}
	}
	switch {
	case fails > 0:
		fmt.Fprintln(w, p.Sprintf("%d problem(s) block the lab: fix them and run lab doctor again", fails))
	case warns > 0:
		fmt.Fprintln(w, p.Sprintf("nothing blocks the lab; %d warning(s) worth reading", warns))
	default:
		fmt.Fprintln(w, p.Sprintf("nothing blocks the lab"))
	}
}
