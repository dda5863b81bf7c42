#!/usr/bin/env bash
# build-node-image.sh builds the lab's kind node image offline and caches it
# as a `docker save` tarball, then (when dockerd answers on DOCKER_HOST)
# loads it. Cold: kubeadm and crictl from the Go module proxy, a Debian
# rootfs from Debian's mirror, the control-plane images from the harness's
# binaries. Warm: every step finds its output in $LAB_KIND_CACHE.
#
#   test/e2e/kind/build-node-image.sh        # prints the image reference
#
# Reuses, read-only, what the harness builds (../cluster/harness build):
# the Kubernetes, etcd and CoreDNS binaries and the pause image tarball.
set -euo pipefail
. "$(dirname "$0")/config.sh"

command -v go >/dev/null || export PATH="$PATH:/usr/local/go/bin"
export GOFLAGS=-buildvcs=false GOTOOLCHAIN=local

# harness_build makes sure the harness's binaries and image tarballs exist.
harness_build() {
	if [ -x "$LAB_E2E_K8S_BIN/kubelet" ] && [ -x "$LAB_E2E_ETCD_BIN/etcd" ] && [ -x "$LAB_E2E_COREDNS_BIN/coredns" ] &&
		[ -n "$(harness_images)" ]; then return 0; fi
	klog "harness cache incomplete: running ../cluster/harness build"
	"$KIND_E2E_DIR/../cluster/harness" build
}

# harness_images is the newest complete image tarball folder of the harness.
harness_images() {
	local d
	# shellcheck disable=SC2012 # newest first; the names are ours
	d=$(ls -td "$LAB_E2E_CACHE"/images-*/tars/.done 2>/dev/null | head -1) || true
	[ -n "$d" ] && dirname "$d"
}

