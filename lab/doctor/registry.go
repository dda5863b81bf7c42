package doctor

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"sort"
	"strings"
	"time"

	"golang.org/x/net/http/httpproxy"
)

// imageRef is an image reference split the way a registry is asked about it.
type imageRef struct {
	// Registry is the host (and port) to ask: registry-1.docker.io for
	// Docker Hub.
	Registry string
	// Repository is the path inside it (library/nginx for "nginx").
	Repository string
	// Reference is the tag or digest.
	Reference string
}

// parseImageRef reads "nginx", "kyos0109/nginx-distroless:tag",
// "ghcr.io/org/img@sha256:…" or "127.0.0.1:5055/img" as a container engine
// does: the first path component is a registry when it has a dot or a
// port or is localhost; otherwise the image is on Docker Hub.
func parseImageRef(image string) (imageRef, error) {
	if image == "" || strings.ContainsAny(image, " \t") {
		return imageRef{}, fmt.Errorf("%q is not an image reference", image)
	}
	r := imageRef{Registry: "registry-1.docker.io", Reference: "latest"}
	rest := image
	if first, after, ok := strings.Cut(image, "/"); ok && (strings.ContainsAny(first, ".:") || first == "localhost") {
		r.Registry, rest = first, after
	}
	if r.Registry == "docker.io" || r.Registry == "index.docker.io" {
		r.Registry = "registry-1.docker.io"
	}
	if name, digest, ok := strings.Cut(rest, "@"); ok {
		rest, r.Reference = name, digest
	} else if i := strings.LastIndex(rest, ":"); i > strings.LastIndex(rest, "/") {
		rest, r.Reference = rest[:i], rest[i+1:]
	}
	if rest == "" || strings.HasPrefix(rest, "/") || strings.HasSuffix(rest, "/") || strings.Contains(rest, "//") {
		return imageRef{}, fmt.Errorf("%q names no repository", image)
	}
	if r.Reference == "" {
		return imageRef{}, fmt.Errorf("%q has an empty tag or digest", image)
	}
	if r.Registry == "registry-1.docker.io" && !strings.Contains(rest, "/") {
		rest = "library/" + rest
	}
	r.Repository = rest
	return r, nil
}

// scheme is https, except for a registry on this machine, which is
// commonly plain http (a classroom mirror, the e2e harness's registry).
func (r imageRef) scheme() string {
	host := r.Registry
	if h, _, err := net.SplitHostPort(host); err == nil {
		host = h
	}
	if host == "localhost" {
		return "http"
	}
	if ip := net.ParseIP(host); ip != nil && ip.IsLoopback() {
		return "http"
	}
	return "https"
}

// manifestTypes are the manifest formats asked for, index types first so
// that a multi-platform image answers with its list of platforms.
var manifestTypes = []string{
	"application/vnd.oci.image.index.v1+json",
	"application/vnd.docker.distribution.manifest.list.v2+json",
	"application/vnd.oci.image.manifest.v1+json",
	"application/vnd.docker.distribution.manifest.v2+json",
}

// RegistryClient is an HTTP client whose requests go through the proxy
// cfg names (nil: none), as a pull by a container engine or by kind's
// nodes would: HTTPS_PROXY for https registries, HTTP_PROXY for plain
// ones, NO_PROXY's hosts, domains and CIDRs directly, and never a proxy
// for localhost or a loopback address (Go's rules, which dockerd and
// containerd share).
func RegistryClient(cfg *httpproxy.Config) *http.Client {
	t := http.DefaultTransport.(*http.Transport).Clone()
	t.Proxy = nil
	if cfg != nil {
		proxy := cfg.ProxyFunc()
		t.Proxy = func(r *http.Request) (*url.URL, error) { return proxy(r.URL) }
	}
	return &http.Client{Transport: t}
}

// registryTimeout bounds the whole lookup: doctor must stay quick offline.
const registryTimeout = 8 * time.Second

// ImagePlatforms asks the image's registry which platforms it has
// ("linux/amd64", "linux/arm64/v8", …), anonymously, as a pull would. It
// follows the registry's bearer-token challenge (Docker Hub's).
func ImagePlatforms(ctx context.Context, client *http.Client, image string) ([]string, error) {
	ref, err := parseImageRef(image)
	if err != nil {
		return nil, err
	}
	if client == nil {
		client = &http.Client{}
	}
	ctx, cancel := context.WithTimeout(ctx, registryTimeout)
	defer cancel()
	reg := &registry{client: client, base: ref.scheme() + "://" + ref.Registry, repo: ref.Repository}
	body, mediaType, err := reg.get(ctx, "/v2/"+ref.Repository+"/manifests/"+ref.Reference, strings.Join(manifestTypes, ", "))
	if err != nil {
		return nil, err
	}
	var m struct {
		MediaType string `json:"mediaType"`
		Manifests []struct {
			Platform *struct {
				OS           string `json:"os"`
				Architecture string `json:"architecture"`
				Variant      string `json:"variant"`
			} `json:"platform"`
		} `json:"manifests"`
		Config *struct {
			Digest string `json:"digest"`
		} `json:"config"`
	}
	if err := json.Unmarshal(body, &m); err != nil {
		return nil, fmt.Errorf("reading %s's manifest: %w", image, err)
	}
	if m.MediaType == "" {
		m.MediaType = mediaType
	}
	seen := map[string]bool{}
	for _, d := range m.Manifests {
		p := d.Platform
		// Attestation manifests are listed as unknown/unknown.
		if p == nil || p.OS == "unknown" || p.OS == "" {
			continue
		}
		s := p.OS + "/" + p.Architecture
		if p.Variant != "" {
			s += "/" + p.Variant
		}
		seen[s] = true
	}
	if len(m.Manifests) == 0 && m.Config != nil && m.Config.Digest != "" {
		// A single-platform image: the platform is in its config blob.
		cfg, _, err := reg.get(ctx, "/v2/"+ref.Repository+"/blobs/"+m.Config.Digest, "*/*")
		if err != nil {
			return nil, err
		}
		var c struct {
			OS           string `json:"os"`
			Architecture string `json:"architecture"`
			Variant      string `json:"variant"`
		}
		if err := json.Unmarshal(cfg, &c); err != nil {
			return nil, fmt.Errorf("reading %s's image config: %w", image, err)
		}
		s := c.OS + "/" + c.Architecture
		if c.Variant != "" {
			s += "/" + c.Variant
		}
		seen[s] = true
	}
	if len(seen) == 0 {
		return nil, fmt.Errorf("%s's manifest (%s) names no platform", image, m.MediaType)
	}
	out := make([]string, 0, len(seen))
	for s := range seen {
		out = append(out, s)
	}
	sort.Strings(out)
	return out, nil
}

