"""The mirror pod of a static component, as the kubelet builds one (pure)."""
from __future__ import annotations

from nodeagent.staticpods.spec import StaticComponent, config_hash, is_mirror, mirror_pod, mirror_status, ready_of


async def _ok() -> bool:
    return True


COMP = StaticComponent("kube-apiserver", ["pocketkube", "apiserver"], "/x.log", _ok,
                       labels={"component": "kube-apiserver", "tier": "control-plane"})


def test_mirror_pod_carries_the_kubelet_annotations_and_node_owner():
    pod = mirror_pod(COMP, "n1", "uid-1", "2026-01-01T00:00:00Z")
    meta = pod["metadata"]
    assert (meta["name"], meta["namespace"]) == ("kube-apiserver-n1", "kube-system")
    assert meta["annotations"]["kubernetes.io/config.mirror"] == meta["annotations"]["kubernetes.io/config.hash"]
    assert meta["annotations"]["kubernetes.io/config.source"] == "file"
    assert meta["ownerReferences"] == [{"apiVersion": "v1", "kind": "Node", "name": "n1", "uid": "uid-1",
                                        "controller": True}]
    assert pod["spec"]["nodeName"] == "n1" and pod["spec"]["containers"][0]["name"] == "kube-apiserver"
    assert is_mirror(pod) and not is_mirror({"metadata": {}})


def test_config_hash_changes_with_the_manifest():
    other = StaticComponent("kube-apiserver", ["pocketkube", "apiserver", "--v=2"], "/x.log", _ok,
                            labels=COMP.labels)
    assert config_hash(COMP, "n1") == config_hash(COMP, "n1") != config_hash(other, "n1")
    assert config_hash(COMP, "n1") != config_hash(COMP, "n2")


def test_status_ready_follows_health():
    up = mirror_status(COMP, ready=True, host_ip="10.0.0.1", started="t0", ready_since="t1")
    down = mirror_status(COMP, ready=False, host_ip="10.0.0.1", started="t0", ready_since="t2")
    assert ready_of({"status": up}) is True and ready_of({"status": down}) is False
    cond = next(c for c in down["conditions"] if c["type"] == "ContainersReady")
    assert cond["reason"] == "ContainersNotReady" and cond["lastTransitionTime"] == "t2"
    assert "[kube-apiserver]" in cond["message"]
    assert down["containerStatuses"][0]["ready"] is False and down["phase"] == "Running"
    assert up["podIP"] == up["hostIP"] == "10.0.0.1"
