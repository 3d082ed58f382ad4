#!/usr/bin/env python
"""Pure machinery benchmark: prints a table, asserts nothing.

  python hack/bench/bench_machinery.py

What a list/watch or a PATCH costs in this code, per call: parsing a label and a
field selector, matching a label selector against one object's labels (the
per-object cost of a filtered list or of every watch event), a strategic merge
patch kubectl sends on `apply`, and parsing a quantity.
"""
from __future__ import annotations

import json
import pathlib
import sys
import timeit

sys.path.insert(0, str(pathlib.Path(__file__).resolve().parents[2]))

from apiserver.machinery import schemas  # noqa: E402
from apiserver.machinery.fields import parse_field_selector  # noqa: E402
from apiserver.machinery.labels import parse_label_selector  # noqa: E402
from apiserver.machinery.patch import json_patch, merge_patch, strategic_merge_patch  # noqa: E402
from apiserver.machinery.quantity import parse_quantity  # noqa: E402

FIXTURES = pathlib.Path(__file__).resolve().parents[2] / "tests/unit/machinery/fixtures/kubectl_apply_patches.json"


def per_call(fn, number: int) -> float:
    best = min(timeit.repeat(fn, number=number, repeat=3))
    return best / number * 1e6  # microseconds


def main() -> None:
    selector_text = "app=web,tier in (front,back),!canary,env!=dev"
    sel = parse_label_selector(selector_text)
    labels = {"app": "web", "tier": "front", "env": "prod", "pod-template-hash": "abc123"}
    case = next(c for c in json.loads(FIXTURES.read_text())["cases"] if c["kind"] == "Pod")
    pod_schema = schemas.for_kind("", "v1", "Pod")
    schemas.definitions()  # load once, outside the timings
    rows = [
        ("parse label selector (4 requirements)", per_call(lambda: parse_label_selector(selector_text), 20000)),
        ("match label selector", per_call(lambda: sel.matches(labels), 200000)),
        ("parse field selector (2 terms)", per_call(lambda: parse_field_selector("metadata.name=x,status.phase!=Failed"), 20000)),
        ("strategic merge patch: kubectl apply of a pod", per_call(
            lambda: strategic_merge_patch(case["live"], case["patch"], pod_schema), 2000)),
        ("merge patch (labels)", per_call(lambda: merge_patch(case["live"], {"metadata": {"labels": {"a": "b"}}}), 5000)),
        ("json patch (1 replace)", per_call(
            lambda: json_patch(case["live"], [{"op": "replace", "path": "/metadata/name", "value": "x"}]), 5000)),
        ("parse quantity '1536Mi' and print it", per_call(lambda: str(parse_quantity("1536Mi")), 50000)),
    ]
    width = max(len(name) for name, _ in rows)
    print(f"{'operation':<{width}}  µs/call")
    for name, us in rows:
        print(f"{name:<{width}}  {us:8.2f}")


if __name__ == "__main__":
    main()
