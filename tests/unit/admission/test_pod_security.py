"""PodSecurity levels, enforced and warned."""
import pytest

from admission_cluster import pod
from apiserver.admission.pod_security_checks import evaluate
from apiserver.machinery.errors import StatusError

RESTRICTED_OK = {"securityContext": {"runAsNonRoot": True, "seccompProfile": {"type": "RuntimeDefault"}},
                 "containers": [{"name": "c", "image": "i", "securityContext": {
                     "allowPrivilegeEscalation": False, "capabilities": {"drop": ["ALL"]}}}]}


def test_levels():
    plain = {"containers": [{"name": "c", "image": "i"}]}
    assert evaluate("privileged", {"hostNetwork": True}) == []
    assert evaluate("baseline", plain) == []
    assert evaluate("restricted", RESTRICTED_OK) == []
    assert evaluate("restricted", plain) == [
        'allowPrivilegeEscalation != false (container "c" must set securityContext.allowPrivilegeEscalation=false)',
        'unrestricted capabilities (container "c" must set securityContext.capabilities.drop=["ALL"])',
        'runAsNonRoot != true (pod or container "c" must set securityContext.runAsNonRoot=true)',
        'seccompProfile (pod or container "c" must set securityContext.seccompProfile.type to "RuntimeDefault" or "Localhost")']
    bad = {"hostNetwork": True, "volumes": [{"name": "h", "hostPath": {"path": "/"}}],
           "containers": [{"name": "c", "image": "i", "securityContext": {"privileged": True},
                           "ports": [{"containerPort": 80, "hostPort": 80}]}]}
    assert evaluate("baseline", bad) == [
        "host namespaces (hostNetwork=true)", 'hostPath volumes (volume "h")',
        'hostPort (container "c" uses hostPort 80)',
        'privileged (container "c" must not set securityContext.privileged=true)']


async def test_enforce_and_warn(cluster):
    await cluster.namespace("locked", {"pod-security.kubernetes.io/enforce": "restricted"})
    priv = pod("priv", containers=[{"name": "c", "image": "i", "securityContext": {"privileged": True}}])
    with pytest.raises(StatusError) as e:
        await cluster.create("pods", "locked", priv)
    assert e.value.code == 403
    assert e.value.message.startswith('pods "priv" is forbidden: violates PodSecurity "restricted:latest": '
                                      "allowPrivilegeEscalation != false")
    assert 'privileged (container "c" must not set securityContext.privileged=true)' in e.value.message
    ok = pod("ok", **RESTRICTED_OK)
    await cluster.create("pods", "locked", ok)
    await cluster.namespace("watched", {"pod-security.kubernetes.io/warn": "baseline"})
    priv2 = pod("priv", containers=[{"name": "c", "image": "i", "securityContext": {"privileged": True}}])
    _, warnings = await cluster.create("pods", "watched", priv2)
    assert warnings == ['would violate PodSecurity "baseline:latest": '
                        'privileged (container "c" must not set securityContext.privileged=true)']
