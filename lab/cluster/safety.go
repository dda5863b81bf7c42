package cluster

import (
	"fmt"
	"net"
	"net/netip"
	"strings"

	"github.com/k8s-debug-lab/lab/lab/kube"
)

// Locality says why a context counts as local, or that it does not.
type Locality struct {
	// Local is true for a cluster on this machine (or a local VM such as
	// minikube's or Docker Desktop's).
	Local bool
	// Why names the rule that decided: "loopback address", "kind context",
	// "minikube cluster", "docker-desktop context", "address of this
	// machine", or, for a remote one, what the server is.
	Why string
}

// LocalAddrs lists this machine's interface addresses. It is a variable so
// that tests decide what "this machine" is.
var LocalAddrs = defaultLocalAddrs

func defaultLocalAddrs() []netip.Addr {
	addrs, err := net.InterfaceAddrs()
	if err != nil {
		return nil
	}
	var out []netip.Addr
	for _, a := range addrs {
		if p, err := netip.ParsePrefix(a.String()); err == nil {
			out = append(out, p.Addr().Unmap())
		}
	}
	return out
}

// localNames are host names that always mean this machine (or its local
// VM). Host names are never looked up: the rule must hold before any
// connection, and DNS is not this machine's to trust.
var localNames = map[string]string{
	"localhost":                  "loopback address",
	"kubernetes.docker.internal": "docker-desktop context",
	"host.docker.internal":       "docker-desktop context",
}

// Classify applies the safety rule to a target, without connecting: the
// API server is local when its address is loopback (or unspecified, which
// connects to loopback) or belongs to this machine, or the context is a
// kind, minikube or docker-desktop one.
func Classify(t *kube.Target) Locality {
	if IsMinikube(t) {
		return Locality{true, "minikube cluster"}
	}
	if name, ok := strings.CutPrefix(t.Context, "kind-"); ok && name != "" && t.ClusterName == t.Context {
		return Locality{true, "kind context"}
	}
	switch t.Context {
	case "docker-desktop", "docker-for-desktop":
		return Locality{true, "docker-desktop context"}
	}
	host := strings.ToLower(strings.TrimSuffix(t.Host(), "."))
	if why, ok := localNames[host]; ok {
		return Locality{true, why}
	}
	if strings.HasSuffix(host, ".localhost") {
		return Locality{true, "loopback address"}
	}
	ip, err := netip.ParseAddr(strings.Trim(host, "[]"))
	if err != nil {
		return Locality{false, fmt.Sprintf("server %s is a remote host name", host)}
	}
	ip = ip.Unmap()
	if ip.IsLoopback() || ip.IsUnspecified() {
		return Locality{true, "loopback address"}
	}
	for _, a := range LocalAddrs() {
		if a == ip {
			return Locality{true, "address of this machine"}
		}
	}
	return Locality{false, fmt.Sprintf("server %s is not an address of this machine", ip)}
}

// UnsafeError is the refusal to change a cluster that is not local.
type UnsafeError struct {
	Target *kube.Target
	Why    string
	// Named reports that the context was named with --context (only --yes
	// was missing).
	Named bool
}

func (e *UnsafeError) Error() string {
	fix := fmt.Sprintf("if this is the cluster you mean, name it and confirm: --context %s --yes", e.Target.Context)
	if e.Named {
		fix = "add --yes if this is the cluster you mean"
	}
	return fmt.Sprintf("refusing to change context %s: its API server %s is not local (%s); lab changes only clusters on this machine unless told otherwise; %s",
		e.Target.Context, e.Target.Server, e.Why, fix)
}

// CheckSafe is the "is this context safe to touch" rule: a local context
// always is; any other only when the user named it with --context and
// confirmed with --yes. It looks at the kubeconfig only, so it refuses
// before any connection is made.
func CheckSafe(t *kube.Target, yes bool) error {
	l := Classify(t)
	if l.Local || (t.ContextExplicit && yes) {
		return nil
	}
	return &UnsafeError{Target: t, Why: l.Why, Named: t.ContextExplicit}
}
