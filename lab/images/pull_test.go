package images

import (
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

// The messages are kubelet events, containerd errors and docker pull
// errors as they appear in real reports (containerd#2052, kubeadm#2936,
// kube-ops-view#176) and as kind prints them.
func TestClassifyPull(t *testing.T) {
	tests := []struct {
		name, image, msg string
		want             Cause
		wantImage        string
	}{
		{"dns, containerd", "", `Failed to pull image "kyos0109/nginx-distroless": failed to pull and unpack image "docker.io/kyos0109/nginx-distroless:latest": failed to resolve reference "docker.io/kyos0109/nginx-distroless:latest": failed to do request: Head "https://registry-1.docker.io/v2/kyos0109/nginx-distroless/manifests/latest": dial tcp: lookup registry-1.docker.io on 10.96.0.10:53: no such host`,
			DNS, "kyos0109/nginx-distroless"},
		{"dns, docker daemon", "", `Failed to pull image "hjacobs/kube-ops-view:0.8.1": rpc error: code = Unknown desc = Error response from daemon: Get https://registry-1.docker.io/v2/: dial tcp: lookup registry-1.docker.io on 127.0.0.53:53: server misbehaving`,
			DNS, "hjacobs/kube-ops-view:0.8.1"},
		{"dns server times out", "ubuntu", `dial tcp: lookup registry-1.docker.io on 192.168.1.1:53: read udp 172.18.0.2:40000->192.168.1.1:53: i/o timeout`, DNS, "ubuntu"},
		{"kind node image", "", `failed to pull image "kindest/node:v1.37.0@sha256:a1ed56cfb0e7b93589bdf97c8cd566405a265939e3620fc4f5de89adff580ae5": command "docker pull kindest/node:v1.37.0@sha256:a1ed56cfb0e7b93589bdf97c8cd566405a265939e3620fc4f5de89adff580ae5" failed with error: exit status 1
Command Output: Error response from daemon: Get "https://registry-1.docker.io/v2/": dial tcp: lookup registry-1.docker.io on 127.0.0.53:53: no such host`,
			DNS, "kindest/node:v1.37.0@sha256:a1ed56cfb0e7b93589bdf97c8cd566405a265939e3620fc4f5de89adff580ae5"},
		{"proxy down", "", `Failed to pull image "nicolaka/netshoot": failed to pull and unpack image "docker.io/nicolaka/netshoot:latest": failed to resolve reference "docker.io/nicolaka/netshoot:latest": failed to do request: Head "https://registry-1.docker.io/v2/nicolaka/netshoot/manifests/latest": proxyconnect tcp: dial tcp 10.0.0.1:3128: connect: connection refused`,
			Proxy, "nicolaka/netshoot"},
		{"timeout", "", `failed to pull and unpack image "registry.k8s.io/kube-proxy:v1.28.2": failed to resolve reference "registry.k8s.io/kube-proxy:v1.28.2": failed to do request: Head "https://registry.k8s.io/v2/kube-proxy/manifests/v1.28.2": dial tcp 34.96.108.209:443: connect: connection timed out`,
			Timeout, "registry.k8s.io/kube-proxy:v1.28.2"},
		{"unreachable", "curlimages/curl", `dial tcp 44.208.254.194:443: connect: network is unreachable`, Unreachable, "curlimages/curl"},
		{"not found", "", `Failed to pull image "kyos0109/nginx-distroless:nope": rpc error: code = NotFound desc = failed to pull and unpack image "docker.io/kyos0109/nginx-distroless:nope": failed to resolve reference "docker.io/kyos0109/nginx-distroless:nope": docker.io/kyos0109/nginx-distroless:nope: not found`,
			NotFound, "kyos0109/nginx-distroless:nope"},
		{"denied", "", `failed to resolve reference "docker.io/image/doesnotexist:latest": pull access denied, repository does not exist or may require authorization: server message: insufficient_scope: authorization failed`,
			Unauthorized, "docker.io/image/doesnotexist:latest"},
		{"forbidden", "busybox", `unexpected status from HEAD request to https://registry-1.docker.io/v2/library/busybox/manifests/latest: 403 Forbidden`, Unauthorized, "busybox"},
		{"platform", "", `Failed to pull image "x/arm-only": no match for platform in manifest: not found`, Platform, "x/arm-only"},
		{"nothing known", "", `something odd happened`, Unknown, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := ClassifyPull(tt.image, tt.msg)
			if diff := cmp.Diff([]string{string(tt.want), tt.wantImage}, []string{string(got.Cause), got.Image}); diff != "" {
				t.Errorf("ClassifyPull (-want +got):\n%s", diff)
			}
			if got.Why == "" || len(got.WaysOut(true)) == 0 {
				t.Errorf("no explanation or way out: %+v", got)
			}
		})
	}
}

func TestWaysOut(t *testing.T) {
	dns := PullFailure{Image: "kindest/node:v1", Cause: DNS}
	engine := dns.WaysOut(false)
	if diff := cmp.Diff(3, len(engine)); diff != "" {
		t.Fatalf("ways out for the engine (-want +got):\n%s\n%q", diff, engine)
	}
	for _, want := range []string{"HTTPS_PROXY", "lab bundle save", "--node-image"} {
		found := false
		for _, w := range engine {
			found = found || strings.Contains(w, want)
		}
		if !found {
			t.Errorf("no way out mentions %s: %q", want, engine)
		}
	}
	if got := (PullFailure{Cause: NotFound, Image: "x"}).WaysOut(true); len(got) != 1 {
		t.Errorf("a wrong name needs no bundle advice: %q", got)
	}
}
