"""The controllers by name, and the `--controllers=*,-name` selection rule."""
from __future__ import annotations

import importlib

# name -> "module:Class"; imported lazily so one broken controller does not stop the rest
CONTROLLERS = {
    "scheduler": "controllers.scheduler.scheduler:Scheduler",
    "namespace": "controllers.namespace:NamespaceController",
    "serviceaccount": "controllers.serviceaccount:ServiceAccountController",
    "root-ca-cert-publisher": "controllers.rootca:RootCAPublisher",
    "endpoint": "controllers.endpoints:EndpointsController",
    "endpointslice": "controllers.endpointslices:EndpointSliceController",
    "replicationcontroller": "controllers.replication:ReplicationManager",
    "replicaset": "controllers.replicasets:ReplicaSetController",
    "deployment": "controllers.deployments:DeploymentController",
    "job": "controllers.jobs:JobController",
    "cronjob": "controllers.cronjobs:CronJobController",
    "disruption": "controllers.disruption:DisruptionController",
    "horizontalpodautoscaling": "controllers.horizontal:HorizontalController",
    "daemonset": "controllers.daemonsets:DaemonSetController",
    "statefulset": "controllers.statefulsets:StatefulSetController",
    "garbagecollector": "controllers.garbagecollector:GarbageCollector",
    "podgc": "controllers.podgc:PodGC",
    "nodelifecycle": "controllers.nodelifecycle:NodeLifecycleController",
    "persistentvolume-binder": "controllers.volumes.binder:PersistentVolumeBinder",
    "pvc-protection": "controllers.volumes.protection:PVCProtectionController",
    "pv-protection": "controllers.volumes.protection:PVProtectionController",
    "ephemeral-volume": "controllers.volumes.ephemeral:EphemeralVolumeController",
    "persistentvolume-expander": "controllers.volumes.expander:VolumeExpander",
    "csrsigning": "controllers.certificates.signer:CSRSigningController",
    "csrapproving": "controllers.certificates.approver:CSRApprovingController",
    # upstream enables it only when asked (kubeadm asks); `pocketkube join` needs it
    "bootstrapsigner": "controllers.bootstrapsigner:BootstrapSigner",
}


def select(spec: list[str] | str) -> list[str]:
    """`*` means all; `name` adds one; `-name` removes one (kube-controller-manager's rule)."""
    items = spec.split(",") if isinstance(spec, str) else [s for part in spec for s in part.split(",")]
    items = [i.strip() for i in items if i.strip()]
    unknown = [i.lstrip("-") for i in items if i != "*" and i.lstrip("-") not in CONTROLLERS]
    if unknown:
        raise ValueError(f"unknown controllers: {', '.join(unknown)} (known: {', '.join(CONTROLLERS)})")
    enabled = set(CONTROLLERS) if "*" in items else set()
    for i in items:
        if i.startswith("-"):
            enabled.discard(i[1:])
        elif i != "*":
            enabled.add(i)
    return [n for n in CONTROLLERS if n in enabled]


def load(name: str):
    module, cls = CONTROLLERS[name].split(":")
    return getattr(importlib.import_module(module), cls)
