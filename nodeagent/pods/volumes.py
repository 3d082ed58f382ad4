"""Pod volumes as host directories bind-mounted into the containers.

emptyDir lives under the agent's root dir (medium: Memory under /dev/shm, which is
RAM-backed); configMap, secret, downwardAPI and projected volumes are files the
agent writes and rewrites when their source changes (each file replaced by an
atomic rename, so a running container sees the new content).
"""

from __future__ import annotations

import base64
import os
import shutil
from typing import Awaitable, Callable, Protocol

from .env import EnvError, field_ref, resource_ref


class VolumeError(Exception):
    """A required source is missing: FailedMount, the pod waits."""


class Sources(Protocol):
    async def configmap(self, namespace: str, name: str) -> dict | None: ...
    async def secret(self, namespace: str, name: str) -> dict | None: ...
    async def claim(self, namespace: str, name: str) -> dict | None: ...
    async def volume(self, name: str) -> dict | None: ...
    async def token(self, pod: dict, audience: str | None, seconds: int) -> str | None: ...


def pod_dir(root: str, uid: str) -> str:
    return os.path.join(root, "pods", uid)


def _write_atomic(path: str, data: bytes, mode: int) -> None:
    os.makedirs(os.path.dirname(path), exist_ok=True)
    try:
        with open(path, "rb") as f:
            if f.read() == data and (os.stat(path).st_mode & 0o777) == mode:
                return
    except OSError:
        pass
    tmp = path + ".tmp~"
    with open(tmp, "wb") as f:
        f.write(data)
    os.chmod(tmp, mode)
    os.replace(tmp, path)


def _files_from(data: dict[str, bytes], items: list | None, default_mode: int) -> dict[str, tuple[bytes, int]]:
    if not items:
        return {k: (v, default_mode) for k, v in data.items()}
    out = {}
    for it in items:
        if it["key"] in data:
            out[it.get("path") or it["key"]] = (data[it["key"]], it.get("mode", default_mode))
    return out


def _cm_bytes(cm: dict) -> dict[str, bytes]:
    out = {k: v.encode() for k, v in (cm.get("data") or {}).items()}
    out.update({k: base64.b64decode(v) for k, v in (cm.get("binaryData") or {}).items()})
    return out


def _secret_bytes(sec: dict) -> dict[str, bytes]:
    out = {k: base64.b64decode(v) for k, v in (sec.get("data") or {}).items()}
    out.update({k: v.encode() for k, v in (sec.get("stringData") or {}).items()})
    return out


def _downward(pod: dict, items: list, default_mode: int, host_ip: str, pod_ip: str) -> dict[str, tuple[bytes, int]]:
    containers = {c["name"]: c for c in pod["spec"].get("containers") or []}
    out = {}
    for it in items or []:
        try:
            if "fieldRef" in it:
                val = field_ref(pod, it["fieldRef"].get("fieldPath", ""), host_ip, pod_ip)
            elif "resourceFieldRef" in it:
                ref = it["resourceFieldRef"]
                val = resource_ref(containers.get(ref.get("containerName"), {}), ref, {})
            else:
                continue
        except EnvError as e:
            raise VolumeError(str(e)) from e
        out[it["path"]] = (val.encode(), it.get("mode", default_mode))
    return out


async def _source_files(pod: dict, src: dict, default_mode: int, sources: Sources, host_ip: str,
                        pod_ip: str) -> dict[str, tuple[bytes, int]] | None:
    """Files of a configMap/secret/downwardAPI/serviceAccountToken source; None when an
    optional source is absent."""
    ns = pod["metadata"]["namespace"]
    if "configMap" in src:
        ref = src["configMap"]
        cm = await sources.configmap(ns, ref.get("name", ""))
        if cm is None:
            if ref.get("optional"):
                return None
            raise VolumeError(f'configmap "{ref.get("name")}" not found')
        return _files_from(_cm_bytes(cm), ref.get("items"), ref.get("defaultMode", default_mode))
    if "secret" in src:
        ref = src["secret"]
        name = ref.get("secretName") or ref.get("name", "")
        sec = await sources.secret(ns, name)
        if sec is None:
            if ref.get("optional"):
                return None
            raise VolumeError(f'secret "{name}" not found')
        return _files_from(_secret_bytes(sec), ref.get("items"), ref.get("defaultMode", default_mode))
    if "downwardAPI" in src:
        ref = src["downwardAPI"]
        return _downward(pod, ref.get("items") or [], ref.get("defaultMode", default_mode), host_ip, pod_ip)
    if "serviceAccountToken" in src:
        ref = src["serviceAccountToken"]
        tok = await sources.token(pod, ref.get("audience"), int(ref.get("expirationSeconds", 3607)))
        # An API server that cannot issue tokens yet: project what exists.
        return {ref.get("path", "token"): (tok.encode(), default_mode)} if tok else {}
    return {}


