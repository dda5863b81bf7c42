#!/usr/bin/env bash
# measure.sh times, on this machine, the node image build (as the cache
# stands: run it with an empty LAB_KIND_CACHE for a cold build), plain
# `kind create cluster` with that image (the kind CLI at the version lab's
# go.mod pins, built from the module proxy into the cache), and
# `lab up --provider kind` / `lab down --yes`, once with the node image not
# yet in dockerd (cold) and once with it loaded (warm). It starts and stops
# dockerd and the registry itself; run it as root, not while TestKind runs.
set -euo pipefail
. "$(dirname "$0")/config.sh"
root=$(cd "$KIND_E2E_DIR/../../.." && pwd)
export DOCKER_HOST="unix://$LAB_KIND_DOCKER_SOCK"
export GOFLAGS=-buildvcs=false GOTOOLCHAIN=local
work=$(mktemp -d)
export KUBECONFIG=$work/kubeconfig
trap '"$KIND_E2E_DIR/dockerd.sh" stop; rm -rf "$work"' EXIT

kind_version=$(cd "$root" && go list -m -f '{{.Version}}' sigs.k8s.io/kind)
kind_bin=$LAB_KIND_CACHE/kind-$kind_version/bin/kind
if [ ! -x "$kind_bin" ]; then
	mkdir -p "$(dirname "$kind_bin")"
	(cd "$work" && CGO_ENABLED=0 GOBIN="$(dirname "$kind_bin")" go install "sigs.k8s.io/kind@$kind_version")
fi
(cd "$root" && go build -o "$work/lab" ./cmd/lab)

t() { # t LABEL CMD...: run CMD, print how long it took
	local s=$SECONDS note=
	if ! "${@:2}" >"$work/out" 2>&1; then
		# lab up's known race with a new cluster's default ServiceAccount:
		# say so, and time the retry too.
		grep -q 'serviceaccount "default" not found' "$work/out" || { tail -30 "$work/out" >&2; kdie "$1 failed"; }
		note=" (raced the default ServiceAccount; retried)"
		"${@:2}" >"$work/out" 2>&1 || { tail -30 "$work/out" >&2; kdie "$1 failed"; }
	fi
	printf '%-44s %4ss%s\n' "$1" $((SECONDS - s)) "$note"
}

"$KIND_E2E_DIR/dockerd.sh" start
t "node image build + docker load" "$KIND_E2E_DIR/build-node-image.sh"
"$KIND_E2E_DIR/registry.sh" start
cfg=$KIND_E2E_DIR/kind-config.yaml
t "kind create cluster (image loaded)" "$kind_bin" create cluster --name bench --image "$LAB_KIND_NODE_IMAGE" --config "$cfg" --wait 3m
t "kind delete cluster" "$kind_bin" delete cluster --name bench
t "lab up --provider kind (image loaded)" "$work/lab" up --provider kind --node-image "$LAB_KIND_NODE_IMAGE" --kind-config "$cfg"
t "lab up again (ready lab)" "$work/lab" up --provider kind --node-image "$LAB_KIND_NODE_IMAGE" --kind-config "$cfg"
t "lab down --yes" "$work/lab" down --provider kind --yes
docker rmi "$LAB_KIND_NODE_IMAGE" >/dev/null
t "docker load of the cached node image" docker load -i "$LAB_KIND_NODE_TAR"
docker rmi "$LAB_KIND_NODE_IMAGE" >/dev/null
t "kind create cluster (image not loaded)" sh -c "docker load -i '$LAB_KIND_NODE_TAR' && '$kind_bin' create cluster --name bench --image '$LAB_KIND_NODE_IMAGE' --config '$cfg' --wait 3m"
t "kind delete cluster" "$kind_bin" delete cluster --name bench
docker rmi "$LAB_KIND_NODE_IMAGE" >/dev/null
t "lab up --provider kind (image not loaded)" sh -c "docker load -i '$LAB_KIND_NODE_TAR' && '$work/lab' up --provider kind --node-image '$LAB_KIND_NODE_IMAGE' --kind-config '$cfg'"
t "lab down --yes" "$work/lab" down --provider kind --yes
