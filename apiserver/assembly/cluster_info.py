"""kube-public/cluster-info, as kubeadm publishes it for nodes joining with a bootstrap token.

The ConfigMap's `kubeconfig` names the API server and carries the cluster CA; anyone may
read it (kubeadm's Role kubeadm:bootstrap-signer-clusterinfo, bound to system:anonymous),
so a joining node fetches it without credentials and checks the CA against the hash it
was given (`pocketkube token create` prints it) before trusting anything else.
"""
from __future__ import annotations

import yaml

from .bootstrap import _create_if_missing, _put

NAMESPACE = "kube-public"
NAME = "cluster-info"
PATH = f"/api/v1/namespaces/{NAMESPACE}/configmaps/{NAME}"
ROLE = "kubeadm:bootstrap-signer-clusterinfo"
RBAC = "rbac.authorization.k8s.io"


def cluster_info_kubeconfig(server: str, ca_pem: bytes) -> str:
    import base64
    return yaml.safe_dump({"apiVersion": "v1", "kind": "Config", "preferences": {}, "users": None,
                           "contexts": None, "current-context": "",
                           "clusters": [{"name": "", "cluster": {
                               "server": server, "certificate-authority-data": base64.b64encode(ca_pem).decode()}}]},
                          sort_keys=False)


async def publish_cluster_info(registries, server: str, ca_pem: bytes) -> None:
    await _put(registries.for_plural("", "configmaps"), NAMESPACE, {
        "apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": NAME, "namespace": NAMESPACE},
        "data": {"kubeconfig": cluster_info_kubeconfig(server, ca_pem)}})
    await _create_if_missing(registries.for_plural(RBAC, "roles"), NAMESPACE, {
        "apiVersion": f"{RBAC}/v1", "kind": "Role", "metadata": {"name": ROLE, "namespace": NAMESPACE},
        "rules": [{"apiGroups": [""], "resources": ["configmaps"], "resourceNames": [NAME], "verbs": ["get"]}]})
    await _create_if_missing(registries.for_plural(RBAC, "rolebindings"), NAMESPACE, {
        "apiVersion": f"{RBAC}/v1", "kind": "RoleBinding", "metadata": {"name": ROLE, "namespace": NAMESPACE},
        "roleRef": {"apiGroup": RBAC, "kind": "Role", "name": ROLE},
        "subjects": [{"apiGroup": RBAC, "kind": "User", "name": "system:anonymous"}]})

