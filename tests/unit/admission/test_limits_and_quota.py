"""LimitRanger and ResourceQuota against a real registry."""
import pytest

from admission_cluster import pod
from apiserver.machinery.errors import StatusError
from apiserver.registry.options import DeleteOptions


async def test_limit_range_defaults_and_bounds(cluster):
    await cluster.create("limitranges", "default", {"metadata": {"name": "lr"}, "spec": {"limits": [
        {"type": "Container", "default": {"cpu": "500m"}, "defaultRequest": {"cpu": "100m"}, "max": {"cpu": "1"}}]}})
    obj, _ = await cluster.create("pods", "default", pod())
    c = obj["spec"]["containers"][0]
    assert c["resources"] == {"requests": {"cpu": "100m"}, "limits": {"cpu": "500m"}}
    assert obj["metadata"]["annotations"]["kubernetes.io/limit-ranger"] == (
        "LimitRanger plugin set: cpu request for container c; cpu limit for container c")
    assert obj["status"]["qosClass"] == "Burstable"
    big = pod("big", containers=[{"name": "c", "image": "i", "resources": {"limits": {"cpu": "2"}}}])
    with pytest.raises(StatusError) as e:
        await cluster.create("pods", "default", big)
    assert e.value.code == 403
    assert e.value.message == 'pods "big" is forbidden: maximum cpu usage per Container is 1, but limit is 2'


async def test_quota_counts_and_refuses(cluster):
    q, _ = await cluster.create("resourcequotas", "default", {"metadata": {"name": "q"}, "spec": {"hard": {
        "pods": "2", "count/configmaps": "5"}}})
    assert q["status"] == {"hard": {"pods": "2", "count/configmaps": "5"}, "used": {"pods": "0", "count/configmaps": "0"}}
    await cluster.create("pods", "default", pod("a"))
    await cluster.create("pods", "default", pod("b"))
    with pytest.raises(StatusError) as e:
        await cluster.create("pods", "default", pod("c"))
    assert e.value.code == 403
    assert e.value.message == 'pods "c" is forbidden: exceeded quota: q, requested: pods=1, used: pods=2, limited: pods=2'
    used = (await cluster.gs("resourcequotas").get("default", "q")).obj["status"]["used"]
    assert used["pods"] == "2"
    await cluster.gs("pods").delete("default", "a", DeleteOptions(grace_period_seconds=0), cluster.ctx())
    used = (await cluster.gs("resourcequotas").get("default", "q")).obj["status"]["used"]
    assert used["pods"] == "1"
    await cluster.create("pods", "default", pod("c"))


async def test_quota_compute_requires_and_sums(cluster):
    await cluster.create("resourcequotas", "default", {"metadata": {"name": "compute"}, "spec": {"hard": {
        "requests.memory": "1Gi", "limits.cpu": "1"}}})
    with pytest.raises(StatusError) as e:
        await cluster.create("pods", "default", pod("bare"))
    assert e.value.message == ('pods "bare" is forbidden: failed quota: compute: must specify '
                               "limits.cpu for: c; requests.memory for: c")
    sized = pod("sized", containers=[{"name": "c", "image": "i", "resources": {
        "requests": {"memory": "768Mi"}, "limits": {"cpu": "500m", "memory": "768Mi"}}}])
    await cluster.create("pods", "default", sized)
    used = (await cluster.gs("resourcequotas").get("default", "compute")).obj["status"]["used"]
    assert used == {"requests.memory": "768Mi", "limits.cpu": "500m"}
    sized["metadata"]["name"] = "again"
    with pytest.raises(StatusError) as e:
        await cluster.create("pods", "default", sized)
    assert "exceeded quota: compute, requested: requests.memory=768Mi, used: requests.memory=768Mi, limited: requests.memory=1Gi" in e.value.message


async def test_quota_extended_and_bare_compute_names(cluster):
    await cluster.create("resourcequotas", "default", {"metadata": {"name": "ext"}, "spec": {"hard": {
        "cpu": "1", "requests.example.com/dongle": "3"}}})
    p = pod("d", containers=[{"name": "c", "image": "i", "resources": {
        "requests": {"cpu": "500m", "example.com/dongle": "2"}, "limits": {"example.com/dongle": "2"}}}])
    await cluster.create("pods", "default", p)
    used = (await cluster.gs("resourcequotas").get("default", "ext")).obj["status"]["used"]
    assert used == {"cpu": "500m", "requests.example.com/dongle": "2"}
    await cluster.gs("pods").delete("default", "d", DeleteOptions(grace_period_seconds=0), cluster.ctx())
    used = (await cluster.gs("resourcequotas").get("default", "ext")).obj["status"]["used"]
    assert used == {"cpu": "0", "requests.example.com/dongle": "0"}


def test_quota_usage_counts_pod_overhead():
    from fractions import Fraction
    from apiserver.admission.resource_quota import usage
    pod = {"metadata": {"name": "p"}, "spec": {"overhead": {"cpu": "250m", "memory": "64Mi"}, "containers": [
        {"name": "a", "resources": {"requests": {"cpu": "100m", "memory": "64Mi"}, "limits": {"memory": "128Mi"}}}]}}
    used = usage("", "pods", pod, ["requests.cpu", "requests.memory", "limits.memory", "limits.cpu"])
    mi = 2 ** 20
    # requests always carry the overhead; limits only where the pod sets a limit
    assert used["requests.cpu"] == Fraction(350, 1000) and used["requests.memory"] == 128 * mi
    assert used["limits.memory"] == 192 * mi and used["limits.cpu"] == 0
