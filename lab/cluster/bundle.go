package cluster

import (
	"context"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"

	"sigs.k8s.io/kind/pkg/cluster/nodeutils"

	"github.com/k8s-debug-lab/lab/lab/images"
)

// BundleRequest is what SaveBundle puts into a bundle.
type BundleRequest struct {
	// Platform is the platform every image must be for ("linux/amd64").
	Platform string
	// NodeImage is kind's node image; Images are the pods' (Name and Role
	// set; the rest is filled in).
	NodeImage string
	Images    []images.Image
	// LabVersion and Lab go into the manifest as they are.
	LabVersion, Lab string
}

// SaveBundle writes a bundle to path from the images in engine e,
// pulling (for the platform) those it does not hold, if it can. The file
// appears under its name only when it is whole.
func SaveBundle(ctx context.Context, e Engine, log Log, path string, req BundleRequest) (*images.Manifest, error) {
	if !e.Answers() {
		return nil, fmt.Errorf("lab bundle save needs a container engine that holds (or can pull) the images, and %s", e)
	}
	m := images.Manifest{LabVersion: req.LabVersion, Lab: req.Lab, Platform: req.Platform}
	node, err := bundleImage(ctx, e, log, req.Platform, images.Image{Name: req.NodeImage, Role: "node", Member: images.NodeImageMember})
	if err != nil {
		return nil, err
	}
	m.NodeImage = node
	for _, img := range req.Images {
		img.Member = images.ImagesMember
		bi, err := bundleImage(ctx, e, log, req.Platform, img)
		if err != nil {
			return nil, err
		}
		m.Images = append(m.Images, bi)
	}
	// Next to the bundle, not in /tmp: a node image is about a gigabyte,
	// and the bundle's own disk is the one known to have room for it.
	tmp, err := os.MkdirTemp(filepath.Dir(path), ".lab-bundle-")
	if err != nil {
		return nil, fmt.Errorf("making a work folder next to %s: %w", path, err)
	}
	defer os.RemoveAll(tmp)
	members := map[string]string{
		images.NodeImageMember: filepath.Join(tmp, images.NodeImageMember),
		images.ImagesMember:    filepath.Join(tmp, images.ImagesMember),
	}
	log.Status(fmt.Sprintf("saving %s from %s", node.Name, e.Name))
	if err := e.Save(ctx, members[images.NodeImageMember], node.Name); err != nil {
		return nil, fmt.Errorf("saving the node image: %w", err)
	}
	var names []string
	for _, img := range m.Images {
		names = append(names, img.Name)
	}
	log.Status(fmt.Sprintf("saving %d images from %s", len(m.Images), e.Name))
	if err := e.Save(ctx, members[images.ImagesMember], names...); err != nil {
		return nil, fmt.Errorf("saving the lab's images: %w", err)
	}
	partial := filepath.Join(tmp, "bundle.partial")
	f, err := os.Create(partial)
	if err != nil {
		return nil, err
	}
	log.Status("writing " + path)
	if err := images.WriteBundle(f, m, members); err != nil {
		f.Close()
		return nil, err
	}
	if err := f.Close(); err != nil {
		return nil, fmt.Errorf("writing %s: %w", path, err)
	}
	if err := os.Rename(partial, path); err != nil {
		return nil, fmt.Errorf("writing %s: %w", path, err)
	}
	return images.ReadManifest(path)
}

