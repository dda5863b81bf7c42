package cluster

import (
	"context"
	"errors"
	"net/netip"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes/fake"

	"github.com/k8s-debug-lab/lab/internal/golden"
	"github.com/k8s-debug-lab/lab/lab/kube"
)

// kubeconfig copies a sample kubeconfig into a temporary home, creating the
// certificate files it names (clientcmd checks that they can be read).
func kubeconfig(t *testing.T, name string) string {
	t.Helper()
	home := t.TempDir()
	data, err := os.ReadFile(filepath.Join("testdata", "kubeconfigs", name))
	if err != nil {
		t.Fatal(err)
	}
	text := strings.ReplaceAll(string(data), "$HOME", home)
	for _, f := range []string{".minikube/ca.crt", ".minikube/profiles/minikube/client.crt", ".minikube/profiles/minikube/client.key",
		".minikube/profiles/course/client.crt", ".minikube/profiles/course/client.key"} {
		p := filepath.Join(home, f)
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte("not checked before connecting"), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	path := filepath.Join(home, "config")
	if err := os.WriteFile(path, []byte(text), 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}

func resolve(t *testing.T, file, context string) *kube.Target {
	t.Helper()
	tg, err := kube.Resolve(kube.Options{Kubeconfig: kubeconfig(t, file), Context: context})
	if err != nil {
		t.Fatal(err)
	}
	return tg
}

func TestMinikubeDetection(t *testing.T) {
	tests := []struct {
		file, context string
		want          bool
	}{
		{"minikube.yaml", "", true},
		{"minikube-profile.yaml", "", true}, // any profile name: the extension decides
		{"mixed.yaml", "minikube", false},   // a name alone is not minikube
		{"mixed.yaml", "kind-lab", false},
		{"mixed.yaml", "", false},
	}
	for _, tt := range tests {
		t.Run(tt.file+"/"+tt.context, func(t *testing.T) {
			if got := IsMinikube(resolve(t, tt.file, tt.context)); got != tt.want {
				t.Errorf("IsMinikube = %v, want %v", got, tt.want)
			}
		})
	}
}

func TestMinikubeNodes(t *testing.T) {
	mk := &corev1.Node{ObjectMeta: metav1.ObjectMeta{Name: "minikube", Labels: map[string]string{
		"minikube.k8s.io/name": "minikube", "minikube.k8s.io/primary": "true", "kubernetes.io/os": "linux"}}}
	other := &corev1.Node{ObjectMeta: metav1.ObjectMeta{Name: "n1", Labels: map[string]string{"kubernetes.io/os": "linux"}}}
	if !HasMinikubeNodes(context.Background(), fake.NewClientset(mk)) {
		t.Error("minikube's node labels not recognised")
	}
	if HasMinikubeNodes(context.Background(), fake.NewClientset(other)) {
		t.Error("a plain node taken for minikube")
	}
}

func TestClassify(t *testing.T) {
	LocalAddrs = func() []netip.Addr {
		return []netip.Addr{netip.MustParseAddr("127.0.0.1"), netip.MustParseAddr("10.254.254.1")}
	}
	t.Cleanup(func() { LocalAddrs = defaultLocalAddrs })
	tests := []struct {
		file, context string
		local         bool
		why           string
	}{
		{"mixed.yaml", "kind-lab", true, "kind context"},
		{"mixed.yaml", "docker-desktop", true, "docker-desktop context"},
		{"mixed.yaml", "harness", true, "address of this machine"},
		{"mixed.yaml", "v6", true, "loopback address"},
		{"mixed.yaml", "k3d-dev", true, "loopback address"},
		{"mixed.yaml", "gke_course_europe-west1_prod", false, "server 34.118.10.5 is not an address of this machine"},
		{"mixed.yaml", "minikube", false, "server 10.20.30.40 is not an address of this machine"},
		{"mixed.yaml", "kind-fake", false, "server 34.118.10.5 is not an address of this machine"},
		{"minikube.yaml", "", true, "minikube cluster"},
		{"minikube-profile.yaml", "", true, "minikube cluster"},
	}
	for _, tt := range tests {
		t.Run(tt.file+"/"+tt.context, func(t *testing.T) {
			got := Classify(resolve(t, tt.file, tt.context))
			if diff := cmp.Diff(Locality{tt.local, tt.why}, got); diff != "" {
				t.Errorf("(-want +got):\n%s", diff)
			}
		})
	}
}

func TestCheckSafe(t *testing.T) {
	LocalAddrs = func() []netip.Addr { return nil }
	t.Cleanup(func() { LocalAddrs = defaultLocalAddrs })
	path := kubeconfig(t, "mixed.yaml")
	target := func(context string) *kube.Target {
		tg, err := kube.Resolve(kube.Options{Kubeconfig: path, Context: context})
		if err != nil {
			t.Fatal(err)
		}
		return tg
	}
	tests := []struct {
		name    string
		context string // "" = the current context (the cloud one)
		yes     bool
		wantErr string
	}{
		{"current remote context is refused", "", false, "name it and confirm: --context gke_course_europe-west1_prod --yes"},
		{"current remote context is refused even with --yes", "", true, "name it and confirm"},
		{"named remote context needs --yes", "gke_course_europe-west1_prod", false, "add --yes"},
		{"named remote context with --yes is allowed", "gke_course_europe-west1_prod", true, ""},
		{"local context needs nothing", "kind-lab", false, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := CheckSafe(target(tt.context), tt.yes)
			if tt.wantErr == "" {
				if err != nil {
					t.Fatalf("refused: %v", err)
				}
				return
			}
			var ue *UnsafeError
			if !errors.As(err, &ue) || !strings.Contains(err.Error(), tt.wantErr) {
				t.Fatalf("error %v, want an UnsafeError containing %q", err, tt.wantErr)
			}
			if !strings.Contains(err.Error(), "https://34.118.10.5") {
				t.Errorf("the refusal does not name the server: %v", err)
			}
		})
	}
}

func TestSelect(t *testing.T) {
	docker := Engine{Name: "docker", Path: "/usr/bin/docker", Version: "28.2.2"}
	down := Engine{Name: "docker", Path: "/usr/bin/docker", Err: errors.New("Cannot connect to the Docker daemon")}
	mixed := kubeconfig(t, "mixed.yaml")
	tg := func(file, context string) *kube.Target {
		if file == "" {
			return nil
		}
		p := mixed
		if file != "mixed.yaml" {
			p = kubeconfig(t, file)
		}
		x, err := kube.Resolve(kube.Options{Kubeconfig: p, Context: context})
		if err != nil {
			t.Fatal(err)
		}
		return x
	}
	tests := []struct {
		name       string
		in         SelectInput
		engines    []Engine
		want       Choice
		wantErr    string
		wantProbed bool
	}{
		{name: "flag wins", in: SelectInput{Flag: "existing", Env: "kind"}, engines: []Engine{docker},
			want: Choice{Name: Existing, Source: "--provider", Warning: "--provider existing overrides LAB_PROVIDER=kind"}},
		{name: "flag equal to env is no override", in: SelectInput{Flag: "kind", Env: "kind"},
			want: Choice{Name: Kind, KindName: "lab", Source: "--provider"}},
		{name: "env next, and said", in: SelectInput{Env: "minikube"},
			want: Choice{Name: Minikube, Source: "LAB_PROVIDER", Warning: "using provider minikube from LAB_PROVIDER=minikube"}},
		{name: "unknown flag", in: SelectInput{Flag: "k3d"}, wantErr: "unknown provider: k3d (want kind, minikube or existing)"},
		{name: "unknown env", in: SelectInput{Env: "docker"}, wantErr: "LAB_PROVIDER: unknown provider: docker"},
		{name: "minikube context", in: SelectInput{Target: tg("minikube.yaml", "")}, engines: []Engine{docker},
			want: Choice{Name: Minikube, Source: "detected", Reason: "context minikube is a minikube cluster"}},
		{name: "lab's kind context", in: SelectInput{Target: tg("mixed.yaml", "kind-lab")},
			want: Choice{Name: Kind, KindName: "lab", Source: "detected", Reason: "context kind-lab is lab's kind cluster"}},
		{name: "another kind name", in: SelectInput{Target: tg("mixed.yaml", "kind-lab"), KindName: "course"}, engines: []Engine{docker},
			want: Choice{Name: Kind, KindName: "course", Source: "detected", Reason: "docker 28.2.2 answers"}, wantProbed: true},
		{name: "explicit context is used as it is", in: SelectInput{Target: tg("mixed.yaml", "docker-desktop"), Explicit: true}, engines: []Engine{docker},
			want: Choice{Name: Existing, Source: "detected", Reason: "context docker-desktop was given"}},
		{name: "an engine means kind, not the current cloud context", in: SelectInput{Target: tg("mixed.yaml", "")}, engines: []Engine{down, docker},
			want: Choice{Name: Kind, KindName: "lab", Source: "detected", Reason: "docker 28.2.2 answers"}, wantProbed: true},
		{name: "no engine: the current context", in: SelectInput{Target: tg("mixed.yaml", "")}, engines: []Engine{down},
			want: Choice{Name: Existing, Source: "detected", Reason: "no container engine answers; using the current context gke_course_europe-west1_prod"}, wantProbed: true},
		{name: "nothing at all", in: SelectInput{}, engines: []Engine{down},
			wantErr: "no cluster to use: no container engine answers (docker: Cannot connect to the Docker daemon)", wantProbed: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			probed := false
			tt.in.Engines = func() []Engine { probed = true; return tt.engines }
			got, err := Select(tt.in)
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("error %v, want %q", err, tt.wantErr)
				}
			} else if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("(-want +got):\n%s", diff)
			}
			if probed != tt.wantProbed {
				t.Errorf("engines probed: %v, want %v (an explicit choice must cost no probe)", probed, tt.wantProbed)
			}
		})
	}
}

