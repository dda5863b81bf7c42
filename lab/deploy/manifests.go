// Package deploy puts the lab's objects into a cluster and takes them out
// again: the built-in lab folder's manifests (assets/labs/kubernetes-debug/manifests) are server-side applied
// with field manager "lab", the pod is waited for until Ready, a pod whose
// spec drifted from the manifest is recreated (pod specs are immutable),
// and only objects labelled app.kubernetes.io/managed-by=lab are ever
// deleted. It works on any kubernetes.Interface, so that tests run it
// against client-go's fake clientset.
package deploy

import (
	"bufio"
	"bytes"
	"fmt"
	"io/fs"
	"strings"
	"sync"

	corev1ac "k8s.io/client-go/applyconfigurations/core/v1"
	"sigs.k8s.io/yaml"

	"github.com/k8s-debug-lab/lab/assets"
	"github.com/k8s-debug-lab/lab/lab/kube"
)

// ImageAnnotation records on the pod the nginx image lab was asked for, so
// that later commands keep it without --nginx-image.
const ImageAnnotation = "k8s-debug-lab.io/nginx-image"

// Manifests are the lab's objects, ready to apply.
type Manifests struct {
	Namespace *corev1ac.NamespaceApplyConfiguration
	Pod       *corev1ac.PodApplyConfiguration
	Service   *corev1ac.ServiceApplyConfiguration
}

// Render reads the embedded manifests and sets what the options change:
// the namespace and the nginx image. The managed-by label is added even if
// a manifest lacks it, since down relies on it.
func Render(o Options) (*Manifests, error) {
	return render(assets.Lab(), o)
}

func render(fsys fs.FS, o Options) (*Manifests, error) {
	m := &Manifests{
		Namespace: &corev1ac.NamespaceApplyConfiguration{},
		Pod:       &corev1ac.PodApplyConfiguration{},
		Service:   &corev1ac.ServiceApplyConfiguration{},
	}
	if err := yaml.UnmarshalStrict(assets.NamespaceManifest(), m.Namespace); err != nil {
		return nil, fmt.Errorf("lab's namespace manifest does not load (a bug in this build): %w", err)
	}
	for name, into := range map[string]any{
		"manifests/pod.yaml":     m.Pod,
		"manifests/service.yaml": m.Service,
	} {
		data, err := fs.ReadFile(fsys, name)
		if err != nil {
			return nil, fmt.Errorf("reading the embedded manifest %s: %w", name, err)
		}
		if err := yaml.UnmarshalStrict(data, into); err != nil {
			return nil, fmt.Errorf("the embedded manifest %s does not load (a bug in this build): %w", name, err)
		}
	}
	ns := o.namespace()
	managed := map[string]string{kube.ManagedByLabel: kube.ManagedByValue}
	m.Namespace.WithName(ns).WithLabels(managed)
	m.Pod.WithNamespace(ns).WithLabels(managed)
	m.Service.WithNamespace(ns).WithLabels(managed)
	if m.Pod.Name == nil || *m.Pod.Name != kube.PodName || m.Service.Name == nil || *m.Service.Name != kube.PodName {
		return nil, fmt.Errorf("the embedded manifests must name pod and service %s (a bug in this build)", kube.PodName)
	}
	found := false
	if m.Pod.Spec != nil {
		for i := range m.Pod.Spec.Containers {
			c := &m.Pod.Spec.Containers[i]
			if c.Name != nil && *c.Name == kube.ContainerName {
				found = true
				if o.NginxImage != "" {
					c.WithImage(o.NginxImage)
				}
			}
		}
	}
	if !found {
		return nil, fmt.Errorf("the embedded pod manifest has no container %s (a bug in this build)", kube.ContainerName)
	}
	m.Pod.WithAnnotations(map[string]string{ImageAnnotation: m.NginxImage()})
	return m, nil
}

// NginxImage is the image the pod runs with these options.
func (m *Manifests) NginxImage() string {
	for _, c := range m.Pod.Spec.Containers {
		if c.Name != nil && *c.Name == kube.ContainerName && c.Image != nil {
			return *c.Image
		}
	}
	return ""
}

// DefaultNginxImage is the embedded pod manifest's image, rendered once
// per process however many callers ask.
var DefaultNginxImage = sync.OnceValue(func() string {
	m, err := Render(Options{})
	if err != nil {
		return ""
	}
	return m.NginxImage()
})

// Images are the images the lab runs: the nginx image and the debuggers
// listed in the embedded images.txt, for --preload.
func Images(nginxImage string) ([]string, error) {
	data, err := fs.ReadFile(assets.Lab(), "images.txt")
	if err != nil {
		return nil, fmt.Errorf("reading the embedded image list: %w", err)
	}
	out := []string{nginxImage}
	sc := bufio.NewScanner(bytes.NewReader(data))
	for sc.Scan() {
		line, _, _ := strings.Cut(sc.Text(), "#")
		if line = strings.TrimSpace(line); line != "" && line != nginxImage {
			out = append(out, line)
		}
	}
	return out, sc.Err()
}
