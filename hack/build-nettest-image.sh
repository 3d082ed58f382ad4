#!/bin/sh
# Build localhost/nettest:latest: the busybox image plus two small static programs
# from hack/nettest: `udp`, a UDP server and client (busybox nc has no UDP mode),
# and `porter`, fixed answers over HTTP and HTTPS on many ports (as upstream's
# e2e porter). Needs gcc and static C and OpenSSL libraries (Debian: gcc
# libc6-dev libssl-dev, installed by setup-podman.sh).
# Rebuilds only when a source changed (their hash is a label of the image).
set -eu
HERE=$(cd "$(dirname "$0")" && pwd)
: "${CONTAINERS_CONF:=$HERE/podman/containers.conf}"
export CONTAINERS_CONF
IMAGE=localhost/nettest:latest
SUM=$(cat "$HERE"/nettest/*.c | sha256sum | cut -c1-16)
have=$(podman image inspect --format '{{index .Labels "io.pocketkube.nettest"}}' "$IMAGE" 2>/dev/null || true)
if [ "$have" = "$SUM" ]; then
  echo "build-nettest-image: $IMAGE already present"
  exit 0
fi
command -v gcc >/dev/null || { echo "build-nettest-image: gcc missing (apt-get install gcc libc6-dev libssl-dev)" >&2; exit 1; }
"$HERE/build-busybox-image.sh" >/dev/null
CTX=$(mktemp -d)
trap 'rm -rf "$CTX"' EXIT
# (static glibc warns that OpenSSL could call dlopen/getaddrinfo: porter does neither)
{ gcc -static -Os -s -Wall -o "$CTX/udp" "$HERE/nettest/udp.c" &&
  gcc -static -Os -s -Wall -o "$CTX/porter" "$HERE/nettest/porter.c" -lssl -lcrypto; } 2>"$CTX/gcc.log" \
  || { cat "$CTX/gcc.log" >&2; exit 1; }
printf 'FROM localhost/busybox:latest\nCOPY udp porter /bin/\nLABEL io.pocketkube.nettest=%s\n' "$SUM" > "$CTX/Containerfile"
podman build --quiet --pull=never -t "$IMAGE" -f "$CTX/Containerfile" "$CTX" >/dev/null
echo "build-nettest-image: built $IMAGE"
