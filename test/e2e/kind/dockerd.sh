#!/usr/bin/env bash
# dockerd.sh start|stop|env|wrap: a dockerd for the kind leg, with its own data
# root, exec root and socket, and a host restored on stop (containers,
# networks and volumes it made, the registry (registry.sh), docker0, its iptables chains, the FORWARD
# policy and ip_forward it changes). `env` prints the DOCKER_HOST to export.
set -euo pipefail
. "$(dirname "$0")/config.sh"

docker_() { DOCKER_HOST="unix://$LAB_KIND_DOCKER_SOCK" docker "$@"; }

start() {
	if docker_ version >/dev/null 2>&1; then klog "dockerd already answers on $LAB_KIND_DOCKER_SOCK"; return 0; fi
	command -v dockerd >/dev/null || kdie "dockerd not found: apt-get install docker.io"
	command -v jq >/dev/null || kdie "jq not found (runc-bounded needs it): apt-get install jq"
	mkdir -p "$LAB_KIND_DOCKER_ROOT" "$LAB_KIND_DOCKER_EXEC" "$LAB_KIND_STATE"
	# --iptables=false --ip-forward=false: dockerd would otherwise put its
	# chains ahead of the harness's guard in FORWARD and may switch FORWARD
	# to DROP. Nothing here needs them: the nodes share one bridge, the host
	# reaches them directly (the API server through docker-proxy), they
	# reach the registry on docker0's address, and nothing leaves the
	# machine. Both are remembered all the same, and restored on stop.
	cat /proc/sys/net/ipv4/ip_forward >"$LAB_KIND_STATE/ip_forward"
	iptables -S FORWARD | sed -n 's/^-P FORWARD //p' >"$LAB_KIND_STATE/forward_policy"
	nohup dockerd --data-root "$LAB_KIND_DOCKER_ROOT" --exec-root "$LAB_KIND_DOCKER_EXEC" \
		--pidfile "$LAB_KIND_DOCKER_EXEC/dockerd.pid" -H "unix://$LAB_KIND_DOCKER_SOCK" \
		--containerd-namespace lab-kind --containerd-plugins-namespace lab-kind-plugins \
		--add-runtime lab-runc="$KIND_E2E_DIR/runc-bounded" --default-runtime lab-runc \
		--bip "$LAB_KIND_DOCKER_BIP" --insecure-registry "$LAB_KIND_REGISTRY_ADDR" --iptables=false --ip-forward=false --ip-masq=false --storage-driver overlay2 --exec-opt native.cgroupdriver=cgroupfs \
		>"$LAB_KIND_STATE/dockerd.log" 2>&1 &
	for _ in $(seq 60); do
		docker_ version >/dev/null 2>&1 && { klog "dockerd up (DOCKER_HOST=unix://$LAB_KIND_DOCKER_SOCK)"; return 0; }
		sleep 1
	done
	tail -20 "$LAB_KIND_STATE/dockerd.log" >&2
	kdie "dockerd did not answer within 60s"
}

stop() {
	# The registry listens on docker0's address: it goes first.
	"$KIND_E2E_DIR/registry.sh" stop
	if docker_ version >/dev/null 2>&1; then
		local ids
		ids=$(docker_ ps -aq)
		# shellcheck disable=SC2086 # one argument per id
		[ -z "$ids" ] || docker_ rm -f -v $ids >/dev/null
		docker_ network prune -f >/dev/null || true
		docker_ volume prune -f >/dev/null || true
	fi
	local pid
	pid=$(cat "$LAB_KIND_DOCKER_EXEC/dockerd.pid" 2>/dev/null || true)
	if [ -n "$pid" ] && kill -0 "$pid" 2>/dev/null; then
		kill "$pid"
		for _ in $(seq 30); do kill -0 "$pid" 2>/dev/null || break; sleep 1; done
		kill -0 "$pid" 2>/dev/null && kill -9 "$pid"
	fi
	ip link del docker0 2>/dev/null || true
	local c
	for c in DOCKER-USER DOCKER-ISOLATION-STAGE-1 DOCKER-ISOLATION-STAGE-2 DOCKER; do
		while iptables -D FORWARD -j "$c" 2>/dev/null; do :; done
	done
	while iptables -t nat -D PREROUTING -m addrtype --dst-type LOCAL -j DOCKER 2>/dev/null; do :; done
	while iptables -t nat -D OUTPUT ! -d 127.0.0.0/8 -m addrtype --dst-type LOCAL -j DOCKER 2>/dev/null; do :; done
	# dockerd runs with --iptables=false; this only cleans up after one
	# that ran without it.
	{ iptables -S FORWARD | grep -E -- '-o docker0|-i docker0|br-[0-9a-f]{12}' || true; } | sed 's/^-A/-D/' | while read -r r; do eval iptables "$r" || true; done
	{ iptables -t nat -S POSTROUTING | grep -E -- 'docker0|172\.30\.0\.0/24|br-[0-9a-f]{12}' || true; } | sed 's/^-A/-D/' | while read -r r; do eval iptables -t nat "$r" || true; done
	for c in DOCKER-USER DOCKER-ISOLATION-STAGE-1 DOCKER-ISOLATION-STAGE-2 DOCKER; do
		if iptables -F "$c" 2>/dev/null; then iptables -X "$c" 2>/dev/null || true; fi
		if iptables -t nat -F "$c" 2>/dev/null; then iptables -t nat -X "$c" 2>/dev/null || true; fi
	done
	if [ -s "$LAB_KIND_STATE/forward_policy" ]; then iptables -P FORWARD "$(cat "$LAB_KIND_STATE/forward_policy")"; fi
	if [ -s "$LAB_KIND_STATE/ip_forward" ]; then cat "$LAB_KIND_STATE/ip_forward" >/proc/sys/net/ipv4/ip_forward; fi
	umount -R "$LAB_KIND_DOCKER_EXEC" 2>/dev/null || true
	rm -rf "$LAB_KIND_DOCKER_EXEC"
	klog "dockerd stopped, host restored"
}

case "${1:-}" in
start) start ;;
stop) stop ;;
env) echo "DOCKER_HOST=unix://$LAB_KIND_DOCKER_SOCK" ;;
wrap) ;; # its clients run as they are (podman.sh's run in a namespace)
*) echo "usage: $0 start|stop|env|wrap" >&2; exit 2 ;;
esac
