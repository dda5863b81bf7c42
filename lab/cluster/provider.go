// Package cluster decides which Kubernetes cluster the lab lives on and
// whether lab may touch it. A Provider brings a cluster up (kind creates
// one, through sigs.k8s.io/kind used as a library) or adopts one the user
// already has (minikube, any other context); Select picks the provider
// from --provider, LAB_PROVIDER or what the machine offers; CheckSafe
// refuses a remote context before any connection is made.
package cluster

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/k8s-debug-lab/lab/internal/choice"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"

	"github.com/k8s-debug-lab/lab/lab/images"
	"github.com/k8s-debug-lab/lab/lab/kube"
)

// Name is one of the providers lab knows.
type Name string

// The providers, a fixed set: anything else is "unknown provider".
const (
	// Kind creates and owns a local cluster in a container engine.
	Kind Name = "kind"
	// Minikube uses a running minikube profile's context as it is.
	Minikube Name = "minikube"
	// Existing uses any kubeconfig context as it is.
	Existing Name = "existing"
)

// Names lists the providers in the order help text shows them.
var Names = []Name{Kind, Minikube, Existing}

// ParseName reads --provider or LAB_PROVIDER.
func ParseName(s string) (Name, error) {
	return choice.Parse("provider", s, Names)
}

// DefaultKindName is the kind cluster lab creates unless --name says otherwise.
const DefaultKindName = "lab"

// Log receives what a provider is doing. Status lines are short and
// replace each other (a spinner's text on a terminal); Debugf is detail
// shown with -v.
type Log interface {
	Status(msg string)
	Warnf(format string, args ...any)
	Debugf(format string, args ...any)
}

// ErrNoCluster means the provider's cluster does not exist (yet).
var ErrNoCluster = errors.New("the cluster does not exist")

// Provider brings up the cluster the lab lives on and takes it down.
type Provider interface {
	// Name is the provider's name.
	Name() Name
	// Describe is a phrase for messages: "kind cluster lab (docker 28.2)".
	Describe() string
	// Target resolves the cluster's context without connecting to the API
	// server. It is ErrNoCluster when the cluster does not exist yet.
	Target(ctx context.Context) (*kube.Target, error)
	// Ensure makes the cluster exist and returns its context; created is
	// true when this call created it (so that an interrupted command can
	// remove it again).
	Ensure(ctx context.Context, log Log) (t *kube.Target, created bool, err error)
	// Owned reports whether lab created this cluster, so that lab down may
	// delete all of it; why says what decided.
	Owned(ctx context.Context, c kubernetes.Interface) (owned bool, why string, err error)
	// DeleteCluster deletes the whole cluster. Callers check Owned first.
	DeleteCluster(ctx context.Context, log Log) error
}

// ImageLoader is a provider that can load images into its nodes without a
// registry (kind), for a classroom without internet.
type ImageLoader interface {
	// LoadImages copies images from the local container engine into every
	// node; archive, when not empty, is a `docker save` tarball loaded too.
	LoadImages(ctx context.Context, log Log, images []string, archive string) error
	// LoadNodeImage loads an offline bundle's node image into the
	// container engine, so that creating the cluster pulls nothing.
	LoadNodeImage(ctx context.Context, log Log, bundle string, m *images.Manifest) error
	// LoadBundleImages loads the bundle's other images into every node.
	LoadBundleImages(ctx context.Context, log Log, bundle string, m *images.Manifest) error
}

// Options configure the provider New builds.
type Options struct {
	// Kube are the kubeconfig flags.
	Kube kube.Options
	// Kind configures the kind provider.
	Kind KindOptions
	// Engines are the probed container engines (kind needs one).
	Engines []Engine
}

// New builds the chosen provider. It does not connect to anything.
func New(c Choice, o Options) Provider {
	switch c.Name {
	case Kind:
		ko := o.Kind
		if c.KindName != "" {
			ko.Name = c.KindName
		}
		if ko.Name == "" {
			ko.Name = DefaultKindName
		}
		if ko.Kubeconfig == "" {
			ko.Kubeconfig = o.Kube.Kubeconfig
		}
		if ko.Namespace == "" {
			ko.Namespace = o.Kube.Namespace
		}
		return newKind(ko, o.Engines)
	case Minikube:
		return &contextProvider{name: Minikube, opts: o.Kube}
	default:
		return &contextProvider{name: Existing, opts: o.Kube}
	}
}

// contextProvider is a cluster lab did not make: a kubeconfig context,
// used as it is (minikube and existing).
type contextProvider struct {
	name Name
	opts kube.Options
}

func (p *contextProvider) Name() Name { return p.name }

func (p *contextProvider) Describe() string { return fmt.Sprintf("%s cluster", p.name) }

func (p *contextProvider) Target(context.Context) (*kube.Target, error) {
	t, err := kube.Resolve(p.opts)
	if errors.Is(err, kube.ErrNoContext) {
		return nil, fmt.Errorf("%w: %w", ErrNoCluster, err)
	}
	return t, err
}

func (p *contextProvider) Ensure(ctx context.Context, _ Log) (*kube.Target, bool, error) {
	t, err := p.Target(ctx)
	return t, false, err
}

func (p *contextProvider) Owned(context.Context, kubernetes.Interface) (bool, string, error) {
	if p.name == Minikube {
		return false, "minikube made this cluster, not lab (minikube delete removes it)", nil
	}
	return false, "lab did not create this cluster", nil
}

func (p *contextProvider) DeleteCluster(context.Context, Log) error {
	return fmt.Errorf("lab never deletes a %s cluster: it did not create it", p.name)
}

// listNodes reads the cluster's nodes under a call timeout.
func listNodes(ctx context.Context, c kubernetes.Interface) ([]corev1.Node, error) {
	ctx, cancel := context.WithTimeout(ctx, kube.CallTimeout)
	defer cancel()
	l, err := c.CoreV1().Nodes().List(ctx, metav1.ListOptions{})
	if err != nil {
		return nil, err
	}
	return l.Items, nil
}

// ProviderOf names the provider a target looks like, for lab status: a
// kind-<name> context is kind, minikube's extension is minikube, anything
// else is existing.
func ProviderOf(t *kube.Target) Name {
	if IsMinikube(t) {
		return Minikube
	}
	if name, ok := strings.CutPrefix(t.Context, "kind-"); ok && name != "" && t.ClusterName == t.Context {
		return Kind
	}
	return Existing
}
