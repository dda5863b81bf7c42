#!/usr/bin/env bash
# registry.sh start|stop: the kind nodes' only registry. The harness's
# registry binary serves, on docker0's address, the harness's image
# tarballs (the lab's pod images), pushed once per harness image set through
# the lab's dockerd. kind-config.yaml makes it the mirror of docker.io,
# registry.k8s.io and every other registry, so nothing leaves the machine.
# The podman leg runs it inside its network namespace, listening on every
# address there (LAB_KIND_REGISTRY_LISTEN=:5056: its bridge appears only
# with the first container), and pushes with podman (LAB_KIND_ENGINE).
set -euo pipefail
. "$(dirname "$0")/config.sh"
: "${DOCKER_HOST:=unix://$LAB_KIND_DOCKER_SOCK}"
export DOCKER_HOST
: "${LAB_KIND_ENGINE:=docker}"
: "${LAB_KIND_REGISTRY_LISTEN:=$LAB_KIND_REGISTRY_ADDR}"
reach=${LAB_KIND_REGISTRY_LISTEN/#:/127.0.0.1:}  # where this script finds it

start() {
	local images
	# shellcheck disable=SC2012 # newest first; the names are ours
	images=$(ls -td "$LAB_E2E_CACHE"/images-*/tars/.done 2>/dev/null | head -1) || true
	[ -n "$images" ] || kdie "no image tarballs in $LAB_E2E_CACHE: run test/e2e/cluster/harness build"
	images=$(dirname "$images")
	local key storage
	key=$(basename "$(dirname "$images")")
	storage="$LAB_KIND_CACHE/registry-$key"
	mkdir -p "$storage" "$LAB_KIND_STATE"
	if curl -fsS "http://$reach/v2/" >/dev/null 2>&1; then klog "registry already answers on $reach"; else
		cat >"$LAB_KIND_STATE/registry.yml" <<-EOT
		version: 0.1
		log:
		  level: warn
		storage:
		  filesystem:
		    rootdirectory: $storage
		  maintenance:
		    uploadpurging:
		      enabled: false
		http:
		  addr: $LAB_KIND_REGISTRY_LISTEN
		EOT
		OTEL_TRACES_EXPORTER=none OTEL_METRICS_EXPORTER=none OTEL_LOGS_EXPORTER=none \
			nohup "$LAB_E2E_REGISTRY_BIN/registry" serve "$LAB_KIND_STATE/registry.yml" >"$LAB_KIND_STATE/registry.log" 2>&1 &
		echo $! >"$LAB_KIND_STATE/registry.pid"

		for _ in $(seq 40); do curl -fsS "http://$reach/v2/" >/dev/null 2>&1 && break; sleep 0.5; done
		curl -fsS "http://$reach/v2/" >/dev/null || { tail "$LAB_KIND_STATE/registry.log" >&2; kdie "registry did not start"; }
	fi
	[ -e "$storage/.pushed" ] && return 0
	klog "pushing $images/*.tar to $reach with $LAB_KIND_ENGINE"
	local t ref path push=(push)
	# dockerd trusts the registry by --insecure-registry; podman per push.
	[ "$LAB_KIND_ENGINE" = podman ] && push+=(--tls-verify=false)
	for t in "$images"/*.tar; do
		ref=$(tar -xOf "$t" manifest.json | sed -n 's/.*"RepoTags":\["\([^"]*\)".*/\1/p')
		# The path a mirror is asked for: the reference without its registry.
		path=${ref#*/}
		"$LAB_KIND_ENGINE" load -i "$t" >/dev/null
		"$LAB_KIND_ENGINE" tag "$ref" "$reach/$path"
		"$LAB_KIND_ENGINE" "${push[@]}" "$reach/$path" >/dev/null || kdie "$LAB_KIND_ENGINE push $reach/$path failed"
		"$LAB_KIND_ENGINE" rmi "$reach/$path" "$ref" >/dev/null
	done
	touch "$storage/.pushed"
}

stop() {
	local pid
	pid=$(cat "$LAB_KIND_STATE/registry.pid" 2>/dev/null || true)
	if [ -n "$pid" ] && kill -0 "$pid" 2>/dev/null; then kill "$pid"; fi
	rm -f "$LAB_KIND_STATE/registry.pid"
}

case "${1:-}" in
start) start ;;
stop) stop ;;
*) echo "usage: $0 start|stop" >&2; exit 2 ;;
esac
