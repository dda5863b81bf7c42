package doctor

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/k8s-debug-lab/lab/lab/cluster"
	"github.com/k8s-debug-lab/lab/lab/images"
	"github.com/k8s-debug-lab/lab/lab/kube"
)

// machine is a healthy machine: Docker answers, kubectl 1.36, 4 CPUs,
// kind's inotify limits, an amd64 cluster on containerd, a multi-arch image.
func machine() Probes {
	return Probes{
		Engines: func(context.Context) []cluster.Engine {
			return []cluster.Engine{{Name: "docker", Path: "/usr/bin/docker", Version: "28.2.2"}}
		},
		KubectlVersion: func(context.Context) (string, error) { return "v1.36.0", nil },
		ReadFile: func(p string) ([]byte, error) {
			return []byte(map[string]string{
				"/proc/sys/fs/inotify/max_user_watches":   "524288\n",
				"/proc/sys/fs/inotify/max_user_instances": "512\n",
			}[p]), nil
		},
		NumCPU: func() int { return 4 },
		GOOS:   "linux", GOARCH: "amd64",
		Cluster: func(context.Context) (*ClusterFacts, error) {
			return &ClusterFacts{Context: "kind-lab", Server: "https://127.0.0.1:41235", Version: "v1.34.4", Nodes: []kube.NodeFacts{
				{Name: "lab-control-plane", OS: "linux", Architecture: "amd64", Runtime: kube.ParseRuntime("containerd://2.1.1")},
			}}, nil
		},
		ImagePlatforms: func(context.Context, string, Puller) ([]string, error) {
			return []string{"linux/amd64", "linux/arm64/v8"}, nil
		},
	}
}

func offline(context.Context, string, Puller) ([]string, error) {
	return nil, errors.New(`asking https://registry-1.docker.io: Get "https://registry-1.docker.io/v2/": dial tcp: lookup registry-1.docker.io on 127.0.0.53:53: no such host`)
}

func notInEngine(context.Context, string) (string, error) {
	return "", errors.New("Error response from daemon: No such image")
}

func severities(r *Report) map[string]Severity {
	out := map[string]Severity{}
	for _, f := range r.Findings {
		out[f.Check] = f.Severity
	}
	return out
}

func find(r *Report, check string) Finding {
	for _, f := range r.Findings {
		if f.Check == check {
			return f
		}
	}
	return Finding{}
}

var labImages = []NeededImage{{RoleWorkload, "kyos0109/nginx-distroless"}, {"debugger", "nicolaka/netshoot"}}

func TestHealthyMachine(t *testing.T) {
	r := Run(context.Background(), Input{Provider: cluster.Kind, Images: labImages}, machine())
	want := map[string]Severity{"engine": OK, "kubectl": OK, "cpus": OK, "inotify": OK, "cluster": OK, "image/workload": OK, "image/debugger": OK, "capabilities": OK}
	if diff := cmp.Diff(want, severities(r)); diff != "" {
		t.Errorf("(-want +got):\n%s", diff)
	}
	if r.Blocking {
		t.Error("a healthy machine is blocked")
	}
}

