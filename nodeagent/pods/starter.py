"""Start one attempt of one container: image check, env, mounts, create, start, postStart.

Returns None on success or the (reason, message) the container waits with.
"""

from __future__ import annotations

import asyncio
import logging
import os
import time

from ..runtime import specgen
from ..runtime.podman import PodmanError
from . import spec as S
from . import volumes
from .backoff import BackOff
from .context import AgentContext
from .dns import is_host_default, parse_resolv_conf, pod_resolv_conf
from .env import EnvError, build_env
from .etchosts import mounts_own_hosts_file, pod_hosts_file
from .probes import run_probe

log = logging.getLogger(__name__)


def field_path(kind: str, idx: int, name: str) -> str:
    return f"spec.{'initContainers' if kind == 'init' else 'containers'}{{{name}}}"


async def _referenced(ctx: AgentContext, ns: str, container: dict) -> tuple[dict, dict]:
    """Fetch every ConfigMap/Secret the env refers to, so build_env can stay pure."""
    cms: dict[str, dict | None] = {}
    secs: dict[str, dict | None] = {}
    for src in container.get("envFrom") or []:
        if "configMapRef" in src:
            n = src["configMapRef"].get("name", "")
            cms[n] = await ctx.sources.configmap(ns, n)
        if "secretRef" in src:
            n = src["secretRef"].get("name", "")
            secs[n] = await ctx.sources.secret(ns, n)
    for var in container.get("env") or []:
        vf = var.get("valueFrom") or {}
        if "configMapKeyRef" in vf:
            n = vf["configMapKeyRef"].get("name", "")
            cms[n] = await ctx.sources.configmap(ns, n)
        if "secretKeyRef" in vf:
            n = vf["secretKeyRef"].get("name", "")
            secs[n] = await ctx.sources.secret(ns, n)
    return cms, secs


async def ensure_image(ctx: AgentContext, pod: dict, c: dict, fpath: str,
                       pull_backoff: BackOff) -> tuple[dict | None, tuple[str, str] | None]:
    """The image's inspect data, or the waiting reason. Always/IfNotPresent try a
    pull when the image is missing; with no registry reachable that fails fast."""
    image = c.get("image", "")
    info = await ctx.images.inspect(image)
    policy = c.get("imagePullPolicy") or ("Always" if image.endswith(":latest") or ":" not in image.split("/")[-1]
                                          else "IfNotPresent")
    if info is not None:
        ctx.recorder.event(pod, "Normal", "Pulled",
                           f'Container image "{image}" already present on machine', fpath)
        return info, None
    if policy == "Never":
        msg = f'Container image "{image}" is not present with pull policy of Never'
        ctx.recorder.event(pod, "Warning", "ErrImageNeverPull", msg, fpath)
        return None, ("ErrImageNeverPull", msg)
    now = time.monotonic()
    if pull_backoff.in_backoff(now):
        msg = f'Back-off pulling image "{image}"'
        ctx.recorder.event(pod, "Normal", "BackOff", msg, fpath)
        return None, ("ImagePullBackOff", msg)
    ctx.recorder.event(pod, "Normal", "Pulling", f'Pulling image "{image}"', fpath)
    try:
        await ctx.podman.image_pull(image)
        ctx.images.forget(image)
        info = await ctx.images.inspect(image)
    except PodmanError as e:
        info, err = None, e.message
    else:
        err = "image not found after pull"
    pull_backoff.record_restart(now)
    if info is None:
        msg = f'Failed to pull image "{image}": {err}'
        ctx.recorder.event(pod, "Warning", "Failed", msg, fpath)
        ctx.recorder.event(pod, "Warning", "Failed", "Error: ErrImagePull", fpath)
        return None, ("ErrImagePull", msg)
    ctx.recorder.event(pod, "Normal", "Pulled", f'Successfully pulled image "{image}"', fpath)
    return info, None


def _resolv_conf_mount(ctx: AgentContext, pod: dict) -> list[dict]:
    """The pod's resolv.conf (dnsPolicy, dnsConfig), bind-mounted over the one Podman
    would write; none when the pod simply takes the host's."""
    if is_host_default(pod, ctx.cluster_dns):
        return []
    try:
        with open(ctx.host_resolv_conf) as f:
            host = parse_resolv_conf(f.read())
    except OSError:
        host = parse_resolv_conf("")
    rc = pod_resolv_conf(pod, cluster_dns=ctx.cluster_dns, cluster_domain=ctx.cluster_domain, host=host)
    path = os.path.join(volumes.pod_dir(ctx.root_dir, pod["metadata"]["uid"]), "resolv.conf")
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with open(path + ".tmp", "w") as f:
        f.write(rc.text())
    os.replace(path + ".tmp", path)
    return [{"destination": "/etc/resolv.conf", "source": path, "type": "bind", "options": ["rbind", "ro"]}]


