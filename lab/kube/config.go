// Package kube holds the few client-go helpers the lab needs: finding the
// cluster a command should talk to (kubeconfig and context, resolved the
// way kubectl resolves them, without connecting), building a client for
// it, and the facts about the lab's pod that lessons, status and live
// checks print. It knows nothing about providers or deployment; those
// live in lab/cluster and lab/deploy and build on this package.
//
// Streaming helpers (exec, attach, port-forward, ephemeral and node debug
// containers) belong here too, next to the Target they need: a Target
// carries the rest.Config those transports are built from.
package kube

import (
	"errors"
	"fmt"
	"net"
	"net/url"
	"sort"
	"strings"
	"time"

	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/rest"
	"k8s.io/client-go/tools/clientcmd"
	clientcmdapi "k8s.io/client-go/tools/clientcmd/api"
)

// DefaultNamespace is where the lab lives unless --namespace says otherwise.
// It is deliberately not the context's namespace: the assignment's
// commands name the pod without -n, so the lab must be where kubectl's
// default points on a fresh cluster.
const DefaultNamespace = "default"

// CallTimeout bounds one API request. Commands also bound whole operations
// (a wait for Ready) with their own, longer, timeouts.
const CallTimeout = 15 * time.Second

// Options say which kubeconfig, context and namespace a command was given.
// Empty fields mean "as kubectl would": KUBECONFIG, then ~/.kube/config,
// and the current context.
type Options struct {
	// Kubeconfig is --kubeconfig: one file, used alone.
	Kubeconfig string
	// Context is --context: a context name in the kubeconfig.
	Context string
	// Namespace is --namespace; empty means DefaultNamespace.
	Namespace string
}

// Target is a resolved context: where lab would connect, known before any
// connection is made, so that the safety rule can refuse it first.
type Target struct {
	// Context is the context's name ("kind-lab", "minikube", …).
	Context string
	// ContextExplicit reports that the user named the context (--context),
	// rather than lab taking the kubeconfig's current context.
	ContextExplicit bool
	// ClusterName is the name of the context's cluster entry.
	ClusterName string
	// Server is the API server's URL.
	Server string
	// Namespace is where the lab's objects live.
	Namespace string
	// Sources are the kubeconfig files the context came from, for messages.
	Sources []string
	// Config is the merged kubeconfig, for detection (minikube's extension).
	Config *clientcmdapi.Config
	// REST is the client configuration; nothing has connected with it yet.
	REST *rest.Config
}

// Cluster is the context's cluster entry.
func (t *Target) Cluster() *clientcmdapi.Cluster {
	if t.Config == nil {
		return nil
	}
	return t.Config.Clusters[t.ClusterName]
}

// Host is the API server's host name or address, without the port.
func (t *Target) Host() string {
	u, err := url.Parse(t.Server)
	if err != nil || u.Host == "" {
		// A server given as "host:port" without a scheme parses oddly.
		h, _, err := net.SplitHostPort(t.Server)
		if err == nil {
			return h
		}
		return t.Server
	}
	return u.Hostname()
}

// String is the one-line description printed before lab changes anything.
func (t *Target) String() string {
	return fmt.Sprintf("context %s, server %s, namespace %s", t.Context, t.Server, t.Namespace)
}

// ErrNoContext means the kubeconfig names no context to use.
var ErrNoContext = errors.New("no current context in the kubeconfig")

// Resolve finds the context the options name, honouring KUBECONFIG and
// the default file exactly as kubectl does (client-go's loading rules),
// and builds its client configuration without connecting.
func Resolve(o Options) (*Target, error) {
	rules := clientcmd.NewDefaultClientConfigLoadingRules()
	rules.ExplicitPath = o.Kubeconfig
	raw, err := rules.Load()
	if err != nil {
		return nil, fmt.Errorf("reading the kubeconfig: %w", err)
	}
	t, err := fromConfig(raw, o, rules)
	if err != nil {
		return nil, err
	}
	t.Sources = rules.GetLoadingPrecedence()
	if o.Kubeconfig != "" {
		t.Sources = []string{o.Kubeconfig}
	}
	return t, nil
}

// FromKubeconfig resolves a context inside kubeconfig bytes (kind hands
// its cluster's kubeconfig over this way). An empty context means the
// document's current context.
func FromKubeconfig(data []byte, o Options) (*Target, error) {
	cfg, err := clientcmd.Load(data)
	if err != nil {
		return nil, fmt.Errorf("reading the kubeconfig: %w", err)
	}
	return fromConfig(cfg, o, nil)
}

func fromConfig(raw *clientcmdapi.Config, o Options, access clientcmd.ConfigAccess) (*Target, error) {
	name := o.Context
	if name == "" {
		name = raw.CurrentContext
	}
	if name == "" {
		return nil, ErrNoContext
	}
	kctx, ok := raw.Contexts[name]
	if !ok {
		return nil, fmt.Errorf("context %q is not in the kubeconfig (it has: %s)", name, contextNames(raw))
	}
	cl, ok := raw.Clusters[kctx.Cluster]
	if !ok {
		return nil, fmt.Errorf("context %q names cluster %q, which is not in the kubeconfig", name, kctx.Cluster)
	}
	ns := o.Namespace
	if ns == "" {
		ns = DefaultNamespace
	}
	// A direct client config, not the deferred one: the deferred one falls
	// back to in-cluster credentials when the kubeconfig is empty, and lab
	// must only ever talk to a cluster the user can see named.
	cc := clientcmd.NewNonInteractiveClientConfig(*raw, name, &clientcmd.ConfigOverrides{}, access)
	rc, err := cc.ClientConfig()
	if err != nil {
		return nil, fmt.Errorf("context %q: %w", name, err)
	}
	rc.Timeout = CallTimeout
	// The server's deprecation warnings would interleave with the spinner;
	// nothing lab sends is deprecated.
	rc.WarningHandler = rest.NoWarnings{}
	rc.UserAgent = "lab"
	return &Target{
		Context:         name,
		ContextExplicit: o.Context != "",
		ClusterName:     kctx.Cluster,
		Server:          cl.Server,
		Namespace:       ns,
		Config:          raw,
		REST:            rc,
	}, nil
}

func contextNames(cfg *clientcmdapi.Config) string {
	if len(cfg.Contexts) == 0 {
		return "no contexts"
	}
	names := make([]string, 0, len(cfg.Contexts))
	for n := range cfg.Contexts {
		names = append(names, n)
	}
	sort.Strings(names)
	return strings.Join(names, ", ")
}

// NewClient builds a typed client for the target. It does not connect.
func NewClient(t *Target) (kubernetes.Interface, error) {
	c, err := kubernetes.NewForConfig(t.REST)
	if err != nil {
		return nil, fmt.Errorf("building a client for context %s: %w", t.Context, err)
	}
	return c, nil
}
