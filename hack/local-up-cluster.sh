#!/usr/bin/env bash
# Run a whole pocketkube cluster (API server, controllers, node agent) in the foreground.
#
#   hack/local-up-cluster.sh                     state in _output/local-up
#   DATA_DIR=/tmp/pk hack/local-up-cluster.sh    elsewhere
#   hack/local-up-cluster.sh --no-nodeagent      extra flags go to `pocketkube up`
#
# Uses the active virtualenv, or creates .venv in the repo. Ctrl-C stops it cleanly;
# running it again on the same DATA_DIR keeps objects and credentials.
set -euo pipefail
cd "$(dirname "$0")/.."
DATA_DIR=${DATA_DIR:-_output/local-up}
mkdir -p _output "$DATA_DIR"
DATA_DIR=$(cd "$DATA_DIR" && pwd)

if [ -z "${VIRTUAL_ENV:-}" ]; then
  if [ ! -x .venv/bin/python ]; then
    PY=""
    for c in python3.13 python3.12 python3.11 python3; do
      if command -v "$c" >/dev/null && "$c" -c 'import sys; sys.exit(sys.version_info < (3, 11))' 2>/dev/null; then PY=$c; break; fi
    done
    [ -n "$PY" ] || { echo "ERROR: Python 3.11 or newer is needed" >&2; exit 1; }
    echo "==> creating .venv with $PY"
    "$PY" -m venv .venv
  fi
  # shellcheck disable=SC1091
  . .venv/bin/activate
fi
echo "==> pip install -e . (log: _output/pip-local-up.log)"
python -m pip install -q -e . >_output/pip-local-up.log 2>&1 \
  || { echo "ERROR: pip install failed, see _output/pip-local-up.log" >&2; exit 1; }

# Podman's configuration for this kind of machine, when the node agent will run pods.
# Podman (and the project's containers.conf, the local busybox image, conntrack for
# the proxy): installed when missing, as hack/test.sh does, so that this one command
# is enough on a fresh machine. Idempotent: a second run only re-checks.
if [ "${SKIP_PODMAN_SETUP:-}" != 1 ] && [ -x hack/setup-podman.sh ]; then
  echo "==> hack/setup-podman.sh (log: _output/setup-podman.log)"
  if out=$(hack/setup-podman.sh 2>_output/setup-podman.log); then
    eval "$(printf '%s\n' "$out" | grep '^export ' || true)"
  else
    echo "WARNING: hack/setup-podman.sh failed (see _output/setup-podman.log): pods will not start" >&2
  fi
fi
if [ -f hack/podman/containers.conf ] && [ -z "${CONTAINERS_CONF:-}" ]; then
  export CONTAINERS_CONF="$PWD/hack/podman/containers.conf"
fi

cat <<MSG
==> starting pocketkube (state in $DATA_DIR; Ctrl-C to stop)
    Once it is up, in another shell:
      export KUBECONFIG=$DATA_DIR/admin.kubeconfig
      kubectl get ns
MSG
# exec: Ctrl-C reaches pocketkube itself, which shuts down cleanly and exits 0.
exec pocketkube up --data-dir "$DATA_DIR" "$@"
