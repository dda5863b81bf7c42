package cluster

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"
	kinddefaults "sigs.k8s.io/kind/pkg/apis/config/defaults"
	kindv1alpha4 "sigs.k8s.io/kind/pkg/apis/config/v1alpha4"
	kindcluster "sigs.k8s.io/kind/pkg/cluster"
	"sigs.k8s.io/kind/pkg/cluster/nodes"
	"sigs.k8s.io/kind/pkg/cluster/nodeutils"
	kindexec "sigs.k8s.io/kind/pkg/exec"
	kindlog "sigs.k8s.io/kind/pkg/log"
	"sigs.k8s.io/yaml"

	"github.com/k8s-debug-lab/lab/lab/images"
	"github.com/k8s-debug-lab/lab/lab/kube"
)

// The marker lab leaves on the kind clusters it creates: a label on every
// node, set in the kind config so that it exists from the first moment.
// lab down deletes a kind cluster only when it carries it.
const (
	MarkerLabel = "k8s-debug-lab.io/created-by"
	MarkerValue = "lab"
)

// kindConfigAPIVersion and kindConfigKind identify a v1alpha4 kind config.
const (
	kindConfigAPIVersion = "kind.x-k8s.io/v1alpha4"
	kindConfigKind       = "Cluster"
)

// KindOptions configure the kind provider.
type KindOptions struct {
	// Name is the cluster's name; its context is kind-<Name>.
	Name string
	// NodeImage overrides the node image (kindest/node:… or one built
	// locally).
	NodeImage string
	// ConfigFile is a v1alpha4 kind config to start from (for containerd
	// mirrors, extra port mappings, …); lab adds its marker to it.
	ConfigFile string
	// Wait bounds the wait for the control plane to be Ready.
	Wait time.Duration
	// Kubeconfig is where the kind-<Name> context is written ("" means the
	// usual place: KUBECONFIG's first file, or ~/.kube/config).
	Kubeconfig string
	// Namespace is the lab's namespace, for the target.
	Namespace string
}

// DefaultNodeImage is the node image kind creates a cluster from unless
// told otherwise.
const DefaultNodeImage = kinddefaults.Image

// DefaultKindWait bounds the wait for a new kind cluster's control plane.
const DefaultKindWait = 3 * time.Minute

// KindConfig is the v1alpha4 config lab creates a cluster from: the
// user's --kind-config if given (read strictly), else one control-plane
// node; with the cluster's name, the node image if one was given, and
// lab's marker label on every node.
func KindConfig(o KindOptions) (*kindv1alpha4.Cluster, error) {
	cfg := &kindv1alpha4.Cluster{}
	if o.ConfigFile != "" {
		data, err := os.ReadFile(o.ConfigFile)
		if err != nil {
			return nil, fmt.Errorf("reading the kind config: %w", err)
		}
		if err := yaml.UnmarshalStrict(data, cfg); err != nil {
			return nil, fmt.Errorf("kind config %s: %w", o.ConfigFile, err)
		}
		if cfg.Kind != kindConfigKind || cfg.APIVersion != kindConfigAPIVersion {
			return nil, fmt.Errorf("kind config %s: want kind: %s and apiVersion: %s, got kind: %q, apiVersion: %q",
				o.ConfigFile, kindConfigKind, kindConfigAPIVersion, cfg.Kind, cfg.APIVersion)
		}
	}
	cfg.Kind, cfg.APIVersion = kindConfigKind, kindConfigAPIVersion
	cfg.Name = o.Name
	if cfg.Name == "" {
		cfg.Name = DefaultKindName
	}
	if len(cfg.Nodes) == 0 {
		cfg.Nodes = []kindv1alpha4.Node{{Role: kindv1alpha4.ControlPlaneRole}}
	}
	for i := range cfg.Nodes {
		n := &cfg.Nodes[i]
		if n.Labels == nil {
			n.Labels = map[string]string{}
		}
		n.Labels[MarkerLabel] = MarkerValue
		if o.NodeImage != "" {
			n.Image = o.NodeImage
		}
	}
	return cfg, nil
}

