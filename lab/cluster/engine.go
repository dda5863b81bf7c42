package cluster

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"time"

	"golang.org/x/net/http/httpproxy"
)

// Engine is a container engine kind can run its nodes on.
type Engine struct {
	// Name is docker, podman or nerdctl.
	Name string `json:"name"`
	// Path is the client binary; "" when it is not installed.
	Path string `json:"path,omitempty"`
	// Version is the server's version when it answered.
	Version string `json:"version,omitempty"`
	// Err says why it does not answer (not installed, daemon down, …).
	Err error `json:"-"`
}

// Answers reports whether the engine's server answered.
func (e Engine) Answers() bool { return e.Err == nil && e.Path != "" }

// String is "docker 28.2.2" or "docker: <why not>".
func (e Engine) String() string {
	if e.Answers() {
		return e.Name + " " + e.Version
	}
	return fmt.Sprintf("%s: %v", e.Name, e.Err)
}

// EngineNames are the engines kind supports, in kind's own order of
// preference.
var EngineNames = []string{"docker", "nerdctl", "podman"}

// engineProbeTimeout bounds one engine's "info": a hung daemon must not
// hang lab.
const engineProbeTimeout = 5 * time.Second

// EnvKindProvider is kind's own switch for its engine (docker, podman or
// nerdctl). lab probes the engine it names first, so that on a machine
// with both Docker and Podman lab's cluster is where the student's kind
// CLI looks; when that engine does not answer, the next that does is used.
const EnvKindProvider = "KIND_EXPERIMENTAL_PROVIDER"

// EngineOrder is EngineNames with the engine want names first; any other
// want (kind ignores an unknown value too) leaves the order as it is.
func EngineOrder(want string) []string {
	if !slices.Contains(EngineNames, want) {
		return EngineNames
	}
	return append([]string{want}, slices.DeleteFunc(slices.Clone(EngineNames), func(n string) bool { return n == want })...)
}

// ProbeEngines asks each engine's server for its version, in parallel,
// in EngineOrder of KIND_EXPERIMENTAL_PROVIDER. kind's own detection only
// checks that a client binary exists; lab asks the server, because a
// client without a daemon (the common case of a stopped Docker Desktop)
// cannot create a cluster.
func ProbeEngines(ctx context.Context) []Engine {
	names := EngineOrder(os.Getenv(EnvKindProvider))
	out := make([]Engine, len(names))
	var wg sync.WaitGroup
	for i, name := range names {
		wg.Add(1)
		go func() {
			defer wg.Done()
			out[i] = probeEngine(ctx, name)
		}()
	}
	wg.Wait()
	return out
}

func probeEngine(ctx context.Context, name string) Engine {
	e := Engine{Name: name}
	path, err := exec.LookPath(name)
	if err != nil {
		e.Err = fmt.Errorf("not installed")
		return e
	}
	e.Path = path
	format := "{{.ServerVersion}}"
	if name == "podman" {
		format = "{{.Version.Version}}"
	}
	ctx, cancel := context.WithTimeout(ctx, engineProbeTimeout)
	defer cancel()
	var stdout, stderr bytes.Buffer
	cmd := exec.CommandContext(ctx, path, "info", "--format", format)
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Run(); err != nil {
		msg := strings.TrimSpace(firstLine(stderr.String()))
		if ctx.Err() != nil {
			msg = fmt.Sprintf("%s info did not answer within %s", name, engineProbeTimeout)
		}
		if msg == "" {
			msg = err.Error()
		}
		e.Err = fmt.Errorf("%s", msg)
		return e
	}
	e.Version = strings.TrimSpace(stdout.String())
	if e.Version == "" || e.Version == "<no value>" {
		// docker prints an empty server version when only the client runs.
		e.Err = fmt.Errorf("%s info printed no server version", name)
	}
	return e
}

// FirstAnswering is the first engine that answers, in the order given.
func FirstAnswering(engines []Engine) (Engine, bool) {
	for _, e := range engines {
		if e.Answers() {
			return e, true
		}
	}
	return Engine{}, false
}

func firstLine(s string) string {
	for _, l := range strings.Split(s, "\n") {
		if l = strings.TrimSpace(l); l != "" {
			return l
		}
	}
	return ""
}

// Run runs the engine's client with args, stdin and stdout as given; an
// error carries the last lines the client printed on stderr.
func (e Engine) Run(ctx context.Context, stdin io.Reader, stdout io.Writer, args ...string) error {
	if e.Path == "" {
		return fmt.Errorf("%s is not installed", e.Name)
	}
	var stderr bytes.Buffer
	cmd := exec.CommandContext(ctx, e.Path, args...)
	cmd.Stdin, cmd.Stdout, cmd.Stderr = stdin, stdout, &stderr
	if err := cmd.Run(); err != nil {
		if msg := strings.TrimSpace(stderr.String()); msg != "" {
			return fmt.Errorf("%s %s: %s", e.Name, strings.Join(args, " "), lastLines(msg, 5))
		}
		return fmt.Errorf("%s %s: %w", e.Name, strings.Join(args, " "), err)
	}
	return nil
}

// ImageInfo is what the engine knows about an image it holds.
type ImageInfo struct {
	// ID is the image's config digest.
	ID          string   `json:"Id"`
	RepoTags    []string `json:"RepoTags"`
	RepoDigests []string `json:"RepoDigests"`
	OS          string   `json:"Os"`
	// Architecture and Variant are as the image config says ("arm64", "v8").
	Architecture string `json:"Architecture"`
	Variant      string `json:"Variant"`
}