# build_kubeadm builds kubeadm like the harness builds the other binaries:
# a wrapper module requiring k8s.io/kubernetes, the staging modules replaced
# by their published versions (the harness's go.mod already says which).
build_kubeadm() {
	local out=$LAB_KIND_KUBEADM_BIN ver=$LAB_E2E_K8S_VERSION
	[ -x "$out/kubeadm" ] && return 0
	klog "building kubeadm $ver (cold: ~2 min)"
	local src="$LAB_KIND_CACHE/src/k8s-$ver"
	mkdir -p "$src"
	[ -f "$LAB_E2E_CACHE/src/k8s-$ver/go.mod" ] || kdie "no harness wrapper module at $LAB_E2E_CACHE/src/k8s-$ver"
	cp "$LAB_E2E_CACHE/src/k8s-$ver/go.mod" "$LAB_E2E_CACHE/src/k8s-$ver/go.sum" "$src/"
	printf '//go:build tools\n\npackage tools\n\nimport _ "k8s.io/kubernetes/cmd/kubeadm"\n' >"$src/tools.go"
	(cd "$src" && GOFLAGS=-mod=mod go mod tidy >"$src/tidy.log" 2>&1) || { tail -20 "$src/tidy.log" >&2; kdie "go mod tidy failed in $src"; }
	local major=${ver#v} minor p ld="-s -w"
	major=${major%%.*}
	minor=${ver#v*.}; minor=${minor%%.*}
	for p in k8s.io/component-base/version k8s.io/client-go/pkg/version; do
		ld+=" -X $p.gitVersion=$ver -X $p.gitMajor=$major -X $p.gitMinor=$minor -X $p.gitTreeState=clean -X $p.gitCommit=0000000000000000000000000000000000000000"
	done
	mkdir -p "$out.tmp"
	(cd "$src" && CGO_ENABLED=0 go build -trimpath -ldflags "$ld" -o "$out.tmp/kubeadm" k8s.io/kubernetes/cmd/kubeadm) || kdie "go build of kubeadm failed"
	rm -rf "$out" && mv "$out.tmp" "$out"
}

build_crictl() {
	local out=$LAB_KIND_CRICTL_BIN
	[ -x "$out/crictl" ] && return 0
	klog "building crictl $LAB_KIND_CRICTL_VERSION"
	mkdir -p "$out.tmp"
	CGO_ENABLED=0 GOBIN="$out.tmp" go install -trimpath -ldflags "-s -w" "sigs.k8s.io/cri-tools/cmd/crictl@$LAB_KIND_CRICTL_VERSION" || kdie "go install crictl failed"
	rm -rf "$out" && mv "$out.tmp" "$out"
}

# The node's Debian packages: systemd as PID 1, the runtime, the CNI
# plugins and what kubeadm, the kubelet and kube-proxy call.
NODE_PACKAGES=systemd,systemd-sysv,dbus,containerd,runc,containernetworking-plugins,iptables,nftables,ebtables,iproute2,util-linux,mount,procps,kmod,conntrack,ethtool,socat,ca-certificates,libseccomp2,pigz,bash

build_rootfs() {
	[ -e "$LAB_KIND_ROOTFS/.done" ] && return 0
	command -v debootstrap >/dev/null || apt-get install -y debootstrap >/dev/null || kdie "cannot install debootstrap"
	klog "debootstrap $LAB_KIND_DEBIAN_SUITE from $LAB_KIND_DEBIAN_MIRROR (cold: ~5 min)"
	rm -rf "$LAB_KIND_ROOTFS.tmp"
	mkdir -p "$(dirname "$LAB_KIND_ROOTFS")"
	debootstrap --variant=minbase --include="$NODE_PACKAGES" "$LAB_KIND_DEBIAN_SUITE" "$LAB_KIND_ROOTFS.tmp" "$LAB_KIND_DEBIAN_MIRROR" \
		>"$LAB_KIND_CACHE/debootstrap.log" 2>&1 || { tail -20 "$LAB_KIND_CACHE/debootstrap.log" >&2; kdie "debootstrap failed"; }
	rm -rf "$LAB_KIND_ROOTFS.tmp/var/cache/apt/archives/"*.deb
	touch "$LAB_KIND_ROOTFS.tmp/.done"
	rm -rf "$LAB_KIND_ROOTFS" && mv "$LAB_KIND_ROOTFS.tmp" "$LAB_KIND_ROOTFS"
}

# copy_with_libs ROOT FILE... copies each file (from the node rootfs, so the
# libraries match the node's Debian) with the shared libraries it needs.
copy_with_libs() {
	local root=$1 f l
	shift
	for f in "$@"; do
		mkdir -p "$root$(dirname "$f")"
		cp -a "$LAB_KIND_ROOTFS$f" "$root$f"
		for l in $(chroot "$LAB_KIND_ROOTFS" ldd "$f" 2>/dev/null | grep -o '/[^ ]*' | sort -u); do
			mkdir -p "$root$(dirname "$l")"
			cp -aL "$LAB_KIND_ROOTFS$l" "$root$l"
		done
	done
}

# docker_save_tar ROOTFS REF CONFIG OUT writes ROOTFS as a one-layer image
# named REF in the `docker save` layout (what `docker load` and `ctr images
# import` read). CONFIG is the image's runtime config as JSON.
docker_save_tar() {
	local rootfs=$1 ref=$2 cfg=$3 out=$4 d diff cid
	d=$(mktemp -d "$LAB_KIND_CACHE/tmp.XXXXXX")
	tar --sort=name --numeric-owner --xattrs --mtime=@1717243200 -C "$rootfs" -cf "$d/layer.tar" .
	diff=$(sha256sum "$d/layer.tar" | cut -d' ' -f1)
	printf '{"architecture":"amd64","os":"linux","config":%s,"rootfs":{"type":"layers","diff_ids":["sha256:%s"]},"history":[{"created_by":"lab test/e2e/kind"}]}' "$cfg" "$diff" >"$d/config.json"
	cid=$(sha256sum "$d/config.json" | cut -d' ' -f1)
	mv "$d/config.json" "$d/$cid.json"
	mkdir "$d/$diff" && mv "$d/layer.tar" "$d/$diff/layer.tar"
	printf '[{"Config":"%s.json","RepoTags":["%s"],"Layers":["%s/layer.tar"]}]' "$cid" "$ref" "$diff" >"$d/manifest.json"
	tar -C "$d" -cf "$out.tmp" manifest.json "$cid.json" "$diff"
	mv "$out.tmp" "$out"
	rm -rf "$d"
}

# control_plane_images writes one tarball per image kubeadm asks for, each
# a harness binary on PATH (the names kubeadm's manifests run), into $1.
control_plane_images() {
	local dir=$1 ver=$LAB_E2E_K8S_VERSION ref root env='"Env":["PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"]'
	mkdir -p "$dir"
	while read -r ref; do
		local name=${ref#registry.k8s.io/} file
		file="$dir/$(echo "$ref" | tr '/:' '__').tar"
		[ -f "$file" ] && continue
		root=$(mktemp -d "$LAB_KIND_CACHE/tmp.XXXXXX")
		mkdir -p "$root/usr/local/bin" "$root/tmp" "$root/etc"
		chmod 1777 "$root/tmp"
		echo 'root:x:0:0:root:/root:/sbin/nologin' >"$root/etc/passwd"
		echo 'root:x:0:' >"$root/etc/group"
		case $name in
		kube-apiserver:* | kube-controller-manager:* | kube-scheduler:*)
			local bin=${name%%:*}
			cp "$LAB_E2E_K8S_BIN/$bin" "$root/usr/local/bin/"
			docker_save_tar "$root" "$ref" "{\"Entrypoint\":[\"/usr/local/bin/$bin\"],$env}" "$file" ;;
		kube-proxy:*)
			# kube-proxy drives iptables: the node's nft and legacy backends,
			# with iptables pointing at the one the node's entrypoint chooses
			# on this kind of host (nft; see select_iptables there).
			cp "$LAB_E2E_K8S_BIN/kube-proxy" "$root/usr/local/bin/"
			copy_with_libs "$root" /usr/sbin/xtables-nft-multi /usr/sbin/xtables-legacy-multi
			mkdir -p "$root/usr/lib/x86_64-linux-gnu"
			cp -a "$LAB_KIND_ROOTFS/usr/lib/x86_64-linux-gnu/xtables" "$root/usr/lib/x86_64-linux-gnu/"
			local t
			for t in iptables iptables-save iptables-restore ip6tables ip6tables-save ip6tables-restore; do
				ln -sf xtables-nft-multi "$root/usr/sbin/$t"
				ln -sf xtables-nft-multi "$root/usr/sbin/${t/tables/tables-nft}"
				ln -sf xtables-legacy-multi "$root/usr/sbin/${t/tables/tables-legacy}"
			done
			docker_save_tar "$root" "$ref" "{\"Entrypoint\":[\"/usr/local/bin/kube-proxy\"],$env}" "$file" ;;
		etcd:*)
			cp "$LAB_E2E_ETCD_BIN/etcd" "$root/usr/local/bin/"
			mkdir -p "$root/var/lib/etcd"
			docker_save_tar "$root" "$ref" "{\"Entrypoint\":[\"/usr/local/bin/etcd\"],$env}" "$file" ;;
		coredns/coredns:*)
			cp "$LAB_E2E_COREDNS_BIN/coredns" "$root/coredns"
			docker_save_tar "$root" "$ref" "{\"Entrypoint\":[\"/coredns\"],$env}" "$file" ;;
		pause:*)
			local src
			src="$(harness_images)/$(echo "$ref" | tr '/:' '__').tar"
			[ -f "$src" ] || kdie "no $ref in the harness's images ($src)"
			cp "$src" "$file" ;;
		*) kdie "kubeadm asks for an image this script cannot build: $ref" ;;
		esac
		rm -rf "$root"
	done < <("$LAB_KIND_KUBEADM_BIN/kubeadm" config images list --kubernetes-version "$LAB_E2E_K8S_VERSION")
}