// MarshalKindConfig renders a kind config as YAML, for -v and tests.
func MarshalKindConfig(cfg *kindv1alpha4.Cluster) ([]byte, error) {
	return yaml.Marshal(cfg)
}

// kindProvider creates, finds and deletes lab's kind cluster.
type kindProvider struct {
	opts    KindOptions
	engines []Engine
	engine  Engine
	lib     *kindcluster.Provider
}

func newKind(o KindOptions, engines []Engine) *kindProvider {
	p := &kindProvider{opts: o, engines: engines}
	if e, ok := FirstAnswering(engines); ok {
		p.engine = e
	}
	return p
}

func (p *kindProvider) Name() Name { return Kind }

func (p *kindProvider) Describe() string {
	if p.engine.Name == "" {
		return fmt.Sprintf("kind cluster %s", p.opts.Name)
	}
	return fmt.Sprintf("kind cluster %s (%s)", p.opts.Name, p.engine)
}

// Context is the kubeconfig context kind writes for the cluster.
func (p *kindProvider) Context() string { return "kind-" + p.opts.Name }

// library returns kind's provider for the engine that answers.
func (p *kindProvider) library(log Log) (*kindcluster.Provider, error) {
	if p.engine.Name == "" {
		var why []string
		for _, e := range p.engines {
			why = append(why, e.String())
		}
		return nil, &EngineError{Why: strings.Join(why, "; ")}
	}
	var opt kindcluster.ProviderOption
	switch p.engine.Name {
	case "podman":
		opt = kindcluster.ProviderWithPodman()
	case "nerdctl":
		opt = kindcluster.ProviderWithNerdctl(p.engine.Path)
	default:
		opt = kindcluster.ProviderWithDocker()
	}
	opts := []kindcluster.ProviderOption{opt}
	if log != nil {
		opts = append(opts, kindcluster.ProviderWithLogger(kindLogger{log}))
	}
	return kindcluster.NewProvider(opts...), nil
}

// EngineError means kind has no container engine to run on.
type EngineError struct{ Why string }

func (e *EngineError) Error() string {
	return fmt.Sprintf("kind needs a container engine and none answers (%s): start Docker (or Podman), or use a cluster you have with --provider existing", e.Why)
}

// exists reports whether kind knows the cluster.
func (p *kindProvider) exists(lib *kindcluster.Provider) (bool, error) {
	names, err := lib.List()
	if err != nil {
		return false, kindErr("listing kind clusters", err)
	}
	return slices.Contains(names, p.opts.Name), nil
}

func (p *kindProvider) Target(context.Context) (*kube.Target, error) {
	lib, err := p.library(nil)
	if err != nil {
		return nil, err
	}
	ok, err := p.exists(lib)
	if err != nil {
		return nil, err
	}
	if !ok {
		return nil, fmt.Errorf("%w: no kind cluster %s (%s); lab up creates it", ErrNoCluster, p.opts.Name, p.engine)
	}
	return p.target(lib)
}

// target reads the cluster's kubeconfig from kind itself rather than the
// user's file: it is right even when the user's file has gone stale.
func (p *kindProvider) target(lib *kindcluster.Provider) (*kube.Target, error) {
	cfg, err := lib.KubeConfig(p.opts.Name, false)
	if err != nil {
		return nil, kindErr(fmt.Sprintf("reading kind cluster %s's kubeconfig (is its node running? %s start %s-control-plane)", p.opts.Name, p.engine.Name, p.opts.Name), err)
	}
	t, err := kube.FromKubeconfig([]byte(cfg), kube.Options{Context: p.Context(), Namespace: p.opts.Namespace})
	if err != nil {
		return nil, err
	}
	// lab chose this context itself; the user did not name it.
	t.ContextExplicit = false
	return t, nil
}

