# shellcheck shell=bash
# Starting, checking and stopping the single-node cluster. Sourced by harness.

RUN=$LAB_E2E_RUN
STATE=$LAB_E2E_STATE
PKI=$STATE/pki
LOGS=$STATE/logs
PIDS=$RUN/pids
CTRD_SOCK=$RUN/containerd/containerd.sock
ETCD_CLIENT=http://127.0.0.1:12379
ETCD_PEER=http://127.0.0.1:12380
APISERVER=https://$LAB_E2E_NODE_IP:6443
# Ports the cluster listens on; any listener there that is not ours stops `up`.
LAB_E2E_PORTS="6443 12379 12380 10248 10249 10250 10256 10257 10259 ${LAB_E2E_REGISTRY_ADDR##*:}"
# Host paths the kubelet and containerd create outside their roots.
# sysctls changed by the harness (ip_forward, bridge) or by the kubelet's
# kernel tunables; saved by up, restored by down.
SAVED_SYSCTLS="net/ipv4/ip_forward net/bridge/bridge-nf-call-iptables vm/overcommit_memory vm/panic_on_oom kernel/panic kernel/panic_on_oops kernel/keys/root_maxkeys kernel/keys/root_maxbytes net/ipv4/conf/all/route_localnet"
OUTSIDE_PATHS="/var/log/pods /var/log/containers /var/lib/kubelet /var/lib/cni /run/containerd /var/run/netns"

ctr_() { ctr --address "$CTRD_SOCK" "$@"; }
kc() { "$LAB_E2E_K8S_BIN/kubectl" --kubeconfig "$LAB_E2E_KUBECONFIG" "$@"; }

# ---------------------------------------------------------------- processes

# start NAME BINARY ARGS... runs a server in its own session, logging to
# $LOGS/NAME.log; its PID goes to $PIDS/NAME.
#
# The server keeps no descriptor beyond 0-2 of the shell that started it:
# `flock /var/lock/lab-e2e.lock go test ...` hands the lock's descriptor down
# to the harness, and a long-lived server holding it would keep the lock
# taken for as long as the cluster runs, blocking every later e2e run.
start() {
	local name=$1
	shift
	(
		local fd
		for fd in /proc/$BASHPID/fd/*; do
			fd=${fd##*/}
			if [ "$fd" -gt 2 ]; then eval "exec $fd>&-"; fi
		done
		exec setsid "$@" >>"$LOGS/$name.log" 2>&1 </dev/null
	) &
	echo $! >"$PIDS/$name"
}

# running PID: the process exists and is not a zombie (the harness's servers
# are reparented to PID 1, which may reap them late).
running() {
	local st
	st=$(sed -n 's/^[0-9]* (.*) \([A-Za-z]\) .*/\1/p' "/proc/$1/stat" 2>/dev/null) || return 1
	[ -n "$st" ] && [ "$st" != Z ] && [ "$st" != X ]
}

alive() { [ -e "$PIDS/$1" ] && running "$(cat "$PIDS/$1")"; }

# stop NAME [GRACE]: TERM, then KILL after GRACE seconds.
stop() {
	local name=$1 grace=${2:-10} pid i
	[ -e "$PIDS/$name" ] || return 0
	pid=$(cat "$PIDS/$name")
	if running "$pid"; then
		local t0=$SECONDS
		kill -TERM "$pid" 2>/dev/null || true
		for ((i = 0; i < grace * 10; i++)); do
			running "$pid" || break
			sleep 0.1
		done
		if running "$pid"; then
			log "$name did not stop in ${grace}s: SIGKILL"
			kill -KILL "$pid" 2>/dev/null || true
			sleep 0.2
		fi
		[ $((SECONDS - t0)) -ge 2 ] && log "stopped $name in $((SECONDS - t0))s"
	fi
	rm -f "$PIDS/$name"
}

# wait_for DESC SECONDS CMD...: poll CMD until it succeeds.
wait_for() {
	local desc=$1 secs=$2 i
	shift 2
	for ((i = 0; i < secs * 4; i++)); do
		if "$@" >/dev/null 2>&1; then return 0; fi
		sleep 0.25
	done
	log "timed out after ${secs}s waiting for $desc"
	return 1
}

