"""Container environment: $(VAR) expansion, valueFrom sources, envFrom, service links.

Pure functions; what they read from the API (ConfigMaps, Secrets, Services) is
passed in by the caller as plain dicts so they can be unit-tested.
"""

from __future__ import annotations

import base64
import re
from typing import Callable

from kubeclient import quantity


class EnvError(Exception):
    """A required ConfigMap/Secret/key is missing: the container cannot start
    (upstream reports CreateContainerConfigError)."""


def expand(text: str, env: dict[str, str]) -> str:
    """Kubernetes' $(VAR) syntax: $(VAR) is replaced when VAR is defined,
    left as written when not, and $$ escapes a literal $."""
    out = []
    i = 0
    n = len(text)
    while i < n:
        c = text[i]
        if c == "$" and i + 1 < n:
            nxt = text[i + 1]
            if nxt == "$":
                out.append("$")
                i += 2
                continue
            if nxt == "(":
                end = text.find(")", i + 2)
                if end != -1:
                    name = text[i + 2:end]
                    if name in env:
                        out.append(env[name])
                    else:
                        out.append(text[i:end + 1])
                    i = end + 1
                    continue
        out.append(c)
        i += 1
    return "".join(out)


def field_ref(pod: dict, path: str, host_ip: str, pod_ip: str) -> str:
    meta = pod.get("metadata") or {}
    spec = pod.get("spec") or {}
    m = re.fullmatch(r"metadata\.(labels|annotations)\['(.+)'\]", path)
    if m:
        return str((meta.get(m.group(1)) or {}).get(m.group(2), ""))
    simple = {
        "metadata.name": meta.get("name", ""),
        "metadata.namespace": meta.get("namespace", ""),
        "metadata.uid": meta.get("uid", ""),
        "spec.nodeName": spec.get("nodeName", ""),
        "spec.serviceAccountName": spec.get("serviceAccountName", ""),
        "status.hostIP": host_ip,
        "status.hostIPs": host_ip,
        "status.podIP": pod_ip,
        "status.podIPs": pod_ip,
    }
    if path in simple:
        return str(simple[path] or "")
    if path in ("metadata.labels", "metadata.annotations"):
        items = meta.get(path.split(".")[1]) or {}
        return "\n".join(f'{k}="{v}"' for k, v in sorted(items.items()))
    raise EnvError(f"unsupported fieldRef {path}")


def resource_ref(container: dict, ref: dict, node_alloc: dict[str, str]) -> str:
    """requests.cpu / limits.memory ...; an unset limit falls back to the node's allocatable."""
    res = ref.get("resource", "")
    kind, _, name = res.partition(".")
    resources = container.get("resources") or {}
    q = (resources.get(kind) or {}).get(name)
    if q is None and kind == "limits":
        q = node_alloc.get(name, "0")
    if q is None and kind == "requests":
        q = (resources.get("limits") or {}).get(name, "0")
    divisor = ref.get("divisor") or "1"
    return str(max(quantity.divide_ceil(q, str(divisor)), 1 if quantity.parse_quantity(q) > 0 else 0))


def _secret_value(secret: dict, key: str) -> str | None:
    if key in (secret.get("stringData") or {}):
        return secret["stringData"][key]
    raw = (secret.get("data") or {}).get(key)
    return None if raw is None else base64.b64decode(raw).decode(errors="replace")


def build_env(pod: dict, container: dict, *, host_ip: str, pod_ip: str,
              get_configmap: Callable[[str], dict | None],
              get_secret: Callable[[str], dict | None],
              service_env: dict[str, str] | None = None,
              node_alloc: dict[str, str] | None = None) -> dict[str, str]:
    """The final environment of one container, in upstream precedence order:
    service links first, then envFrom, then env (later entries see earlier ones)."""
    env: dict[str, str] = {}
    if (pod.get("spec") or {}).get("enableServiceLinks", True) and service_env:
        env.update(service_env)
    for src in container.get("envFrom") or []:
        prefix = src.get("prefix", "")
        if "configMapRef" in src:
            ref = src["configMapRef"]
            cm = get_configmap(ref.get("name", ""))
            if cm is None:
                if ref.get("optional"):
                    continue
                raise EnvError(f'configmap "{ref.get("name")}" not found')
            for k, v in (cm.get("data") or {}).items():
                env[prefix + k] = v
        elif "secretRef" in src:
            ref = src["secretRef"]
            sec = get_secret(ref.get("name", ""))
            if sec is None:
                if ref.get("optional"):
                    continue
                raise EnvError(f'secret "{ref.get("name")}" not found')
            for k in (sec.get("data") or {}):
                env[prefix + k] = _secret_value(sec, k) or ""
    for var in container.get("env") or []:
        name = var.get("name", "")
        if "valueFrom" not in var:
            env[name] = expand(var.get("value", ""), env)
            continue
        vf = var["valueFrom"]
        if "fieldRef" in vf:
            env[name] = field_ref(pod, vf["fieldRef"].get("fieldPath", ""), host_ip, pod_ip)
        elif "resourceFieldRef" in vf:
            env[name] = resource_ref(container, vf["resourceFieldRef"], node_alloc or {})
        elif "configMapKeyRef" in vf or "secretKeyRef" in vf:
            is_cm = "configMapKeyRef" in vf
            ref = vf["configMapKeyRef" if is_cm else "secretKeyRef"]
            what = "configmap" if is_cm else "secret"
            obj = (get_configmap if is_cm else get_secret)(ref.get("name", ""))
            val = None
            if obj is not None:
                val = (obj.get("data") or {}).get(ref.get("key")) if is_cm else _secret_value(obj, ref.get("key", ""))
            if val is None:
                if ref.get("optional"):
                    continue
                if obj is None:
                    raise EnvError(f'{what} "{ref.get("name")}" not found')
                raise EnvError(f'couldn\'t find key {ref.get("key")} in {what.capitalize()} '
                               f'{pod["metadata"].get("namespace")}/{ref.get("name")}')
            env[name] = val
    return env


def service_link_env(services: list[dict]) -> dict[str, str]:
    """<SVC>_SERVICE_HOST/PORT and the docker-link style variables for each
    Service with a cluster IP in the pod's namespace."""
    env: dict[str, str] = {}
    for svc in sorted(services, key=lambda s: s["metadata"]["name"]):
        spec = svc.get("spec") or {}
        ip = spec.get("clusterIP")
        if not ip or ip == "None":
            continue
        prefix = svc["metadata"]["name"].upper().replace("-", "_")
        ports = spec.get("ports") or []
        env[f"{prefix}_SERVICE_HOST"] = ip
        if not ports:
            continue
        env[f"{prefix}_SERVICE_PORT"] = str(ports[0]["port"])
        for p in ports:
            if p.get("name"):
                env[f"{prefix}_SERVICE_PORT_{p['name'].upper().replace('-', '_')}"] = str(p["port"])
        first = ports[0]
        proto = (first.get("protocol") or "TCP").lower()
        env[f"{prefix}_PORT"] = f"{proto}://{ip}:{first['port']}"
        for p in ports:
            proto = (p.get("protocol") or "TCP")
            base = f"{prefix}_PORT_{p['port']}_{proto.upper()}"
            env[base] = f"{proto.lower()}://{ip}:{p['port']}"
            env[base + "_PROTO"] = proto.lower()
            env[base + "_PORT"] = str(p["port"])
            env[base + "_ADDR"] = ip
    return env
