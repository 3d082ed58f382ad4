#!/bin/sh
# Build localhost/nettest:latest: the busybox image plus hack/nettest/udp, a small
# static UDP server and client (busybox nc has no UDP mode). Tests that prove UDP
# data flow between pods, and from the node to pods, run it. Needs gcc and the C
# library's static archive (Debian: gcc libc6-dev, installed by setup-podman.sh).
# Rebuilds only when udp.c changed (its hash is a label of the image).
set -eu
HERE=$(cd "$(dirname "$0")" && pwd)
: "${CONTAINERS_CONF:=$HERE/podman/containers.conf}"
export CONTAINERS_CONF
IMAGE=localhost/nettest:latest
SRC="$HERE/nettest/udp.c"
SUM=$(sha256sum "$SRC" | cut -c1-16)
have=$(podman image inspect --format '{{index .Labels "io.pocketkube.nettest"}}' "$IMAGE" 2>/dev/null || true)
if [ "$have" = "$SUM" ]; then
  echo "build-nettest-image: $IMAGE already present"
  exit 0
fi
command -v gcc >/dev/null || { echo "build-nettest-image: gcc missing (apt-get install gcc libc6-dev)" >&2; exit 1; }
"$HERE/build-busybox-image.sh" >/dev/null
CTX=$(mktemp -d)
trap 'rm -rf "$CTX"' EXIT
gcc -static -Os -s -Wall -o "$CTX/udp" "$SRC"
printf 'FROM localhost/busybox:latest\nCOPY udp /bin/udp\nLABEL io.pocketkube.nettest=%s\n' "$SUM" > "$CTX/Containerfile"
podman build --quiet --pull=never -t "$IMAGE" -f "$CTX/Containerfile" "$CTX" >/dev/null
echo "build-nettest-image: built $IMAGE"