# ---------------------------------------------------------------- safety

# preflight refuses to start where a cluster the harness did not create is
# already running or listening.
preflight() {
	local p busy=()
	for p in $LAB_E2E_PORTS; do
		if ss -Hltn "sport = :$p" | grep -q .; then busy+=("$p"); fi
	done
	if ss -Hlun 'sport = :53' | grep -q "$LAB_E2E_NODE_IP:53"; then busy+=("53/udp on $LAB_E2E_NODE_IP"); fi
	[ ${#busy[@]} -eq 0 ] || die "refusing to start: something already listens on port(s) ${busy[*]}; run '$0 down' if it is a cluster of this harness"
	local n
	# A containerd or dockerd with roots of its own (the kind leg's) may run
	# beside this cluster; a kubelet, apiserver, etcd or kube-proxy may not.
	for n in kubelet kube-apiserver etcd kube-proxy; do
		if pgrep -x "$n" >/dev/null; then die "refusing to start: a '$n' process is already running (pid $(pgrep -x "$n" | tr '\n' ' '))"; fi
	done
	if ip link show "$LAB_E2E_BRIDGE" >/dev/null 2>&1; then
		die "refusing to start: interface $LAB_E2E_BRIDGE exists (a stale harness run?); run '$0 down' first"
	fi
	if [ -e /run/containerd/containerd.sock ]; then die "refusing to start: /run/containerd/containerd.sock exists (another containerd)"; fi
	[ -e /sys/fs/cgroup/cpu/kubepods ] || [ -e /sys/fs/cgroup/kubepods ] && die "refusing to start: kubepods cgroup exists (another kubelet, or run '$0 down')"
	return 0
}

# ---------------------------------------------------------------- set-up pieces

gen_pki() {
	mkdir -p "$PKI"
	local o=(openssl)
	"${o[@]}" req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -days 30 \
		-subj /CN=lab-e2e-ca -keyout "$PKI/ca.key" -out "$PKI/ca.crt" 2>/dev/null
	# leaf NAME SUBJECT [SAN]: a key and a certificate signed by the CA.
	leaf() {
		local name=$1 subj=$2 san=${3:-} ext
		ext=$(mktemp)
		{
			echo "basicConstraints=CA:FALSE"
			echo "keyUsage=digitalSignature,keyEncipherment"
			echo "extendedKeyUsage=serverAuth,clientAuth"
			[ -n "$san" ] && echo "subjectAltName=$san"
		} >"$ext"
		"${o[@]}" req -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -subj "$subj" \
			-keyout "$PKI/$name.key" -out "$PKI/$name.csr" 2>/dev/null
		"${o[@]}" x509 -req -in "$PKI/$name.csr" -CA "$PKI/ca.crt" -CAkey "$PKI/ca.key" -CAcreateserial \
			-days 30 -extfile "$ext" -out "$PKI/$name.crt" 2>/dev/null
		rm -f "$ext" "$PKI/$name.csr"
	}
	leaf apiserver /CN=kube-apiserver \
		"IP:$LAB_E2E_NODE_IP,IP:$LAB_E2E_APISERVER_SVC_IP,IP:127.0.0.1,DNS:kubernetes,DNS:kubernetes.default,DNS:kubernetes.default.svc,DNS:kubernetes.default.svc.cluster.local,DNS:localhost"
	leaf admin "/O=system:masters/CN=lab-e2e-admin"
	leaf kubelet "/O=system:nodes/CN=system:node:$LAB_E2E_NODE_NAME" "IP:$LAB_E2E_NODE_IP,DNS:$LAB_E2E_NODE_NAME"
	openssl genrsa -out "$PKI/sa.key" 2048 2>/dev/null
	openssl rsa -in "$PKI/sa.key" -pubout -out "$PKI/sa.pub" 2>/dev/null
	local b64
	b64() { base64 -w0 <"$1"; }
	cat >"$LAB_E2E_KUBECONFIG" <<EOF
apiVersion: v1
kind: Config
clusters:
- name: lab-e2e
  cluster:
    server: $APISERVER
    certificate-authority-data: $(b64 "$PKI/ca.crt")
users:
- name: lab-e2e-admin
  user:
    client-certificate-data: $(b64 "$PKI/admin.crt")
    client-key-data: $(b64 "$PKI/admin.key")
contexts:
- name: lab-e2e
  context:
    cluster: lab-e2e
    user: lab-e2e-admin
    namespace: default
current-context: lab-e2e
EOF
	chmod 600 "$LAB_E2E_KUBECONFIG"
}

setup_network() {
	# sysctls to restore on down: ours, and those the kubelet tunes.
	local f
	for f in $SAVED_SYSCTLS; do
		[ -e "/proc/sys/$f" ] && echo "$f=$(cat "/proc/sys/$f")"
	done >"$STATE/sysctl.saved"
	# The bridge holds the pods' gateway and the node IP (a /32): this kernel
	# has no dummy links, and the kubelet refuses a loopback node IP.
	ip link add "$LAB_E2E_BRIDGE" type bridge
	ip addr add "$LAB_E2E_POD_GW/${LAB_E2E_POD_CIDR#*/}" dev "$LAB_E2E_BRIDGE"
	ip addr add "$LAB_E2E_NODE_IP/32" dev "$LAB_E2E_BRIDGE"
	ip link set "$LAB_E2E_BRIDGE" up
	# The guard: pod bridge to itself is allowed, anything else forwarded out
	# of the bridge (or into it from elsewhere) is dropped. It lives in the
	# mangle table's FORWARD chain, not filter's: netfilter runs mangle
	# (priority -150) before filter (0) on the same hook, so no rule
	# kube-proxy, the kubelet or dockerd put into filter FORWARD (kube-proxy
	# re-inserts its KUBE-* jumps at the top there on every sync) can see a
	# packet before the guard does. None of them writes to mangle FORWARD.
	# Only once the jump is in place is forwarding switched on.
	iptables -w -t mangle -N "$LAB_E2E_GUARD_CHAIN"
	iptables -w -t mangle -A "$LAB_E2E_GUARD_CHAIN" -i "$LAB_E2E_BRIDGE" -o "$LAB_E2E_BRIDGE" -j ACCEPT
	iptables -w -t mangle -A "$LAB_E2E_GUARD_CHAIN" -i "$LAB_E2E_BRIDGE" -j DROP
	iptables -w -t mangle -A "$LAB_E2E_GUARD_CHAIN" -o "$LAB_E2E_BRIDGE" -j DROP
	iptables -w -t mangle -I FORWARD 1 -j "$LAB_E2E_GUARD_CHAIN"
	guard_first || die "the guard is not first in mangle FORWARD right after it was inserted"
	[ -e /proc/sys/net/bridge/bridge-nf-call-iptables ] && echo 1 >/proc/sys/net/bridge/bridge-nf-call-iptables
	echo 1 >/proc/sys/net/ipv4/ip_forward
}

# guard_first succeeds when the first rule of mangle FORWARD is the jump to the
# guard and the guard holds its three rules, read from the rules alone.
guard_first() {
	[ "$(iptables -w -t mangle -S FORWARD 2>/dev/null | sed -n 2p)" = "-A FORWARD -j $LAB_E2E_GUARD_CHAIN" ] &&
		[ "$(iptables -w -t mangle -S "$LAB_E2E_GUARD_CHAIN" 2>/dev/null | grep -c '^-A ')" = 3 ]
}

write_configs() {
	local c=$STATE/config
	mkdir -p "$c" "$STATE/cni/net.d" "$STATE/certs.d"
	local h
	for h in docker.io registry.k8s.io _default; do
		mkdir -p "$STATE/certs.d/$h"
		cat >"$STATE/certs.d/$h/hosts.toml" <<EOF
server = "http://$LAB_E2E_REGISTRY_ADDR"

[host."http://$LAB_E2E_REGISTRY_ADDR"]
  capabilities = ["pull", "resolve"]
EOF
	done
	cat >"$c/containerd.toml" <<EOF
version = 2
root = "$STATE/containerd"
state = "$RUN/containerd"

[grpc]
  address = "$CTRD_SOCK"

[plugins."io.containerd.internal.v1.opt"]
  path = "$STATE/opt"

[plugins."io.containerd.grpc.v1.cri"]
  sandbox_image = "registry.k8s.io/pause:$LAB_E2E_PAUSE_TAG"
  restrict_oom_score_adj = true
  stream_server_address = "127.0.0.1"
  [plugins."io.containerd.grpc.v1.cri".containerd]
    snapshotter = "overlayfs"
    default_runtime_name = "runc"
    [plugins."io.containerd.grpc.v1.cri".containerd.runtimes.runc]
      runtime_type = "io.containerd.runc.v2"
      [plugins."io.containerd.grpc.v1.cri".containerd.runtimes.runc.options]
        SystemdCgroup = false
  [plugins."io.containerd.grpc.v1.cri".cni]
    bin_dir = "/usr/lib/cni"
    conf_dir = "$STATE/cni/net.d"
  [plugins."io.containerd.grpc.v1.cri".registry]
    config_path = "$STATE/certs.d"
EOF
	cat >"$STATE/cni/net.d/10-lab-e2e.conflist" <<EOF
{
  "cniVersion": "0.4.0",
  "name": "lab-e2e",
  "plugins": [
    {
      "type": "bridge",
      "bridge": "$LAB_E2E_BRIDGE",
      "isGateway": true,
      "ipMasq": false,
      "hairpinMode": true,
      "ipam": {
        "type": "host-local",
        "dataDir": "$STATE/cni/ipam",
        "ranges": [[{"subnet": "$LAB_E2E_POD_CIDR", "gateway": "$LAB_E2E_POD_GW"}]],
        "routes": [{"dst": "0.0.0.0/0"}]
      }
    }
  ]
}
EOF
	cat >"$c/registry.yml" <<EOF
version: 0.1
log:
  level: warn
storage:
  filesystem:
    rootdirectory: $LAB_E2E_IMAGES/registry
  maintenance:
    uploadpurging:
      enabled: false
http:
  addr: $LAB_E2E_REGISTRY_ADDR
EOF
	# Pods resolve through CoreDNS only: no host search domains or servers.
	echo "nameserver $LAB_E2E_DNS_IP" >"$c/resolv.conf"
	cat >"$c/kubelet.yaml" <<EOF
apiVersion: kubelet.config.k8s.io/v1beta1
kind: KubeletConfiguration
address: $LAB_E2E_NODE_IP
port: 10250
readOnlyPort: 0
healthzBindAddress: 127.0.0.1
healthzPort: 10248
cgroupDriver: cgroupfs
containerRuntimeEndpoint: unix://$CTRD_SOCK
tlsCertFile: $PKI/kubelet.crt
tlsPrivateKeyFile: $PKI/kubelet.key
authentication:
  anonymous:
    enabled: false
  webhook:
    enabled: true
  x509:
    clientCAFile: $PKI/ca.crt
authorization:
  mode: Webhook
clusterDomain: cluster.local
clusterDNS: [$LAB_E2E_DNS_IP]
resolvConf: $c/resolv.conf
failSwapOn: false
serializeImagePulls: false
maxPods: 30
podCIDR: $LAB_E2E_POD_CIDR
imageGCHighThresholdPercent: 100
imageGCLowThresholdPercent: 99
evictionHard:
  memory.available: "100Mi"
  nodefs.available: "1%"
  imagefs.available: "1%"
  nodefs.inodesFree: "1%"
EOF
	cat >"$c/kube-proxy.yaml" <<EOF
apiVersion: kubeproxy.config.k8s.io/v1alpha1
kind: KubeProxyConfiguration
clientConnection:
  kubeconfig: $LAB_E2E_KUBECONFIG
mode: iptables
clusterCIDR: $LAB_E2E_POD_CIDR
hostnameOverride: $LAB_E2E_NODE_NAME
bindAddress: $LAB_E2E_NODE_IP
healthzBindAddress: 127.0.0.1:10256
metricsBindAddress: 127.0.0.1:10249
nodePortAddresses: ["$LAB_E2E_NODE_IP/32"]
conntrack:
  maxPerCore: 0
  min: 0
  tcpEstablishedTimeout: 0s
  tcpCloseWaitTimeout: 0s
EOF
	cat >"$c/Corefile" <<EOF
.:53 {
    bind $LAB_E2E_DNS_IP
    errors
    kubernetes cluster.local in-addr.arpa ip6.arpa {
        kubeconfig $LAB_E2E_KUBECONFIG
        pods insecure
    }
    cache 30
}
EOF
}

# record_outside notes which host paths existed before `up`, so that `down`
# removes only what the cluster created.
record_outside() {
	local p
	: >"$STATE/outside.before"
	for p in $OUTSIDE_PATHS; do [ -e "$p" ] && echo "$p" >>"$STATE/outside.before"; done
	ls /var/run/netns 2>/dev/null >"$STATE/netns.before" || true
	return 0
}

# shared_netns makes /var/run/netns a shared mount of its own before
# containerd mounts the pods' network namespaces under it. Otherwise the
# first tool that makes it one later (iproute2's `ip netns add`, Podman's
# first container, as the kind leg's Podman run does) hides the namespaces
# mounted before beneath its bind mount: containerd can then neither
# unmount nor remove them, and every pod of this cluster stays Terminating
# ("unlinkat /run/netns/cni-…: device or resource busy"). Both tools find a
# mount point and leave it as it is.
shared_netns() {
	mkdir -p /var/run/netns
	if ! mountpoint -q /var/run/netns; then
		mount --bind /var/run/netns /var/run/netns
		echo "$(readlink -f /var/run/netns)" >"$STATE/netns.mounted"
	fi
	mount --make-shared /var/run/netns
}

start_registry() {
	mkdir -p "$LAB_E2E_IMAGES/registry"
	OTEL_TRACES_EXPORTER=none OTEL_METRICS_EXPORTER=none OTEL_LOGS_EXPORTER=none \
		start registry "$LAB_E2E_REGISTRY_BIN/registry" serve "$STATE/config/registry.yml"
	wait_for "registry" 20 curl -fsS "http://$LAB_E2E_REGISTRY_ADDR/v2/"
}

start_control_plane() {
	start etcd "$LAB_E2E_ETCD_BIN/etcd" --name lab-e2e --data-dir "$STATE/etcd" \
		--listen-client-urls "$ETCD_CLIENT" --advertise-client-urls "$ETCD_CLIENT" \
		--listen-peer-urls "$ETCD_PEER" --initial-advertise-peer-urls "$ETCD_PEER" \
		--initial-cluster "lab-e2e=$ETCD_PEER" --initial-cluster-state new \
		--quota-backend-bytes 1073741824 --unsafe-no-fsync
	wait_for "etcd" 30 curl -fsS "$ETCD_CLIENT/health"
	start kube-apiserver "$LAB_E2E_K8S_BIN/kube-apiserver" \
		--etcd-servers "$ETCD_CLIENT" \
		--bind-address "$LAB_E2E_NODE_IP" --advertise-address "$LAB_E2E_NODE_IP" --secure-port 6443 \
		--tls-cert-file "$PKI/apiserver.crt" --tls-private-key-file "$PKI/apiserver.key" \
		--client-ca-file "$PKI/ca.crt" \
		--kubelet-client-certificate "$PKI/admin.crt" --kubelet-client-key "$PKI/admin.key" \
		--kubelet-certificate-authority "$PKI/ca.crt" --kubelet-preferred-address-types InternalIP \
		--service-account-key-file "$PKI/sa.pub" --service-account-signing-key-file "$PKI/sa.key" \
		--service-account-issuer https://kubernetes.default.svc.cluster.local \
		--service-cluster-ip-range "$LAB_E2E_SVC_CIDR" \
		--authorization-mode Node,RBAC --allow-privileged=true --profiling=false
	wait_for "kube-apiserver" 90 curl -fsS --cacert "$PKI/ca.crt" --cert "$PKI/admin.crt" --key "$PKI/admin.key" "$APISERVER/readyz"
	start kube-controller-manager "$LAB_E2E_K8S_BIN/kube-controller-manager" \
		--kubeconfig "$LAB_E2E_KUBECONFIG" --authentication-kubeconfig "$LAB_E2E_KUBECONFIG" \
		--authorization-kubeconfig "$LAB_E2E_KUBECONFIG" \
		--bind-address 127.0.0.1 --secure-port 10257 --leader-elect=false \
		--service-account-private-key-file "$PKI/sa.key" --root-ca-file "$PKI/ca.crt" \
		--service-cluster-ip-range "$LAB_E2E_SVC_CIDR" --cluster-cidr "$LAB_E2E_POD_CIDR" \
		--allocate-node-cidrs=false --use-service-account-credentials=false --profiling=false
	start kube-scheduler "$LAB_E2E_K8S_BIN/kube-scheduler" \
		--kubeconfig "$LAB_E2E_KUBECONFIG" --authentication-kubeconfig "$LAB_E2E_KUBECONFIG" \
		--authorization-kubeconfig "$LAB_E2E_KUBECONFIG" \
		--bind-address 127.0.0.1 --secure-port 10259 --leader-elect=false --profiling=false
}

start_node() {
	start kubelet "$LAB_E2E_K8S_BIN/kubelet" --config "$STATE/config/kubelet.yaml" \
		--kubeconfig "$LAB_E2E_KUBECONFIG" --hostname-override "$LAB_E2E_NODE_NAME" \
		--node-ip "$LAB_E2E_NODE_IP" --root-dir "$STATE/kubelet"
	start kube-proxy "$LAB_E2E_K8S_BIN/kube-proxy" --config "$STATE/config/kube-proxy.yaml"
	start coredns "$LAB_E2E_COREDNS_BIN/coredns" -conf "$STATE/config/Corefile"
}

node_ready() {
	[ "$(kc get node "$LAB_E2E_NODE_NAME" -o 'jsonpath={.status.conditions[?(@.type=="Ready")].status}' 2>/dev/null)" = True ]
}

dns_ready() {
	busybox nslookup kubernetes.default.svc.cluster.local "$LAB_E2E_DNS_IP" 2>/dev/null | grep -q "$LAB_E2E_APISERVER_SVC_IP"
}

# ---------------------------------------------------------------- verbs

cmd_build() {
	mkdir -p "$LAB_E2E_CACHE"
	install_packages
	build_all_binaries
	LAB_E2E_IMAGES="$LAB_E2E_CACHE/images-$(images_key)"
	build_images
}

cmd_up() {
	local t0=$SECONDS
	if [ -e "$STATE/up" ] && alive kube-apiserver && alive kubelet; then
		log "already up (started by this harness)"
		cmd_status
		return 0
	fi
	if [ -e "$STATE" ]; then
		# An earlier run that was killed (a cancelled CI job, a test binary
		# that timed out) leaves its state and maybe half its daemons. The
		# state is this harness's own: take that run down the way `down`
		# would, restoring what it saved, then start clean.
		log "$STATE exists from an earlier run that is not up: taking it down first"
		cmd_down
		[ -e "$STATE" ] && die "$STATE is still there after down: look at it, then run '$0 down'"
	fi
	cmd_build
	log "built/cached in $((SECONDS - t0))s"
	preflight
	# Image sets of earlier versions of images.sh are stale: no cluster runs now.
	local d
	for d in "$LAB_E2E_CACHE"/images-*; do
		[ -d "$d" ] && [ "$d" != "$LAB_E2E_IMAGES" ] && rm -rf "$d"
	done
	mkdir -p "$STATE" "$LOGS" "$RUN" "$PIDS"
	echo "$LAB_E2E_IMAGES" >"$STATE/images"
	record_outside
	# From here on a failure leaves state behind for `down` to clean up.
	trap 'log "up failed; logs in $LOGS; run $0 down"; exit 1' ERR
	shared_netns
	gen_pki
	write_configs
	setup_network
	start_registry
	start containerd containerd --config "$STATE/config/containerd.toml"
	wait_for "containerd" 30 ctr_ version
	push_images
	start_control_plane
	start_node
	wait_for "node Ready" 120 node_ready
	# kube-proxy has synced its rules by now: the guard must still be first.
	guard_first || die "the guard is no longer first in mangle FORWARD after kube-proxy started"
	wait_for "CoreDNS" 60 dns_ready
	wait_for "default service account" 60 kc -n default get serviceaccount default
	touch "$STATE/up"
	trap - ERR
	log "cluster up in $((SECONDS - t0))s; KUBECONFIG=$LAB_E2E_KUBECONFIG"
	echo "KUBECONFIG=$LAB_E2E_KUBECONFIG"
}

cmd_status() {
	local n rc=0
	if [ ! -e "$STATE" ]; then
		echo "down"
		return 1
	fi
	for n in registry containerd etcd kube-apiserver kube-controller-manager kube-scheduler kubelet kube-proxy coredns; do
		if alive "$n"; then echo "$n: running (pid $(cat "$PIDS/$n"))"; else echo "$n: NOT running"; rc=1; fi
	done
	if node_ready; then echo "node $LAB_E2E_NODE_NAME: Ready"; else echo "node $LAB_E2E_NODE_NAME: not Ready"; rc=1; fi
	if dns_ready; then echo "dns $LAB_E2E_DNS_IP: answering"; else echo "dns: not answering"; rc=1; fi
	if guard_first; then
		echo "guard: $LAB_E2E_GUARD_CHAIN first in mangle FORWARD; ip_forward=$(cat /proc/sys/net/ipv4/ip_forward)"
	else
		echo "guard: $LAB_E2E_GUARD_CHAIN NOT first in mangle FORWARD"
		rc=1
	fi
	local all rss
	all=$( { cat "$PIDS"/* 2>/dev/null; our_pids; } | sort -un | tr '\n' ',' | sed 's/,$//')
	rss=$(ps -o rss= -p "${all:-0}" 2>/dev/null | awk '{s+=$1} END {printf "%d", s/1024}')
	echo "memory: ${rss} MiB RSS in $(echo "$all" | tr ',' '\n' | grep -c .) processes (components, shims, pods)"
	echo "disk: $(du -sh "$STATE" 2>/dev/null | cut -f1) state, $(du -sh "$LAB_E2E_CACHE" 2>/dev/null | cut -f1) cache"
	echo "logs: $LOGS"
	echo "KUBECONFIG=$LAB_E2E_KUBECONFIG"
	return $rc
}

# our_pids prints processes that belong to the cluster: containerd shims of our
# socket and anything in the kubelet's pod cgroups.
our_pids() {
	{
		pgrep -f -- "-address $CTRD_SOCK" || true
		local f
		for f in /sys/fs/cgroup/pids/kubepods /sys/fs/cgroup/memory/kubepods /sys/fs/cgroup/kubepods; do
			if [ -d "$f" ]; then find "$f" -name cgroup.procs -exec cat {} + 2>/dev/null; fi
		done
	} | sort -un
}

# iptables_cleanup PREFIX...: delete the jumps to, and the chains named with,
# each PREFIX in every table, IPv4 and IPv6.
iptables_cleanup() {
	local ipt t re
	re=$(printf '%s|' "$@")
	re=${re%|}
	for ipt in iptables ip6tables; do
		command -v "$ipt" >/dev/null || continue
		for t in filter nat mangle raw; do
			"$ipt-save" -t "$t" 2>/dev/null | grep -E "^-A (INPUT|OUTPUT|FORWARD|PREROUTING|POSTROUTING) .*-j ($re)" |
				sed 's/^-A /-D /' | while read -r rule; do
				eval "$ipt -w -t $t $rule" 2>/dev/null || true
			done
			local chains
			chains=$("$ipt-save" -t "$t" 2>/dev/null | sed -n 's/^:\([^ ]*\) .*/\1/p' | grep -E "^($re)" || true)
			for c in $chains; do "$ipt" -w -t "$t" -F "$c" 2>/dev/null || true; done
			for c in $chains; do "$ipt" -w -t "$t" -X "$c" 2>/dev/null || true; done
		done
	done
}

# unmount_under DIR...: unmount every mount point below each DIR, deepest first.
unmount_under() {
	local d m
	for d in "$@"; do
		awk '{print $5}' /proc/self/mountinfo | grep -E "^$d(/|$)" | sort -r | while read -r m; do
			umount "$m" 2>/dev/null || umount -l "$m" 2>/dev/null || true
		done
	done
}

cmd_down() {
	# Best effort: every step runs even if an earlier one fails.
	set +e +o pipefail
	trap - ERR
	local t0=$SECONDS
	# The apiserver first: it can hang on TERM once etcd is gone.
	stop kube-apiserver 5
	stop kube-controller-manager 5
	stop kube-scheduler 5
	stop coredns 5
	stop kube-proxy 5
	stop kubelet 10
	if alive containerd; then
		local t
		for t in $(ctr_ -n k8s.io tasks ls -q 2>/dev/null); do ctr_ -n k8s.io tasks kill -a -s SIGKILL "$t" >/dev/null 2>&1 || true; done
	fi
	stop containerd 10
	stop etcd 10
	stop registry 5
	# What follows touches shared host state (pod cgroups, KUBE-* chains,
	# netns, host paths): only when this harness's state says it set them up,
	# never where `up` refused to start next to another cluster.
	local owned=0
	[ -e "$STATE/outside.before" ] && owned=1
	local p i
	for i in 1 2 3; do
		if [ $owned = 1 ]; then p=$(our_pids); else p=$(pgrep -f -- "-address $CTRD_SOCK"); fi
		[ -z "$p" ] && break
		# shellcheck disable=SC2086
		kill -KILL $p 2>/dev/null || true
		sleep 0.5
	done
	if [ $owned = 1 ] && [ -d /var/run/netns ]; then
		# Network namespaces made for pods during this run.
		local ns f
		for f in /var/run/netns/cni-*; do
			[ -e "$f" ] || continue
			ns=${f##*/}
			grep -qx "$ns" "$STATE/netns.before" 2>/dev/null && continue
			umount "/var/run/netns/$ns" 2>/dev/null || umount -l "/var/run/netns/$ns" 2>/dev/null || true
			rm -f "/var/run/netns/$ns"
		done
	fi
	# The shared mount `up` made, unless something mounted beneath it since
	# (umount refuses then, and it stays for that something).
	if [ -e "$STATE/netns.mounted" ]; then
		umount "$(cat "$STATE/netns.mounted")" 2>/dev/null || true
	fi
	unmount_under "$STATE" "$RUN"
	[ $owned = 1 ] && unmount_under /run/containerd /var/lib/kubelet
	ip link del "$LAB_E2E_BRIDGE" 2>/dev/null || true
	# The pods' veths went with their namespaces and the bridge.
	if [ $owned = 1 ]; then
		iptables_cleanup KUBE- LAB-E2E-
	else
		iptables_cleanup LAB-E2E-
	fi
	if [ -e "$STATE/sysctl.saved" ]; then
		local k v
		while IFS='=' read -r k v; do
			if [ -n "$k" ]; then echo "$v" >"/proc/sys/$k" 2>/dev/null; fi
		done <"$STATE/sysctl.saved"
	fi
	if [ $owned = 1 ]; then
		# The kubelet's pod cgroups, deepest first.
		local cg
		for cg in /sys/fs/cgroup/*/kubepods /sys/fs/cgroup/kubepods; do
			[ -d "$cg" ] && find "$cg" -depth -type d -exec rmdir {} \; 2>/dev/null
		done
		# Host paths outside the roots: only those this run created.
		for p in $OUTSIDE_PATHS; do
			grep -qx "$p" "$STATE/outside.before" && continue
			[ "$p" = /var/run/netns ] && { rmdir "$p" 2>/dev/null || true; continue; }
			rm -rf "$p"
		done
		grep -qx /var/lib/kubelet "$STATE/outside.before" && rm -rf /var/lib/kubelet/device-plugins
		grep -qx /var/lib/cni "$STATE/outside.before" && rm -f /var/lib/cni/results/lab-e2e-*
	fi
	rm -rf "$RUN" "$STATE"
	log "down in $((SECONDS - t0))s"
}
