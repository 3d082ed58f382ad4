"""Marking a test as the pocketkube counterpart of one upstream conformance row.

Each test carries the upstream testname, release, codename and what it needs
(API: the API server alone; CTRL: controller loops; POD: pods that really run),
so the report (hack/conformance-report.sh) can be built from the test run
itself. A row pocketkube cannot pass yet is marked `missing("what")`: a strict
expected failure that names the gap, so it turns red the day it starts
passing and the mark must be removed.
"""
from __future__ import annotations

import os

import pytest

NEEDS = ("API", "CTRL", "POD")


def row(testname: str, *, release: str, needs: str, codename: str):
    """Attach the upstream row to a test (the codename also goes in its docstring)."""
    for part in needs.split("+"):
        assert part in NEEDS, needs

    def mark(fn):
        fn.__doc__ = f"{testname}\n\nUpstream: {codename} [Conformance] ({release})\n\n{fn.__doc__ or ''}"
        return pytest.mark.conformance(testname=testname, release=release, needs=needs, codename=codename)(fn)

    return mark


def missing(what: str):
    """pocketkube cannot pass this row yet, because of `what`.

    Only applies when the suite runs against pocketkube: pointed at a real
    cluster (CONFORMANCE_TARGET=other), the test runs plainly."""
    if os.environ.get("CONFORMANCE_TARGET", "pocketkube") != "pocketkube":
        return lambda fn: fn
    return pytest.mark.xfail(reason=f"missing: {what}", strict=True)
