"""NamespaceLifecycle, ServiceAccount, DefaultTolerationSeconds."""
import pytest

from apiserver.admission import build_chain
from apiserver.machinery.errors import StatusError
from apiserver.registry.context import WriteContext

from admission_cluster import pod


def test_unknown_plugin_name_is_an_error():
    with pytest.raises(ValueError):
        build_chain(["NoSuchPlugin"], None)
    build_chain(["NamespaceLifecycle", "Priority"], None)  # known upstream names are fine


async def test_missing_namespace_is_404(cluster):
    with pytest.raises(StatusError) as e:
        await cluster.create("pods", "nowhere", pod())
    assert (e.value.code, e.value.message) == (404, 'namespaces "nowhere" not found')


async def test_terminating_namespace_refuses_new_content(cluster):
    await cluster.namespace("going")
    ns = cluster.gs("namespaces")

    async def terminate(obj):
        obj["status"] = {"phase": "Terminating"}
        return obj
    await ns.guaranteed_update("", "going", terminate, WriteContext(), subresource="status", admit=False)
    with pytest.raises(StatusError) as e:
        await cluster.create("pods", "going", pod("x"))
    assert e.value.code == 403
    assert e.value.message == 'pods "x" is forbidden: unable to create new content in namespace going because it is being terminated'
    assert e.value.causes[0].reason == "NamespaceTerminating"


async def test_system_namespaces_undeletable(cluster):
    from apiserver.registry.options import DeleteOptions
    with pytest.raises(StatusError) as e:
        await cluster.gs("namespaces").delete("", "default", DeleteOptions(), cluster.ctx())
    assert e.value.message == 'namespaces "default" is forbidden: this namespace may not be deleted'


async def test_pod_gets_service_account_token_and_tolerations(cluster):
    obj, _ = await cluster.create("pods", "default", pod())
    spec = obj["spec"]
    assert spec["serviceAccountName"] == "default" and spec["serviceAccount"] == "default"
    (vol,) = [v for v in spec["volumes"] if v["name"].startswith("kube-api-access-")]
    sources = vol["projected"]["sources"]
    assert sources[0] == {"serviceAccountToken": {"expirationSeconds": 3607, "path": "token"}}
    assert sources[1]["configMap"]["name"] == "kube-root-ca.crt"
    assert spec["containers"][0]["volumeMounts"] == [
        {"name": vol["name"], "readOnly": True, "mountPath": "/var/run/secrets/kubernetes.io/serviceaccount"}]
    assert spec["tolerations"] == [
        {"key": "node.kubernetes.io/not-ready", "operator": "Exists", "effect": "NoExecute", "tolerationSeconds": 300},
        {"key": "node.kubernetes.io/unreachable", "operator": "Exists", "effect": "NoExecute", "tolerationSeconds": 300}]


async def test_automount_off_and_missing_named_account(cluster):
    await cluster.create("serviceaccounts", "default", {"metadata": {"name": "quiet"}, "automountServiceAccountToken": False})
    obj, _ = await cluster.create("pods", "default", pod("q", serviceAccountName="quiet"))
    assert "volumes" not in obj["spec"] or not obj["spec"]["volumes"]
    with pytest.raises(StatusError) as e:
        await cluster.create("pods", "default", pod("r", serviceAccountName="ghost"))
    assert e.value.message == ('pods "r" is forbidden: error looking up service account default/ghost: '
                               'serviceaccount "ghost" not found')