def _hosts_file_mount(ctx: AgentContext, pod: dict, container: dict, pod_ip: str) -> list[dict]:
    """The kubelet-managed /etc/hosts (nodeagent/pods/etchosts.py), once the pod has an IP."""
    if not pod_ip or mounts_own_hosts_file(container):
        return []
    host_file = ""
    if (pod.get("spec") or {}).get("hostNetwork"):
        try:
            with open(ctx.host_hosts_file) as f:
                host_file = f.read()
        except OSError:
            pass
    path = os.path.join(volumes.pod_dir(ctx.root_dir, pod["metadata"]["uid"]), "etc-hosts")
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with open(path + ".tmp", "w") as f:
        f.write(pod_hosts_file(pod, [pod_ip], ctx.cluster_domain, host_file))
    os.replace(path + ".tmp", path)
    return [{"destination": "/etc/hosts", "source": path, "type": "bind", "options": ["rbind", "rw"]}]


async def start_attempt(ctx: AgentContext, pod: dict, c: dict, *, kind: str, attempt: int, sandbox_id: str,
                        pod_ip: str, volume_paths: dict[str, str], pull_backoff: BackOff,
                        start_errors: dict[str, str], runtime_handler: str | None = None) -> tuple[str, str] | None:
    ns = pod["metadata"]["namespace"]
    fpath = field_path(kind, 0, c["name"])
    info, waiting = await ensure_image(ctx, pod, c, fpath, pull_backoff)
    if waiting:
        return waiting
    try:
        cms, secs = await _referenced(ctx, ns, c)
        svc_env = await ctx.sources.service_env(ns) if (pod["spec"].get("enableServiceLinks", True)) else {}
        env = build_env(pod, c, host_ip=ctx.host_ip, pod_ip=pod_ip, get_configmap=cms.get,
                        get_secret=secs.get, service_env=svc_env, node_alloc=ctx.node_allocatable)
        img_env = dict(e.split("=", 1) for e in (info.get("Config") or {}).get("Env") or [] if "=" in e)
        full_env = {**img_env, **env}
        mounts = volumes.mounts_for(c, volume_paths, volumes.read_only_volumes(pod)) + _resolv_conf_mount(ctx, pod) \
            + _hosts_file_mount(ctx, pod, c, pod_ip)
        command = S.argv(c, info.get("Config") or {}, full_env)
        cspec = specgen.container_spec(pod, c, command=command, node=ctx.node_name, kind=kind, attempt=attempt,
                                       sandbox_id=sandbox_id, image=c["image"], env=full_env, mounts=mounts,
                                       seccomp_root=os.path.join(ctx.root_dir, "seccomp"),
                                       seccomp_default=ctx.seccomp_default)
        if runtime_handler:  # the RuntimeClass's handler: the OCI runtime Podman runs it with
            cspec["oci_runtime"] = runtime_handler
    except (EnvError, volumes.VolumeError, ValueError) as e:
        msg = str(e)
        ctx.recorder.event(pod, "Warning", "Failed", f"Error: {msg}", fpath)
        return "CreateContainerConfigError", msg
    try:
        cid = await ctx.podman.container_create(cspec)
    except PodmanError as e:
        ctx.images.forget(c["image"])   # in case the image went: look again next time
        ctx.recorder.event(pod, "Warning", "Failed", f"Error: {e.message}", fpath)
        return "CreateContainerError", e.message
    ctx.recorder.event(pod, "Normal", "Created", f"Created container {c['name']}", fpath)
    try:
        await ctx.podman.container_start(cid)
    except PodmanError as e:
        start_errors[cid] = e.message
        ctx.recorder.event(pod, "Warning", "Failed", f"Error: {e.message}", fpath)
        return None
    ctx.recorder.event(pod, "Normal", "Started", f"Started container {c['name']}", fpath)
    hook = ((c.get("lifecycle") or {}).get("postStart") or {})
    if hook:
        ok, msg = await run_hook(ctx, hook, cid, pod_ip, 30)
        if not ok:
            ctx.recorder.event(pod, "Warning", "FailedPostStartHook", msg, fpath)
            await ctx.podman.container_stop(cid, int(pod["spec"].get("terminationGracePeriodSeconds", 30)))
    return None


async def run_hook(ctx: AgentContext, hook: dict, cid: str, pod_ip: str, timeout: float) -> tuple[bool, str]:
    if "sleep" in hook:
        await asyncio.sleep(min(float(hook["sleep"].get("seconds", 0)), timeout))
        return True, ""
    probe = dict(hook)
    probe["timeoutSeconds"] = timeout
    ok, msg = await run_probe(probe, {}, podman=ctx.podman, cid=cid, pod_ip=pod_ip)
    return ok, msg