# preload imports the image tarballs into the node's containerd content
# store (namespace k8s.io, where the CRI looks) with the host's containerd
# (the same Debian version as the node's), pointed at the node rootfs.
preload() {
	local root=$1 tars=$2 run
	run=$(mktemp -d /run/lab-kind-preload.XXXXXX)
	cat >"$run/config.toml" <<-EOT
	version = 2
	root = "$root/var/lib/containerd"
	state = "$run/state"
	disabled_plugins = ["io.containerd.grpc.v1.cri"]
	[grpc]
	  address = "$run/containerd.sock"
	[ttrpc]
	  address = "$run/containerd.sock.ttrpc"
	EOT
	containerd --config "$run/config.toml" >"$run/containerd.log" 2>&1 &
	local pid=$! t
	for _ in $(seq 30); do ctr --address "$run/containerd.sock" version >/dev/null 2>&1 && break; sleep 0.5; done
	for t in "$tars"/*.tar; do
		ctr --address "$run/containerd.sock" -n k8s.io images import --no-unpack --all-platforms "$t" >/dev/null ||
			{ kill "$pid"; kdie "ctr images import $t failed: $(tail -5 "$run/containerd.log")"; }
	done
	ctr --address "$run/containerd.sock" -n k8s.io images ls -q >&2
	kill "$pid"
	wait "$pid" || true
	rm -rf "$run"
}

assemble() {
	local work=$LAB_KIND_CACHE/node.tmp root
	root=$work/rootfs
	rm -rf "$work" && mkdir -p "$work"
	klog "assembling the node rootfs"
	cp -a "$LAB_KIND_ROOTFS" "$root"
	rm -f "$root/.done"
	cp -a "$KIND_E2E_DIR/files/." "$root/"
	install -m 0755 "$LAB_KIND_KUBEADM_BIN/kubeadm" "$LAB_E2E_K8S_BIN/kubelet" "$LAB_E2E_K8S_BIN/kubectl" "$root/usr/bin/"
	install -m 0755 "$LAB_KIND_CRICTL_BIN/crictl" "$root/usr/local/bin/"
	echo "$LAB_E2E_K8S_VERSION" >"$root/kind/version"
	# systemd in a container: only what a node needs starts; journald does
	# not read the host's kmsg; multi-user is the target kind waits for.
	rm -f "$root"/lib/systemd/system/multi-user.target.wants/* "$root"/etc/systemd/system/*.wants/* \
		"$root"/lib/systemd/system/local-fs.target.wants/* "$root"/lib/systemd/system/sockets.target.wants/*udev* \
		"$root"/lib/systemd/system/sockets.target.wants/*initctl* "$root"/lib/systemd/system/basic.target.wants/* \
		"$root"/lib/systemd/system/sysinit.target.wants/systemd-tmpfiles-setup.service
	echo ReadKMsg=no >>"$root/etc/systemd/journald.conf"
	mkdir -p "$root/etc/systemd/system/multi-user.target.wants"
	ln -sf /etc/systemd/system/containerd.service "$root/etc/systemd/system/multi-user.target.wants/containerd.service"
	ln -sf /etc/systemd/system/kubelet.service "$root/etc/systemd/system/multi-user.target.wants/kubelet.service"
	ln -sf /lib/systemd/system/multi-user.target "$root/etc/systemd/system/default.target"
	ln -sf /lib/systemd/systemd "$root/sbin/init"
	# No apt sources or caches in the image; the host's name would leak in.
	rm -rf "$root"/var/lib/apt/lists/* "$root"/var/cache/apt/*.bin "$root/etc/hostname"
	local tars=$LAB_KIND_IMAGES
	control_plane_images "$tars"
	preload "$root" "$tars"
	klog "packing $LAB_KIND_NODE_IMAGE"
	docker_save_tar "$root" "$LAB_KIND_NODE_IMAGE" \
		'{"Entrypoint":["/usr/local/bin/entrypoint","/sbin/init"],"Env":["container=docker","PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"],"StopSignal":"SIGRTMIN+3"}' \
		"$LAB_KIND_NODE_TAR"
	rm -rf "$work"
}

main() {
	mkdir -p "$LAB_KIND_CACHE"
	local t0=$SECONDS
	if [ ! -f "$LAB_KIND_NODE_TAR" ]; then
		harness_build
		build_kubeadm
		build_crictl
		build_rootfs
		assemble
		klog "node image built in $((SECONDS - t0))s: $LAB_KIND_NODE_TAR"
	fi
	: "${DOCKER_HOST:=unix://$LAB_KIND_DOCKER_SOCK}"
	export DOCKER_HOST
	if docker version >/dev/null 2>&1; then
		if ! docker image inspect "$LAB_KIND_NODE_IMAGE" >/dev/null 2>&1; then
			docker load -i "$LAB_KIND_NODE_TAR" >&2 || kdie "docker load -i $LAB_KIND_NODE_TAR failed"
		fi
		klog "node image ready in $((SECONDS - t0))s"
	else
		klog "dockerd does not answer on $DOCKER_HOST: image built, not loaded"
	fi
	echo "$LAB_KIND_NODE_IMAGE"
}

main "$@"
