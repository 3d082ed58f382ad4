"""A static component and its mirror pod: pure functions from the component,
the node and the component's health to the Pod object and its status.

The mirror pod is built as the kubelet builds one for a kubeadm static pod: the
`kubernetes.io/config.*` annotations (the config hash doubles as the mirror
annotation's value), an owner reference to the Node, host networking, the
`system-node-critical` priority class, a toleration of every NoExecute taint.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field
from typing import Awaitable, Callable

MIRROR_ANNOTATION = "kubernetes.io/config.mirror"
HASH_ANNOTATION = "kubernetes.io/config.hash"
SOURCE_ANNOTATION = "kubernetes.io/config.source"
SEEN_ANNOTATION = "kubernetes.io/config.seen"
NAMESPACE = "kube-system"


@dataclass
class StaticComponent:
    """One component running on this node: pod `<name>-<node>` in kube-system with
    one container `<name>`. `healthy` answers its /readyz or /healthz (or whether it
    still runs); `log_path` is its own log, in the CRI format."""

    name: str
    command: list[str]
    log_path: str
    healthy: Callable[[], Awaitable[bool]]
    image: str = "localhost/pocketkube:latest"
    labels: dict[str, str] = field(default_factory=dict)

    def pod_name(self, node: str) -> str:
        return f"{self.name}-{node}"


def is_mirror(pod: dict) -> bool:
    return MIRROR_ANNOTATION in ((pod.get("metadata") or {}).get("annotations") or {})


def _spec(comp: StaticComponent, node: str) -> dict:
    return {
        "nodeName": node,
        "hostNetwork": True,
        "priorityClassName": "system-node-critical",
        "restartPolicy": "Always",
        "dnsPolicy": "ClusterFirst",
        "schedulerName": "default-scheduler",
        "terminationGracePeriodSeconds": 30,
        "securityContext": {"seccompProfile": {"type": "RuntimeDefault"}},
        "tolerations": [{"operator": "Exists", "effect": "NoExecute"}],
        "containers": [{
            "name": comp.name, "image": comp.image, "imagePullPolicy": "IfNotPresent",
            "command": list(comp.command),
            "terminationMessagePath": "/dev/termination-log", "terminationMessagePolicy": "File",
        }],
    }


def config_hash(comp: StaticComponent, node: str) -> str:
    """The manifest's hash, as the kubelet's config.hash: it changes when the spec does."""
    text = json.dumps({"name": comp.pod_name(node), "labels": comp.labels, "spec": _spec(comp, node)},
                      sort_keys=True)
    return hashlib.sha256(text.encode()).hexdigest()[:32]


def mirror_pod(comp: StaticComponent, node: str, node_uid: str, seen: str) -> dict:
    h = config_hash(comp, node)
    owner = [{"apiVersion": "v1", "kind": "Node", "name": node, "uid": node_uid, "controller": True}]
    return {
        "apiVersion": "v1", "kind": "Pod",
        "metadata": {
            "name": comp.pod_name(node), "namespace": NAMESPACE, "labels": dict(comp.labels),
            "annotations": {HASH_ANNOTATION: h, MIRROR_ANNOTATION: h,
                            SEEN_ANNOTATION: seen, SOURCE_ANNOTATION: "file"},
            "ownerReferences": owner if node_uid else [],
        },
        "spec": _spec(comp, node),
    }


def _condition(ctype: str, ok: bool, since: str, container: str) -> dict:
    c = {"type": ctype, "status": "True" if ok else "False", "lastProbeTime": None, "lastTransitionTime": since}
    if not ok:
        c["reason"] = "ContainersNotReady"
        c["message"] = f"containers with unready status: [{container}]"
    return c


def mirror_status(comp: StaticComponent, *, ready: bool, host_ip: str, started: str,
                  ready_since: str) -> dict:
    """The status the kubelet reports for a running static pod whose readiness is `ready`."""
    conds = [_condition(t, ok, since, comp.name) for t, ok, since in (
        ("PodReadyToStartContainers", True, started), ("Initialized", True, started),
        ("Ready", ready, ready_since), ("ContainersReady", ready, ready_since), ("PodScheduled", True, started))]
    return {
        "phase": "Running",
        "conditions": conds,
        "hostIP": host_ip, "hostIPs": [{"ip": host_ip}],
        "podIP": host_ip, "podIPs": [{"ip": host_ip}],
        "startTime": started,
        "qosClass": "BestEffort",
        "containerStatuses": [{
            "name": comp.name, "image": comp.image, "imageID": "",
            "containerID": f"pocketkube://{comp.name}",
            "ready": ready, "started": True, "restartCount": 0,
            "state": {"running": {"startedAt": started}},
        }],
    }


def ready_of(pod: dict) -> bool | None:
    for c in (pod.get("status") or {}).get("conditions") or []:
        if c.get("type") == "Ready":
            return c.get("status") == "True"
    return None