func (p *kindProvider) Ensure(ctx context.Context, log Log) (*kube.Target, bool, error) {
	lib, err := p.library(log)
	if err != nil {
		return nil, false, err
	}
	ok, err := p.exists(lib)
	if err != nil {
		return nil, false, err
	}
	if ok {
		t, err := p.target(lib)
		if err != nil {
			return nil, false, err
		}
		p.ensureContext(lib, log)
		return t, false, nil
	}
	if err := p.create(ctx, lib, log); err != nil {
		return nil, false, err
	}
	t, err := p.target(lib)
	return t, true, err
}

// ensureContext writes the kind-<name> context into the user's kubeconfig
// when it is missing there (a new KUBECONFIG, a deleted file), so that the
// student's kubectl reaches the lab. When it is there, nothing is written:
// a second lab up changes nothing.
func (p *kindProvider) ensureContext(lib *kindcluster.Provider, log Log) {
	if _, err := kube.Resolve(kube.Options{Kubeconfig: p.opts.Kubeconfig, Context: p.Context()}); err == nil {
		return
	}
	if err := lib.ExportKubeConfig(p.opts.Name, p.opts.Kubeconfig, false); err != nil {
		log.Warnf("could not write context %s into the kubeconfig: %v", p.Context(), err)
		return
	}
	log.Debugf("wrote context %s into the kubeconfig", p.Context())
}

// create makes the cluster. kind's Create takes no context, so an
// interrupt is handled by deleting the half-made cluster from here, which
// makes Create fail soon after; then what is left is deleted again.
func (p *kindProvider) create(ctx context.Context, lib *kindcluster.Provider, log Log) error {
	cfg, err := KindConfig(p.opts)
	if err != nil {
		return err
	}
	if y, err := MarshalKindConfig(cfg); err == nil {
		log.Debugf("kind config:\n%s", y)
	}
	wait := p.opts.Wait
	if wait <= 0 {
		wait = DefaultKindWait
	}
	opts := []kindcluster.CreateOption{
		kindcluster.CreateWithV1Alpha4Config(cfg.DeepCopy()),
		kindcluster.CreateWithWaitForReady(wait),
		kindcluster.CreateWithKubeconfigPath(p.opts.Kubeconfig),
		kindcluster.CreateWithDisplayUsage(false),
		kindcluster.CreateWithDisplaySalutation(false),
	}
	if p.opts.NodeImage != "" {
		opts = append(opts, kindcluster.CreateWithNodeImage(p.opts.NodeImage))
	}
	done := make(chan error, 1)
	go func() { done <- lib.Create(p.opts.Name, opts...) }()
	select {
	case err := <-done:
		if err != nil {
			return pullErr(kindErr(fmt.Sprintf("creating kind cluster %s", p.opts.Name), err))
		}
		return nil
	case <-ctx.Done():
		log.Status(fmt.Sprintf("interrupted: removing the half-created kind cluster %s", p.opts.Name))
		_ = lib.Delete(p.opts.Name, p.opts.Kubeconfig)
		<-done
		if err := lib.Delete(p.opts.Name, p.opts.Kubeconfig); err != nil {
			log.Warnf("removing kind cluster %s: %v", p.opts.Name, err)
		}
		return ctx.Err()
	}
}