func TestFindings(t *testing.T) {
	tests := []struct {
		name     string
		in       Input
		probes   func(*Probes)
		check    string
		severity Severity
		message  string
		fix      string
		blocking bool
	}{
		{
			name:  "no engine for kind",
			in:    Input{Provider: cluster.Kind},
			check: "engine", severity: Fail, blocking: true,
			probes: func(p *Probes) {
				p.Engines = func(context.Context) []cluster.Engine {
					return []cluster.Engine{{Name: "docker", Path: "/usr/bin/docker", Err: errors.New("Cannot connect to the Docker daemon")}}
				}
			},
			message: "Cannot connect to the Docker daemon", fix: "start Docker",
		},
		{
			name:  "no engine, but a cluster of one's own",
			in:    Input{Provider: cluster.Existing},
			check: "engine", severity: Info,
			probes: func(p *Probes) {
				p.Engines = func(context.Context) []cluster.Engine {
					return []cluster.Engine{{Name: "docker", Err: errors.New("not installed")}}
				}
			},
			message: "provider existing does not need one",
		},
		{
			name: "kubectl missing", in: Input{Provider: cluster.Existing}, check: "kubectl", severity: Fail, blocking: true,
			probes: func(p *Probes) {
				p.KubectlVersion = func(context.Context) (string, error) { return "", errors.New("kubectl is not on the PATH") }
			},
			message: "kubectl is not on the PATH", fix: "install kubectl 1.27 or newer",
		},
		{
			name: "kubectl too old", in: Input{Provider: cluster.Existing}, check: "kubectl", severity: Fail, blocking: true,
			probes:  func(p *Probes) { p.KubectlVersion = func(context.Context) (string, error) { return "v1.26.15", nil } },
			message: "older than 1.27",
		},
		{
			name: "kubectl before 1.36: type the profile", in: Input{Provider: cluster.Existing}, check: "kubectl", severity: Warn,
			probes: func(p *Probes) {
				p.KubectlVersion = func(context.Context) (string, error) { return "v1.32.4-dispatcher", nil }
			},
			message: "default profile is legacy", fix: "--profile=general",
		},
		{
			name: "one CPU for kind", in: Input{Provider: cluster.Kind}, check: "cpus", severity: Warn,
			probes:  func(p *Probes) { p.NumCPU = func() int { return 1 } },
			message: "1 CPU",
		},
		{
			name: "low inotify limits", in: Input{Provider: cluster.Kind}, check: "inotify", severity: Warn,
			probes: func(p *Probes) {
				p.ReadFile = func(p string) ([]byte, error) {
					return []byte(map[string]string{"/proc/sys/fs/inotify/max_user_watches": "192536", "/proc/sys/fs/inotify/max_user_instances": "128"}[p]), nil
				}
			},
			message: "max_user_watches 192536, max_user_instances 128",
			fix:     "sudo sysctl fs.inotify.max_user_watches=524288 fs.inotify.max_user_instances=512",
		},
		{
			name: "cluster does not answer", in: Input{Provider: cluster.Existing, ReachHint: "check the context"}, check: "cluster", severity: Fail, blocking: true,
			probes: func(p *Probes) {
				p.Cluster = func(context.Context) (*ClusterFacts, error) {
					return nil, errors.New("cannot reach the cluster at https://127.0.0.1:6443")
				}
			},
			message: "cannot reach the cluster", fix: "check the context",
		},
		{
			name: "kind cluster not created yet", in: Input{Provider: cluster.Kind, ClusterMissing: true, ClusterName: "kind cluster lab"}, check: "cluster", severity: Info,
			probes:  func(p *Probes) { p.Cluster = nil },
			message: "kind cluster lab does not exist yet; lab up creates it",
		},
		{
			name: "amd64-only image on an arm64 node", in: Input{Provider: cluster.Existing}, check: "image/workload", severity: Fail, blocking: true,
			probes: func(p *Probes) {
				p.Cluster = func(context.Context) (*ClusterFacts, error) {
					return &ClusterFacts{Nodes: []kube.NodeFacts{{Name: "minikube", OS: "linux", Architecture: "arm64", Runtime: kube.ParseRuntime("docker://27.2.0")}}}, nil
				}
				p.ImagePlatforms = func(context.Context, string, Puller) ([]string, error) { return []string{"linux/amd64"}, nil }
			},
			message: "kyos0109/nginx-distroless (the lab pod's image) is published for linux/amd64 only, but minikube is linux/arm64",
			fix:     "built for linux/arm64: lab up --nginx-image IMAGE",
		},
		{
			name: "kind's node is this machine's architecture", in: Input{Provider: cluster.Kind, ClusterMissing: true, Images: []NeededImage{{RoleWorkload, "x"}}}, check: "image/workload", severity: Fail, blocking: true,
			probes: func(p *Probes) {
				p.GOARCH = "arm64"
				p.ImagePlatforms = func(context.Context, string, Puller) ([]string, error) { return []string{"linux/amd64"}, nil }
			},
			message: "the kind node (this machine) is linux/arm64",
		},
		{
			name: "offline, nothing in the engine: the node image blocks", in: Input{Provider: cluster.Kind, ClusterMissing: true, Images: []NeededImage{{RoleNode, "kindest/node:v1.37.0@sha256:a1ed"}}},
			check: "image/node", severity: Fail, blocking: true,
			probes: func(p *Probes) {
				p.Cluster = nil
				p.ImagePlatforms = offline
				p.EngineImage = notInEngine
			},
			message: "kindest/node:v1.37.0@sha256:a1ed (kind's node image) is not in the container engine, and cannot be pulled (dns: lookup registry-1.docker.io on 127.0.0.53:53: no such host): the registry's name does not resolve",
			fix:     "lab up --node-image IMAGE",
		},
		{
			name: "offline, the node image in the engine", in: Input{Provider: cluster.Kind, ClusterMissing: true, Images: []NeededImage{{RoleNode, "kindest/node:v1.37.0"}}},
			check: "image/node", severity: OK,
			probes: func(p *Probes) {
				p.Cluster = nil
				p.ImagePlatforms = offline
				p.EngineImage = func(context.Context, string) (string, error) { return "linux/amd64", nil }
			},
			message: "present in the container engine (linux/amd64)",
		},
		{
			name: "offline, the pod's image only in the engine", in: Input{Provider: cluster.Kind, ClusterMissing: true},
			check: "image/workload", severity: Fail, blocking: true,
			probes: func(p *Probes) {
				p.Cluster = nil
				p.ImagePlatforms = offline
				p.EngineImage = func(context.Context, string) (string, error) { return "linux/amd64", nil }
			},
			message: "is in the container engine, but the nodes cannot pull it", fix: "lab up --preload",
		},
		{
			name: "offline, the pod's image on the nodes", in: Input{Provider: cluster.Kind},
			check: "image/workload", severity: OK,
			probes: func(p *Probes) {
				p.ImagePlatforms = offline
				p.Cluster = func(context.Context) (*ClusterFacts, error) {
					return &ClusterFacts{Nodes: []kube.NodeFacts{{Name: "lab-control-plane", OS: "linux", Architecture: "amd64"}},
						Images: []string{"docker.io/kyos0109/nginx-distroless:latest"}}, nil
				}
			},
			message: "present on every node",
		},
		{
			name: "offline with a bundle", in: Input{Provider: cluster.Kind, ClusterMissing: true, Images: []NeededImage{{RoleNode, "kindest/node:v1.37.0@sha256:a1ed"}},
				Bundle: &images.Manifest{NodeImage: images.Image{Name: "kindest/node:v1.37.0"}}},
			check: "image/node", severity: OK,
			probes: func(p *Probes) {
				p.ImagePlatforms = offline
				p.EngineImage = notInEngine
			},
			message: "in the bundle",
		},
		{
			name: "a damaged bundle", in: Input{Provider: cluster.Kind, BundleErr: errors.New("bundle x: it is damaged")},
			check: "bundle", severity: Fail, blocking: true, message: "it is damaged", fix: "copy the bundle again",
		},
		{
			name: "offline, someone else's cluster", in: Input{Provider: cluster.Existing},
			check: "image/workload", severity: Warn,
			probes:  func(p *Probes) { p.ImagePlatforms = offline },
			message: "the cluster's nodes may still reach the registry", fix: "lab up --provider kind --bundle FILE",
		},
		{
			name: "a misspelt image", in: Input{Provider: cluster.Kind},
			check: "image/workload", severity: Fail, blocking: true,
			probes: func(p *Probes) {
				p.ImagePlatforms = func(context.Context, string, Puller) ([]string, error) {
					return nil, errors.New("https://registry-1.docker.io has no kyos0109/nginx-distroless/manifests/latest (HTTP 404): check the image's name")
				}
			},
			message: "(not found", fix: "check the image's name",
		},
		{
			name: "CRI-O drops NET_RAW", in: Input{Provider: cluster.Existing}, check: "capabilities", severity: Warn,
			probes: func(p *Probes) {
				p.Cluster = func(context.Context) (*ClusterFacts, error) {
					return &ClusterFacts{Nodes: []kube.NodeFacts{{Name: "crc", OS: "linux", Architecture: "amd64", Runtime: kube.ParseRuntime("cri-o://1.30.2")}}}, nil
				}
			},
			message: "NET_RAW", fix: "--profile=netadmin",
		},
		{
			name: "no provider at all", in: Input{ProviderErr: fmt.Errorf("%w: …", cluster.ErrNothingToUse)}, check: "provider", severity: Fail, blocking: true,
			message: "no cluster to use", fix: "start Docker",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p := machine()
			if tt.probes != nil {
				tt.probes(&p)
			}
			in := tt.in
			if in.Images == nil {
				in.Images = labImages[:1]
			}
			r := Run(context.Background(), in, p)
			f := find(r, tt.check)
			if f.Severity != tt.severity || !strings.Contains(f.Message, tt.message) || !strings.Contains(f.Fix, tt.fix) {
				t.Errorf("finding %+v\nwant %s, message with %q, fix with %q", f, tt.severity, tt.message, tt.fix)
			}
			if (tt.severity == Warn || tt.severity == Fail) && f.Fix == "" {
				t.Error("a problem without a fix")
			}
			if r.Blocking != tt.blocking {
				t.Errorf("blocking %v, want %v", r.Blocking, tt.blocking)
			}
		})
	}
}

