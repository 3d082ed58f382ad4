"""Fixtures for the conformance-style suite.

The suite drives a cluster only through public clients (the official Python
client and kubectl), so it can be pointed at any cluster: `--kubeconfig PATH`
or `KUBECONFIG`. Without either it starts a fresh pocketkube of its own.
Every test gets its own namespace, deleted afterwards.
"""
from __future__ import annotations

import json
import os
import uuid
from pathlib import Path

import pytest
from kubernetes import client, config, dynamic

from tests.conformance import cluster


def pytest_addoption(parser):
    # Only honoured when tests/conformance is named on the command line (pytest
    # reads options from initial conftests); KUBECONFIG works everywhere.
    parser.addoption("--kubeconfig", default=None, help="run the conformance suite against this cluster")
    parser.addoption("--conformance-json", default=None, help="write per-row results here (for the report)")


def _option(config_, name):
    try:
        return config_.getoption(name)
    except ValueError:
        return None


@pytest.fixture(scope="session")
def kubeconfig(request, tmp_path_factory):
    given = _option(request.config, "--kubeconfig") or os.environ.get("CONFORMANCE_KUBECONFIG")
    if given:
        yield given
        return
    with cluster.fresh_pocketkube(tmp_path_factory.mktemp("conformance")) as path:
        yield path


@pytest.fixture(scope="session")
def api(kubeconfig):
    return config.new_client_from_config(config_file=str(kubeconfig))


@pytest.fixture(scope="session")
def core(api):
    return client.CoreV1Api(api)


@pytest.fixture(scope="session")
def dyn(api):
    return dynamic.DynamicClient(api)


@pytest.fixture(scope="session")
def apps(api):
    return client.AppsV1Api(api)


@pytest.fixture(scope="session")
def batch(api):
    return client.BatchV1Api(api)


@pytest.fixture(scope="session")
def policy(api):
    return client.PolicyV1Api(api)


@pytest.fixture
def ns(core, request):
    """A namespace of the test's own, like the e2e framework's (deleted after)."""
    base = request.node.name.split("[")[0].replace("_", "-").lower()[:40].strip("-")
    name = f"{base}-{uuid.uuid4().hex[:5]}"
    core.create_namespace({"metadata": {"name": name, "labels": {"e2e-framework": "pocketkube-conformance"}}})
    yield name
    try:
        core.delete_namespace(name)
    except client.ApiException as e:
        if e.status != 404:
            raise


@pytest.fixture(autouse=True)
def _pods_need_a_node(request):
    """Rows that need pods to run skip, saying why, on a cluster with no Ready node
    (a pocketkube started where Podman does not work has no node agent)."""
    mark = request.node.get_closest_marker("conformance")
    if mark is None or "POD" not in mark.kwargs["needs"]:
        return
    core = request.getfixturevalue("core")
    for node in core.list_node().items:
        ready = any(c.type == "Ready" and c.status == "True" for c in (node.status.conditions or []))
        if ready and not node.spec.unschedulable:
            return
    pytest.skip("no Ready node to run pods on (no node agent: Podman is not usable here)")


@pytest.fixture
def kubectl(kubeconfig, tmp_path):
    return cluster.Kubectl(kubeconfig, tmp_path / "kube-cache")


# -- per-row results for hack/conformance-report.sh -------------------------------

_results: dict[str, dict] = {}


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item, call):
    outcome = yield
    report = outcome.get_result()
    mark = item.get_closest_marker("conformance")
    if mark is None:
        return
    entry = _results.setdefault(item.nodeid, dict(mark.kwargs, test=item.name, result="passed", missing=""))
    xfail = item.get_closest_marker("xfail")
    if xfail is not None:
        entry["missing"] = xfail.kwargs.get("reason", "").removeprefix("missing: ")
    if report.when == "call" or report.failed or report.skipped:
        if hasattr(report, "wasxfail"):
            entry["result"] = "xpassed (strict: remove the mark)" if report.failed else "expected failure"
        elif report.failed:
            entry["result"] = "failed"
        elif report.skipped:
            entry["result"] = "skipped"
            entry["missing"] = entry["missing"] or str(report.longrepr[-1] if isinstance(report.longrepr, tuple) else "")


def pytest_sessionfinish(session):
    path = _option(session.config, "--conformance-json") or os.environ.get("CONFORMANCE_JSON")
    if path and _results:
        Path(path).write_text(json.dumps(list(_results.values()), indent=1))
