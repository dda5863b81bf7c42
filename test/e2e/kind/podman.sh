#!/usr/bin/env bash
# podman.sh start|stop|env|wrap|node-image: rootful Podman for the kind
# leg, as the only engine lab finds, with nothing of it outside what stop
# removes.
#
# Podman gets its own storage ($LAB_KIND_PODMAN_ROOT), run root, network
# configs and registries.conf (CONTAINERS_* variables, printed by `env`),
# and runs, with everything it starts, in the network namespace
# $LAB_KIND_PODMAN_NETNS: netavark's bridge, its iptables rules and
# ip_forward, aardvark-dns, conmon, the kind node and the registry all live
# there, and the namespace has no route out, so the host's iptables are
# never touched and no packet leaves. Every command that talks to podman or
# to the cluster runs under `wrap` (nsenter into the namespace: unlike `ip
# netns exec` it keeps the host's /sys, where podman finds the cgroups).
# `env` also tells registry.sh to serve there and push with podman;
# `node-image` loads the node image build-node-image.sh cached; `stop`
# removes every container, pod, network and volume, stops the registry,
# ends what still runs in the namespace and deletes it.
set -euo pipefail
. "$(dirname "$0")/config.sh"
LAB_KIND_STATE=$LAB_KIND_PODMAN_RUN/state
export LAB_KIND_STATE

netns=/run/netns/$LAB_KIND_PODMAN_NETNS
podman_env=(
	"CONTAINERS_CONF=$LAB_KIND_PODMAN_RUN/containers.conf"
	"CONTAINERS_STORAGE_CONF=$LAB_KIND_PODMAN_RUN/storage.conf"
	"CONTAINERS_REGISTRIES_CONF=$LAB_KIND_PODMAN_RUN/registries.conf"
	# kind's own switch, for a kind CLI run by hand in this environment.
	"KIND_EXPERIMENTAL_PROVIDER=podman"
	# No docker answers here, whatever runs on the host: lab finds podman.
	"DOCKER_HOST=unix://$LAB_KIND_PODMAN_RUN/no-docker.sock"
	# registry.sh: on every address of the namespace (its bridge appears
	# with the first container), pushed with podman, its state here.
	"LAB_KIND_ENGINE=podman"
	"LAB_KIND_REGISTRY_LISTEN=:${LAB_KIND_REGISTRY_ADDR##*:}"
	"LAB_KIND_STATE=$LAB_KIND_STATE"
)
in_ns() { nsenter --net="$netns" env "${podman_env[@]}" "$@"; }
podman_() { in_ns podman "$@"; }

configure() {
	mkdir -p "$LAB_KIND_PODMAN_RUN" "$LAB_KIND_PODMAN_ROOT" "$LAB_KIND_STATE"
	cat >"$LAB_KIND_PODMAN_RUN/storage.conf" <<-EOT
	[storage]
	driver = "overlay"
	graphroot = "$LAB_KIND_PODMAN_ROOT/storage"
	runroot = "$LAB_KIND_PODMAN_RUN/storage"
	EOT
	# Podman 4.3 gives a container RLIMIT_NOFILE and RLIMIT_NPROC of
	# 1048576 unless told otherwise, and runc cannot raise a limit above
	# its own hard one without CAP_SYS_RESOURCE, which this host's bounding
	# set lacks ("error setting rlimit type 7: operation not permitted").
	# So: the host's hard nofile, and the nproc podman sets for itself
	# (32768). No systemd runs as PID 1 here: cgroupfs, events in a file.
	local nofile nproc=32768
	nofile=$(ulimit -Hn)
	[ "$(ulimit -Hu)" = unlimited ] || [ "$(ulimit -Hu)" -ge "$nproc" ] || nproc=$(ulimit -Hu)
	cat >"$LAB_KIND_PODMAN_RUN/containers.conf" <<-EOT
	[containers]
	default_ulimits = ["nofile=$nofile:$nofile", "nproc=$nproc:$nproc"]
	[engine]
	cgroup_manager = "cgroupfs"
	events_logger = "file"
	events_logfile_path = "$LAB_KIND_PODMAN_RUN/events.log"
	tmp_dir = "$LAB_KIND_PODMAN_RUN/libpod"
	static_dir = "$LAB_KIND_PODMAN_ROOT/storage/libpod"
	volume_path = "$LAB_KIND_PODMAN_ROOT/storage/volumes"
	[network]
	network_backend = "netavark"
	network_config_dir = "$LAB_KIND_PODMAN_RUN/networks"
	EOT
	# Short names are never searched for on a registry.
	echo 'unqualified-search-registries = []' >"$LAB_KIND_PODMAN_RUN/registries.conf"
}

