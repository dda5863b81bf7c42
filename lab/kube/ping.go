package kube

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/url"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/discovery"
	"k8s.io/client-go/kubernetes"
)

// UnreachableError means the cluster did not answer, or refused lab's
// credentials: nothing lab does can work until that is fixed.
type UnreachableError struct {
	// Server is the API server lab tried.
	Server string
	// Err is what went wrong.
	Err error
}

func (e *UnreachableError) Error() string {
	if apierrors.IsUnauthorized(e.Err) {
		return fmt.Sprintf("the cluster at %s rejected the kubeconfig's credentials: %v", e.Server, e.Err)
	}
	return fmt.Sprintf("cannot reach the cluster at %s: %v", e.Server, e.Err)
}

func (e *UnreachableError) Unwrap() error { return e.Err }

// IsUnreachable reports whether err means the cluster could not be used
// at all (exit code 3), as opposed to a request the cluster refused.
func IsUnreachable(err error) bool {
	var u *UnreachableError
	return errors.As(err, &u)
}

// LostCluster reports whether err is a request to the cluster that got no
// answer at all: the API server went away or stopped answering in the
// middle of a command (client-go wraps every transport failure, a refused
// connection, a TLS handshake or client timeout, in a *url.Error). An
// answer that refused (a 403, a conflict) is not, and neither is a Ctrl-C.
// Commands treat it like IsUnreachable: exit code 3.
func LostCluster(err error) bool {
	if err == nil || errors.Is(err, context.Canceled) {
		return false
	}
	if IsUnreachable(err) {
		return true
	}
	var ue *url.Error
	if errors.As(err, &ue) {
		return true
	}
	// lab's own waits end in a bare context.DeadlineExceeded, which is a
	// net.Error too: a pod that takes too long is not a lost cluster.
	var ne net.Error
	return errors.As(err, &ne) && ne.Timeout() && !errors.Is(err, context.DeadlineExceeded)
}

// ServerVersion asks the API server for its version ("v1.34.4"). It is
// the cheapest request every API server answers, and the one a web server
// that is not Kubernetes fails.
func ServerVersion(ctx context.Context, c kubernetes.Interface) (string, error) {
	ctx, cancel := context.WithTimeout(ctx, CallTimeout)
	defer cancel()
	v, err := discovery.ToServerVersionInterfaceWithContext(c.Discovery()).ServerVersionWithContext(ctx)
	if err != nil {
		return "", err
	}
	return v.GitVersion, nil
}

// Ping checks that the cluster answers as a Kubernetes API server and that
// lab's credentials are accepted, then reads the lab's namespace, which
// every lab command needs anyway. It reports whether the namespace exists;
// a user who may not read namespaces gets exists=true, since lab can do
// nothing about a namespace it cannot see.
func Ping(ctx context.Context, c kubernetes.Interface, server, namespace string) (exists bool, err error) {
	if _, err := ServerVersion(ctx, c); err != nil {
		switch {
		case ctx.Err() != nil:
			return false, ctx.Err()
		case apierrors.IsForbidden(err):
			// Some clusters hide /version from a user; the namespace
			// read below still proves the server is Kubernetes.
		case apierrors.IsNotFound(err):
			return false, &UnreachableError{Server: server, Err: fmt.Errorf("it does not answer like a Kubernetes API server: %w", err)}
		default:
			return false, &UnreachableError{Server: server, Err: err}
		}
	}
	cctx, cancel := context.WithTimeout(ctx, CallTimeout)
	defer cancel()
	_, err = c.CoreV1().Namespaces().Get(cctx, namespace, metav1.GetOptions{})
	switch {
	case err == nil:
		return true, nil
	case apierrors.IsNotFound(err):
		return false, nil
	case apierrors.IsForbidden(err):
		return true, nil
	case ctx.Err() != nil:
		return false, ctx.Err()
	case apierrors.IsUnauthorized(err):
		return false, &UnreachableError{Server: server, Err: err}
	}
	var status apierrors.APIStatus
	if errors.As(err, &status) && status.Status().Code >= 400 && status.Status().Code < 500 {
		// The server answered: a webhook or policy, not reachability.
		return true, nil
	}
	return false, &UnreachableError{Server: server, Err: err}
}