type registry struct {
	client *http.Client
	base   string
	repo   string
	token  string
}

// maxManifest bounds what is read from a registry.
const maxManifest = 4 << 20

func (r *registry) get(ctx context.Context, path, accept string) ([]byte, string, error) {
	for attempt := 0; ; attempt++ {
		req, err := http.NewRequestWithContext(ctx, http.MethodGet, r.base+path, nil)
		if err != nil {
			return nil, "", err
		}
		req.Header.Set("Accept", accept)
		if r.token != "" {
			req.Header.Set("Authorization", "Bearer "+r.token)
		}
		resp, err := r.client.Do(req)
		if err != nil {
			return nil, "", fmt.Errorf("asking %s: %w", r.base, err)
		}
		body, err := io.ReadAll(io.LimitReader(resp.Body, maxManifest))
		resp.Body.Close()
		if err != nil {
			return nil, "", fmt.Errorf("reading %s's answer: %w", r.base, err)
		}
		switch {
		case resp.StatusCode == http.StatusUnauthorized && attempt == 0:
			if err := r.authenticate(ctx, resp.Header.Get("WWW-Authenticate")); err != nil {
				return nil, "", err
			}
			continue
		case resp.StatusCode == http.StatusNotFound:
			return nil, "", fmt.Errorf("%s has no %s (HTTP 404): check the image's name", r.base, strings.TrimPrefix(path, "/v2/"))
		case resp.StatusCode != http.StatusOK:
			return nil, "", fmt.Errorf("%s answered %s for %s", r.base, resp.Status, path)
		}
		return body, resp.Header.Get("Content-Type"), nil
	}
}

// authenticate fetches an anonymous pull token from the realm a
// `Bearer realm="…",service="…",scope="…"` challenge names.
func (r *registry) authenticate(ctx context.Context, challenge string) error {
	scheme, params, _ := strings.Cut(challenge, " ")
	if !strings.EqualFold(scheme, "Bearer") {
		return fmt.Errorf("%s wants %q authentication; lab only reads public images anonymously", r.base, scheme)
	}
	p := parseChallenge(params)
	realm := p["realm"]
	if realm == "" {
		return errors.New("the registry's challenge names no token realm")
	}
	u, err := url.Parse(realm)
	if err != nil {
		return fmt.Errorf("the registry's token realm %q: %w", realm, err)
	}
	q := u.Query()
	if s := p["service"]; s != "" {
		q.Set("service", s)
	}
	scope := p["scope"]
	if scope == "" {
		scope = "repository:" + r.repo + ":pull"
	}
	q.Set("scope", scope)
	u.RawQuery = q.Encode()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u.String(), nil)
	if err != nil {
		return err
	}
	resp, err := r.client.Do(req)
	if err != nil {
		return fmt.Errorf("getting a pull token from %s: %w", u.Host, err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("getting a pull token from %s: %s (a private image?)", u.Host, resp.Status)
	}
	var tok struct {
		Token       string `json:"token"`
		AccessToken string `json:"access_token"`
	}
	if err := json.NewDecoder(io.LimitReader(resp.Body, maxManifest)).Decode(&tok); err != nil {
		return fmt.Errorf("reading the pull token: %w", err)
	}
	r.token = tok.Token
	if r.token == "" {
		r.token = tok.AccessToken
	}
	if r.token == "" {
		return errors.New("the token service returned no token")
	}
	return nil
}

// parseChallenge reads `realm="…",service="…"` into a map.
func parseChallenge(s string) map[string]string {
	out := map[string]string{}
	for s != "" {
		k, rest, ok := strings.Cut(s, "=")
		if !ok {
			break
		}
		k = strings.TrimSpace(k)
		var v string
		if strings.HasPrefix(rest, `"`) {
			end := strings.Index(rest[1:], `"`)
			if end < 0 {
				v, rest = rest[1:], ""
			} else {
				v, rest = rest[1:1+end], rest[2+end:]
			}
		} else {
			v, rest, _ = strings.Cut(rest, ",")
			rest = "," + rest
		}
		out[strings.ToLower(k)] = v
		rest = strings.TrimLeft(rest, ", ")
		s = rest
	}
	return out
}
