"""A built-in local-path provisioner, as k3s ships one: the default StorageClass
`local-path` (WaitForFirstConsumer, reclaim Delete, expandable) whose claims get a hostPath
volume under a data directory on the node the scheduler chose, with node
affinity to that node. The directory is made by the node agent when a pod
mounts it (hostPath DirectoryOrCreate); Delete removes it here, so this
provisioner runs only on the host of the node it serves (`pocketkube up`
runs the controllers beside the node agent and passes --local-path-dir)."""
from __future__ import annotations

import asyncio
import logging
import os
import shutil

from kubeclient import ApiError

from . import PVS, STORAGECLASSES

log = logging.getLogger(__name__)
PROVISIONER = "rancher.io/local-path"
CLASS_NAME = "local-path"
PROVISIONED_BY = "pv.kubernetes.io/provisioned-by"
HOSTNAME_LABEL = "kubernetes.io/hostname"


def default_class() -> dict:
    return {"apiVersion": "storage.k8s.io/v1", "kind": "StorageClass",
            "metadata": {"name": CLASS_NAME,
                         "annotations": {"storageclass.kubernetes.io/is-default-class": "true"}},
            "provisioner": PROVISIONER, "reclaimPolicy": "Delete", "volumeBindingMode": "WaitForFirstConsumer",
            "allowVolumeExpansion": True}


def volume_for(claim: dict, cls: dict, node: dict | None, node_name: str, data_dir: str) -> dict:
    """The PersistentVolume for a claim on a node (pure)."""
    m, spec = claim["metadata"], claim.get("spec") or {}
    name = f"pvc-{m['uid']}"
    hostname = ((node or {}).get("metadata", {}).get("labels") or {}).get(HOSTNAME_LABEL, node_name)
    return {"apiVersion": "v1", "kind": "PersistentVolume",
            "metadata": {"name": name, "annotations": {PROVISIONED_BY: PROVISIONER,
                                                       "local.path.provisioner/selected-node": node_name}},
            "spec": {"capacity": {"storage": ((spec.get("resources") or {}).get("requests") or {}).get("storage")},
                     "accessModes": list(spec.get("accessModes") or []),
                     "persistentVolumeReclaimPolicy": cls.get("reclaimPolicy") or "Delete",
                     "storageClassName": cls["metadata"]["name"],
                     "volumeMode": spec.get("volumeMode") or "Filesystem",
                     "hostPath": {"path": os.path.join(data_dir, f"{name}_{m['namespace']}_{m['name']}"),
                                  "type": "DirectoryOrCreate"},
                     "nodeAffinity": {"required": {"nodeSelectorTerms": [{"matchExpressions": [
                         {"key": HOSTNAME_LABEL, "operator": "In", "values": [hostname]}]}]}},
                     "claimRef": {"kind": "PersistentVolumeClaim", "apiVersion": "v1", "namespace": m["namespace"],
                                  "name": m["name"], "uid": m["uid"]}}}


class LocalPathProvisioner:
    def __init__(self, client, recorder, nodes, data_dir: str):
        self.client, self.recorder, self.nodes = client, recorder, nodes
        self.data_dir = os.path.abspath(data_dir)

    async def ensure_class(self) -> None:
        try:
            await self.client.create(STORAGECLASSES, default_class())
        except ApiError as e:
            if not e.already_exists:
                raise

    async def provision(self, claim: dict, cls: dict, node_name: str | None) -> None:
        if not node_name:
            self.recorder.event(claim, "Warning", "ProvisioningFailed", "configuration error, no node was specified")
            return
        pv = volume_for(claim, cls, self.nodes.get(node_name), node_name, self.data_dir)
        m = claim["metadata"]
        self.recorder.event(claim, "Normal", "Provisioning",
                            f'External provisioner is provisioning volume for claim "{m["namespace"]}/{m["name"]}"')
        try:
            await self.client.create(PVS, pv)
        except ApiError as e:
            if not e.already_exists:
                raise
            return
        self.recorder.event(claim, "Normal", "ProvisioningSucceeded",
                            f"Successfully provisioned volume {pv['metadata']['name']}")

    async def delete(self, pv: dict) -> None:
        """Remove the volume's directory (only ever one under the data directory)."""
        path = os.path.abspath(((pv.get("spec") or {}).get("hostPath") or {}).get("path") or "")
        if os.path.dirname(path) != self.data_dir:
            log.warning("not deleting %s: outside %s", path, self.data_dir)
            return
        await asyncio.to_thread(shutil.rmtree, path, True)
