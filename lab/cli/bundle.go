package cli

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"github.com/spf13/cobra"

	"github.com/k8s-debug-lab/lab/lab/cluster"
	"github.com/k8s-debug-lab/lab/lab/images"
	"github.com/k8s-debug-lab/lab/lab/version"
)

func newBundleCmd(streams Streams, g *globals) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "bundle",
		Short: "Carry every image the lab needs in one file, for a room without internet",
		Long: `An offline bundle is one tar file with kind's node image, the lab pod's
image, the debuggers' and the traffic client's, and a manifest (names,
image IDs, digests, platform, lab version, checksums). Make it where the
images can be pulled (or where they already are), copy it (a USB stick),
and there:

  lab doctor --provider kind --bundle FILE   # checks it, and what else the lab needs
  lab up --provider kind --bundle FILE       # loads it; nothing is pulled

A bundle is for one platform: kind's nodes run this machine's architecture.`,
		Args: cobra.NoArgs,
		RunE: func(*cobra.Command, []string) error {
			return usageErrorf("name what to do: lab bundle save FILE")
		},
	}
	sub := newBundleSaveCmd(streams, g)
	wrapArgs(sub)
	cmd.AddCommand(sub)
	return cmd
}

// bundleSaveOptions are lab bundle save's flags.
type bundleSaveOptions struct {
	streams    Streams
	globals    *globals
	lf         labFlag
	path       string
	platform   string
	nodeImage  string
	nginxImage string

	req cluster.BundleRequest
}

func newBundleSaveCmd(streams Streams, g *globals) *cobra.Command {
	o := &bundleSaveOptions{streams: streams, globals: g}
	cmd := &cobra.Command{
		Use:   "save FILE",
		Short: "Write the lab's images into one bundle file",
		Long: `Write FILE: kind's node image and every image the lab needs, for one
platform, from the local container engine (Docker, Podman or nerdctl). An
image the engine does not hold, or holds for another platform, is pulled
first, which needs a registry; an image the engine holds is used as it is,
so a bundle can also be made offline from images loaded or built here.

FILE appears only when it is whole. Exit codes: 0 written, 1 an image could
not be had (what to do is printed), 2 usage error.`,
		Example: `  lab bundle save lab-bundle.tar
  lab bundle save --platform linux/arm64 /media/usb/lab-bundle-arm64.tar   # for Apple-silicon laptops
  lab bundle save --node-image kindest/node:v1.36.1 lab-bundle.tar`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			o.path = args[0]
			if err := o.complete(); err != nil {
				return err
			}
			if err := o.validate(); err != nil {
				return err
			}
			return o.run(cmd.Context())
		},
	}
	o.lf.addTo(cmd)
	f := cmd.Flags()
	f.StringVar(&o.platform, "platform", bundlePlatform(), "the platform of the machines the bundle is for (os/arch)")
	f.StringVar(&o.nodeImage, "node-image", cluster.DefaultNodeImage, "kind's node image to carry")
	f.StringVar(&o.nginxImage, "nginx-image", "", "the pod's image (default: the lab's own)")
	return cmd
}

func (o *bundleSaveOptions) complete() error {
	l, err := o.lf.load()
	if err != nil {
		return err
	}
	needed, err := neededImages(l, o.nginxImage)
	if err != nil {
		return usageErrorf("%v", err)
	}
	o.req = cluster.BundleRequest{Platform: o.platform, NodeImage: o.nodeImage, LabVersion: version.String(),
		Lab: fmt.Sprintf("%s (assignment %s)", l.Source, l.Spec.Digest)}
	for _, n := range needed {
		o.req.Images = append(o.req.Images, images.Image{Name: n.Name, Role: n.Role})
	}
	return nil
}

func (o *bundleSaveOptions) validate() error {
	goos, arch, ok := strings.Cut(o.platform, "/")
	if !ok || goos != "linux" || arch == "" || strings.Contains(arch, "/") {
		return usageErrorf("--platform %q: want linux/ARCH (linux/amd64, linux/arm64): kind's nodes are Linux", o.platform)
	}
	if o.nodeImage == "" {
		return usageErrorf("--node-image is empty")
	}
	return checkOutputPath(o.path)
}

// checkOutputPath refuses a bundle path that cannot be written: a folder,
// or one in a folder that does not exist.
func checkOutputPath(p string) error {
	if fi, err := os.Stat(p); err == nil && fi.IsDir() {
		return usageErrorf("%s is a folder; name the bundle file to write, e.g. %s", p, filepath.Join(p, "lab-bundle.tar"))
	}
	if fi, err := os.Stat(filepath.Dir(p)); err != nil || !fi.IsDir() {
		return usageErrorf("cannot write %s: folder %s does not exist", p, filepath.Dir(p))
	}
	return nil
}

func (o *bundleSaveOptions) run(ctx context.Context) error {
	log := newProgress(o.streams.ErrOut, isTerminal(o.streams.ErrOut), o.globals.verbosity)
	defer log.Done()
	log.Status("asking the container engines")
	e, ok := cluster.FirstAnswering(o.globals.deps.ProbeEngines(ctx))
	if !ok {
		return &ExitError{Code: ExitFailed, Err: fmt.Errorf("lab bundle save takes the images from a container engine, and none answers: start Docker (or Podman)")}
	}
	m, err := cluster.SaveBundle(ctx, e, log, o.path, o.req)
	log.Done()
	if err != nil {
		return &ExitError{Code: ExitFailed, Err: fmt.Errorf("writing the bundle %s: %w", o.path, err)}
	}
	var size int64
	for _, f := range m.Files {
		size += f.Size
	}
	fmt.Fprintf(o.streams.Out, "wrote %s: %d images for %s, %.1f MB\n", o.path, len(m.All()), m.Platform, float64(size)/1e6)
	for _, img := range m.All() {
		fmt.Fprintf(o.streams.Out, "  %-14s %s  %s\n", img.Role, img.Name, shortID(img.ID))
	}
	fmt.Fprintf(o.streams.Out, "Next, on the machine without internet: lab doctor --provider kind --bundle %[1]s, then lab up --provider kind --bundle %[1]s\n", o.path)
	return nil
}

func shortID(id string) string {
	if len(id) > len("sha256:")+12 {
		return id[:len("sha256:")+12]
	}
	return id
}
