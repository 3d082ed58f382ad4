"""Translate a pod into Podman pod and container creation specs (libpod SpecGenerator).

Pure: the command line, the resolved environment and the volume mounts are
passed in (the pods layer works them out). One Podman pod per Kubernetes pod
shares net/ipc/uts namespaces, as a Kubernetes pod sandbox does.
"""

from __future__ import annotations

import hashlib
import json
import os

from kubeclient import quantity

from . import labels as L
from .podman import RLIMITS

CPU_PERIOD = 100_000  # microseconds, the CFS default


def hostname_of(pod: dict) -> str:
    spec = pod.get("spec") or {}
    return (spec.get("hostname") or pod["metadata"]["name"])[:63]


def seccomp_profile(pod: dict, container: dict | None, *, seccomp_default: bool = True) -> dict:
    """The seccompProfile that applies: the container's, else the pod's, else RuntimeDefault
    (the kubelet's --seccomp-default, which pocketkube turns on: secure by default) or, with
    it turned off, Unconfined as upstream's kubelet does without the flag."""
    for sc in ((container or {}).get("securityContext"), (pod.get("spec") or {}).get("securityContext")):
        prof = (sc or {}).get("seccompProfile")
        if prof and prof.get("type"):
            return prof
    return {"type": "RuntimeDefault" if seccomp_default else "Unconfined"}


def seccomp_path(pod: dict, container: dict, seccomp_root: str, *, seccomp_default: bool = True) -> str | None:
    """What Podman runs the container with: "unconfined", a Localhost profile's file, or
    None for Podman's default filter (RuntimeDefault). Unconfined starts faster (runc
    compiling the default filter cost each container start 20-60 ms here), which is why
    --seccomp-default=false exists, but it is the user's choice to make."""
    prof = seccomp_profile(pod, container, seccomp_default=seccomp_default)
    if prof["type"] == "RuntimeDefault":
        return None
    if prof["type"] == "Localhost":
        name = prof.get("localhostProfile") or ""
        if not name or name.startswith("/") or ".." in name.split("/"):
            raise ValueError(f"seccompProfile.localhostProfile {name!r}: must be a relative path "
                             f"below {seccomp_root} without '..'")
        return os.path.join(seccomp_root, name)
    return "unconfined"


def sandbox_spec(pod: dict, node: str) -> dict:
    meta, spec = pod["metadata"], pod.get("spec") or {}
    out: dict = {
        "name": L.sandbox_name(meta["namespace"], meta["name"], meta["uid"]),
        "labels": L.pod_labels(node, meta["namespace"], meta["name"], meta["uid"]),
        "share": ["net", "ipc", "uts"],
    }
    if seccomp_profile(pod, None, seccomp_default=False)["type"] == "Unconfined":
        # the infra container runs only catatonit, alone in its PID namespace (pods here
        # never share theirs), so none of the pod's processes can reach it: it runs
        # unconfined unless the pod itself names a profile, and each pod start saves
        # runc's ~60 ms of compiling the default filter for it
        out["security_opt"] = ["seccomp=unconfined"]
    hostadd = []
    for alias in spec.get("hostAliases") or []:
        for h in alias.get("hostnames") or []:
            hostadd.append(f"{h}:{alias.get('ip')}")
    if spec.get("hostNetwork"):
        out["netns"] = {"nsmode": "host"}
        # and the node's UTS namespace: one of its own would be named after the Podman
        # pod, often longer than a host name may be (sethostname fails)
        out["utsns"] = {"nsmode": "host"}
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


def spec_hash(container: dict) -> str:
    return hashlib.sha256(json.dumps(container, sort_keys=True).encode()).hexdigest()[:16]


def resource_limits(container: dict) -> dict:
    res = container.get("resources") or {}
    limits, requests = res.get("limits") or {}, res.get("requests") or {}
    out: dict = {}
    if "memory" in limits:
        out["memory"] = {"limit": quantity.whole_units(limits["memory"])}
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


def container_spec(pod: dict, container: dict, *, command: list[str], node: str, kind: str, attempt: int,
                   sandbox_id: str, image: str, env: dict[str, str], mounts: list[dict],
                   seccomp_root: str = "", seccomp_default: bool = True) -> dict:
    """command: the full command line (pods.spec.argv), env: the resolved environment;
    seccomp_root: where Localhost seccomp profiles are (the kubelet's <root-dir>/seccomp);
    seccomp_default: RuntimeDefault for containers that name no profile (--seccomp-default)."""
    meta, spec = pod["metadata"], pod.get("spec") or {}
    if not command:
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
        "entrypoint": command[:1],
        "command": command[1:],
        "env": env,
        "labels": labels,
        "mounts": mounts,
        "r_limits": RLIMITS,
        "stop_timeout": int(spec.get("terminationGracePeriodSeconds", 30)),
        "log_configuration": {"driver": "k8s-file"},
    }
    if spec.get("hostNetwork"):
        # the node's host name, as in the kubelet's host-network sandboxes
        out["utsns"] = {"nsmode": "host"}
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
    seccomp = seccomp_path(pod, container, seccomp_root, seccomp_default=seccomp_default)
    if seccomp:
        out["seccomp_profile_path"] = seccomp
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
