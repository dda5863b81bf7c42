package cluster

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"golang.org/x/net/http/httpproxy"
)

// fakeEngine puts a shell script named docker first on the PATH. It logs
// its arguments and answers like a docker client whose daemon is up
// (version 28.2.2, no kind clusters, no local images, no internet) or down.
func fakeEngine(t *testing.T, up bool) (log string) {
	t.Helper()
	dir := t.TempDir()
	log = filepath.Join(dir, "calls")
	daemon := "echo 28.2.2"
	if !up {
		daemon = `echo 'Cannot connect to the Docker daemon at unix:///var/run/docker.sock. Is the docker daemon running?' >&2; exit 1`
	}
	script := `#!/bin/sh
echo "$*" >> ` + log + `
case "$1" in
info) ` + daemon + ` ;;
ps) exit 0 ;;
image) echo "Error: No such image: $3" >&2; exit 1 ;;
pull) echo "Error response from daemon: Get \"https://registry-1.docker.io/v2/\": dial tcp: lookup registry-1.docker.io: no such host" >&2; exit 1 ;;
*) echo "unexpected: $*" >&2; exit 3 ;;
esac
`
	if err := os.WriteFile(filepath.Join(dir, "docker"), []byte(script), 0o755); err != nil {
		t.Fatal(err)
	}
	t.Setenv("PATH", dir)
	return log
}

func calls(t *testing.T, log string) string {
	b, _ := os.ReadFile(log)
	return string(b)
}

func TestProbeEngines(t *testing.T) {
	fakeEngine(t, true)
	engines := ProbeEngines(context.Background())
	e, ok := FirstAnswering(engines)
	if !ok || e.Name != "docker" || e.Version != "28.2.2" {
		t.Fatalf("engines %v", engines)
	}
	for _, other := range engines[1:] {
		if other.Answers() || other.Err.Error() != "not installed" {
			t.Errorf("%s: %v", other.Name, other.Err)
		}
	}
}

func TestProbeEnginesDaemonDown(t *testing.T) {
	fakeEngine(t, false)
	engines := ProbeEngines(context.Background())
	if _, ok := FirstAnswering(engines); ok {
		t.Fatalf("a client without its daemon counted as answering: %v", engines)
	}
	if got := engines[0].String(); !strings.Contains(got, "docker: Cannot connect to the Docker daemon") {
		t.Errorf("%q does not carry the client's own words", got)
	}
}

func TestKindTargetWithoutCluster(t *testing.T) {
	log := fakeEngine(t, true)
	p := New(Choice{Name: Kind, KindName: "lab"}, Options{Engines: ProbeEngines(context.Background())})
	_, err := p.Target(context.Background())
	if !errors.Is(err, ErrNoCluster) || !strings.Contains(err.Error(), "no kind cluster lab (docker 28.2.2); lab up creates it") {
		t.Errorf("error %v, want ErrNoCluster", err)
	}
	// kind's library asked the engine, as kind itself does.
	if !strings.Contains(calls(t, log), "ps -a --filter label=io.x-k8s.kind.cluster") {
		t.Errorf("the engine was not asked for kind's clusters:\n%s", calls(t, log))
	}
	if p.Describe() != "kind cluster lab (docker 28.2.2)" {
		t.Errorf("describe %q", p.Describe())
	}
}

func TestPreloadWithoutTheImages(t *testing.T) {
	log := fakeEngine(t, true)
	p := newKind(KindOptions{Name: "lab"}, ProbeEngines(context.Background()))
	err := p.saveImages(context.Background(), nopLog{}, []string{"kyos0109/nginx-distroless"}, filepath.Join(t.TempDir(), "x.tar"))
	if err == nil || !strings.Contains(err.Error(), "docker has no image kyos0109/nginx-distroless and could not pull it") ||
		!strings.Contains(err.Error(), "no such host") || !strings.Contains(err.Error(), "--image-archive") {
		t.Errorf("error %v", err)
	}
	if c := calls(t, log); !strings.Contains(c, "image inspect kyos0109/nginx-distroless") || !strings.Contains(c, "pull kyos0109/nginx-distroless") {
		t.Errorf("calls:\n%s", c)
	}
}

type nopLog struct{}

func (nopLog) Status(string)         {}
func (nopLog) Warnf(string, ...any)  {}
func (nopLog) Debugf(string, ...any) {}

func TestNodeProxy(t *testing.T) {
	config := []byte(`{"proxies":{"default":{"httpProxy":"http://cfg:3128","httpsProxy":"http://cfg:3128","noProxy":"cfg.local"},
		"unix:///run/other.sock":{"httpsProxy":"http://other:3128"}}}`)
	read := func(p string) ([]byte, error) {
		if p != "/home/s/.docker/config.json" {
			return nil, os.ErrNotExist
		}
		return config, nil
	}
	tests := []struct {
		name   string
		engine string
		env    map[string]string
		want   httpproxy.Config
	}{
		{"nothing set, no config", "docker", map[string]string{}, httpproxy.Config{}},
		{"the environment wins", "docker", map[string]string{"HOME": "/home/s", "https_proxy": "http://env:8080", "NO_PROXY": "a.local"},
			httpproxy.Config{HTTPSProxy: "http://env:8080", NoProxy: "a.local"}},
		{"docker's config fills the blanks", "docker", map[string]string{"HOME": "/home/s", "NO_PROXY": "a.local"},
			httpproxy.Config{HTTPProxy: "http://cfg:3128", HTTPSProxy: "http://cfg:3128", NoProxy: "a.local"}},
		{"the entry for DOCKER_HOST", "docker", map[string]string{"HOME": "/home/s", "DOCKER_HOST": "unix:///run/other.sock"},
			httpproxy.Config{HTTPSProxy: "http://other:3128"}},
		{"podman reads only the environment", "podman", map[string]string{"HOME": "/home/s"}, httpproxy.Config{}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := NodeProxy(tt.engine, func(k string) string { return tt.env[k] }, read)
			if diff := cmp.Diff(tt.want, *got); diff != "" {
				t.Errorf("(-want +got):\n%s", diff)
			}
		})
	}
}

