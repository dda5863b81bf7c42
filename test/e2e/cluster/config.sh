# shellcheck shell=bash
# Pinned versions and fixed names of the offline end-to-end cluster.
# Sourced by harness and build.sh; every value may be overridden from the
# environment for experiments, but CI uses these.

: "${LAB_E2E_K8S_VERSION:=v1.34.4}"      # k8s.io/kubernetes (staging modules v0.34.4)
: "${LAB_E2E_ETCD_VERSION:=v3.6.6}"      # go.etcd.io/etcd/server/v3
: "${LAB_E2E_COREDNS_VERSION:=v1.15.0}"  # github.com/coredns/coredns
: "${LAB_E2E_REGISTRY_VERSION:=v3.1.2}"  # github.com/distribution/distribution/v3
: "${LAB_E2E_PAUSE_TAG:=3.10.1}"         # registry.k8s.io/pause tag kubelet 1.34 expects

# One cache directory for everything that is built; keyed by version inside.
: "${LAB_E2E_CACHE:=/var/cache/lab-e2e}"
# Runtime state of a running cluster (wiped by down).
: "${LAB_E2E_STATE:=/var/lib/lab-e2e}"
: "${LAB_E2E_RUN:=/run/lab-e2e}"

# Network: one bridge holds the pods, their gateway and the node IP (/32).
LAB_E2E_NODE_IP=10.254.254.1
LAB_E2E_BRIDGE=labe2e-br0
LAB_E2E_POD_CIDR=10.244.0.0/24
LAB_E2E_POD_GW=10.244.0.1
LAB_E2E_SVC_CIDR=10.96.0.0/24
LAB_E2E_APISERVER_SVC_IP=10.96.0.1
LAB_E2E_DNS_IP=10.254.254.1        # CoreDNS runs on the host, bound to the node IP
LAB_E2E_NODE_NAME=lab-e2e-node
LAB_E2E_REGISTRY_ADDR=127.0.0.1:5055
LAB_E2E_GUARD_CHAIN=LAB-E2E-GUARD

LAB_E2E_K8S_BIN="$LAB_E2E_CACHE/k8s-$LAB_E2E_K8S_VERSION/bin"
LAB_E2E_ETCD_BIN="$LAB_E2E_CACHE/etcd-$LAB_E2E_ETCD_VERSION/bin"
LAB_E2E_COREDNS_BIN="$LAB_E2E_CACHE/coredns-$LAB_E2E_COREDNS_VERSION/bin"
LAB_E2E_REGISTRY_BIN="$LAB_E2E_CACHE/registry-$LAB_E2E_REGISTRY_VERSION/bin"
LAB_E2E_KUBECONFIG="$LAB_E2E_STATE/kubeconfig"

# Debian packages the harness needs on the host (also copied into images).
LAB_E2E_APT_PACKAGES="containerd runc containernetworking-plugins busybox-static nginx-light tcpdump strace curl iptables iproute2 conntrack util-linux bsdutils procps openssl gcc libc6-dev"

log() { printf '[harness %s] %s\n' "$(date +%H:%M:%S)" "$*" >&2; }
die() { log "ERROR: $*"; exit 1; }
