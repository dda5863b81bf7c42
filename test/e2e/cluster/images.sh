# shellcheck shell=bash
# Building the lab's container images without Docker: a rootfs folder from the
# host's Debian binaries, packed as a `docker save` tarball. Sourced by harness.
#
# Images (name -> what is inside):
#   registry.k8s.io/pause:$LAB_E2E_PAUSE_TAG  a static /pause (reaps, exits on TERM)
#   docker.io/kyos0109/nginx-distroless      nginx + libs + /etc/nginx, no shell
#   docker.io/nicolaka/netshoot              busybox sh/ps, tcpdump, strace, curl
#   docker.io/library/ubuntu                 busybox sh (for chroot /host)
#   docker.io/curlimages/curl                curl + busybox sh

# lab_images prints "ref builder" lines; the ref is what pods name.
lab_images() {
	cat <<EOF
registry.k8s.io/pause:$LAB_E2E_PAUSE_TAG img_pause
docker.io/kyos0109/nginx-distroless:latest img_nginx
docker.io/nicolaka/netshoot:latest img_netshoot
docker.io/library/ubuntu:latest img_ubuntu
docker.io/curlimages/curl:latest img_curl
EOF
}

# images_key changes when this file or the Debian binaries copied change.
images_key() {
	{
		cat "$LAB_E2E_HERE/images.sh"
		echo "$LAB_E2E_PAUSE_TAG"
		dpkg-query -W busybox-static nginx-light tcpdump strace curl libc6 2>/dev/null
	} | sha256sum | cut -c1-12
}

# copy_with_libs ROOT FILE... copies each file and the shared libraries it
# loads (as ldd resolves them) to the same paths under ROOT.
copy_with_libs() {
	local root=$1 f l
	shift
	for f in "$@"; do
		mkdir -p "$root$(dirname "$f")"
		cp -L "$f" "$root$f"
		for l in $(ldd "$f" 2>/dev/null | grep -oE '/[^ ]+' || true); do
			[ -e "$root$l" ] && continue
			mkdir -p "$root$(dirname "$l")"
			cp -L "$l" "$root$l"
		done
	done
}

add_busybox() {
	local root=$1 a
	mkdir -p "$root/bin" "$root/usr/bin" "$root/sbin" "$root/usr/sbin" "$root/tmp" "$root/root" "$root/etc"
	chmod 1777 "$root/tmp"
	cp /bin/busybox "$root/bin/busybox"
	for a in $(/bin/busybox --list-full); do
		[ -e "$root/$a" ] || ln -s /bin/busybox "$root/$a"
	done
}

add_etc() {
	local root=$1
	mkdir -p "$root/etc"
	cat >"$root/etc/passwd" <<'EOF'
root:x:0:0:root:/root:/bin/sh
www-data:x:33:33:www-data:/var/www:/usr/sbin/nologin
tcpdump:x:104:108::/nonexistent:/usr/sbin/nologin
nobody:x:65534:65534:nobody:/nonexistent:/usr/sbin/nologin
EOF
	cat >"$root/etc/group" <<'EOF'
root:x:0:
www-data:x:33:
tcpdump:x:108:
nogroup:x:65534:
EOF
	echo 'hosts: files dns' >"$root/etc/nsswitch.conf"
}

img_pause() {
	local root=$1 tmp
	tmp=$(mktemp -d)
	# A minimal pause: PID 1 of the sandbox, reaps zombies, exits on INT/TERM.
	cat >"$tmp/pause.c" <<'EOF'
#include <signal.h>
#include <stdlib.h>
#include <sys/wait.h>
#include <unistd.h>
static void on_term(int sig) { (void)sig; _exit(0); }
static void on_chld(int sig) { (void)sig; while (waitpid(-1, NULL, WNOHANG) > 0) {} }
int main(void) {
	struct sigaction t = {0}, c = {0};
	t.sa_handler = on_term;
	c.sa_handler = on_chld;
	c.sa_flags = SA_NOCLDSTOP;
	sigaction(SIGINT, &t, NULL);
	sigaction(SIGTERM, &t, NULL);
	sigaction(SIGCHLD, &c, NULL);
	for (;;) pause();
}
EOF
	gcc -Os -static -o "$root/pause" "$tmp/pause.c" || die "cannot compile pause"
	rm -rf "$tmp"
	echo '{"Entrypoint":["/pause"],"User":"65535:65535"}'
}

