"""What a simulated node does to the pods bound to it, as pure functions.

The stages follow KWOK's default ones: a pod bound to the node that is not being
deleted becomes Running and Ready with an IP from the node's pod CIDR (every
container running and ready); a Job's pod then completes (Succeeded); a pod
being deleted is confirmed gone at once (that part is an API call, made by
SimulatedNodes).
"""
from __future__ import annotations

import ipaddress

from kubeclient.timestamps import now

SIMULATED_LABEL = "node.pocketkube.io/simulated"
SIMULATED_TAINT = {"key": SIMULATED_LABEL, "value": "true", "effect": "NoSchedule"}
DEFAULT_POD_CIDR = "10.128.0.0/9"  # clear of Podman's 10.88/16 and the Service range 10.96/12


def node_pod_cidr(cluster_cidr: str, index: int, prefix: int = 24) -> str:
    """The index-th /prefix of the cluster's pod range (as the node IPAM controller hands them out)."""
    net = ipaddress.ip_network(cluster_cidr)
    size = 1 << (net.max_prefixlen - prefix)
    if prefix < net.prefixlen or (index + 1) * size > net.num_addresses:
        raise ValueError(f"{cluster_cidr} has no room for a {index + 1}th /{prefix}")
    return str(ipaddress.ip_network((int(net.network_address) + index * size, prefix)))


class PodIPs:
    """The addresses of one node's pod CIDR: the lowest free one is handed out, and freed on deletion."""

    def __init__(self, cidr: str):
        net = ipaddress.ip_network(cidr)
        self._first, self._last = int(net.network_address) + 1, int(net.broadcast_address) - 1
        self._next = self._first
        self._by_pod: dict[str, str] = {}
        self._free: list[int] = []

    def assign(self, pod_uid: str) -> str:
        if pod_uid in self._by_pod:
            return self._by_pod[pod_uid]
        if self._free:
            n = self._free.pop()
        elif self._next <= self._last:
            n, self._next = self._next, self._next + 1
        else:
            raise ValueError("the node's pod CIDR is exhausted")
        ip = self._by_pod[pod_uid] = str(ipaddress.ip_address(n))
        return ip

    def release(self, pod_uid: str) -> None:
        ip = self._by_pod.pop(pod_uid, None)
        if ip is not None:
            self._free.append(int(ipaddress.ip_address(ip)))

    def __len__(self) -> int:
        return len(self._by_pod)


def is_job_pod(pod: dict) -> bool:
    return any(o.get("kind") == "Job" for o in pod["metadata"].get("ownerReferences") or [])


def next_stage(pod: dict) -> str | None:
    """'delete', 'run', 'complete' or None (nothing to do) for a pod bound to a simulated node."""
    if pod["metadata"].get("deletionTimestamp"):
        return "delete"
    phase = (pod.get("status") or {}).get("phase") or "Pending"
    if phase == "Pending":
        return "run"
    if phase == "Running" and is_job_pod(pod):
        return "complete"
    return None


def _condition(kind: str, status: str, ts: str) -> dict:
    return {"type": kind, "status": status, "lastProbeTime": None, "lastTransitionTime": ts}


def running_status(pod: dict, pod_ip: str, ready: bool = True) -> dict:
    """The status a node agent reports once every container of the pod started."""
    ts, flag = now(), "True" if ready else "False"
    status = dict(pod.get("status") or {})
    status.update(phase="Running", podIP=pod_ip, podIPs=[{"ip": pod_ip}], startTime=status.get("startTime") or ts,
                  conditions=[_condition("Initialized", "True", ts), _condition("Ready", flag, ts),
                              _condition("ContainersReady", flag, ts), _condition("PodScheduled", "True", ts)],
                  containerStatuses=[{"name": c["name"], "image": c.get("image", ""), "imageID": "",
                                      "containerID": f"simulated://{pod['metadata'].get('uid', '')}-{c['name']}",
                                      "ready": ready, "started": True, "restartCount": 0,
                                      "state": {"running": {"startedAt": ts}}}
                                     for c in (pod.get("spec") or {}).get("containers") or []])
    return status


def completed_status(pod: dict) -> dict:
    """A Job's pod whose containers all exited 0."""
    ts = now()
    status = dict(pod.get("status") or {})
    status["phase"] = "Succeeded"
    status["conditions"] = [_condition("Initialized", "True", ts), _condition("Ready", "False", ts),
                            _condition("ContainersReady", "False", ts), _condition("PodScheduled", "True", ts)]
    status["containerStatuses"] = [
        {**cs, "ready": False, "started": False,
         "state": {"terminated": {"exitCode": 0, "reason": "Completed", "startedAt": ts, "finishedAt": ts}}}
        for cs in status.get("containerStatuses") or []]
    return status
