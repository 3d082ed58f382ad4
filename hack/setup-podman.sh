#!/bin/sh
# Install Podman and what it needs on this kind of machine, write the project's
# containers.conf (the machine's /etc files are never touched), build the local
# busybox and nettest images, and print the environment variables to export.
# Idempotent: a second run only re-checks.
set -eu
HERE=$(cd "$(dirname "$0")" && pwd)
CONF="$HERE/podman/containers.conf"

PKGS="podman runc conmon netavark aardvark-dns catatonit fuse-overlayfs slirp4netns uidmap iptables nftables busybox-static conntrack gcc libc6-dev libssl-dev"
missing=""
for p in $PKGS; do
  dpkg -s "$p" >/dev/null 2>&1 || missing="$missing $p"
done
if [ -n "$missing" ]; then
  if ! command -v apt-get >/dev/null 2>&1; then
    echo "setup-podman: apt-get not found; install by hand:$missing" >&2
    exit 1
  fi
  echo "setup-podman: installing$missing" >&2
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq >/dev/null
  apt-get install -y -qq --no-install-recommends $missing >/dev/null
fi

# The sandbox cannot raise rlimits beyond 20000 and crun refuses the hybrid
# cgroup layout: both are fixed by this file (see shared/environment.md).
# exit_command_delay: an exec made through the API (exec probes, lifecycle hooks)
# keeps its conmon, and Podman's session record, this long after the command exits
# so that the caller can read the exit code; the agent reads it at once, and the
# default 300 s left hundreds of idle conmon processes on a node with exec probes.
mkdir -p "$HERE/podman"
cat > "$CONF" <<'CONFEOF'
[containers]
default_ulimits = ["nofile=20000:20000", "nproc=20000:20000"]
[engine]
runtime = "runc"
cgroup_manager = "cgroupfs"
events_logger = "file"
exit_command_delay = 5
CONFEOF
export CONTAINERS_CONF="$CONF"

"$HERE/build-busybox-image.sh" >&2
# (not fatal: only the network tests that send UDP or HTTPS need it, and they say what is missing)
"$HERE/build-nettest-image.sh" >&2 || echo "setup-podman: localhost/nettest not built (see above)" >&2

echo "export CONTAINERS_CONF=$CONF"
