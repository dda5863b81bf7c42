package cluster

import (
	"bytes"
	"context"
	"fmt"
	"os/exec"
	"strings"
	"sync"
	"time"
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

// ProbeEngines asks each engine's server for its version, in parallel.
// kind's own detection only checks that a client binary exists; lab asks
// the server, because a client without a daemon (the common case of a
// stopped Docker Desktop) cannot create a cluster.
func ProbeEngines(ctx context.Context) []Engine {
	out := make([]Engine, len(EngineNames))
	var wg sync.WaitGroup
	for i, name := range EngineNames {
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

// FirstAnswering is the first engine that answers, in EngineNames order.
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
