"""Property-based fuzzing of the API server from its own OpenAPI document (issue 20).

Schemathesis reads the server's /openapi/v2 and, for every operation, has
Hypothesis draw requests that fit the schema (positive) and requests that break
it (negative: wrong types, missing required fields, bad query values). Every
answer must be below 500, come within RESPONSE_DEADLINE_S, and /readyz must keep
answering between operations. The server is a private one: the fuzzer creates
and deletes what it likes.

Kept away from operations that would send traffic off this machine or stream
without end: node/service/pod proxies, exec/attach/port-forward/logs, watches
(and `watch=true` on lists), and admission webhook configurations (a webhook
with a generated URL would be called on later writes).

Drawing requests is slow (Kubernetes schemas are large, and there are hundreds of
operations), so the run is bounded by FUZZ_BUDGET_S: it goes in passes over the
operations in a shuffled order, EXAMPLES_PER_PASS examples per operation and mode,
a new Hypothesis seed each pass. The order and seeds come from POCKETKUBE_FUZZ_SEED,
by default the UTC date, printed with the totals: a run that fails can be replayed,
and runs on different days reach different operations first.

A request whose connection the server closed while the client was still sending
(an early 4xx, before it read a large body) is counted apart: connection handling
is not this test's subject. A request without an answer within the deadline fails.
"""
from __future__ import annotations

import collections
import datetime
import os
import random
import ssl
import time

import httpx
import pytest

schemathesis = pytest.importorskip("schemathesis")
from hypothesis import HealthCheck, Phase, given, seed, settings  # noqa: E402  (after the skip check)

RESPONSE_DEADLINE_S = 10.0   # a stall, not a slow answer: normal answers take milliseconds
FUZZ_BUDGET_S = float(os.environ.get("POCKETKUBE_FUZZ_BUDGET_S", "150"))
EXAMPLES_PER_PASS = 2
SEED = int(os.environ.get("POCKETKUBE_FUZZ_SEED") or datetime.datetime.now(datetime.timezone.utc).strftime("%Y%m%d"))
EXCLUDED = ("/proxy", "/exec", "/attach", "/portforward", "/log", "/watch/", "admissionregistration.k8s.io")


def _operations(spec: dict) -> list:
    schema = schemathesis.openapi.from_dict(spec)
    ops = [result.ok() for result in schema.get_all_operations()]
    return [op for op in ops if not any(x in op.path for x in EXCLUDED)]


def test_fuzzing_the_openapi_finds_no_5xx_no_stall(server_factory):
    import requests

    srv = server_factory()
    auth = {"Authorization": f"Bearer {srv.token}"}
    ctx = ssl.create_default_context(cafile=str(srv.ca_file))
    probe = httpx.Client(base_url=srv.url, verify=ctx, timeout=RESPONSE_DEADLINE_S, headers=auth)
    spec = probe.get("/openapi/v2").json()
    ops = _operations(spec)
    session = requests.Session()
    session.verify = str(srv.ca_file)

    codes: collections.Counter = collections.Counter()
    closed_early = 0
    failures: list[str] = []

    def fuzz(op, mode, pass_no: int) -> None:
        nonlocal closed_early

        @seed(SEED * 1000 + pass_no)
        @settings(max_examples=EXAMPLES_PER_PASS, deadline=None, database=None, phases=[Phase.generate],
                  suppress_health_check=list(HealthCheck))
        @given(case=op.as_strategy(generation_mode=mode))
        def call(case):
            nonlocal closed_early
            if case.query:
                case.query.pop("watch", None)   # a watch streams until its timeout
            case.headers = {**(case.headers or {}), **auth}   # negative mode may drop credentials
            t = time.monotonic()
            try:
                r = case.call(base_url=srv.url, session=session, verify=str(srv.ca_file),
                              timeout=RESPONSE_DEADLINE_S)
            except requests.Timeout:
                failures.append(f"no answer within {RESPONSE_DEADLINE_S}s: {case.as_curl_command()[:2000]}")
                return
            except requests.ConnectionError:
                closed_early += 1
                return
            codes[r.status_code] += 1
            took = time.monotonic() - t
            if r.status_code >= 500 or took > RESPONSE_DEADLINE_S:
                failures.append(f"{r.status_code} after {took:.1f}s: {case.as_curl_command()[:2000]}\n"
                                f"  {r.text[:300]}")

        call()

    random.Random(SEED).shuffle(ops)
    started = time.monotonic()
    tried: set = set()
    for pass_no in range(1000):
        if time.monotonic() - started > FUZZ_BUDGET_S:
            break
        for op in ops:
            if time.monotonic() - started > FUZZ_BUDGET_S:
                break
            for mode in (schemathesis.GenerationMode.POSITIVE, schemathesis.GenerationMode.NEGATIVE):
                fuzz(op, mode, pass_no)
            tried.add(op.label)
            ready = probe.get("/readyz")
            assert ready.status_code == 200, f"/readyz after {op.label}: {ready.status_code}"
    done_ops = len(tried)

    total = sum(codes.values())
    summary = (f"fuzz (seed {SEED}): {done_ops}/{len(ops)} operations, {pass_no} passes begun, "
               f"{total} requests, by code: "
               f"{dict(sorted(codes.items()))}, 5xx: {sum(n for c, n in codes.items() if c >= 500)}, "
               f"connection closed early: {closed_early}")
    print(summary)
    assert total > done_ops, summary
    assert srv.alive(), srv.log()
    assert not failures, summary + "\n" + "\n".join(failures[:30])