func TestProviderOf(t *testing.T) {
	for ctx, want := range map[string]Name{"kind-lab": Kind, "kind-fake": Existing, "docker-desktop": Existing} {
		if got := ProviderOf(resolve(t, "mixed.yaml", ctx)); got != want {
			t.Errorf("%s: %s, want %s", ctx, got, want)
		}
	}
	if got := ProviderOf(resolve(t, "minikube-profile.yaml", "")); got != Minikube {
		t.Errorf("minikube profile: %s", got)
	}
}

func TestKindConfig(t *testing.T) {
	tests := []struct {
		name   string
		opts   KindOptions
		golden string
	}{
		{"default", KindOptions{}, "kind-config-default.golden.yaml"},
		{"named, with a node image", KindOptions{Name: "course", NodeImage: "lab/node:v1.34.4"}, "kind-config-image.golden.yaml"},
		{"from the user's config", KindOptions{ConfigFile: filepath.Join("testdata", "kind-config.yaml")}, "kind-config-user.golden.yaml"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cfg, err := KindConfig(tt.opts)
			if err != nil {
				t.Fatal(err)
			}
			for _, n := range cfg.Nodes {
				if n.Labels[MarkerLabel] != MarkerValue {
					t.Errorf("node %s lacks the marker: %v", n.Role, n.Labels)
				}
			}
			got, err := MarshalKindConfig(cfg)
			if err != nil {
				t.Fatal(err)
			}
			golden.Check(t, filepath.Join("testdata", tt.golden), string(got))
		})
	}
}