func (p *kindProvider) Owned(ctx context.Context, c kubernetes.Interface) (bool, string, error) {
	err := errors.New("lab could not connect to it")
	if c != nil {
		lctx, cancel := context.WithTimeout(ctx, kube.CallTimeout)
		defer cancel()
		var l *corev1.NodeList
		l, err = c.CoreV1().Nodes().List(lctx, metav1.ListOptions{LabelSelector: MarkerLabel + "=" + MarkerValue})
		if err == nil {
			owned := false
			for _, n := range l.Items {
				owned = owned || n.Labels[MarkerLabel] == MarkerValue
			}
			if owned {
				return true, fmt.Sprintf("kind cluster %s carries lab's marker (node label %s=%s)", p.opts.Name, MarkerLabel, MarkerValue), nil
			}
			return false, fmt.Sprintf("kind cluster %s has no node labelled %s=%s: lab did not create it", p.opts.Name, MarkerLabel, MarkerValue), nil
		}
	}
	// The API does not answer (a broken cluster is exactly when students
	// want it gone): read the marker from the kubelet's arguments that
	// kind wrote into the node container.
	owned, ferr := p.ownedFromNodes()
	if ferr != nil {
		return false, "", fmt.Errorf("cannot tell whether lab created kind cluster %s: the API says %v; the node says %v", p.opts.Name, err, ferr)
	}
	if owned {
		return true, fmt.Sprintf("kind cluster %s's kubeadm config carries lab's marker %s=%s", p.opts.Name, MarkerLabel, MarkerValue), nil
	}
	return false, fmt.Sprintf("kind cluster %s's kubeadm config has no %s=%s: lab did not create it", p.opts.Name, MarkerLabel, MarkerValue), nil
}

func (p *kindProvider) ownedFromNodes() (bool, error) {
	lib, err := p.library(nil)
	if err != nil {
		return false, err
	}
	ns, err := lib.ListNodes(p.opts.Name)
	if err != nil {
		return false, kindErr("listing the cluster's nodes", err)
	}
	for _, n := range ns {
		var out bytes.Buffer
		if err := n.Command("cat", "/kind/kubeadm.conf").SetStdout(&out).Run(); err != nil {
			return false, kindErr("reading /kind/kubeadm.conf on "+n.String(), err)
		}
		if strings.Contains(out.String(), MarkerLabel+"="+MarkerValue) {
			return true, nil
		}
	}
	return false, nil
}

func (p *kindProvider) DeleteCluster(_ context.Context, log Log) error {
	lib, err := p.library(log)
	if err != nil {
		return err
	}
	if err := lib.Delete(p.opts.Name, p.opts.Kubeconfig); err != nil {
		return kindErr(fmt.Sprintf("deleting kind cluster %s", p.opts.Name), err)
	}
	return nil
}

// internalNodes are the cluster's Kubernetes nodes (not its load
// balancer), which images are loaded into.
func (p *kindProvider) internalNodes(log Log) ([]nodes.Node, error) {
	lib, err := p.library(log)
	if err != nil {
		return nil, err
	}
	all, err := lib.ListNodes(p.opts.Name)
	if err != nil {
		return nil, kindErr("listing the cluster's nodes", err)
	}
	ns, err := nodeutils.InternalNodes(all)
	if err != nil {
		return nil, kindErr("listing the cluster's nodes", err)
	}
	return ns, nil
}

// LoadImages copies images into every node of the cluster: each image is
// saved from the local engine (pulled there first when missing) into one
// archive, and that archive, and the user's own if given, is imported
// into each node's containerd by kind's nodeutils.LoadImageArchive.
func (p *kindProvider) LoadImages(ctx context.Context, log Log, images []string, archive string) error {
	ns, err := p.internalNodes(log)
	if err != nil {
		return err
	}
	var archives []string
	if len(images) > 0 {
		tmp, err := os.MkdirTemp("", "lab-images-")
		if err != nil {
			return err
		}
		defer os.RemoveAll(tmp)
		path := filepath.Join(tmp, "images.tar")
		if err := p.saveImages(ctx, log, images, path); err != nil {
			return err
		}
		archives = append(archives, path)
	}
	if archive != "" {
		archives = append(archives, archive)
	}
	for _, a := range archives {
		for _, n := range ns {
			log.Status(fmt.Sprintf("loading %s into node %s", filepath.Base(a), n))
			if err := loadArchive(n, a); err != nil {
				return err
			}
		}
	}
	return nil
}

func loadArchive(n nodes.Node, path string) error {
	f, err := os.Open(path)
	if err != nil {
		return fmt.Errorf("opening the image archive: %w", err)
	}
	defer f.Close()
	if err := nodeutils.LoadImageArchive(n, f); err != nil {
		return kindErr(fmt.Sprintf("loading %s into node %s", path, n), err)
	}
	return nil
}

