"""Translate a PodSpec into Podman pod and container creation specs (libpod SpecGenerator).

Pure: image configuration, the resolved environment and the volume mounts are
passed in. One Podman pod per Kubernetes pod shares net/ipc/uts namespaces,
as a Kubernetes pod sandbox does.
"""

from __future__ import annotations

import hashlib
import json

from ..runtime import labels as L
from ..runtime.podman import RLIMITS
from . import quantity
from .env import expand

CPU_PERIOD = 100_000  # microseconds, the CFS default


def hostname_of(pod: dict) -> str:
    spec = pod.get("spec") or {}
    return (spec.get("hostname") or pod["metadata"]["name"])[:63]


def sandbox_spec(pod: dict, node: str) -> dict:
    meta, spec = pod["metadata"], pod.get("spec") or {}
    out: dict = {
        "name": L.sandbox_name(meta["namespace"], meta["name"], meta["uid"]),
        "labels": L.pod_labels(node, meta["namespace"], meta["name"], meta["uid"]),
        "share": ["net", "ipc", "uts"],
    }
    hostadd = []
    for alias in spec.get("hostAliases") or []:
        for h in alias.get("hostnames") or []:
            hostadd.append(f"{h}:{alias.get('ip')}")
    if spec.get("hostNetwork"):
        out["netns"] = {"nsmode": "host"}
        out["share"] = ["ipc"]
    else:
        out["hostname"] = hostname_of(pod)
        if spec.get("subdomain"):
            fqdn = f"{hostname_of(pod)}.{spec['subdomain']}.{meta['namespace']}.svc.cluster.local"
            hostadd.append(f"{fqdn}:127.0.1.1")
        ports = []
        for c in (spec.get("containers") or []):
            for p in c.get("ports") or []:
                if p.get("hostPort"):
                    ports.append({"container_port": int(p["containerPort"]), "host_port": int(p["hostPort"]),
                                  "protocol": (p.get("protocol") or "TCP").lower(),
                                  **({"host_ip": p["hostIP"]} if p.get("hostIP") else {})})
        if ports:
            out["portmappings"] = ports
    if hostadd:
        out["hostadd"] = hostadd
    return out


def argv(container: dict, image_config: dict, env: dict[str, str]) -> list[str]:
    """command replaces the image ENTRYPOINT, args replaces its CMD; setting
    command alone drops the image CMD (upstream's rules), with $(VAR) expanded."""
    command = container.get("command")
    args = container.get("args")
    entry = image_config.get("Entrypoint") or []
    cmd = image_config.get("Cmd") or []
    if command:
        out = [expand(a, env) for a in command] + [expand(a, env) for a in (args or [])]
    elif args:
        out = list(entry) + [expand(a, env) for a in args]
    else:
        out = list(entry) + list(cmd)
    return out


def spec_hash(container: dict) -> str:
    return hashlib.sha256(json.dumps(container, sort_keys=True).encode()).hexdigest()[:16]


def resource_limits(container: dict) -> dict:
    res = container.get("resources") or {}
    limits, requests = res.get("limits") or {}, res.get("requests") or {}
    out: dict = {}
    if "memory" in limits:
        out["memory"] = {"limit": quantity.value(limits["memory"])}
    cpu: dict = {}
    if "cpu" in limits:
        cpu["quota"] = max(quantity.millicores(limits["cpu"]) * CPU_PERIOD // 1000, 1000)
        cpu["period"] = CPU_PERIOD
    req_cpu = requests.get("cpu", limits.get("cpu"))
    if req_cpu is not None:
        cpu["shares"] = max(2, quantity.millicores(req_cpu) * 1024 // 1000)
    if cpu:
        out["cpu"] = cpu
    return out


def user_of(pod: dict, container: dict) -> str | None:
    psc = (pod.get("spec") or {}).get("securityContext") or {}
    csc = container.get("securityContext") or {}
    uid = csc.get("runAsUser", psc.get("runAsUser"))
    gid = csc.get("runAsGroup", psc.get("runAsGroup"))
    if uid is None and gid is None:
        return None
    if uid is None:
        uid = 0
    return f"{uid}:{gid}" if gid is not None else str(uid)


def container_spec(pod: dict, container: dict, *, node: str, kind: str, attempt: int,
                   sandbox_id: str, image: str, image_config: dict, env: dict[str, str],
                   mounts: list[dict]) -> dict:
    meta, spec = pod["metadata"], pod.get("spec") or {}
    cmd = argv(container, image_config, env)
    if not cmd:
        raise ValueError("no command specified")
    labels = L.pod_labels(node, meta["namespace"], meta["name"], meta["uid"])
    labels.update({
        L.CONTAINER_NAME: container["name"],
        L.CONTAINER_KIND: kind,
        L.RESTART_COUNT: str(attempt),
        L.SPEC_HASH: spec_hash(container),
    })
    out: dict = {
        "name": L.container_name(meta["namespace"], meta["name"], meta["uid"], container["name"], attempt),
        "image": image,
        "pod": sandbox_id,
        "entrypoint": cmd[:1],
        "command": cmd[1:],
        "env": env,
        "labels": labels,
        "mounts": mounts,
        "r_limits": RLIMITS,
        "stop_timeout": int(spec.get("terminationGracePeriodSeconds", 30)),
        "log_configuration": {"driver": "k8s-file"},
    }
    if container.get("workingDir"):
        out["work_dir"] = container["workingDir"]
    if container.get("tty"):
        out["terminal"] = True
    if container.get("stdin"):
        out["stdin"] = True
    limits = resource_limits(container)
    if limits:
        out["resource_limits"] = limits
    user = user_of(pod, container)
    if user:
        out["user"] = user
    csc = container.get("securityContext") or {}
    if csc.get("privileged"):
        out["privileged"] = True
    if csc.get("readOnlyRootFilesystem"):
        out["read_only_filesystem"] = True
    caps = csc.get("capabilities") or {}
    if caps.get("add"):
        out["cap_add"] = [c if c.upper().startswith("CAP_") else f"CAP_{c.upper()}" for c in caps["add"]]
    if caps.get("drop"):
        out["cap_drop"] = [c if c.upper().startswith("CAP_") or c.upper() == "ALL" else f"CAP_{c.upper()}"
                           for c in caps["drop"]]
    return out


def qos_class(pod: dict) -> str:
    """Guaranteed when every container has equal cpu and memory requests and limits;
    BestEffort when none has any; Burstable otherwise."""
    containers = (pod.get("spec") or {}).get("containers") or []
    containers = containers + ((pod.get("spec") or {}).get("initContainers") or [])
    any_set = False
    guaranteed = True
    for c in containers:
        res = c.get("resources") or {}
        lim, req = res.get("limits") or {}, res.get("requests") or {}
        if lim or req:
            any_set = True
        for r in ("cpu", "memory"):
            if r not in lim or quantity.parse(req.get(r, lim[r])) != quantity.parse(lim[r]):
                guaranteed = False
    if not any_set:
        return "BestEffort"
    return "Guaranteed" if guaranteed else "Burstable"
