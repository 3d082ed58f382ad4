#!/bin/sh
# Build localhost/busybox:latest from Debian's busybox-static: no registry is
# reachable here, and a 2 MB rootfs imported with `podman import` is enough
# for tests and the README's example. Skips the work if the image exists.
set -eu
HERE=$(cd "$(dirname "$0")" && pwd)
: "${CONTAINERS_CONF:=$HERE/podman/containers.conf}"
export CONTAINERS_CONF
IMAGE=localhost/busybox:latest
if [ "${1:-}" != "--force" ] && podman image exists "$IMAGE" 2>/dev/null; then
  echo "build-busybox-image: $IMAGE already present"
  exit 0
fi
BB=/bin/busybox
[ -x "$BB" ] || { echo "build-busybox-image: $BB missing (apt-get install busybox-static)" >&2; exit 1; }
ROOT=$(mktemp -d)
trap 'rm -rf "$ROOT"' EXIT
mkdir -p "$ROOT/bin" "$ROOT/sbin" "$ROOT/usr/bin" "$ROOT/usr/sbin" "$ROOT/etc" \
         "$ROOT/tmp" "$ROOT/root" "$ROOT/proc" "$ROOT/sys" "$ROOT/dev" "$ROOT/var/www"
chmod 1777 "$ROOT/tmp"
cp "$BB" "$ROOT/bin/busybox"
# One symlink per applet, at the path busybox itself reports for it.
for applet in $("$BB" --list-full); do
  [ "$applet" = "bin/busybox" ] && continue
  mkdir -p "$ROOT/$(dirname "$applet")"
  ln -sf /bin/busybox "$ROOT/$applet"
done
printf 'root:x:0:0:root:/root:/bin/sh\nnobody:x:65534:65534:nobody:/:/bin/false\n' > "$ROOT/etc/passwd"
printf 'root:x:0:\nnogroup:x:65534:\n' > "$ROOT/etc/group"
tar -C "$ROOT" -cf - . | podman import --quiet \
  --change 'CMD ["sh"]' --change 'ENV PATH=/usr/sbin:/usr/bin:/sbin:/bin' \
  - "$IMAGE" >/dev/null
echo "build-busybox-image: built $IMAGE"
