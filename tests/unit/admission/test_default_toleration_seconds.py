"""DefaultTolerationSeconds takes its delays from the API server's flags, as upstream."""
import argparse

import pytest

from apiserver.admission import AdmissionSettings
from apiserver.assembly.options import add_flags, options_from_args

from admission_cluster import pod


@pytest.fixture
def shortened(cluster):
    cluster.rebuild_chain(AdmissionSettings(not_ready_toleration_seconds=7, unreachable_toleration_seconds=3))


async def test_configured_seconds_reach_new_pods(cluster, shortened):
    obj, _ = await cluster.create("pods", "default", pod())
    got = {t["key"]: t["tolerationSeconds"] for t in obj["spec"]["tolerations"]}
    assert got == {"node.kubernetes.io/not-ready": 7, "node.kubernetes.io/unreachable": 3}


def test_flags_named_as_kube_apiserver():
    p = argparse.ArgumentParser()
    add_flags(p)
    opts = options_from_args(p.parse_args(["--data-dir", "/tmp/x", "--default-unreachable-toleration-seconds", "2"]))
    assert (opts.default_not_ready_toleration_seconds, opts.default_unreachable_toleration_seconds) == (300, 2)