func TestParseImageRef(t *testing.T) {
	tests := map[string]imageRef{
		"nginx":                             {"registry-1.docker.io", "library/nginx", "latest"},
		"kyos0109/nginx-distroless":         {"registry-1.docker.io", "kyos0109/nginx-distroless", "latest"},
		"docker.io/nicolaka/netshoot:v0.13": {"registry-1.docker.io", "nicolaka/netshoot", "v0.13"},
		"ghcr.io/org/img@sha256:abc":        {"ghcr.io", "org/img", "sha256:abc"},
		"127.0.0.1:5055/lab/nginx:1":        {"127.0.0.1:5055", "lab/nginx", "1"},
		"localhost/img":                     {"localhost", "img", "latest"},
	}
	for in, want := range tests {
		got, err := parseImageRef(in)
		if err != nil {
			t.Errorf("%s: %v", in, err)
			continue
		}
		if diff := cmp.Diff(want, got); diff != "" {
			t.Errorf("%s (-want +got):\n%s", in, diff)
		}
	}
	if _, err := parseImageRef("a b"); err == nil {
		t.Error("a reference with a space accepted")
	}
}

// registry serves one multi-platform image behind Docker Hub's token
// challenge, and one single-platform image.
func registryServer(t *testing.T) *httptest.Server {
	t.Helper()
	return newRegistry(t, httptest.NewServer)
}

