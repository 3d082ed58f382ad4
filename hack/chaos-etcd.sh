#!/usr/bin/env bash
# Kill etcd members (the leader included) under write load and audit every acknowledged write.
#
#   hack/chaos-etcd.sh [pytest args]
#
# Runs the slow chaos tests with their counts printed: the store-level one (3-member
# cluster, members killed and restarted three times, watch audited for gaps and repeats)
# and the API-level one (two API servers, the leader killed mid-load, creates audited
# through both servers). etcd comes from hack/setup-etcd.sh; the tests start and stop
# their own members by PID.
set -euo pipefail
cd "$(dirname "$0")/.."
command -v etcd >/dev/null || { echo "etcd is not installed: run hack/setup-etcd.sh" >&2; exit 1; }
[ -n "${VIRTUAL_ENV:-}" ] || { [ -f .venv/bin/activate ] && . .venv/bin/activate; }
exec python -m pytest -s -q -m slow \
  tests/integration/storage/test_etcd_failures.py \
  tests/integration/test_etcd_backend_chaos.py "$@"