img_nginx() {
	local root=$1 f
	add_etc "$root"
	copy_with_libs "$root" /usr/sbin/nginx
	mkdir -p "$root/etc/nginx/conf.d" "$root/usr/share/nginx/html" "$root/var/log/nginx" "$root/run" "$root/tmp" \
		"$root/var/lib/nginx/body" "$root/var/lib/nginx/proxy" "$root/var/lib/nginx/fastcgi" \
		"$root/var/lib/nginx/uwsgi" "$root/var/lib/nginx/scgi" "$root/var/lock" "$root/var/www"
	chmod 1777 "$root/tmp"
	for f in mime.types fastcgi.conf fastcgi_params scgi_params uwsgi_params koi-utf koi-win win-utf; do
		[ -e "/etc/nginx/$f" ] && cp "/etc/nginx/$f" "$root/etc/nginx/$f"
	done
	ln -s /dev/stdout "$root/var/log/nginx/access.log"
	ln -s /dev/stderr "$root/var/log/nginx/error.log"
	cat >"$root/etc/nginx/nginx.conf" <<'EOF'
user www-data;
worker_processes 1;
error_log /var/log/nginx/error.log notice;
pid /run/nginx.pid;

events {
    worker_connections 1024;
}

http {
    include /etc/nginx/mime.types;
    default_type application/octet-stream;
    access_log /var/log/nginx/access.log combined;
    sendfile on;
    keepalive_timeout 65;
    include /etc/nginx/conf.d/*.conf;
}
EOF
	cat >"$root/etc/nginx/conf.d/default.conf" <<'EOF'
server {
    listen 80;
    server_name localhost;
    location / {
        root /usr/share/nginx/html;
        index index.html;
    }
}
EOF
	cat >"$root/usr/share/nginx/html/index.html" <<'EOF'
<!DOCTYPE html>
<html><head><title>Welcome to nginx!</title></head>
<body><h1>Welcome to nginx!</h1><p>nginx-distroless (lab e2e build)</p></body></html>
EOF
	echo '{"Entrypoint":["/usr/sbin/nginx","-g","daemon off;"],"ExposedPorts":{"80/tcp":{}},"StopSignal":"SIGQUIT"}'
}

img_netshoot() {
	local root=$1
	add_busybox "$root"
	add_etc "$root"
	copy_with_libs "$root" /usr/bin/tcpdump /usr/bin/strace /usr/bin/curl
	echo '{"Cmd":["/bin/sh"],"Env":["PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"]}'
}

img_ubuntu() {
	local root=$1
	add_busybox "$root"
	add_etc "$root"
	echo '{"Cmd":["/bin/sh"],"Env":["PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"]}'
}

img_curl() {
	local root=$1
	add_busybox "$root"
	add_etc "$root"
	copy_with_libs "$root" /usr/bin/curl
	echo '{"Cmd":["curl"],"Env":["PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"]}'
}

# docker_save_tar ROOTFS REF CONFIGJSON OUT packs ROOTFS as a one-layer image
# in the `docker save` format that `ctr images import` reads.
docker_save_tar() {
	local rootfs=$1 ref=$2 cfg=$3 out=$4 d
	d=$(mktemp -d)
	tar --sort=name --owner=0 --group=0 --numeric-owner --mtime=@1717243200 -C "$rootfs" -cf "$d/layer.tar" .
	local diff_id
	diff_id=$(sha256sum "$d/layer.tar" | cut -d' ' -f1)
	printf '{"architecture":"amd64","os":"linux","config":%s,"rootfs":{"type":"layers","diff_ids":["sha256:%s"]},"history":[{"created_by":"lab e2e harness"}]}' \
		"$cfg" "$diff_id" >"$d/config.json"
	local cfg_id
	cfg_id=$(sha256sum "$d/config.json" | cut -d' ' -f1)
	mv "$d/config.json" "$d/$cfg_id.json"
	mkdir "$d/$diff_id" && mv "$d/layer.tar" "$d/$diff_id/layer.tar"
	printf '[{"Config":"%s.json","RepoTags":["%s"],"Layers":["%s/layer.tar"]}]' "$cfg_id" "$ref" "$diff_id" >"$d/manifest.json"
	tar -C "$d" -cf "$out" manifest.json "$cfg_id.json" "$diff_id"
	rm -rf "$d"
}

# build_images writes one tarball per image into $LAB_E2E_IMAGES/tars.
build_images() {
	local dir="$LAB_E2E_IMAGES/tars"
	[ -e "$dir/.done" ] && return 0
	log "building images into $dir"
	rm -rf "$dir" && mkdir -p "$dir"
	local ref fn name root cfg
	while read -r ref fn; do
		name=$(echo "$ref" | tr '/:' '__')
		root=$(mktemp -d)
		cfg=$("$fn" "$root") || die "building $ref failed"
		docker_save_tar "$root" "$ref" "$cfg" "$dir/$name.tar"
		rm -rf "$root"
	done < <(lab_images)
	touch "$dir/.done"
}

# push_images imports the tarballs into containerd and pushes them to the
# local registry, once per registry storage.
push_images() {
	local marker="$LAB_E2E_IMAGES/registry/.pushed"
	[ -e "$marker" ] && return 0
	log "pushing images to the local registry"
	local ref fn name path
	while read -r ref fn; do
		name=$(echo "$ref" | tr '/:' '__')
		ctr_ -n k8s.io images import --no-unpack "$LAB_E2E_IMAGES/tars/$name.tar" >/dev/null || die "ctr import $ref failed"
		path=${ref#*/}
		ctr_ -n k8s.io images push --plain-http "$LAB_E2E_REGISTRY_ADDR/$path" "$ref" >/dev/null || die "ctr push $ref failed"
	done < <(lab_images)
	touch "$marker"
}
