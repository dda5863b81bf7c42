package labfolder

import (
	"bytes"
	"errors"
	"fmt"
	"io/fs"
	"path"
	"slices"
	"sort"
	"strings"

	corev1ac "k8s.io/client-go/applyconfigurations/core/v1"
	"sigs.k8s.io/yaml"

	"github.com/k8s-debug-lab/lab/checks/spec"
)

// Manifests are the objects of a lab folder's manifests/, decoded and
// checked, as lab up applies them (lab/deploy sets the namespace, lab's
// labels and an image given on the command line).
type Manifests struct {
	// Pod is the workload's pod: the one pod a lab deploys.
	Pod *corev1ac.PodApplyConfiguration
	// Services and ConfigMaps are the rest, in file order.
	Services   []*corev1ac.ServiceApplyConfiguration
	ConfigMaps []*corev1ac.ConfigMapApplyConfiguration
}

// The kinds a lab folder may deploy. A lab is one pod that students debug,
// with what it needs beside it; lab deletes only what it knows how to find
// again, so anything else is refused rather than left behind.
const (
	KindPod       = "Pod"
	KindService   = "Service"
	KindConfigMap = "ConfigMap"
)

// Kinds lists the deployable kinds, for messages and the schema.
var Kinds = []string{KindPod, KindService, KindConfigMap}

// clusterScoped are kinds a lab must never create: they outlive any
// namespace, and lab down could not find them again.
var clusterScoped = []string{
	"Namespace", "Node", "PersistentVolume", "StorageClass", "ClusterRole", "ClusterRoleBinding",
	"CustomResourceDefinition", "PriorityClass", "RuntimeClass", "IngressClass",
	"MutatingWebhookConfiguration", "ValidatingWebhookConfiguration", "APIService",
	"CSIDriver", "CSINode", "VolumeAttachment", "CertificateSigningRequest",
}

// Image is the image of the workload's container in these manifests.
func (m *Manifests) Image(w spec.Workload) string {
	if c := m.Container(w); c != nil && c.Image != nil {
		return *c.Image
	}
	return ""
}

// Container is the workload's container in the pod.
func (m *Manifests) Container(w spec.Workload) *corev1ac.ContainerApplyConfiguration {
	if m.Pod == nil || m.Pod.Spec == nil {
		return nil
	}
	for i := range m.Pod.Spec.Containers {
		if c := &m.Pod.Spec.Containers[i]; c.Name != nil && *c.Name == w.Container {
			return c
		}
	}
	return nil
}

// Images are every image the pod runs, the workload's container first.
func (m *Manifests) Images(w spec.Workload) []string {
	out := []string{m.Image(w)}
	if m.Pod != nil && m.Pod.Spec != nil {
		for _, cs := range [][]corev1ac.ContainerApplyConfiguration{m.Pod.Spec.InitContainers, m.Pod.Spec.Containers} {
			for _, c := range cs {
				if c.Image != nil && !slices.Contains(out, *c.Image) {
					out = append(out, *c.Image)
				}
			}
		}
	}
	return out
}

// Manifests reads and checks the folder's manifests/*.yaml (a file may
// hold several documents); a folder without manifests/ whose workload is
// the built-in pod deploys the built-in lab's. Each object must be a Pod, Service or
// ConfigMap without a namespace (lab sets it); there is exactly one Pod,
// the spec's workload, with the workload's container. The error is a
// *spec.Error naming the file and document.
func (l *Lab) Manifests() (*Manifests, error) {
	names, err := fs.Glob(l.FS, ManifestsDir+"/*.yaml")
	if err != nil {
		return nil, err
	}
	more, _ := fs.Glob(l.FS, ManifestsDir+"/*.yml")
	names = append(names, more...)
	sort.Strings(names)
	where := func(name string) string { return path.Join(l.Source, name) }
	if len(names) == 0 && !l.Builtin() && l.Spec.Workload == spec.DefaultWorkload {
		// A folder from before labs had manifests (lab assignment new once
		// wrote only the spec and lessons) is about the built-in pod.
		if _, err := fs.Stat(l.FS, ManifestsDir); errors.Is(err, fs.ErrNotExist) {
			b, err := Builtin()
			if err != nil {
				return nil, err
			}
			return b.Manifests()
		}
	}
	if len(names) == 0 {
		return nil, &spec.Error{File: where(ManifestsDir), Msg: fmt.Sprintf("no manifests: lab up deploys %s/*.yaml, which must hold the workload's pod %s", ManifestsDir, l.Spec.Workload.Pod)}
	}
	m := &Manifests{}
	seen := map[string]string{}
	for _, name := range names {
		data, err := fs.ReadFile(l.FS, name)
		if err != nil {
			return nil, fmt.Errorf("reading %s: %w", where(name), err)
		}
		for i, doc := range documents(data) {
			if err := m.add(doc, l.Spec.Workload, seen, fmt.Sprintf("%s (document %d)", where(name), i+1)); err != nil {
				return nil, err
			}
		}
	}
	if m.Pod == nil {
		return nil, &spec.Error{File: where(ManifestsDir), Msg: fmt.Sprintf("no pod %s: the spec's workload.pod must be a Pod in %s/", l.Spec.Workload.Pod, ManifestsDir)}
	}
	if m.Container(l.Spec.Workload) == nil {
		return nil, &spec.Error{File: where(ManifestsDir), Msg: fmt.Sprintf("pod %s has no container %s (the spec's workload.container)", l.Spec.Workload.Pod, l.Spec.Workload.Container)}
	}
	return m, nil
}