func TestKindConfigRejectsMistakes(t *testing.T) {
	dir := t.TempDir()
	tests := map[string]string{
		"unknown field": "kind: Cluster\napiVersion: kind.x-k8s.io/v1alpha4\nnodes:\n- role: control-plane\n  labelz: {}\n",
		"wrong kind":    "kind: Config\napiVersion: kind.x-k8s.io/v1alpha4\n",
		"old version":   "kind: Cluster\napiVersion: kind.x-k8s.io/v1alpha3\n",
	}
	for name, text := range tests {
		t.Run(name, func(t *testing.T) {
			p := filepath.Join(dir, strings.ReplaceAll(name, " ", "-")+".yaml")
			if err := os.WriteFile(p, []byte(text), 0o644); err != nil {
				t.Fatal(err)
			}
			if _, err := KindConfig(KindOptions{ConfigFile: p}); err == nil || !strings.Contains(err.Error(), p) {
				t.Errorf("error %v, want one naming %s", err, p)
			}
		})
	}
}

func TestKindOwnership(t *testing.T) {
	marked := &corev1.Node{ObjectMeta: metav1.ObjectMeta{Name: "lab-control-plane", Labels: map[string]string{MarkerLabel: MarkerValue}}}
	plain := &corev1.Node{ObjectMeta: metav1.ObjectMeta{Name: "lab-control-plane"}}
	p := newKind(KindOptions{Name: "lab"}, nil)
	owned, why, err := p.Owned(context.Background(), fake.NewClientset(marked))
	if err != nil || !owned || !strings.Contains(why, MarkerLabel) {
		t.Errorf("marked cluster: owned %v, %q, %v", owned, why, err)
	}
	owned, why, err = p.Owned(context.Background(), fake.NewClientset(plain))
	if err != nil || owned || !strings.Contains(why, "lab did not create it") {
		t.Errorf("unmarked cluster: owned %v, %q, %v", owned, why, err)
	}
	// Without an engine the node cannot be asked either: no guess.
	if owned, _, err := p.Owned(context.Background(), nil); owned || err == nil {
		t.Errorf("unreachable cluster without an engine: owned %v, error %v", owned, err)
	}
}