// bundleImage makes sure the engine holds img for platform, pulling it
// when it does not, and gives it the tagged name a docker save archive
// keeps (a digest reference alone would load as an untagged image).
func bundleImage(ctx context.Context, e Engine, log Log, platform string, img images.Image) (images.Image, error) {
	info, err := e.InspectImage(ctx, img.Name)
	if err != nil || info.Platform() != platform {
		have := "does not hold it"
		if err == nil {
			have = "holds it for " + info.Platform()
		}
		log.Status(fmt.Sprintf("pulling %s for %s (%s %s)", img.Name, platform, e.Name, have))
		if perr := e.Run(ctx, nil, io.Discard, "pull", "--platform", platform, img.Name); perr != nil {
			pf := images.ClassifyPull(img.Name, perr.Error())
			return img, fmt.Errorf("%s %s, and could not pull it: %s (%s)\nWhat to do:\n  - %s", e.Name, have, pf.Why, pf.Cause,
				strings.Join(append([]string{fmt.Sprintf("pull or load it here first (%s pull --platform %s %s, or %s load -i FILE)", e.Name, platform, img.Name, e.Name)}, pf.WaysOut(img.Role != "node")[:1]...), "\n  - "))
		}
		if info, err = e.InspectImage(ctx, img.Name); err != nil {
			return img, err
		}
		if info.Platform() != platform {
			return img, fmt.Errorf("%s has no %s variant (%s pulled %s)", img.Name, platform, e.Name, info.Platform())
		}
	}
	name := images.StripDigest(img.Name)
	if tagged, err := e.InspectImage(ctx, name); err != nil || tagged.ID != info.ID {
		log.Debugf("tagging %s as %s for the bundle", info.ID, name)
		if err := e.Run(ctx, nil, io.Discard, "tag", info.ID, name); err != nil {
			return img, fmt.Errorf("naming %s %s for the bundle: %w", img.Name, name, err)
		}
	}
	img.Name, img.ID, img.RepoDigests, img.Platform = name, info.ID, info.RepoDigests, info.Platform()
	return img, nil
}

// LoadNodeImage loads a bundle's node image into the engine kind runs
// on, unless the engine already holds that very image: kind then finds it
// and pulls nothing.
func (p *kindProvider) LoadNodeImage(ctx context.Context, log Log, bundle string, m *images.Manifest) error {
	if p.engine.Name == "" {
		_, err := p.library(log)
		return err
	}
	if info, err := p.engine.InspectImage(ctx, m.NodeImage.Name); err == nil && info.ID == m.NodeImage.ID {
		log.Debugf("%s already holds %s", p.engine.Name, m.NodeImage.Name)
		return nil
	}
	r, err := images.OpenMember(bundle, m.NodeImage.Member)
	if err != nil {
		return err
	}
	defer r.Close()
	log.Status(fmt.Sprintf("loading the node image %s into %s", m.NodeImage.Name, p.engine.Name))
	if err := p.engine.Run(ctx, r, io.Discard, "load"); err != nil {
		return fmt.Errorf("loading the bundle's node image: %w", err)
	}
	info, err := p.engine.InspectImage(ctx, m.NodeImage.Name)
	if err != nil {
		return fmt.Errorf("the bundle's node image %s is not in %s after loading it: %w", m.NodeImage.Name, p.engine.Name, err)
	}
	if info.ID != m.NodeImage.ID {
		return fmt.Errorf("%s loaded %s as %s, the bundle says %s", p.engine.Name, m.NodeImage.Name, info.ID, m.NodeImage.ID)
	}
	return nil
}

// LoadBundleImages imports the bundle's pod images into every node's
// containerd, streaming them out of the bundle (no copy on disk).
func (p *kindProvider) LoadBundleImages(ctx context.Context, log Log, bundle string, m *images.Manifest) error {
	ns, err := p.internalNodes(log)
	if err != nil {
		return err
	}
	for _, n := range ns {
		if ctx.Err() != nil {
			return ctx.Err()
		}
		log.Status(fmt.Sprintf("loading %d images from the bundle into node %s", len(m.Images), n))
		r, err := images.OpenMember(bundle, images.ImagesMember)
		if err != nil {
			return err
		}
		err = nodeutils.LoadImageArchive(n, r)
		r.Close()
		if err != nil {
			return kindErr(fmt.Sprintf("loading the bundle's images into node %s", n), err)
		}
	}
	return nil
}
