#!/usr/bin/env bash
# Run the conformance-style suite and write conformance-report.md.
#
#   hack/conformance-report.sh                       # against a fresh pocketkube it starts itself
#   hack/conformance-report.sh --kubeconfig PATH     # against any cluster (checks the tests themselves)
set -euo pipefail
cd "$(dirname "$0")/.."

kubeconfig=""
if [[ "${1:-}" == "--kubeconfig" ]]; then kubeconfig="$2"; shift 2; fi

if [[ -z "${VIRTUAL_ENV:-}" ]]; then
  [[ -d .venv ]] || python3 -m venv .venv
  # shellcheck disable=SC1091
  . .venv/bin/activate
  pip install -q -e '.[test]'
fi

# the project's Podman configuration (hack/setup-podman.sh writes it): with it, the
# fresh pocketkube runs a node agent and the rows that need running pods run too
if [[ -z "${CONTAINERS_CONF:-}" && -f hack/podman/containers.conf ]]; then
  export CONTAINERS_CONF="$PWD/hack/podman/containers.conf"
fi

results=$(mktemp)
target="a fresh pocketkube ($(git rev-parse --short HEAD 2>/dev/null || echo unknown))"
args=(tests/conformance -q -p no:cacheprovider --conformance-json "$results")
if [[ -n "$kubeconfig" ]]; then
  args+=(--kubeconfig "$kubeconfig")
  export CONFORMANCE_TARGET=other
  target="the cluster of $kubeconfig"
fi
status=0
python -m pytest "${args[@]}" "$@" || status=$?
python hack/conformance_report.py "$results" --target "$target" > conformance-report.md
rm -f "$results"
head -12 conformance-report.md
exit $status
