#!/usr/bin/env bash
# Run the whole test suite from a fresh clone (Debian 12, root, PyPI and apt reachable).
#
#   hack/test.sh                 everything: unit first, then integration, conformance, e2e
#   hack/test.sh tests/unit      only what you name (arguments go to pytest)
#
# Installs what the tests need when it is missing (quietly; a second run only
# re-checks): Python venv support, Podman (hack/setup-podman.sh), etcd
# (hack/setup-etcd.sh). Uses the active virtualenv, or creates .venv in the repo.
# Exit code: non-zero if any step failed.
set -uo pipefail
cd "$(dirname "$0")/.."
REPO=$(pwd)
LOG_DIR="$REPO/_output/test"
mkdir -p "$LOG_DIR"

say() { printf '==> %s\n' "$*"; }
warn() { printf 'WARNING: %s\n' "$*" >&2; }

apt_install() {
  # apt_install PKG...: install the missing ones, quietly, if we can.
  local missing=()
  for p in "$@"; do dpkg -s "$p" >/dev/null 2>&1 || missing+=("$p"); done
  [ ${#missing[@]} -eq 0 ] && return 0
  if [ "$(id -u)" != 0 ] || ! command -v apt-get >/dev/null; then
    warn "missing packages ${missing[*]} (not root or no apt-get): install them by hand"
    return 1
  fi
  say "apt-get install ${missing[*]}"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq >"$LOG_DIR/apt.log" 2>&1
  apt-get install -y -qq --no-install-recommends "${missing[@]}" >>"$LOG_DIR/apt.log" 2>&1 \
    || { warn "apt-get failed, see $LOG_DIR/apt.log"; return 1; }
}

# --- system packages --------------------------------------------------------
if command -v dpkg >/dev/null; then
  apt_install python3 python3-venv python3-pip ca-certificates
  # headless Chromium for the cluster page's test (tests/e2e/test_cluster_page.py)
  apt_install chromium || warn "chromium not installed: the cluster page's browser test will SKIP"
fi
if [ -x hack/setup-podman.sh ]; then
  if out=$(hack/setup-podman.sh 2>"$LOG_DIR/setup-podman.log"); then
    eval "$(printf '%s\n' "$out" | grep '^export ' || true)"
  else
    warn "hack/setup-podman.sh failed (see $LOG_DIR/setup-podman.log): tests needing Podman will skip"
  fi
fi
if [ -x hack/setup-etcd.sh ]; then
  hack/setup-etcd.sh >"$LOG_DIR/setup-etcd.log" 2>&1 \
    || warn "hack/setup-etcd.sh failed (see $LOG_DIR/setup-etcd.log): tests needing etcd will skip"
fi

# --- Python environment -----------------------------------------------------
if [ -z "${VIRTUAL_ENV:-}" ]; then
  if [ ! -x .venv/bin/python ]; then
    PY=""
    for c in python3.13 python3.12 python3.11 python3; do
      if command -v "$c" >/dev/null && "$c" -c 'import sys; sys.exit(sys.version_info < (3, 11))' 2>/dev/null; then PY=$c; break; fi
    done
    [ -n "$PY" ] || { echo "ERROR: Python 3.11 or newer is needed" >&2; exit 1; }
    say "creating .venv with $PY"
    "$PY" -m venv .venv || { echo "ERROR: could not create .venv" >&2; exit 1; }
  fi
  # shellcheck disable=SC1091
  . .venv/bin/activate
fi
say "pip install -e .[test] (log: $LOG_DIR/pip.log)"
python -m pip install -q --upgrade pip >"$LOG_DIR/pip.log" 2>&1
python -m pip install -q -e ".[test]" >>"$LOG_DIR/pip.log" 2>&1 \
  || { echo "ERROR: pip install failed, see $LOG_DIR/pip.log" >&2; tail -20 "$LOG_DIR/pip.log" >&2; exit 1; }

# --- what is there ------------------------------------------------------------
KUBECTL_DIR=""
if command -v kubectl >/dev/null; then KUBECTL_DIR=$(dirname "$(readlink -f "$(command -v kubectl)")"); fi
if [ -n "$KUBECTL_DIR" ] && ls "$KUBECTL_DIR"/kubectl.1.* >/dev/null 2>&1; then
  say "kubectl binaries: $(cd "$KUBECTL_DIR" && ls kubectl.1.* | tr '\n' ' ')"
else
  warn "no versioned kubectl binaries (kubectl.1.27 ... kubectl.1.33 beside \`kubectl\` on PATH): tests that drive kubectl will SKIP"
fi
command -v podman >/dev/null || warn "podman not installed: e2e tests will SKIP"
command -v etcd >/dev/null || warn "etcd not installed: etcd backend tests will SKIP"

# --- run ----------------------------------------------------------------------
declare -a NAMES=() RESULTS=()
step() {
  # step NAME CMD...: run, remember pass/fail.
  local name=$1; shift
  say "$name"
  local start=$SECONDS
  "$@"
  local rc=$?
  NAMES+=("$name"); RESULTS+=("$([ $rc -eq 0 ] && echo ok || echo "FAILED (exit $rc)") in $((SECONDS - start))s")
  return 0
}

lane() {
  # lane NAME LOG CMD...: run CMD in the background, its output to LOG; records into
  # $LOG_DIR/NAME.result what step() would print. Waited for by finish_lanes.
  local name=$1 log=$2; shift 2
  rm -f "$log.result"
  ( start=$SECONDS; "$@" >"$log" 2>&1; rc=$?
    echo "$([ $rc -eq 0 ] && echo ok || echo "FAILED (exit $rc)") in $((SECONDS - start))s" >"$log.result" ) &
  LANE_PIDS+=("$!"); LANE_NAMES+=("$name"); LANE_LOGS+=("$log")
}
finish_lanes() {
  local i
  for i in "${!LANE_PIDS[@]}"; do
    wait "${LANE_PIDS[$i]}"
    say "${LANE_NAMES[$i]} (ran beside the others; its output:)"
    cat "${LANE_LOGS[$i]}"
    NAMES+=("${LANE_NAMES[$i]}"); RESULTS+=("$(cat "${LANE_LOGS[$i]}.result" 2>/dev/null || echo "FAILED (no result)")")
  done
}
declare -a LANE_PIDS=() LANE_NAMES=() LANE_LOGS=()

if [ $# -gt 0 ]; then
  step "pytest $*" python -m pytest -q "$@"
else
  step "import contracts (lint-imports)" lint-imports --no-cache
  step "unit tests" python -m pytest -q -p no:cacheprovider tests/unit tests/test_layers.py
  # Two lanes side by side on the machine's cores: the clusters of the conformance and e2e
  # tests spend most of their time waiting for pods and controllers, the integration tests
  # keep one API server busy; together they fit the CI budget that one after the other would
  # not. Every test starts its own servers on its own ports, node names and Podman sockets,
  # so the lanes share nothing but the host. POCKETKUBE_TEST_LANES=1 runs them one by one.
  # Each lane has its own pytest base directory (Unix socket paths stay short).
  clusters=()
  for d in tests/conformance tests/e2e; do
    if [ -n "$(find "$d" -name 'test_*.py' -print -quit 2>/dev/null)" ]; then clusters+=("$d"); fi
  done
  # The integration suite once more with its API server on a real etcd (started and stopped
  # by the fixture), so both storage backends are proven. Left out: files that test what
  # sits above the store (the HTTP fuzzer, kubectl's tour on every version, TLS client
  # certificates and CSRs, audit, raw upgrades, the authorization matrix) or start private
  # servers that prove etcd themselves (encryption at rest): run twice, they would prove
  # nothing more.
  above_the_store=()
  for f in test_fuzz_openapi test_kubectl_tour_matrix test_client_certificates test_certificates_api \
           test_audit_log test_raw_upgrade test_authorization_matrix storage/test_encryption_at_rest; do
    above_the_store+=(--ignore "tests/integration/$f.py")
  done
  # The fuzzer (a private server, bounded to its time budget) runs in the clusters' lane,
  # which keeps the two lanes about as long as each other.
  fuzzer=tests/integration/test_fuzz_openapi.py
  integration() {
    local base=$1; shift
    python -m pytest -q -p no:cacheprovider --basetemp="$base/sqlite" tests/integration --ignore "$fuzzer" "$@"
  }
  on_etcd() {
    local base=$1
    env POCKETKUBE_TEST_BACKEND=etcd python -m pytest -q -p no:cacheprovider --basetemp="$base/etcd" \
      tests/integration "${above_the_store[@]}"
  }
  TMP_BASE=$(mktemp -d /tmp/pk-test-XXXXXX)
  if [ "${POCKETKUBE_TEST_LANES:-2}" = 1 ]; then
    step "conformance and e2e tests, the fuzzer" \
      python -m pytest -q -p no:cacheprovider --basetemp="$TMP_BASE/clusters" "${clusters[@]}" "$fuzzer"
    step "integration tests" integration "$TMP_BASE"
    command -v etcd >/dev/null && step "integration tests on etcd" on_etcd "$TMP_BASE"
  else
    lane "conformance and e2e tests, the fuzzer" "$LOG_DIR/clusters.log" \
      python -m pytest -q -p no:cacheprovider --basetemp="$TMP_BASE/clusters" "${clusters[@]}" "$fuzzer"
    step "integration tests" integration "$TMP_BASE"
    command -v etcd >/dev/null && step "integration tests on etcd" on_etcd "$TMP_BASE"
    finish_lanes
  fi
  # kept when something failed: the servers' logs are in it
  case "${RESULTS[*]}" in *FAILED*) say "test directories kept: $TMP_BASE" ;; *) rm -rf "$TMP_BASE" ;; esac
fi

echo
say "summary"
failed=0
for i in "${!NAMES[@]}"; do
  printf '  %-45s %s\n' "${NAMES[$i]}" "${RESULTS[$i]}"
  case "${RESULTS[$i]}" in ok*) ;; *) failed=1 ;; esac
done
exit $failed
