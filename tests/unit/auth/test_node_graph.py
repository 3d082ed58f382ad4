"""What a pod makes its node need (machinery/podrefs.py) and who is a node."""
from __future__ import annotations

from apiserver.machinery.podrefs import pod_refs, pv_secret_refs
from apiserver.machinery.user import UserInfo, node_name


def test_every_kind_of_reference_is_found():
    pod = {"metadata": {"name": "p"}, "spec": {
        "serviceAccountName": "runner", "imagePullSecrets": [{"name": "pull"}],
        "initContainers": [{"envFrom": [{"configMapRef": {"name": "init-cm"}}]}],
        "containers": [{"env": [{"name": "A", "valueFrom": {"secretKeyRef": {"name": "env-s", "key": "k"}}},
                                {"name": "B", "valueFrom": {"configMapKeyRef": {"name": "env-cm", "key": "k"}}}],
                        "envFrom": [{"secretRef": {"name": "envfrom-s"}}]}],
        "volumes": [{"name": "a", "secret": {"secretName": "vol-s"}},
                    {"name": "b", "configMap": {"name": "vol-cm"}},
                    {"name": "c", "projected": {"sources": [{"secret": {"name": "proj-s"}},
                                                            {"configMap": {"name": "proj-cm"}}]}},
                    {"name": "d", "persistentVolumeClaim": {"claimName": "data"}},
                    {"name": "scratch", "ephemeral": {"volumeClaimTemplate": {}}},
                    {"name": "e", "csi": {"driver": "x", "nodePublishSecretRef": {"name": "csi-s"}}}]}}
    refs = pod_refs(pod)
    assert refs["secrets"] == {"pull", "env-s", "envfrom-s", "vol-s", "proj-s", "csi-s"}
    assert refs["configmaps"] == {"init-cm", "env-cm", "vol-cm", "proj-cm"}
    assert refs["persistentvolumeclaims"] == {"data", "p-scratch"}
    assert refs["serviceaccounts"] == {"runner"}
    assert pod_refs({"metadata": {"name": "q"}, "spec": {}})["serviceaccounts"] == {"default"}


def test_pv_secret_refs_default_to_the_claims_namespace():
    pv = {"spec": {"claimRef": {"namespace": "team"}, "csi": {
        "nodePublishSecretRef": {"name": "a"}, "nodeStageSecretRef": {"name": "b", "namespace": "infra"}}}}
    assert pv_secret_refs(pv) == {("team", "a"), ("infra", "b")}


def test_node_identity():
    assert node_name(UserInfo("system:node:n1", groups=("system:nodes", "system:authenticated"))) == "n1"
    assert node_name(UserInfo("system:node:n1", groups=("system:authenticated",))) is None
    assert node_name(UserInfo("alice", groups=("system:nodes",))) is None
    assert node_name(UserInfo("system:node:", groups=("system:nodes",))) is None
