package cli

import (
	"context"
	"errors"
	"fmt"
	"os"
	"time"

	"github.com/spf13/cobra"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"

	"github.com/k8s-debug-lab/lab/internal/i18n"
	"github.com/k8s-debug-lab/lab/lab/cluster"
	"github.com/k8s-debug-lab/lab/lab/deploy"
	"github.com/k8s-debug-lab/lab/lab/doctor"
	"github.com/k8s-debug-lab/lab/lab/images"
	"github.com/k8s-debug-lab/lab/lab/kube"
)

// upOptions are lab up's flags.
type upOptions struct {
	streams Streams
	globals *globals
	kf      kubeconfigFlags
	pf      providerFlags

	nginxImage   string
	preload      bool
	imageArchive string
	nodeImage    string
	kindConfig   string
	bundle       string
	timeout      time.Duration
	yes          bool

	lf       labFlag
	s        *session
	manifest *images.Manifest
}

func newUpCmd(streams Streams, g *globals) *cobra.Command {
	o := &upOptions{streams: streams, globals: g}
	cmd := &cobra.Command{
		Use:   "up",
		Short: "Bring up the lab: a cluster and the nginx-distroless pod",
		Long: `Bring up the lab: make sure there is a cluster, deploy the pod
nginx-distroless (container nginx, shareProcessNamespace: true, port 80) and
its Service, and wait until the pod is Ready.

The provider is --provider, else LAB_PROVIDER, else detected: a minikube
context is used as it is; with Docker, Podman or nerdctl answering, lab
creates (or reuses) the kind cluster "lab" (context kind-lab); otherwise the
kubeconfig's current context. --kubeconfig/--context point at any cluster.

Running it again on a ready lab changes nothing and takes about a second; a
pod that drifted from the manifest is recreated. Before changing anything lab
prints the context and API server, and it refuses an API server that is not
on this machine unless you name the context with --context and add --yes.

With --bundle FILE (kind), the images come from an offline bundle made by
lab bundle save: it is verified first (a damaged bundle, or one for another
platform, is refused before anything is created), its node image is loaded
into the container engine and the rest into the nodes; nothing is pulled.

Exit codes: 0 the lab is ready, 1 the pod did not become Ready (its events
and what to do are printed), kind could not get its node image (why, and
the ways out, are printed) or an object lab did not create is in the way,
2 usage error, a refused context or bundle, 3 the cluster could not be
reached.`,
		Example: `  lab up
  lab up --provider kind --preload              # copy the images from your Docker into kind
  lab up --provider kind --bundle lab-bundle.tar   # a classroom without internet (lab bundle save)
  lab up --image-archive lab-images.tar         # your own docker save tarball
  lab up --provider existing --context my-cluster --yes
  lab up --nginx-image registry.example/nginx-distroless:arm64`,
		Args: cobra.NoArgs,
		RunE: runOptions(o),
	}
	o.kf.addTo(cmd)
	o.pf.addTo(cmd)
	o.lf.addTo(cmd)
	f := cmd.Flags()
	f.StringVar(&o.nginxImage, "nginx-image", "", "the pod's image (default: the lab's own, or the one an earlier lab up was given)")
	usageWhenShown(cmd, "nginx-image", func() string {
		return "the pod's image (default " + builtinImage() + ", or the one an earlier lab up was given)"
	})
	f.BoolVar(&o.preload, "preload", false, "kind: copy the lab's images from the local container engine into the nodes (pulling them there first if needed)")
	f.StringVar(&o.imageArchive, "image-archive", "", "kind: load this image tarball (docker save) into the nodes")
	f.StringVar(&o.nodeImage, "node-image", "", "kind: the node image to create the cluster from")
	f.StringVar(&o.bundle, "bundle", "", "kind: an offline bundle (lab bundle save): its node image goes into the engine, the rest into the nodes; nothing is pulled")
	f.StringVar(&o.kindConfig, "kind-config", "", "kind: a v1alpha4 cluster config to start from (lab adds its marker label)")
	f.DurationVar(&o.timeout, "timeout", deploy.DefaultTimeout, "how long to wait for the pod to be Ready")
	f.BoolVarP(&o.yes, "yes", "y", false, "confirm changing a cluster that is not local (with --context)")
	_ = cmd.MarkFlagFilename("image-archive", "tar")
	_ = cmd.MarkFlagFilename("bundle", "tar")
	_ = cmd.MarkFlagFilename("kind-config", "yaml", "yml")
	return cmd
}

