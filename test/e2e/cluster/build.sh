# shellcheck shell=bash
# Installing packages and building binaries into the cache. Sourced by harness.

# install_packages installs the Debian packages the harness needs, without
# letting their maintainer scripts start any service (nginx, containerd).
install_packages() {
	local missing=() p
	for p in $LAB_E2E_APT_PACKAGES; do
		dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p")
	done
	[ ${#missing[@]} -eq 0 ] && return 0
	log "apt-get install ${missing[*]}"
	local made_policy=0
	if [ ! -e /usr/sbin/policy-rc.d ]; then
		printf '#!/bin/sh\nexit 101\n' >/usr/sbin/policy-rc.d
		chmod +x /usr/sbin/policy-rc.d
		made_policy=1
	fi
	export DEBIAN_FRONTEND=noninteractive
	local rc=0
	{ apt-get update -qq && apt-get install -y -qq --no-install-recommends "${missing[@]}"; } >"$LAB_E2E_CACHE/apt.log" 2>&1 || rc=$?
	[ $made_policy = 1 ] && rm -f /usr/sbin/policy-rc.d
	[ $rc = 0 ] || { tail -20 "$LAB_E2E_CACHE/apt.log" >&2; die "apt-get failed"; }
}

# wrapper_module writes a module in DIR that requires MOD@VER and imports PKGS
# through a tools file, so that `go mod tidy` resolves a complete build list.
# Extra go.mod lines (replace directives) come on stdin.
wrapper_module() {
	local dir=$1 mod=$2 ver=$3
	shift 3
	mkdir -p "$dir"
	{
		echo "module lab-e2e/wrapper"
		echo
		echo "go 1.26"
		echo
		echo "require $mod $ver"
		cat
	} >"$dir/go.mod"
	{
		echo "//go:build tools"
		echo
		echo "package tools"
		echo
		echo "import ("
		local p
		for p in "$@"; do echo "	_ \"$p\""; done
		echo ")"
	} >"$dir/tools.go"
	(cd "$dir" && GOFLAGS=-mod=mod go mod tidy >"$dir/tidy.log" 2>&1) || { tail -20 "$dir/tidy.log" >&2; die "go mod tidy failed in $dir"; }
}

build_kubernetes() {
	local out=$LAB_E2E_K8S_BIN
	if [ -x "$out/kubectl" ] && [ -x "$out/kubelet" ] && [ -x "$out/kube-apiserver" ]; then return 0; fi
	local ver=$LAB_E2E_K8S_VERSION staging="v0.${LAB_E2E_K8S_VERSION#v1.}"
	local src="$LAB_E2E_CACHE/src/k8s-$ver"
	log "building Kubernetes $ver (cold: ~5-8 min on 2 cores)"
	go mod download k8s.io/kubernetes@"$ver" || die "cannot download k8s.io/kubernetes@$ver"
	local gomod
	gomod=$(go mod download -json k8s.io/kubernetes@"$ver" | sed -n 's/.*"GoMod": "\(.*\)",/\1/p')
	local cmds=(kube-apiserver kube-controller-manager kube-scheduler kubelet kube-proxy kubectl)
	local pkgs=() c
	for c in "${cmds[@]}"; do pkgs+=("k8s.io/kubernetes/cmd/$c"); done
	# Every staging module k8s.io/kubernetes replaces with ./staging/... is
	# replaced here with its published v0.X.Y.
	grep -E '^[[:space:]]*k8s\.io/[a-z0-9-]+ => \./staging/' "$gomod" | awk -v v="$staging" '{print "replace " $1 " => " $1 " " v}' |
		wrapper_module "$src" k8s.io/kubernetes "$ver" "${pkgs[@]}"
	local major=${ver#v}; major=${major%%.*}
	local minor=${ver#v*.}; minor=${minor%%.*}
	local date; date=$(date -u +%Y-%m-%dT%H:%M:%SZ)
	local ld="-s -w"
	local p
	for p in k8s.io/component-base/version k8s.io/client-go/pkg/version; do
		ld+=" -X $p.gitVersion=$ver -X $p.gitMajor=$major -X $p.gitMinor=$minor -X $p.gitTreeState=clean -X $p.buildDate=$date -X $p.gitCommit=0000000000000000000000000000000000000000"
	done
	mkdir -p "$out.tmp"
	(cd "$src" && CGO_ENABLED=0 go build -trimpath -ldflags "$ld" -o "$out.tmp/" "${pkgs[@]}") || die "go build of Kubernetes failed"
	rm -rf "$out" && mv "$out.tmp" "$out"
	# (no pipe into head: with pipefail kubectl's SIGPIPE would fail the build)
	"$out/kubectl" version --client >&2 || true
}

build_etcd() {
	local out=$LAB_E2E_ETCD_BIN
	[ -x "$out/etcd" ] && return 0
	log "building etcd $LAB_E2E_ETCD_VERSION"
	local src="$LAB_E2E_CACHE/src/etcd-$LAB_E2E_ETCD_VERSION"
	wrapper_module "$src" go.etcd.io/etcd/server/v3 "$LAB_E2E_ETCD_VERSION" go.etcd.io/etcd/server/v3 </dev/null
	mkdir -p "$out.tmp"
	(cd "$src" && CGO_ENABLED=0 go build -trimpath -ldflags "-s -w" -o "$out.tmp/etcd" go.etcd.io/etcd/server/v3) || die "go build of etcd failed"
	rm -rf "$out" && mv "$out.tmp" "$out"
}

# go_install_to builds PKG@VER (a module without replace directives) into DIR.
go_install_to() {
	local dir=$1 pkg=$2 ver=$3
	mkdir -p "$dir.tmp"
	CGO_ENABLED=0 GOBIN="$dir.tmp" go install -trimpath -ldflags "-s -w" "$pkg@$ver" || die "go install $pkg@$ver failed"
	rm -rf "$dir" && mv "$dir.tmp" "$dir"
}

build_coredns() {
	[ -x "$LAB_E2E_COREDNS_BIN/coredns" ] && return 0
	log "building CoreDNS $LAB_E2E_COREDNS_VERSION"
	go_install_to "$LAB_E2E_COREDNS_BIN" github.com/coredns/coredns "$LAB_E2E_COREDNS_VERSION"
}

build_registry() {
	[ -x "$LAB_E2E_REGISTRY_BIN/registry" ] && return 0
	log "building distribution registry $LAB_E2E_REGISTRY_VERSION"
	go_install_to "$LAB_E2E_REGISTRY_BIN" github.com/distribution/distribution/v3/cmd/registry "$LAB_E2E_REGISTRY_VERSION"
}

build_all_binaries() {
	mkdir -p "$LAB_E2E_CACHE"
	command -v go >/dev/null || export PATH="$PATH:/usr/local/go/bin"
	# CI may export GOFLAGS=-mod=readonly for the project; the wrapper
	# modules are resolved here, and `go install pkg@version` takes no -mod.
	export GOFLAGS=-buildvcs=false GOTOOLCHAIN=local
	build_registry
	build_etcd
	build_coredns
	build_kubernetes
}
