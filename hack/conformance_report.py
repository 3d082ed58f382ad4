"""Render conformance-report.md from the per-row results the suite writes.

Usage: python hack/conformance_report.py RESULTS.json [--target NAME] > conformance-report.md
"""
from __future__ import annotations

import argparse
import collections
import datetime
import json
import sys

ORDER = {"passed": 0, "expected failure": 1, "skipped": 2, "failed": 3}


def render(rows: list[dict], target: str) -> str:
    rows = sorted(rows, key=lambda r: (r["needs"], r["testname"].lower()))
    # one upstream row may have several parametrized tests: the row passes only if all do
    by_name: dict[str, dict] = {}
    for r in rows:
        seen = by_name.get(r["testname"])
        if seen is None or ORDER.get(r["result"], 9) > ORDER.get(seen["result"], 9):
            by_name[r["testname"]] = r
    rows = list(by_name.values())
    totals = collections.Counter(r["result"] for r in rows)
    by_needs = collections.defaultdict(collections.Counter)
    for r in rows:
        by_needs[r["needs"]][r["result"]] += 1

    out = [
        "# pocketkube conformance report",
        "",
        f"Target: {target}. Generated {datetime.datetime.now(datetime.timezone.utc):%Y-%m-%d %H:%M} UTC by "
        "`hack/conformance-report.sh` from `tests/conformance/` (one test per upstream conformance row of "
        "`conformance-core.md`, driven through the official Python client and kubectl).",
        "",
        f"**{totals['passed']} of {len(rows)} rows pass**; {totals['expected failure']} are expected failures "
        f"(each names what is missing), {totals['failed']} failed, {totals['skipped']} skipped.",
        "",
        "| needs | rows | passed | expected failure | failed |",
        "|---|---|---|---|---|",
    ]
    for needs in sorted(by_needs):
        c = by_needs[needs]
        out.append(f"| {needs} | {sum(c.values())} | {c['passed']} | {c['expected failure']} | {c['failed']} |")
    out += ["", "| upstream test | release | needs | result | what is missing |", "|---|---|---|---|---|"]
    for r in rows:
        out.append(f"| {r['testname']} | {r['release']} | {r['needs']} | {r['result']} | {r.get('missing', '')} |")
    return "\n".join(out) + "\n"


def main(argv=None):
    p = argparse.ArgumentParser()
    p.add_argument("results")
    p.add_argument("--target", default="a fresh pocketkube")
    args = p.parse_args(argv)
    with open(args.results) as f:
        sys.stdout.write(render(json.load(f), args.target))


if __name__ == "__main__":
    main()