func (o *upOptions) complete() error {
	var err error
	if o.s, err = newClusterSession(o.streams, o.globals, &o.kf, &o.pf, &o.lf); err != nil {
		return err
	}
	o.s.kind = cluster.KindOptions{NodeImage: o.nodeImage, ConfigFile: o.kindConfig}
	return nil
}

func (o *upOptions) validate() error {
	if o.timeout <= 0 {
		return usageErrorf("--timeout must be positive, got %s", o.timeout)
	}
	if o.imageArchive != "" {
		fi, err := os.Stat(o.imageArchive)
		if err != nil || !fi.Mode().IsRegular() {
			return usageErrorf("--image-archive %s: not a readable file; make one with docker save -o %s IMAGE…", o.imageArchive, o.imageArchive)
		}
	}
	if o.bundle != "" {
		if o.nodeImage != "" {
			return usageErrorf("--bundle carries the node image; leave out --node-image")
		}
		// Read all of it now: a damaged or foreign bundle is refused
		// before anything is created.
		m, err := images.Verify(o.bundle, bundlePlatform())
		if err != nil {
			return usageErrorf("%v", err)
		}
		o.manifest = m
		o.s.kind.NodeImage = m.NodeImage.Name
		if needed, err := neededImages(o.s.lab, o.nginxImage); err == nil {
			for _, n := range needed {
				if !m.Has(n.Name) {
					o.s.log.Warnf("the bundle does not carry %s (%s): the nodes will pull it", n.Name, n.Role)
				}
			}
		}
	}
	if o.kindConfig != "" {
		if _, err := cluster.KindConfig(cluster.KindOptions{ConfigFile: o.kindConfig}); err != nil {
			return usageErrorf("%v", err)
		}
	}
	return nil
}

// kindOnly names the kind-only flags that were given.
func (o *upOptions) kindOnly() []string {
	var out []string
	for _, f := range []struct {
		name string
		set  bool
	}{
		{"--preload", o.preload}, {"--image-archive", o.imageArchive != ""},
		{"--node-image", o.nodeImage != ""}, {"--kind-config", o.kindConfig != ""},
		{"--bundle", o.bundle != ""},
	} {
		if f.set {
			out = append(out, f.name)
		}
	}
	return out
}

func (o *upOptions) run(ctx context.Context) (err error) {
	start := time.Now()
	s := o.s
	defer s.log.Done()
	if err := s.choose(ctx); err != nil {
		return err
	}
	if flags := o.kindOnly(); len(flags) > 0 && s.prov.Name() != cluster.Kind {
		hint := ""
		if s.prov.Name() == cluster.Minikube {
			hint = "; on minikube, load images with minikube image load IMAGE"
		}
		return usageErrorf("%v work with the kind provider only, and lab is using %s%s", flags, s.prov.Name(), hint)
	}
	t, err := s.prov.Target(ctx)
	switch {
	case err == nil:
		if err := s.guard(t, o.yes); err != nil {
			return err
		}
	case errors.Is(err, cluster.ErrNoCluster) && s.prov.Name() == cluster.Kind:
		if o.manifest != nil {
			if err := s.prov.(cluster.ImageLoader).LoadNodeImage(ctx, s.log, o.bundle, o.manifest); err != nil {
				return err
			}
		}
		s.log.Infof("creating %s; the first time takes a few minutes", s.prov.Describe())
	default:
		return s.clusterErr(err)
	}
	t, created, err := s.prov.Ensure(ctx, s.log)
	if err != nil {
		return s.clusterErr(err)
	}
	if created {
		// From here on, an interrupt or a failure to deploy removes the
		// cluster this command made: a half-made lab is worse than none.
		defer func() {
			if err != nil && ctx.Err() != nil {
				s.log.Infof("interrupted: deleting %s, which this lab up created", s.prov.Describe())
				if derr := s.prov.DeleteCluster(context.WithoutCancel(ctx), s.log); derr != nil {
					err = errors.Join(err, derr)
				}
			}
		}()
		if err := s.guard(t, o.yes); err != nil {
			return err
		}
	}
	if o.preload || o.imageArchive != "" {
		if err := o.loadImages(ctx, t); err != nil {
			return err
		}
	}
	if o.manifest != nil {
		if err := s.prov.(cluster.ImageLoader).LoadBundleImages(ctx, s.log, o.bundle, o.manifest); err != nil {
			return fmt.Errorf("loading the bundle's images into %s: %w", t.Context, err)
		}
	}
	c, err := s.connect(ctx, t)
	if err != nil {
		return err
	}
	o.statePlatform(ctx, c, t.Namespace)
	dopts := s.deployOptions(t.Namespace, o.nginxImage)
	dopts.Timeout = o.timeout
	res, err := deploy.Up(ctx, c, dopts)
	s.log.Done()
	if err != nil {
		return deployErr(o.streams, err)
	}
	s.log.Debugf("done in %s", time.Since(start).Round(time.Millisecond))
	pr := o.globals.printer()
	printUpResult(o.streams, pr, res, pr.Sprintf("lab is ready"))
	return nil
}

