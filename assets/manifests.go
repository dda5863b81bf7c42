package assets

import (
	"embed"
	"io/fs"
)

//go:embed manifests/*.yaml manifests/images.txt
var manifestFiles embed.FS

// The files inside Manifests().
const (
	// PodManifest is the lab's pod (nginx-distroless).
	PodManifest = "pod.yaml"
	// ServiceManifest is the Service in front of it.
	ServiceManifest = "service.yaml"
	// NamespaceManifest is the namespace lab creates when --namespace
	// names one that does not exist.
	NamespaceManifest = "namespace.yaml"
	// ImagesList lists the debugger images `lab up --preload` loads.
	ImagesList = "images.txt"
)

// Manifests is the folder of objects `lab up` deploys, read by
// lab/deploy. They are plain Kubernetes YAML so that an instructor can
// read exactly what lands in the cluster.
func Manifests() fs.FS {
	sub, err := fs.Sub(manifestFiles, "manifests")
	if err != nil { // cannot happen: the folder is embedded at build time
		panic(err)
	}
	return sub
}