func TestKindWithoutEngine(t *testing.T) {
	down := Engine{Name: "docker", Path: "/usr/bin/docker", Err: errors.New("Cannot connect to the Docker daemon")}
	p := New(Choice{Name: Kind, KindName: "lab"}, Options{Engines: []Engine{down}})
	_, err := p.Target(context.Background())
	var ee *EngineError
	if !errors.As(err, &ee) || !strings.Contains(err.Error(), "Cannot connect to the Docker daemon") {
		t.Errorf("error %v, want an EngineError with the engine's words", err)
	}
}

func TestParseName(t *testing.T) {
	for _, n := range Names {
		if got, err := ParseName(string(n)); err != nil || got != n {
			t.Errorf("%s: %s, %v", n, got, err)
		}
	}
	if _, err := ParseName("Kind"); err == nil {
		t.Error("names are exact")
	}
}

// kind's own words for a node image it could not pull become the image,
// the cause and the ways out.
func TestPullErrExplainsTheNodeImage(t *testing.T) {
	kindSays := errors.New(`creating kind cluster lab: failed to pull image "kindest/node:v1.37.0@sha256:a1ed56cfb0e7b93589bdf97c8cd566405a265939e3620fc4f5de89adff580ae5": command "docker pull kindest/node:v1.37.0@sha256:a1ed56cfb0e7b93589bdf97c8cd566405a265939e3620fc4f5de89adff580ae5" failed with error: exit status 1
Command Output: Error response from daemon: Get "https://registry-1.docker.io/v2/": dial tcp: lookup registry-1.docker.io on 127.0.0.53:53: no such host`)
	err := pullErr(kindSays)
	var pe *NodeImagePullError
	if !errors.As(err, &pe) {
		t.Fatalf("pullErr = %T, want a NodeImagePullError", err)
	}
	for _, want := range []string{"pulling kindest/node:v1.37.0@sha256:", "(dns)", "lab up --bundle", "--node-image", "HTTPS_PROXY"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("message lacks %q:\n%s", want, err)
		}
	}
	if other := errors.New("creating kind cluster lab: port 6443 is in use"); pullErr(other) != other {
		t.Error("an error that is no pull was rewritten")
	}
}