// saveImages writes images from the local engine into one archive,
// pulling the ones it does not have.
func (p *kindProvider) saveImages(ctx context.Context, log Log, images []string, path string) error {
	for _, img := range images {
		if err := p.engineRun(ctx, io.Discard, "image", "inspect", img); err == nil {
			continue
		}
		log.Status(fmt.Sprintf("pulling %s with %s", img, p.engine.Name))
		if err := p.engineRun(ctx, io.Discard, "pull", img); err != nil {
			return fmt.Errorf("--preload: %s has no image %s and could not pull it (%v); load it first (%s load -i FILE) or pass the tarball with --image-archive", p.engine.Name, img, err, p.engine.Name)
		}
	}
	log.Status(fmt.Sprintf("saving %s from %s", strings.Join(images, ", "), p.engine.Name))
	if err := p.engine.Save(ctx, path, images...); err != nil {
		return fmt.Errorf("saving the lab's images with %s: %w", p.engine.Name, err)
	}
	return nil
}

func (p *kindProvider) engineRun(ctx context.Context, stdout io.Writer, args ...string) error {
	return p.engine.Run(ctx, nil, stdout, args...)
}

// kindErr wraps a kind error with what was being attempted and the failed
// command's output, which kind keeps apart from the message.
func kindErr(what string, err error) error {
	re := kindexec.RunErrorForError(err)
	if re == nil {
		errors.As(err, &re)
	}
	if re != nil {
		if out := strings.TrimSpace(string(re.Output)); out != "" {
			return fmt.Errorf("%s: %w\n%s", what, err, lastLines(out, 10))
		}
	}
	return fmt.Errorf("%s: %w", what, err)
}

// NodeImagePullError is kind failing to pull its node image, explained.
type NodeImagePullError struct {
	Pull images.PullFailure
	Err  error
}

func (e *NodeImagePullError) Error() string {
	var b strings.Builder
	fmt.Fprintf(&b, "%s\n%s\nWhat to do:", e.Pull, e.Err)
	for _, w := range e.Pull.WaysOut(false) {
		b.WriteString("\n  - " + w)
	}
	return b.String()
}

func (e *NodeImagePullError) Unwrap() error { return e.Err }

// pullErr explains an error from kind's create when it is a failed pull of
// the node image (kind says `failed to pull image "kindest/node:…"`).
func pullErr(err error) error {
	if !strings.Contains(err.Error(), "failed to pull image") {
		return err
	}
	return &NodeImagePullError{Pull: images.ClassifyPull("", err.Error()), Err: err}
}

func lastLines(s string, n int) string {
	lines := strings.Split(s, "\n")
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return strings.Join(lines, "\n")
}

// kindLogger passes kind's messages on: its user-facing V(0) lines become
// status lines, its debug levels -v detail.
type kindLogger struct{ log Log }

func (l kindLogger) Warn(msg string)                   { l.log.Warnf("%s", msg) }
func (l kindLogger) Warnf(format string, args ...any)  { l.log.Warnf(format, args...) }
func (l kindLogger) Error(msg string)                  { l.log.Warnf("%s", msg) }
func (l kindLogger) Errorf(format string, args ...any) { l.log.Warnf(format, args...) }
func (l kindLogger) V(level kindlog.Level) kindlog.InfoLogger {
	return kindInfo{log: l.log, level: level}
}

type kindInfo struct {
	log   Log
	level kindlog.Level
}

func (i kindInfo) Info(msg string) {
	if i.level == 0 {
		i.log.Status(strings.TrimSpace(msg))
		return
	}
	i.log.Debugf("kind: %s", strings.TrimSpace(msg))
}

func (i kindInfo) Infof(format string, args ...any) { i.Info(fmt.Sprintf(format, args...)) }
func (i kindInfo) Enabled() bool                    { return true }