func newRegistry(t *testing.T, start func(http.Handler) *httptest.Server) *httptest.Server {
	mux := http.NewServeMux()
	var srv *httptest.Server
	mux.HandleFunc("/token", func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Query().Get("scope") != "repository:lab/multi:pull" || r.URL.Query().Get("service") != "test-registry" {
			http.Error(w, "bad scope "+r.URL.RawQuery, http.StatusBadRequest)
			return
		}
		json.NewEncoder(w).Encode(map[string]string{"token": "anon"})
	})
	mux.HandleFunc("/v2/lab/multi/manifests/latest", func(w http.ResponseWriter, r *http.Request) {
		if r.Header.Get("Authorization") != "Bearer anon" {
			w.Header().Set("WWW-Authenticate", fmt.Sprintf(`Bearer realm="%s/token",service="test-registry",scope="repository:lab/multi:pull"`, srv.URL))
			w.WriteHeader(http.StatusUnauthorized)
			return
		}
		if !strings.Contains(r.Header.Get("Accept"), "application/vnd.oci.image.index.v1+json") {
			http.Error(w, "index not accepted", http.StatusNotAcceptable)
			return
		}
		w.Header().Set("Content-Type", "application/vnd.oci.image.index.v1+json")
		fmt.Fprint(w, `{"schemaVersion":2,"manifests":[
			{"digest":"sha256:1","platform":{"architecture":"amd64","os":"linux"}},
			{"digest":"sha256:2","platform":{"architecture":"arm64","os":"linux","variant":"v8"}},
			{"digest":"sha256:3","platform":{"architecture":"unknown","os":"unknown"}}]}`)
	})
	mux.HandleFunc("/v2/lab/single/manifests/1.0", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/vnd.docker.distribution.manifest.v2+json")
		fmt.Fprint(w, `{"schemaVersion":2,"mediaType":"application/vnd.docker.distribution.manifest.v2+json","config":{"digest":"sha256:cfg"},"layers":[]}`)
	})
	mux.HandleFunc("/v2/lab/single/blobs/sha256:cfg", func(w http.ResponseWriter, r *http.Request) {
		fmt.Fprint(w, `{"architecture":"amd64","os":"linux","config":{}}`)
	})
	srv = start(mux)
	t.Cleanup(srv.Close)
	return srv
}

func TestImagePlatforms(t *testing.T) {
	srv := registryServer(t)
	host := strings.TrimPrefix(srv.URL, "http://")
	tests := []struct {
		image   string
		want    []string
		wantErr string
	}{
		{image: host + "/lab/multi", want: []string{"linux/amd64", "linux/arm64/v8"}},
		{image: host + "/lab/single:1.0", want: []string{"linux/amd64"}},
		{image: host + "/lab/missing", wantErr: "HTTP 404"},
	}
	for _, tt := range tests {
		t.Run(tt.image, func(t *testing.T) {
			got, err := ImagePlatforms(context.Background(), srv.Client(), tt.image)
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("error %v, want %q", err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("(-want +got):\n%s", diff)
			}
		})
	}
}

func TestParseChallenge(t *testing.T) {
	got := parseChallenge(`realm="https://auth.docker.io/token",service="registry.docker.io",scope="repository:library/nginx:pull"`)
	want := map[string]string{"realm": "https://auth.docker.io/token", "service": "registry.docker.io", "scope": "repository:library/nginx:pull"}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("(-want +got):\n%s", diff)
	}
}
