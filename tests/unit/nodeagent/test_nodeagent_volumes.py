import base64
import os

from nodeagent.pods import volumes


class Sources:
    def __init__(self):
        self.cms = {"cfg": {"data": {"a": "1", "b": "2"}}}
        self.secrets = {"s": {"data": {"pw": base64.b64encode(b"hunter2").decode()}}}

    async def configmap(self, ns, name):
        return self.cms.get(name)

    async def secret(self, ns, name):
        return self.secrets.get(name)

    async def token(self, pod, audience, seconds):
        return None  # an API server that cannot issue tokens: nothing projected


POD = {"metadata": {"name": "p", "namespace": "ns", "uid": "uid-1", "labels": {"x": "y"}},
       "spec": {"containers": [{"name": "c"}], "volumes": [
           {"name": "cfg", "configMap": {"name": "cfg"}},
           {"name": "only-a", "configMap": {"name": "cfg", "items": [{"key": "a", "path": "sub/a.txt"}]}},
           {"name": "sec", "secret": {"secretName": "s", "defaultMode": 0o400}},
           {"name": "scratch", "emptyDir": {}},
           {"name": "proj", "projected": {"sources": [
               {"serviceAccountToken": {"path": "token"}},
               {"configMap": {"name": "kube-root-ca.crt", "optional": True}},
               {"downwardAPI": {"items": [{"path": "namespace", "fieldRef": {"fieldPath": "metadata.namespace"}}]}}]}},
       ]}}


async def test_prepare_writes_and_refreshes(tmp_path):
    src = Sources()
    paths = await volumes.prepare(POD, str(tmp_path), src, "10.0.0.1", "10.88.0.2")
    read = lambda v, f: open(os.path.join(paths[v], f)).read()
    assert read("cfg", "a") == "1" and read("cfg", "b") == "2"
    assert read("only-a", "sub/a.txt") == "1" and not os.path.exists(os.path.join(paths["only-a"], "b"))
    assert read("sec", "pw") == "hunter2" and oct(os.stat(os.path.join(paths["sec"], "pw")).st_mode & 0o777) == "0o400"
    assert os.path.isdir(paths["scratch"])
    assert read("proj", "namespace") == "ns" and not os.path.exists(os.path.join(paths["proj"], "token"))
    # a changed ConfigMap is rewritten in place; a removed key disappears
    src.cms["cfg"] = {"data": {"a": "changed"}}
    await volumes.prepare(POD, str(tmp_path), src, "10.0.0.1", "10.88.0.2")
    assert read("cfg", "a") == "changed" and not os.path.exists(os.path.join(paths["cfg"], "b"))
    mounts = volumes.mounts_for({"volumeMounts": [{"name": "cfg", "mountPath": "/etc/cfg", "readOnly": True}]}, paths)
    assert mounts == [{"destination": "/etc/cfg", "source": paths["cfg"], "type": "bind", "options": ["rbind", "ro"]}]
    volumes.cleanup(str(tmp_path), "uid-1")
    assert not os.path.exists(paths["cfg"])


async def test_missing_required_configmap_is_a_mount_failure(tmp_path):
    pod = {"metadata": {"name": "p", "namespace": "ns", "uid": "u2"},
           "spec": {"containers": [], "volumes": [{"name": "x", "configMap": {"name": "nope"}}]}}
    try:
        await volumes.prepare(pod, str(tmp_path), Sources(), "", "")
    except volumes.VolumeError as e:
        assert 'configmap "nope" not found' in str(e)
    else:
        raise AssertionError("expected VolumeError")
