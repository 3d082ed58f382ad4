#!/usr/bin/env bash
# Installs Debian's etcd server and client when they are missing (no-op when present).
# Nothing starts etcd here: tests start their own members (tests/etcd_cluster.py).
set -euo pipefail
if command -v etcd >/dev/null 2>&1 && command -v etcdctl >/dev/null 2>&1; then
  exit 0
fi
if ! command -v apt-get >/dev/null 2>&1; then
  echo "setup-etcd: etcd is not installed and apt-get is unavailable; install etcd 3.4+ by hand" >&2
  exit 1
fi
SUDO=""
if [ "$(id -u)" != 0 ]; then SUDO="sudo"; fi
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -qq
$SUDO apt-get install -y -qq --no-install-recommends etcd-server etcd-client >/dev/null
# Debian's package may try to start a service; there is no init system here, and
# tests run their own members, so nothing else to do.
command -v etcd >/dev/null && command -v etcdctl >/dev/null