// documents splits a YAML stream on "---" lines, dropping empty ones.
func documents(data []byte) [][]byte {
	var out [][]byte
	var cur bytes.Buffer
	flush := func() {
		if len(bytes.TrimSpace(stripComments(cur.Bytes()))) > 0 {
			out = append(out, bytes.Clone(cur.Bytes()))
		}
		cur.Reset()
	}
	for line := range bytes.Lines(data) {
		if t := bytes.TrimRight(line, " \t\r\n"); bytes.Equal(t, []byte("---")) || bytes.HasPrefix(t, []byte("--- ")) {
			flush()
			continue
		}
		cur.Write(line)
	}
	flush()
	return out
}

func stripComments(b []byte) []byte {
	var out []byte
	for line := range bytes.Lines(b) {
		if t := bytes.TrimSpace(line); len(t) > 0 && t[0] != '#' {
			out = append(out, line...)
		}
	}
	return out
}

// add decodes one document into m.
func (m *Manifests) add(doc []byte, w spec.Workload, seen map[string]string, where string) error {
	fail := func(format string, args ...any) error {
		return &spec.Error{File: where, Msg: fmt.Sprintf(format, args...)}
	}
	var head struct {
		APIVersion string `json:"apiVersion"`
		Kind       string `json:"kind"`
		Metadata   struct {
			Name      string `json:"name"`
			Namespace string `json:"namespace"`
		} `json:"metadata"`
	}
	if err := yaml.Unmarshal(doc, &head); err != nil {
		return fail("not a Kubernetes object: %v", err)
	}
	switch {
	case head.Kind == "":
		return fail("no kind: each document is one Kubernetes object (%s)", strings.Join(Kinds, ", "))
	case slices.Contains(clusterScoped, head.Kind):
		return fail("%s is cluster-scoped: a lab deploys only namespaced objects (%s), so that lab down can remove all of it", head.Kind, strings.Join(Kinds, ", "))
	case !slices.Contains(Kinds, head.Kind):
		return fail("lab does not deploy a %s: a lab folder's manifests hold %s", head.Kind, strings.Join(Kinds, ", "))
	case head.APIVersion != "v1":
		return fail("%s %s: apiVersion %q (want v1)", head.Kind, head.Metadata.Name, head.APIVersion)
	case head.Metadata.Name == "":
		return fail("a %s without metadata.name", head.Kind)
	case head.Metadata.Namespace != "":
		return fail("%s %s names namespace %s: leave it out, lab puts the lab in the namespace given with -n", head.Kind, head.Metadata.Name, head.Metadata.Namespace)
	}
	key := head.Kind + "/" + head.Metadata.Name
	if prev, dup := seen[key]; dup {
		return fail("%s %s is also in %s", head.Kind, head.Metadata.Name, prev)
	}
	seen[key] = where
	var err error
	switch head.Kind {
	case KindPod:
		if head.Metadata.Name != w.Pod {
			return fail("pod %s: a lab deploys one pod, the spec's workload (%s)", head.Metadata.Name, w.Pod)
		}
		m.Pod = &corev1ac.PodApplyConfiguration{}
		err = yaml.UnmarshalStrict(doc, m.Pod)
	case KindService:
		s := &corev1ac.ServiceApplyConfiguration{}
		err = yaml.UnmarshalStrict(doc, s)
		m.Services = append(m.Services, s)
	case KindConfigMap:
		c := &corev1ac.ConfigMapApplyConfiguration{}
		err = yaml.UnmarshalStrict(doc, c)
		m.ConfigMaps = append(m.ConfigMaps, c)
	}
	if err != nil {
		return fail("%s %s: %v", head.Kind, head.Metadata.Name, err)
	}
	return nil
}
