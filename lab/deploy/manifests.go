// Package deploy puts a lab's objects into a cluster and takes them out
// again: the lab folder's manifests (the built-in lab's are in
// assets/labs/kubernetes-debug/manifests) are server-side applied with
// field manager "lab", the workload's pod is waited for until Ready, a pod
// whose spec drifted from the manifest is recreated (pod specs are
// immutable), and only objects labelled app.kubernetes.io/managed-by=lab
// are ever deleted. It works on any kubernetes.Interface, so that tests run
// it against client-go's fake clientset.
package deploy

import (
	"fmt"
	"slices"

	corev1ac "k8s.io/client-go/applyconfigurations/core/v1"
	"sigs.k8s.io/yaml"

	"github.com/k8s-debug-lab/lab/assets"
	"github.com/k8s-debug-lab/lab/lab/kube"
	"github.com/k8s-debug-lab/lab/lab/labfolder"
)

// ImageAnnotation records on the pod the image lab was asked for (lab up
// --nginx-image), so that later commands keep it without the flag.
const ImageAnnotation = "k8s-debug-lab.io/nginx-image"

// Manifests are a lab's objects, ready to apply.
type Manifests struct {
	// Namespace is created when the lab's namespace does not exist.
	Namespace *corev1ac.NamespaceApplyConfiguration
	*labfolder.Manifests
	lab *labfolder.Lab
}

// Render reads the lab folder's manifests and sets what the options
// change: the namespace, and the workload container's image. The
// managed-by label is added to every object even if a manifest lacks it,
// since down relies on it.
func Render(o Options) (*Manifests, error) {
	l, err := o.lab()
	if err != nil {
		return nil, err
	}
	fm, err := l.Manifests()
	if err != nil {
		return nil, err
	}
	m := &Manifests{Namespace: &corev1ac.NamespaceApplyConfiguration{}, Manifests: fm, lab: l}
	if err := yaml.UnmarshalStrict(assets.NamespaceManifest(), m.Namespace); err != nil {
		return nil, fmt.Errorf("lab's namespace manifest does not load (a bug in this build): %w", err)
	}
	ns := o.namespace()
	managed := map[string]string{kube.ManagedByLabel: kube.ManagedByValue}
	m.Namespace.WithName(ns).WithLabels(managed)
	m.Pod.WithNamespace(ns).WithLabels(managed)
	for _, s := range m.Services {
		s.WithNamespace(ns).WithLabels(managed)
	}
	for _, c := range m.ConfigMaps {
		c.WithNamespace(ns).WithLabels(managed)
	}
	if o.NginxImage != "" {
		m.Container(l.Spec.Workload).WithImage(o.NginxImage)
	}
	m.Pod.WithAnnotations(map[string]string{ImageAnnotation: m.Image()})
	return m, nil
}

// Image is the image the workload's container runs with these options.
func (m *Manifests) Image() string { return m.Manifests.Image(m.lab.Spec.Workload) }

// DefaultImage is the workload container's image in the lab folder's
// manifests, or "" when they do not load.
func DefaultImage(l *labfolder.Lab) string {
	m, err := Render(Options{Lab: l})
	if err != nil {
		return ""
	}
	return m.Image()
}

// Images are the images the lab runs, for lab up --preload: the pod's
// (the workload's image replaced by image, when given) and the tools'
// (the debuggers, the traffic client).
func Images(l *labfolder.Lab, image string) ([]string, error) {
	m, err := Render(Options{Lab: l, NginxImage: image})
	if err != nil {
		return nil, err
	}
	out := m.Manifests.Images(l.Spec.Workload)
	for _, img := range l.Spec.Images.List() {
		if !slices.Contains(out, img) {
			out = append(out, img)
		}
	}
	return out, nil
}
