package cluster

import (
	"errors"
	"fmt"
	"strings"

	"github.com/k8s-debug-lab/lab/lab/kube"
)

// EnvProvider is the environment variable that chooses a provider when
// --provider is not given.
const EnvProvider = "LAB_PROVIDER"

// Choice is the provider Select picked and why.
type Choice struct {
	Name Name `json:"name"`
	// KindName is the kind cluster's name (kind only).
	KindName string `json:"kindName,omitempty"`
	// Source is "--provider", "LAB_PROVIDER" or "detected".
	Source string `json:"source"`
	// Reason says why detection picked it (detected only).
	Reason string `json:"reason,omitempty"`
	// Warning is set when one setting overrode another; callers print it.
	Warning string `json:"warning,omitempty"`
}

// SelectInput is what Select decides from.
type SelectInput struct {
	// Flag is --provider; Env is LAB_PROVIDER.
	Flag, Env string
	// Explicit is true when --context or --kubeconfig was given: the user
	// pointed at a cluster.
	Explicit bool
	// Target is the context the kubeconfig flags resolve to; nil when the
	// kubeconfig has none.
	Target *kube.Target
	// KindName is --name (default DefaultKindName).
	KindName string
	// Engines probes the container engines; only detection calls it, so
	// that an explicit --provider costs no probe.
	Engines func() []Engine
}

// Select picks the provider: --provider, else LAB_PROVIDER, else
// detection. Detection, in order:
//
//  1. the context is a minikube one (its kubeconfig extension): minikube;
//  2. the context is kind-<name> for lab's kind cluster name: kind;
//  3. --context or --kubeconfig was given: existing (the user pointed at
//     a cluster; lab uses it rather than making another);
//  4. a container engine answers: kind, creating cluster <name>;
//  5. the kubeconfig has a current context: existing;
//  6. otherwise there is nothing to use, and the error says what to do.
func Select(in SelectInput) (Choice, error) {
	kindName := in.KindName
	if kindName == "" {
		kindName = DefaultKindName
	}
	if in.Flag != "" {
		n, err := ParseName(in.Flag)
		if err != nil {
			return Choice{}, err
		}
		c := Choice{Name: n, Source: "--provider"}
		if in.Env != "" && in.Env != in.Flag {
			c.Warning = fmt.Sprintf("--provider %s overrides %s=%s", in.Flag, EnvProvider, in.Env)
		}
		return withKindName(c, kindName), nil
	}
	if in.Env != "" {
		n, err := ParseName(in.Env)
		if err != nil {
			return Choice{}, fmt.Errorf("%s: %w", EnvProvider, err)
		}
		// The variable is invisible on the command line: say it was used.
		c := Choice{Name: n, Source: EnvProvider, Warning: fmt.Sprintf("using provider %s from %s=%s", n, EnvProvider, in.Env)}
		return withKindName(c, kindName), nil
	}
	return Detect(in, kindName)
}

func withKindName(c Choice, name string) Choice {
	if c.Name == Kind {
		c.KindName = name
	}
	return c
}

// ErrNothingToUse means detection found neither a container engine nor a
// kubeconfig context.
var ErrNothingToUse = errors.New("no cluster to use")

// Detect is Select's detection step on its own.
func Detect(in SelectInput, kindName string) (Choice, error) {
	t := in.Target
	if t != nil && IsMinikube(t) {
		return Choice{Name: Minikube, Source: "detected", Reason: fmt.Sprintf("context %s is a minikube cluster", t.Context)}, nil
	}
	if t != nil && t.Context == "kind-"+kindName && t.ClusterName == t.Context {
		return Choice{Name: Kind, KindName: kindName, Source: "detected", Reason: fmt.Sprintf("context %s is lab's kind cluster", t.Context)}, nil
	}
	if in.Explicit && t != nil {
		return Choice{Name: Existing, Source: "detected", Reason: fmt.Sprintf("context %s was given", t.Context)}, nil
	}
	var engines []Engine
	if in.Engines != nil {
		engines = in.Engines()
	}
	if e, ok := FirstAnswering(engines); ok {
		return Choice{Name: Kind, KindName: kindName, Source: "detected", Reason: fmt.Sprintf("%s answers", e)}, nil
	}
	if t != nil {
		return Choice{Name: Existing, Source: "detected", Reason: fmt.Sprintf("no container engine answers; using the current context %s", t.Context)}, nil
	}
	var why []string
	for _, e := range engines {
		why = append(why, e.String())
	}
	return Choice{}, fmt.Errorf("%w: no container engine answers (%s) and the kubeconfig has no current context; start Docker (or Podman) so that lab can create a kind cluster, or point lab at a cluster with --kubeconfig/--context",
		ErrNothingToUse, strings.Join(why, "; "))
}
