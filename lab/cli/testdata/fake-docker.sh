#!/bin/sh
# A container engine's client for lab bundle's tests: images are files
# under $FAKE_DOCKER_DIR holding what `image inspect --format '{{json .}}'`
# prints; every call is logged to $FAKE_DOCKER_DIR/calls; with
# FAKE_DOCKER_OFFLINE set, pulls fail as dockerd's do without DNS.
d=$FAKE_DOCKER_DIR
key() { echo "$1" | tr '/:@' '___'; }
echo "$*" >> "$d/calls"
case "$1" in
image)
	name=$5
	if [ -f "$d/img.$(key "$name")" ]; then cat "$d/img.$(key "$name")"; exit 0; fi
	echo "Error response from daemon: No such image: $name" >&2; exit 1 ;;
pull)
	platform=$3; name=$4
	if [ -n "$FAKE_DOCKER_OFFLINE" ]; then
		echo 'Error response from daemon: Get "https://registry-1.docker.io/v2/": dial tcp: lookup registry-1.docker.io on 127.0.0.53:53: no such host' >&2; exit 1
	fi
	printf '{"Id":"sha256:pulled%s","RepoDigests":[],"Os":"%s","Architecture":"%s"}\n' "$(key "$name")" "${platform%/*}" "${platform#*/}" > "$d/img.$(key "$name")" ;;
tag)
	src=$(grep -l "\"Id\":\"$2\"" "$d"/img.* | head -n 1)
	cp "$src" "$d/img.$(key "$3")" ;;
save)
	out=$3; shift 3
	echo "saved $*" > "$out" ;;
load)
	cat > "$d/loaded" ;;
*)
	echo "fake docker: $*: not faked" >&2; exit 1 ;;
esac
