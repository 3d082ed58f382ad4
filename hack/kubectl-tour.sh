#!/usr/bin/env bash
# Walk the scripted kubectl tour (tests/integration/test_kubectl_tour_matrix.py) against a
# fresh pocketkube API server, once per installed kubectl 1.27-1.33.
#
#   hack/kubectl-tour.sh            every installed version
#   hack/kubectl-tour.sh 1.29 1.33  only these
#
# The versioned binaries are looked for beside the `kubectl` on PATH (kubectl.1.27 ...),
# or in $POCKETKUBE_KUBECTL_DIR. Prints, per version, how many requests the -v=8 log
# showed and which 404s were expected.
set -euo pipefail
cd "$(dirname "$0")/.."
if [ -z "${VIRTUAL_ENV:-}" ] && [ -f .venv/bin/activate ]; then . .venv/bin/activate; fi

dir="${POCKETKUBE_KUBECTL_DIR:-}"
if [ -z "$dir" ] && command -v kubectl >/dev/null; then dir=$(dirname "$(readlink -f "$(command -v kubectl)")"); fi
if [ -z "$dir" ] || ! ls "$dir"/kubectl.1.* >/dev/null 2>&1; then
  echo "no versioned kubectl binaries (kubectl.1.27 ... kubectl.1.33) found beside kubectl on PATH;" >&2
  echo "install them, or point POCKETKUBE_KUBECTL_DIR at a directory holding them" >&2
  exit 2
fi

select=()
for v in "$@"; do select+=(-k "tour[$v]"); done
[ $# -gt 1 ] && select=(-k "$(printf 'tour[%s] or ' "$@" | sed 's/ or $//')")
exec python -m pytest -q -s -p no:cacheprovider tests/integration/test_kubectl_tour_matrix.py "${select[@]}"