// Platform is "linux/amd64" (a variant is left out: kind's nodes and the
// bundle compare OS and architecture).
func (i ImageInfo) Platform() string { return i.OS + "/" + i.Architecture }

// InspectImage asks the engine about an image it holds; an error means it
// does not hold it (or does not answer).
func (e Engine) InspectImage(ctx context.Context, image string) (ImageInfo, error) {
	var out bytes.Buffer
	if err := e.Run(ctx, nil, &out, "image", "inspect", "--format", "{{json .}}", image); err != nil {
		return ImageInfo{}, err
	}
	info, err := parseImageInspect(out.Bytes())
	if err != nil {
		return ImageInfo{}, fmt.Errorf("reading %s image inspect %s: %w", e.Name, image, err)
	}
	return info, nil
}

// parseImageInspect reads `image inspect --format '{{json .}}'`: docker
// and nerdctl print the image's object, podman (4.x) a list holding it.
// podman's Id also lacks the "sha256:" docker's carries; a bundle saved
// with one engine is checked against the IDs the other loads, so every ID
// is given it.
func parseImageInspect(data []byte) (ImageInfo, error) {
	var info ImageInfo
	var list []ImageInfo
	if json.Unmarshal(data, &list) == nil && len(list) == 1 {
		info = list[0]
	} else if err := json.Unmarshal(data, &info); err != nil {
		return ImageInfo{}, err
	}
	if info.ID != "" && !strings.Contains(info.ID, ":") {
		info.ID = "sha256:" + info.ID
	}
	return info, nil
}

// Save writes images into one `docker save` archive at path. podman takes
// every name after the first for another tag of the first image unless
// given --multi-image-archive, and would save that one image under every
// name (found by the podman kind leg of the end-to-end tests).
func (e Engine) Save(ctx context.Context, path string, images ...string) error {
	args := []string{"save", "-o", path}
	if e.Name == "podman" && len(images) > 1 {
		args = append(args, "--multi-image-archive")
	}
	return e.Run(ctx, nil, io.Discard, append(args, images...)...)
}

// Proxy is the proxy configuration the engine pulls through: dockerd's
// own (its environment, daemon.json's "proxies", as docker info shows
// them), which need not be lab's; podman and nerdctl pull from the client,
// so for them it is the environment lab runs in.
func (e Engine) Proxy(ctx context.Context) *httpproxy.Config {
	if e.Name != "docker" {
		return httpproxy.FromEnvironment()
	}
	ctx, cancel := context.WithTimeout(ctx, engineProbeTimeout)
	defer cancel()
	var out bytes.Buffer
	if err := e.Run(ctx, nil, &out, "info", "--format", "{{json .HTTPProxy}} {{json .HTTPSProxy}} {{json .NoProxy}}"); err != nil {
		return httpproxy.FromEnvironment()
	}
	var cfg httpproxy.Config
	fields := []*string{&cfg.HTTPProxy, &cfg.HTTPSProxy, &cfg.NoProxy}
	dec := json.NewDecoder(&out)
	for _, f := range fields {
		if err := dec.Decode(f); err != nil {
			return httpproxy.FromEnvironment()
		}
	}
	return &cfg
}

// NodeProxy is the proxy configuration kind passes into its nodes, read
// the way kind (v0.33) reads it: HTTP_PROXY, HTTPS_PROXY and NO_PROXY
// (upper case first, then lower) from the environment lab runs in; with
// Docker and neither proxy variable set, the blanks are filled from the
// docker client's config.json "proxies" (the entry for DOCKER_HOST, else
// "default"). kind adds the cluster's subnets and node names to NO_PROXY;
// those never name a registry, so they are left out here.
func NodeProxy(engine string, getenv func(string) string, readFile func(string) ([]byte, error)) *httpproxy.Config {
	get := func(name string) string {
		if v := getenv(name); v != "" {
			return v
		}
		return getenv(strings.ToLower(name))
	}
	cfg := &httpproxy.Config{HTTPProxy: get("HTTP_PROXY"), HTTPSProxy: get("HTTPS_PROXY"), NoProxy: get("NO_PROXY")}
	if engine != "docker" || cfg.HTTPProxy != "" || cfg.HTTPSProxy != "" {
		return cfg
	}
	path := ""
	if dir := getenv("DOCKER_CONFIG"); dir != "" {
		path = filepath.Join(dir, "config.json")
	} else if home := getenv("HOME"); home != "" {
		path = filepath.Join(home, ".docker", "config.json")
	}
	data, err := readFile(path)
	if path == "" || err != nil {
		return cfg
	}
	var file struct {
		Proxies map[string]struct {
			HTTPProxy  string `json:"httpProxy"`
			HTTPSProxy string `json:"httpsProxy"`
			NoProxy    string `json:"noProxy"`
		} `json:"proxies"`
	}
	if json.Unmarshal(data, &file) != nil {
		return cfg
	}
	p, ok := file.Proxies[getenv("DOCKER_HOST")]
	if !ok {
		p = file.Proxies["default"]
	}
	for _, f := range []struct {
		dst *string
		src string
	}{{&cfg.HTTPProxy, p.HTTPProxy}, {&cfg.HTTPSProxy, p.HTTPSProxy}, {&cfg.NoProxy, p.NoProxy}} {
		if *f.dst == "" {
			*f.dst = f.src
		}
	}
	return cfg
}
