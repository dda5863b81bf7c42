// Package images knows the container images a lab needs away from any
// cluster API: why a pull failed (read from the kubelet's, containerd's
// or the engine's own words), and the offline bundle that carries every
// image on a USB stick (see Bundle).
package images

import (
	"fmt"
	"regexp"
	"strings"
)

// Cause is why a pull failed, one of a fixed set.
type Cause string

// The causes a pull failure is sorted into.
const (
	// DNS: the registry's name does not resolve (no network, no DNS).
	DNS Cause = "dns"
	// Proxy: the proxy named by HTTP(S)_PROXY refused or did not answer.
	Proxy Cause = "proxy"
	// Timeout: the registry did not answer in time (a firewall that
	// drops, a slow link).
	Timeout Cause = "timeout"
	// Unreachable: the connection was refused or there is no route.
	Unreachable Cause = "unreachable"
	// NotFound: the registry answered that the image or tag does not exist.
	NotFound Cause = "not found"
	// Unauthorized: the registry wants credentials (or the repository
	// does not exist: Docker Hub answers both the same way).
	Unauthorized Cause = "unauthorized"
	// Platform: the image has no variant for the node's platform.
	Platform Cause = "platform"
	// Unknown: none of the above could be read from the message.
	Unknown Cause = "unknown"
)

// PullFailure is a failed pull, explained.
type PullFailure struct {
	// Image is the image that did not pull ("" when the message names none).
	Image string
	Cause Cause
	// Why is a sentence for people; Detail is the message it was read from.
	Why, Detail string
}

// The patterns are the texts Go's net package, containerd's resolver and
// the kubelet put into ErrImagePull messages and `docker pull` errors, for
// example (kubelet event, containerd 2.x):
//
//	Failed to pull image "nginx": failed to pull and unpack image "docker.io/library/nginx:latest":
//	failed to resolve reference "docker.io/library/nginx:latest": failed to do request:
//	Head "https://registry-1.docker.io/v2/library/nginx/manifests/latest":
//	dial tcp: lookup registry-1.docker.io on 10.96.0.10:53: no such host
//
// Order matters: a proxy that cannot be resolved is a proxy problem first.
var causes = []struct {
	cause Cause
	re    *regexp.Regexp
	why   string
}{
	{Proxy, regexp.MustCompile(`proxyconnect|[Pp]roxy Authentication Required|\b407\b`),
		"the proxy (HTTP_PROXY/HTTPS_PROXY) refused the connection or could not be reached"},
	{DNS, regexp.MustCompile(`lookup \S+(?: on \S+)?: (?:no such host|server misbehaving|Temporary failure in name resolution|read udp \S+: i/o timeout|i/o timeout)|Temporary failure in name resolution|no such host`),
		"the registry's name does not resolve: this machine (or the node) has no working DNS or no internet"},
	{Timeout, regexp.MustCompile(`i/o timeout|connection timed out|context deadline exceeded|TLS handshake timeout|Client\.Timeout exceeded|deadline exceeded`),
		"the registry did not answer in time: a firewall drops the traffic, or the network is very slow"},
	{Unreachable, regexp.MustCompile(`connection refused|network is unreachable|no route to host|connection reset by peer`),
		"the registry could not be reached: the connection was refused or there is no route to it"},
	{Platform, regexp.MustCompile(`no match for platform in manifest|no matching manifest for|does not match the specified platform|exec format error`),
		"the image has no variant for the node's platform"},
	{Unauthorized, regexp.MustCompile(`pull access denied|insufficient_scope|authorization failed|\b401 Unauthorized|\b403 Forbidden|unauthorized:|denied: requested access`),
		"the registry refused: the repository does not exist, or it is private and wants credentials"},
	{NotFound, regexp.MustCompile(`: not found|manifest unknown|\bnot found\b|\b404 Not Found|HTTP 404|NotFound desc`),
		"the registry has no such image or tag: check the name"},
}

// imageInMessage finds the image a kubelet or docker message names:
// `Failed to pull image "X"`, `failed to pull image "X"`, `Back-off
// pulling image "X"`, `pull access denied for X`.
var imageInMessage = regexp.MustCompile(`(?i)(?:pull(?:ing)? image|pull and unpack image|resolve reference|access denied for) "?([^"\s,:]+(?::[^"\s,@]+)?(?:@sha256:[0-9a-f]+)?)"?`)

// ClassifyPull reads a failed pull's message. image may be "" to take it
// from the message.
func ClassifyPull(image, message string) PullFailure {
	f := PullFailure{Image: image, Cause: Unknown, Detail: strings.Join(strings.Fields(message), " ")}
	if f.Image == "" {
		if m := imageInMessage.FindStringSubmatch(message); m != nil {
			f.Image = m[1]
		}
	}
	for _, c := range causes {
		if c.re.MatchString(message) {
			f.Cause, f.Why = c.cause, c.why
			return f
		}
	}
	f.Why = "the pull failed for a reason lab does not recognise"
	return f
}

// WaysOut are what a student can do about a failed pull, most likely
// first. node is true for a pull by a node (a pod's image), false for one
// by the container engine (kind's node image).
func (f PullFailure) WaysOut(node bool) []string {
	var out []string
	switch f.Cause {
	case NotFound:
		return []string{fmt.Sprintf("check the image's name %s (lab up --nginx-image IMAGE changes the pod's; --node-image the kind node's)", f.Image)}
	case Unauthorized:
		return []string{
			fmt.Sprintf("check the image's name %s: Docker Hub answers \"pull access denied\" for one that does not exist", f.Image),
			"a private image needs credentials: docker login (for the engine), an imagePullSecret (for the nodes)",
		}
	case Platform:
		return []string{"use an image built for the node's platform: lab up --nginx-image IMAGE (lab doctor lists the platforms an image is published for)"}
	case Proxy:
		out = append(out, "check HTTP_PROXY, HTTPS_PROXY and NO_PROXY: the proxy they name must answer (and accept CONNECT to the registry's port 443)")
	case DNS, Timeout, Unreachable, Unknown:
		out = append(out, "behind a proxy, set HTTPS_PROXY (and HTTP_PROXY, NO_PROXY) before lab up: kind passes them into its nodes; the engine itself reads its own (systemctl show docker --property=Environment)")
	}
	out = append(out, "without internet, bring the images along: lab bundle save FILE on a machine that can pull, then lab up --bundle FILE here")
	if node {
		out = append(out, "images already in the local engine can be copied into kind's nodes: lab up --preload")
	} else {
		out = append(out, "a kind node image already in the engine can be named: lab up --node-image IMAGE (docker images kindest/node lists them)")
	}
	return out
}

// Short is the end of the message, where Go's net package and the
// registries say what went wrong: "lookup registry-1.docker.io on
// 127.0.0.53:53: no such host".
func (f PullFailure) Short() string {
	parts := strings.Split(f.Detail, ": ")
	if len(parts) > 2 {
		parts = parts[len(parts)-2:]
	}
	return strings.Join(parts, ": ")
}

// String is "IMAGE: why (detail)".
func (f PullFailure) String() string {
	img := f.Image
	if img == "" {
		img = "an image"
	}
	return fmt.Sprintf("pulling %s failed (%s): %s", img, f.Cause, f.Why)
}