// TestParseImageInspect reads `image inspect --format '{{json .}}'` as
// each engine prints it (captured from the engines themselves: the same
// image, loaded from one tarball into the e2e kind legs' docker and podman,
// has one ID).
func TestParseImageInspect(t *testing.T) {
	tests := []struct {
		file string
		want ImageInfo
	}{
		{"docker-20.10.json", ImageInfo{
			ID:           "sha256:9ec418c4e12cb32771d10bb979c3069da116936a9c6060ba2531503e8b0df208",
			RepoTags:     []string{"ubuntu:latest"},
			RepoDigests:  []string{},
			OS:           "linux",
			Architecture: "amd64",
		}},
		{"podman-4.3.1.json", ImageInfo{
			ID:           "sha256:9ec418c4e12cb32771d10bb979c3069da116936a9c6060ba2531503e8b0df208",
			RepoTags:     []string{"docker.io/library/ubuntu:latest"},
			RepoDigests:  []string{"docker.io/library/ubuntu@sha256:d1451b1c7ee3bcc445c4bbcdcd5736fdc95015486a4421e89b37d1e81c7baaac"},
			OS:           "linux",
			Architecture: "amd64",
		}},
	}
	for _, tt := range tests {
		t.Run(tt.file, func(t *testing.T) {
			data, err := os.ReadFile(filepath.Join("testdata", "image-inspect", tt.file))
			if err != nil {
				t.Fatal(err)
			}
			got, err := parseImageInspect(data)
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("(-want +got):\n%s", diff)
			}
		})
	}
	for _, bad := range []string{"", "[]", `[{"Id":"a"},{"Id":"b"}]`, "{", "Error: no such image"} {
		if got, err := parseImageInspect([]byte(bad)); err == nil {
			t.Errorf("parseImageInspect(%q) = %+v, want an error", bad, got)
		}
	}
}

// TestSaveSeveralImages: one archive holds every image, whichever the
// engine (podman needs --multi-image-archive for that).
func TestSaveSeveralImages(t *testing.T) {
	dir := t.TempDir()
	log := filepath.Join(dir, "calls")
	script := "#!/bin/sh\necho \"$0 $*\" >> " + log + "\n"
	for _, name := range EngineNames {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(script), 0o755); err != nil {
			t.Fatal(err)
		}
	}
	for _, name := range EngineNames {
		e := Engine{Name: name, Path: filepath.Join(dir, name)}
		if err := e.Save(context.Background(), "/tmp/a.tar", "nginx", "ubuntu"); err != nil {
			t.Fatal(err)
		}
		if err := e.Save(context.Background(), "/tmp/b.tar", "node"); err != nil {
			t.Fatal(err)
		}
	}
	want := strings.Join([]string{
		dir + "/docker save -o /tmp/a.tar nginx ubuntu",
		dir + "/docker save -o /tmp/b.tar node",
		dir + "/nerdctl save -o /tmp/a.tar nginx ubuntu",
		dir + "/nerdctl save -o /tmp/b.tar node",
		dir + "/podman save -o /tmp/a.tar --multi-image-archive nginx ubuntu",
		dir + "/podman save -o /tmp/b.tar node",
	}, "\n") + "\n"
	if diff := cmp.Diff(want, calls(t, log)); diff != "" {
		t.Errorf("(-want +got):\n%s", diff)
	}
}

func TestEngineOrder(t *testing.T) {
	tests := []struct {
		want string
		got  []string
	}{
		{"", []string{"docker", "nerdctl", "podman"}},
		{"docker", []string{"docker", "nerdctl", "podman"}},
		{"podman", []string{"podman", "docker", "nerdctl"}},
		{"nerdctl", []string{"nerdctl", "docker", "podman"}},
		{"lima", []string{"docker", "nerdctl", "podman"}},
	}
	for _, tt := range tests {
		t.Run(tt.want, func(t *testing.T) {
			if diff := cmp.Diff(tt.got, EngineOrder(tt.want)); diff != "" {
				t.Errorf("(-want +got):\n%s", diff)
			}
		})
	}
	if EngineNames[0] != "docker" {
		t.Errorf("EngineOrder changed EngineNames: %v", EngineNames)
	}
}

// TestProbeEnginesKindProvider: with Docker and Podman both answering,
// KIND_EXPERIMENTAL_PROVIDER=podman makes lab use Podman, as kind's CLI
// would; without it, Docker comes first.
func TestProbeEnginesKindProvider(t *testing.T) {
	dir := t.TempDir()
	for name, version := range map[string]string{"docker": "28.2.2", "podman": "4.3.1"} {
		script := "#!/bin/sh\n[ \"$1\" = info ] && echo " + version + "\n"
		if err := os.WriteFile(filepath.Join(dir, name), []byte(script), 0o755); err != nil {
			t.Fatal(err)
		}
	}
	t.Setenv("PATH", dir)
	for _, tt := range []struct{ env, want string }{{"", "docker 28.2.2"}, {"podman", "podman 4.3.1"}, {"docker", "docker 28.2.2"}} {
		t.Setenv(EnvKindProvider, tt.env)
		e, ok := FirstAnswering(ProbeEngines(context.Background()))
		if !ok || e.String() != tt.want {
			t.Errorf("%s=%q: engine %v, want %s", EnvKindProvider, tt.env, e, tt.want)
		}
	}
}