// platformTimeout bounds the registry question lab up asks before it
// deploys: an offline machine must not wait for it.
const platformTimeout = 10 * time.Second

// statePlatform says, before anything is deployed, when the pod's image
// has no variant for a node's platform (an amd64-only image on an arm64
// laptop) and what to do: otherwise the student waits minutes for an
// ImagePullBackOff or an "exec format error". It only warns: a registry
// may lie about nothing but be out of reach, and an image loaded with
// --image-archive may be what the node runs. An earlier lab up's pod
// keeps its image, so it is not asked about.
func (o *upOptions) statePlatform(ctx context.Context, c kubernetes.Interface, namespace string) {
	s := o.s
	image := o.nginxImage
	if image == "" {
		if _, err := c.CoreV1().Pods(namespace).Get(ctx, s.workload().Pod, metav1.GetOptions{}); err == nil {
			return
		}
		image = deploy.DefaultImage(s.lab)
	}
	if image == "" || s.g.deps.ImagePlatforms == nil {
		return
	}
	nodes, err := c.CoreV1().Nodes().List(ctx, metav1.ListOptions{})
	if err != nil || len(nodes.Items) == 0 {
		s.log.Debugf("not comparing %s with the nodes' platforms: listing nodes: %v", image, err)
		return
	}
	var ps []doctor.NodePlatform
	for i := range nodes.Items {
		ps = append(ps, doctor.NodePlatformOf(kube.NodeFactsOf(&nodes.Items[i])))
	}
	rctx, cancel := context.WithTimeout(ctx, platformTimeout)
	defer cancel()
	platforms, err := s.g.deps.ImagePlatforms(rctx, image)
	switch f := doctor.Architecture(o.globals.printer(), image, platforms, err, ps); f.Severity {
	case doctor.Fail:
		s.log.Warnf("%s: the pod cannot start there.\n  What to do: %s", f.Message, f.Fix)
	case doctor.Info:
		s.log.Debugf("%s", f.Message)
	}
}

func (o *upOptions) loadImages(ctx context.Context, t *kube.Target) error {
	loader, ok := o.s.prov.(cluster.ImageLoader)
	if !ok {
		return usageErrorf("provider %s cannot load images", o.s.prov.Name())
	}
	var images []string
	if o.preload {
		var err error
		if images, err = deploy.Images(o.s.lab, o.nginxImage); err != nil {
			return err
		}
	}
	if err := loader.LoadImages(ctx, o.s.log, images, o.imageArchive); err != nil {
		return fmt.Errorf("loading the lab's images into %s: %w", t.Context, err)
	}
	return nil
}

// deployErr prints what a failed deployment needs explained and gives it
// its exit code.
func deployErr(streams Streams, err error) error {
	var nr *deploy.NotReadyError
	if errors.As(err, &nr) {
		fmt.Fprint(streams.ErrOut, nr.Details())
		return &ExitError{Code: ExitFailed, Err: err}
	}
	var fe *deploy.ForeignError
	if errors.As(err, &fe) {
		return &ExitError{Code: ExitFailed, Err: err}
	}
	if kube.IsUnreachable(err) {
		return &ExitError{Code: ExitCluster, Err: err}
	}
	return err
}

// printUpResult is the summary on stdout: the pod, and what was changed.
func printUpResult(streams Streams, pr *i18n.Printer, res *deploy.Result, headline string) {
	p := res.Pod
	if len(res.Changes) == 0 {
		headline += " " + pr.Sprintf("(nothing changed)")
	}
	kept := ""
	if res.ImageKept {
		kept = " " + pr.Sprintf("(from an earlier --nginx-image; --nginx-image changes it)")
	}
	fmt.Fprintln(streams.Out, pr.Sprintf("%s: pod %s/%s is Ready on node %s, IP %s, image %s%s", headline, p.Namespace, p.Name, p.Node, p.IP, res.Image, kept))
	for _, ch := range res.Changes {
		fmt.Fprintf(streams.Out, "  %s\n", ch)
	}
	ns := ""
	if p.Namespace != kube.DefaultNamespace {
		ns = " -n " + p.Namespace
	}
	fmt.Fprintln(streams.Out, pr.Sprintf("Next: kubectl get pod %s -o wide%s, then lab lesson", p.Name, ns))
}
