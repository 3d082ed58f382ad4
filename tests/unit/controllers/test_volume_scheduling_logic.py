"""The scheduler's volume checks, the local-path volume and ephemeral claims (pure)."""
from types import SimpleNamespace

from controllers.scheduler.messages import fit_error_message
from controllers.scheduler.volumebinding import AFFINITY_CONFLICT, NO_VOLUME, UNBOUND_IMMEDIATE, VolumeCheck
from controllers.volumes.ephemeral import claims_for
from controllers.volumes.localpath import volume_for


class Cache(dict):
    def list(self):
        return list(self.values())


def node(name):
    return SimpleNamespace(node={"metadata": {"name": name, "labels": {"kubernetes.io/hostname": name}}})


def pod(*claims, ephemeral=None):
    vols = [{"name": f"v{i}", "persistentVolumeClaim": {"claimName": c}} for i, c in enumerate(claims)]
    if ephemeral:
        vols.append({"name": ephemeral, "ephemeral": {"volumeClaimTemplate": {"metadata": {"labels": {"a": "b"}},
                                                                            "spec": {"accessModes": ["ReadWriteOnce"]}}}})
    return {"metadata": {"name": "p", "namespace": "ns", "uid": "pod-uid"}, "spec": {"volumes": vols}}


def claim(name, cls="", volume=None):
    spec = {"accessModes": ["ReadWriteOnce"], "resources": {"requests": {"storage": "1Gi"}}, "storageClassName": cls}
    if volume:
        spec["volumeName"] = volume
    return {"metadata": {"name": name, "namespace": "ns", "uid": name + "-uid"}, "spec": spec}


def test_missing_claim_refuses_before_nodes_are_seen():
    check = VolumeCheck(pod("gone"), Cache(), Cache(), Cache())
    assert check.prefilter_error == 'persistentvolumeclaim "gone" not found'
    assert fit_error_message(2, {}, check.prefilter_error) == (
        '0/2 nodes are available: persistentvolumeclaim "gone" not found. '
        "preemption: 0/2 nodes are available: 2 Preemption is not helpful for scheduling..")


def test_unbound_immediate_bound_affinity_and_delayed_claims():
    claims = Cache({"ns/imm": claim("imm"), "ns/b": claim("b", volume="pv-b"), "ns/w": claim("w", cls="wait")})
    pv_b = {"metadata": {"name": "pv-b"}, "spec": {"nodeAffinity": {"required": {"nodeSelectorTerms": [
        {"matchExpressions": [{"key": "kubernetes.io/hostname", "operator": "In", "values": ["n1"]}]}]}}}}
    volumes = Cache({"pv-b": pv_b})
    classes = Cache({"wait": {"metadata": {"name": "wait"}, "volumeBindingMode": "WaitForFirstConsumer",
                              "provisioner": "kubernetes.io/no-provisioner"}})
    assert VolumeCheck(pod("imm"), claims, volumes, classes).check(node("n1")) == ([UNBOUND_IMMEDIATE], False)
    bound = VolumeCheck(pod("b"), claims, volumes, classes)
    assert bound.check(node("n1")) is None and bound.check(node("n2")) == ([AFFINITY_CONFLICT], False)
    delayed = VolumeCheck(pod("w"), claims, volumes, classes)
    assert [c["metadata"]["name"] for c in delayed.delayed] == ["w"]
    assert delayed.check(node("n1")) == ([NO_VOLUME], False)  # no provisioner, no free volume
    classes["wait"]["provisioner"] = "rancher.io/local-path"
    assert delayed.check(node("n1")) is None


def test_local_path_volume_is_pinned_to_the_node_and_pre_bound():
    cls = {"metadata": {"name": "local-path"}, "reclaimPolicy": "Delete"}
    pv = volume_for(claim("data", cls="local-path"), cls, None, "n1", "/var/lib/lp")
    assert pv["metadata"]["name"] == "pvc-data-uid"
    assert pv["spec"]["hostPath"] == {"path": "/var/lib/lp/pvc-data-uid_ns_data", "type": "DirectoryOrCreate"}
    assert pv["spec"]["claimRef"]["uid"] == "data-uid" and pv["spec"]["capacity"] == {"storage": "1Gi"}
    terms = pv["spec"]["nodeAffinity"]["required"]["nodeSelectorTerms"]
    assert terms == [{"matchExpressions": [{"key": "kubernetes.io/hostname", "operator": "In", "values": ["n1"]}]}]


def test_ephemeral_claims_are_named_and_owned_by_the_pod():
    [c] = claims_for(pod(ephemeral="scratch"))
    assert c["metadata"]["name"] == "p-scratch" and c["metadata"]["labels"] == {"a": "b"}
    assert c["metadata"]["ownerReferences"][0]["uid"] == "pod-uid" and c["metadata"]["ownerReferences"][0]["controller"]
