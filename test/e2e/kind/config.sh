# shellcheck shell=bash
# shellcheck disable=SC2034  # the variables are used by the scripts that source this file
# Pinned versions, fixed names and paths of the kind leg of the end-to-end
# tests. Sourced by the scripts beside it. The Kubernetes, etcd, CoreDNS and
# registry versions come from the harness (../cluster/config.sh), whose
# binaries and image tarballs this leg reuses read-only.

# The engines, the registry and their probes reach only this machine's
# bridges: the unreachable proxy the tests give lab (offline_test.go) is
# not for them.
unset HTTPS_PROXY HTTP_PROXY https_proxy http_proxy

KIND_E2E_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
# shellcheck source=../cluster/config.sh
. "$KIND_E2E_DIR/../cluster/config.sh"

: "${LAB_KIND_CACHE:=/var/cache/lab-kind}"       # what this leg builds, keyed by version
: "${LAB_KIND_CRICTL_VERSION:=v1.34.0}"          # sigs.k8s.io/cri-tools
: "${LAB_KIND_DEBIAN_MIRROR:=http://deb.debian.org/debian}"
: "${LAB_KIND_DEBIAN_SUITE:=bookworm}"

# dockerd runs with its own roots and socket so that it never meets a
# system docker or the harness's containerd.
: "${LAB_KIND_DOCKER_ROOT:=/var/lib/lab-docker}"
: "${LAB_KIND_DOCKER_EXEC:=/run/lab-docker}"
LAB_KIND_DOCKER_SOCK="$LAB_KIND_DOCKER_EXEC/docker.sock"
LAB_KIND_DOCKER_BIP=172.30.0.1/24         # docker0: fixed, so the registry address is known
LAB_KIND_REGISTRY_ADDR=172.30.0.1:5056    # the node's only mirror, on docker0's gateway
: "${LAB_KIND_STATE:=$LAB_KIND_DOCKER_EXEC/state}"  # what to restore when the engine stops

# The podman leg (podman.sh): rootful Podman with its own storage, run root
# and network configs, confined with everything it starts (conmon, the
# kind node, netavark's bridge and iptables rules, aardvark-dns, the
# registry) to a network namespace of its own, which has no way out.
: "${LAB_KIND_PODMAN_ROOT:=/var/lib/lab-podman}"
: "${LAB_KIND_PODMAN_RUN:=/run/lab-podman}"
LAB_KIND_PODMAN_NETNS=lab-podman

# The node image's tag and cached tarball are keyed by everything it is
# built from: the pinned versions, files/ and the build script.
LAB_KIND_KEY=$(
	cd "$KIND_E2E_DIR" &&
		{
			echo "$LAB_E2E_K8S_VERSION $LAB_E2E_ETCD_VERSION $LAB_E2E_COREDNS_VERSION $LAB_E2E_PAUSE_TAG $LAB_KIND_CRICTL_VERSION $LAB_KIND_DEBIAN_SUITE"
			find files build-node-image.sh -type f | LC_ALL=C sort | xargs sha256sum
		} | sha256sum | cut -c1-12
)
LAB_KIND_NODE_IMAGE="lab.local/kind-node:$LAB_E2E_K8S_VERSION-$LAB_KIND_KEY"
LAB_KIND_NODE_TAR="$LAB_KIND_CACHE/node-$LAB_E2E_K8S_VERSION-$LAB_KIND_KEY.tar"
LAB_KIND_IMAGES="$LAB_KIND_CACHE/images-$LAB_KIND_KEY"  # the control-plane image tarballs
LAB_KIND_KUBEADM_BIN="$LAB_KIND_CACHE/k8s-$LAB_E2E_K8S_VERSION/bin"
LAB_KIND_CRICTL_BIN="$LAB_KIND_CACHE/cri-tools-$LAB_KIND_CRICTL_VERSION/bin"
LAB_KIND_ROOTFS="$LAB_KIND_CACHE/debootstrap-$LAB_KIND_DEBIAN_SUITE/rootfs"

klog() { printf '[kind-e2e %s] %s\n' "$(date +%H:%M:%S)" "$*" >&2; }
kdie() { klog "ERROR: $*"; exit 1; }
