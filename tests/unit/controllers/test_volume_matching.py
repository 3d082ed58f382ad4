"""Which volume a claim binds to, and when a claim is in use (pure)."""
from controllers.volumes.matching import claim_in_use, find_match, volume_allows_node


def pv(name, size, modes=("ReadWriteOnce",), cls="", labels=None, phase="Available", claim_ref=None, affinity=None):
    spec = {"capacity": {"storage": size}, "accessModes": list(modes), "storageClassName": cls}
    if claim_ref:
        spec["claimRef"] = claim_ref
    if affinity:
        spec["nodeAffinity"] = {"required": {"nodeSelectorTerms": [{"matchExpressions": [
            {"key": "kubernetes.io/hostname", "operator": "In", "values": [affinity]}]}]}}
    return {"metadata": {"name": name, "labels": labels or {}}, "spec": spec, "status": {"phase": phase}}


def claim(size, modes=("ReadWriteOnce",), cls="", selector=None):
    spec = {"accessModes": list(modes), "resources": {"requests": {"storage": size}}, "storageClassName": cls}
    if selector is not None:
        spec["selector"] = selector
    return {"metadata": {"name": "c", "namespace": "ns", "uid": "u1"}, "spec": spec}


def test_smallest_fitting_volume_of_the_class_wins():
    vols = [pv("big", "10Gi"), pv("small", "2Gi"), pv("tiny", "500Mi"), pv("rwx", "1Gi", ("ReadWriteMany",)),
            pv("other", "1Gi", cls="fast")]
    assert find_match(claim("1Gi"), vols)["metadata"]["name"] == "small"
    assert find_match(claim("1Gi", cls="fast"), vols)["metadata"]["name"] == "other"
    assert find_match(claim("1Gi", ("ReadWriteMany",)), vols)["metadata"]["name"] == "rwx"
    assert find_match(claim("20Gi"), vols) is None


def test_selector_prebinding_and_taken_volumes():
    vols = [pv("a", "1Gi", labels={"tier": "gold"}), pv("b", "1Gi"),
            pv("taken", "1Gi", claim_ref={"namespace": "ns", "name": "other", "uid": "x"}, phase="Bound")]
    assert find_match(claim("1Gi", selector={"matchLabels": {"tier": "gold"}}), vols)["metadata"]["name"] == "a"
    prebound = pv("mine", "5Gi", claim_ref={"namespace": "ns", "name": "c"})
    assert find_match(claim("1Gi"), vols + [prebound])["metadata"]["name"] == "mine"
    assert find_match(claim("1Gi"), [vols[2]]) is None


def test_node_affinity_filters_volumes():
    node = {"metadata": {"name": "n1", "labels": {"kubernetes.io/hostname": "n1"}}}
    vols = [pv("elsewhere", "1Gi", affinity="n2"), pv("here", "3Gi", affinity="n1")]
    got = find_match(claim("1Gi"), vols, lambda v: volume_allows_node(v, node))
    assert got["metadata"]["name"] == "here"
    assert volume_allows_node(pv("free", "1Gi"), None)


def test_claim_in_use_by_unfinished_pods_only():
    pod = {"metadata": {"name": "p", "namespace": "ns"}, "spec": {"volumes": [
        {"name": "v", "persistentVolumeClaim": {"claimName": "c"}}, {"name": "e", "ephemeral": {}}]},
        "status": {"phase": "Running"}}
    assert claim_in_use("ns", "c", [pod]) and claim_in_use("ns", "p-e", [pod])
    assert not claim_in_use("other", "c", [pod])
    assert not claim_in_use("ns", "c", [dict(pod, status={"phase": "Succeeded"})])