async def prepare(pod: dict, root: str, sources: Sources, host_ip: str, pod_ip: str) -> dict[str, str]:
    """Create or refresh every volume; returns volume name -> host path."""
    uid = pod["metadata"]["uid"]
    base = os.path.join(pod_dir(root, uid), "volumes")
    paths: dict[str, str] = {}
    for vol in pod["spec"].get("volumes") or []:
        name = vol["name"]
        path = os.path.join(base, name)
        if "emptyDir" in vol:
            if (vol["emptyDir"] or {}).get("medium") == "Memory":
                path = os.path.join("/dev/shm/pocketkube", uid, name)
            os.makedirs(path, mode=0o777, exist_ok=True)
            os.chmod(path, 0o777)
        elif "persistentVolumeClaim" in vol or "ephemeral" in vol:
            claim_name = (vol.get("persistentVolumeClaim") or {}).get("claimName") or \
                f"{pod['metadata']['name']}-{name}"
            path = await claim_path(pod["metadata"]["namespace"], claim_name, sources)
        elif "hostPath" in vol:
            hp = vol["hostPath"]
            path = hp["path"]
            htype = hp.get("type") or ""
            if htype == "DirectoryOrCreate":
                os.makedirs(path, exist_ok=True)
            elif htype == "FileOrCreate" and not os.path.exists(path):
                os.makedirs(os.path.dirname(path), exist_ok=True)
                open(path, "a").close()
            elif htype in ("Directory", "File", "Socket") and not os.path.exists(path):
                raise VolumeError(f"hostPath type check failed: {path} is not a {htype.lower()}")
        else:
            files: dict[str, tuple[bytes, int]] = {}
            if "projected" in vol:
                mode = vol["projected"].get("defaultMode", 0o644)
                for src in vol["projected"].get("sources") or []:
                    got = await _source_files(pod, src, mode, sources, host_ip, pod_ip)
                    files.update(got or {})
            elif any(k in vol for k in ("configMap", "secret", "downwardAPI")):
                got = await _source_files(pod, vol, 0o644, sources, host_ip, pod_ip)
                files = got or {}
            else:
                os.makedirs(path, exist_ok=True)  # unsupported kinds behave as emptyDir
                paths[name] = path
                continue
            os.makedirs(path, exist_ok=True)
            for rel, (data, mode) in files.items():
                _write_atomic(os.path.join(path, rel), data, mode)
            _remove_stale(path, set(files))
        paths[name] = path
    return paths


async def claim_path(namespace: str, claim_name: str, sources: Sources) -> str:
    """The host directory behind a bound claim: its volume's hostPath or local path.
    A claim not yet bound (the provisioner is still at work) is a FailedMount: the pod waits."""
    claim = await sources.claim(namespace, claim_name)
    if claim is None:
        raise VolumeError(f'persistentvolumeclaim "{claim_name}" not found')
    volume_name = (claim.get("spec") or {}).get("volumeName")
    if not volume_name or (claim.get("status") or {}).get("phase") != "Bound":
        raise VolumeError(f'unbound persistentvolumeclaim "{claim_name}"')
    pv = await sources.volume(volume_name)
    if pv is None:
        raise VolumeError(f'persistentvolume "{volume_name}" not found')
    spec = pv.get("spec") or {}
    if spec.get("hostPath"):
        path = spec["hostPath"].get("path") or ""
        if not os.path.exists(path):
            if (spec["hostPath"].get("type") or "") != "DirectoryOrCreate":
                raise VolumeError(f"hostPath type check failed: {path} does not exist")
            os.makedirs(path, exist_ok=True)
            os.chmod(path, 0o777)  # any container user may write, as k3s's local-path helper makes it
        return path
    if spec.get("local"):
        path = spec["local"].get("path") or ""
        if not os.path.isdir(path):
            raise VolumeError(f"local volume path {path} does not exist")
        return path
    raise VolumeError(f'persistentvolume "{volume_name}": only hostPath and local volumes can be mounted here')


def read_only_volumes(pod: dict) -> frozenset[str]:
    """Volumes every mount of which is read-only: claims the pod mounts with readOnly."""
    return frozenset(v["name"] for v in (pod.get("spec") or {}).get("volumes") or []
                     if (v.get("persistentVolumeClaim") or {}).get("readOnly"))


def _remove_stale(path: str, keep: set[str]) -> None:
    for dirpath, _dirs, names in os.walk(path):
        for n in names:
            rel = os.path.relpath(os.path.join(dirpath, n), path)
            if rel not in keep:
                os.unlink(os.path.join(dirpath, n))


def mounts_for(container: dict, paths: dict[str, str], read_only: frozenset[str] = frozenset()) -> list[dict]:
    out = []
    for vm in container.get("volumeMounts") or []:
        src = paths.get(vm["name"])
        if src is None:
            raise VolumeError(f'volume "{vm["name"]}" not found')
        if vm.get("subPath"):
            src = os.path.join(src, vm["subPath"])
            if not os.path.exists(src):
                os.makedirs(src, exist_ok=True)
        opts = ["rbind", "ro" if vm.get("readOnly") or vm["name"] in read_only else "rw"]
        out.append({"destination": vm["mountPath"], "source": src, "type": "bind", "options": opts})
    return out


def cleanup(root: str, uid: str) -> None:
    shutil.rmtree(pod_dir(root, uid), ignore_errors=True)
    shutil.rmtree(os.path.join("/dev/shm/pocketkube", uid), ignore_errors=True)
