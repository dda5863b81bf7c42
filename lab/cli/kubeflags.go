package cli

import (
	"github.com/spf13/cobra"

	"github.com/k8s-debug-lab/lab/lab/kube"
)

// kubeconfigFlags are --kubeconfig, --context and --namespace/-n, which
// every command that talks to the lab's cluster takes with the same
// meaning as kubectl's. They are added per command, not to the root:
// grading offline must not suggest a cluster is involved.
type kubeconfigFlags struct {
	kubeconfig string
	context    string
	namespace  string
}

// addTo registers the flags on cmd.
func (k *kubeconfigFlags) addTo(cmd *cobra.Command) {
	f := cmd.Flags()
	f.StringVar(&k.kubeconfig, "kubeconfig", "", "the kubeconfig file to use (default: KUBECONFIG, then ~/.kube/config, as kubectl)")
	f.StringVar(&k.context, "context", "", "the kubeconfig context of the lab's cluster (default: the current context)")
	f.StringVarP(&k.namespace, "namespace", "n", "", "the lab's namespace (default: "+kube.DefaultNamespace+", whatever the context says)")
	_ = cmd.MarkFlagFilename("kubeconfig")
}

// options are the flags as lab/kube takes them.
func (k *kubeconfigFlags) options() kube.Options {
	return kube.Options{Kubeconfig: k.kubeconfig, Context: k.context, Namespace: k.namespace}
}

// explicit reports that the user pointed at a cluster (--context or
// --kubeconfig), which provider detection honours.
func (k *kubeconfigFlags) explicit() bool { return k.kubeconfig != "" || k.context != "" }

// resolve finds the context the flags name, without connecting.
func (k *kubeconfigFlags) resolve() (*kube.Target, error) { return kube.Resolve(k.options()) }
