package cluster

import (
	"context"
	"encoding/json"
	"strings"

	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/client-go/kubernetes"

	"github.com/k8s-debug-lab/lab/lab/kube"
)

// minikubeExtensionProvider is what minikube writes into the extensions it
// adds to its kubeconfig entries (cluster_info, context_info).
const minikubeExtensionProvider = "minikube.sigs.k8s.io"

// minikubeNodeLabelPrefix starts the labels minikube puts on its nodes.
const minikubeNodeLabelPrefix = "minikube.k8s.io/"

// IsMinikube recognises a minikube context from the kubeconfig alone: its
// cluster (or context) carries minikube's extension. Context names are
// not trusted: a profile can have any name, and any cluster can be
// called "minikube".
func IsMinikube(t *kube.Target) bool {
	if t == nil || t.Config == nil {
		return false
	}
	if cl := t.Config.Clusters[t.ClusterName]; cl != nil && hasMinikubeExtension(cl.Extensions) {
		return true
	}
	if c := t.Config.Contexts[t.Context]; c != nil && hasMinikubeExtension(c.Extensions) {
		return true
	}
	return false
}

func hasMinikubeExtension(ext map[string]runtime.Object) bool {
	for _, obj := range ext {
		if extensionProvider(obj) == minikubeExtensionProvider {
			return true
		}
	}
	return false
}

// extensionProvider reads the "provider" field of a kubeconfig extension,
// which client-go keeps as raw JSON since it does not know the type.
func extensionProvider(obj runtime.Object) string {
	var raw []byte
	switch o := obj.(type) {
	case *runtime.Unknown:
		raw = o.Raw
	default:
		b, err := json.Marshal(obj)
		if err != nil {
			return ""
		}
		raw = b
	}
	var v struct {
		Provider string `json:"provider"`
	}
	if json.Unmarshal(raw, &v) != nil {
		return ""
	}
	return v.Provider
}

// HasMinikubeNodes recognises minikube from the cluster: its nodes carry
// minikube.k8s.io/* labels. It is used once lab is connected, for a
// cluster whose kubeconfig entry was copied without the extension.
func HasMinikubeNodes(ctx context.Context, c kubernetes.Interface) bool {
	nodes, err := listNodes(ctx, c)
	if err != nil {
		return false
	}
	for _, n := range nodes {
		for k := range n.Labels {
			if strings.HasPrefix(k, minikubeNodeLabelPrefix) {
				return true
			}
		}
	}
	return false
}