# shared_netns makes /run/netns a shared mount of its own, as the harness
# does (../cluster/node.sh), unless it is one: podman's first container
# (and `ip netns add`) would make it one anyway, and a namespace mounted
# there before then would be hidden beneath the bind mount (its pods stuck
# Terminating). With such namespaces there, it refuses. The mount it made
# is recorded; stop removes it.
shared_netns() {
	mkdir -p /run/netns
	if ! mountpoint -q /run/netns; then
		if awk '$5 ~ "^/run/netns/" {f=1} END {exit !f}' /proc/self/mountinfo; then
			kdie "/run/netns holds mounted network namespaces and is not a mount point: podman would hide them (a harness cluster started without its shared /run/netns); stop that cluster first"
		fi
		mount --bind /run/netns /run/netns
		echo /run/netns >"$LAB_KIND_PODMAN_ROOT/netns.mounted"
	fi
	mount --make-shared /run/netns
}

start() {
	command -v podman >/dev/null || kdie "podman not found: apt-get install podman"
	configure
	shared_netns
	if [ ! -e "$netns" ]; then
		ip netns add "$LAB_KIND_PODMAN_NETNS"
		ip -n "$LAB_KIND_PODMAN_NETNS" link set lo up
	fi
	podman_ info >/dev/null || kdie "podman info failed"
	# kind's own network name, so that kind uses it, on docker0's subnet,
	# so that kind-config.yaml's mirror address holds here too.
	podman_ network exists kind ||
		podman_ network create --subnet "${LAB_KIND_DOCKER_BIP%.*}.0/24" --gateway "${LAB_KIND_DOCKER_BIP%/*}" kind >/dev/null
	klog "podman $(podman_ version --format '{{.Version}}') ready in network namespace $LAB_KIND_PODMAN_NETNS"
}

# node_image REF loads the cached node image unless podman holds it.
node_image() {
	[ "${1:-}" = "$LAB_KIND_NODE_IMAGE" ] || kdie "node-image ${1:-}: this checkout builds $LAB_KIND_NODE_IMAGE"
	podman_ image exists "$LAB_KIND_NODE_IMAGE" && return 0
	[ -f "$LAB_KIND_NODE_TAR" ] || kdie "no node image at $LAB_KIND_NODE_TAR: run build-node-image.sh first"
	klog "loading $LAB_KIND_NODE_TAR into podman"
	podman_ load -i "$LAB_KIND_NODE_TAR" >&2 || kdie "podman load -i $LAB_KIND_NODE_TAR failed"
}

stop() {
	if [ -e "$netns" ]; then
		if [ -f "$LAB_KIND_PODMAN_RUN/containers.conf" ]; then
			podman_ pod rm -af -t 0 >/dev/null 2>&1 || true
			podman_ rm -af -v -t 0 >/dev/null || true
			podman_ network rm -f kind >/dev/null 2>&1 || true
			podman_ volume prune -f >/dev/null || true
		fi
		"$KIND_E2E_DIR/registry.sh" stop
		# What still runs in the namespace (an exiting conmon or
		# aardvark-dns) would keep it alive: it ends with it.
		local pids
		pids=$(ip netns pids "$LAB_KIND_PODMAN_NETNS")
		if [ -n "$pids" ]; then
			# shellcheck disable=SC2086 # one argument per pid
			kill $pids 2>/dev/null || true
			for _ in $(seq 10); do [ -z "$(ip netns pids "$LAB_KIND_PODMAN_NETNS")" ] && break; sleep 1; done
			pids=$(ip netns pids "$LAB_KIND_PODMAN_NETNS")
			# shellcheck disable=SC2086
			[ -z "$pids" ] || kill -9 $pids 2>/dev/null || true
		fi
		ip netns del "$LAB_KIND_PODMAN_NETNS"
	fi
	# The storage driver's own mounts (the overlay folder bind-mounted onto
	# itself, the run root's); the images stay on disk for the next run.
	local m
	for m in $(awk -v r="$LAB_KIND_PODMAN_RUN" -v g="$LAB_KIND_PODMAN_ROOT" 'index($5, r) == 1 || index($5, g) == 1 {print $5}' /proc/self/mountinfo | sort -r); do
		umount "$m" 2>/dev/null || umount -l "$m" 2>/dev/null || true
	done
	rm -rf "$LAB_KIND_PODMAN_RUN"
	# /run/netns as it was, when start made it a mount and nothing is
	# mounted beneath it any more (a harness started since may use it).
	if [ -f "$LAB_KIND_PODMAN_ROOT/netns.mounted" ]; then
		if ! awk '$5 ~ "^/run/netns/" {f=1} END {exit !f}' /proc/self/mountinfo; then
			umount /run/netns 2>/dev/null || true
		fi
		rm -f "$LAB_KIND_PODMAN_ROOT/netns.mounted"
	fi
	klog "podman stopped, network namespace $LAB_KIND_PODMAN_NETNS removed"
}

case "${1:-}" in
start) start ;;
stop) stop ;;
env) printf '%s\n' "${podman_env[@]}" ;;
wrap) echo "nsenter --net=$netns" ;;
node-image) node_image "${2:-}" ;;
*) echo "usage: $0 start|stop|env|wrap|node-image REF" >&2; exit 2 ;;
esac
