"""Defaults of a PodSpec and its containers, as upstream stores a Pod.

Shared by Pods, PodTemplates and ReplicationController templates, so that
`kubectl get -o yaml` shows the same fields a real cluster fills in.
"""
from __future__ import annotations

from collections.abc import Iterable

DEFAULT_MODE = 420  # 0644: upstream's default file mode for projected files


def image_pull_policy(image: str) -> str:
    """`Always` for `:latest` or no tag, else `IfNotPresent` (a digest alone counts as no tag)."""
    name, _, digest = (image or "").partition("@")
    last = name.rsplit("/", 1)[-1]
    if ":" in last:
        tag = last.rsplit(":", 1)[1]
    elif digest:
        tag = ""
    else:
        tag = "latest"
    return "Always" if tag == "latest" else "IfNotPresent"


def _http_get(action: dict | None) -> None:
    if action is not None:
        action.setdefault("path", "/")
        action.setdefault("scheme", "HTTP")


def _handler(handler: dict | None) -> None:
    if handler:
        _http_get(handler.get("httpGet"))


def _probe(probe: dict | None) -> None:
    if probe is None:
        return
    probe.setdefault("timeoutSeconds", 1)
    probe.setdefault("periodSeconds", 10)
    probe.setdefault("successThreshold", 1)
    probe.setdefault("failureThreshold", 3)
    _handler(probe)
    grpc = probe.get("grpc")
    if grpc is not None:
        grpc.setdefault("service", "")


def _field_ref(ref: dict | None) -> None:
    if ref is not None:
        ref.setdefault("apiVersion", "v1")


def container(c: dict, host_network: bool = False) -> None:
    c.setdefault("terminationMessagePath", "/dev/termination-log")
    c.setdefault("terminationMessagePolicy", "File")
    if not c.get("imagePullPolicy"):
        c["imagePullPolicy"] = image_pull_policy(c.get("image", ""))
    resources = c.setdefault("resources", {})
    # A limit with no request requests the limit (SetDefaults_Pod).
    limits = resources.get("limits") or {}
    if limits:
        requests = resources.setdefault("requests", {})
        for k, v in limits.items():
            requests.setdefault(k, v)
    for p in c.get("ports") or []:
        p.setdefault("protocol", "TCP")
        if host_network and "containerPort" in p and not p.get("hostPort"):
            p["hostPort"] = p["containerPort"]
    for e in c.get("env") or []:
        _field_ref((e.get("valueFrom") or {}).get("fieldRef"))
    for name in ("livenessProbe", "readinessProbe", "startupProbe"):
        _probe(c.get(name))
    lifecycle = c.get("lifecycle") or {}
    _handler(lifecycle.get("postStart"))
    _handler(lifecycle.get("preStop"))


def _volume(v: dict) -> None:
    sources = set(v) - {"name"}
    if not sources:
        v["emptyDir"] = {}
    for kind in ("secret", "configMap", "downwardAPI", "projected"):
        if isinstance(v.get(kind), dict):
            v[kind].setdefault("defaultMode", DEFAULT_MODE)
    for item in (v.get("downwardAPI") or {}).get("items") or []:
        _field_ref(item.get("fieldRef"))
    if isinstance(v.get("hostPath"), dict):
        v["hostPath"].setdefault("type", "")
    for src in (v.get("projected") or {}).get("sources") or []:
        token = src.get("serviceAccountToken")
        if token is not None:
            token.setdefault("expirationSeconds", 3600)
        for item in (src.get("downwardAPI") or {}).get("items") or []:
            _field_ref(item.get("fieldRef"))


def _all_containers(spec: dict) -> Iterable[dict]:
    for key in ("initContainers", "containers", "ephemeralContainers"):
        yield from spec.get(key) or []


def pod_spec(spec: dict) -> None:
    spec.setdefault("restartPolicy", "Always")
    spec.setdefault("terminationGracePeriodSeconds", 30)
    spec.setdefault("dnsPolicy", "ClusterFirst")
    spec.setdefault("securityContext", {})
    spec.setdefault("schedulerName", "default-scheduler")
    spec.setdefault("enableServiceLinks", True)
    # priority and preemptionPolicy are not defaulted: the Priority admission plugin
    # resolves them from the class (it refuses a pod spec that contradicts its class)
    host_network = bool(spec.get("hostNetwork"))
    for c in _all_containers(spec):
        container(c, host_network)
    for v in spec.get("volumes") or []:
        _volume(v)


def pod_template(template: dict | None) -> None:
    """A PodTemplateSpec's defaults (pod templates, replication controllers)."""
    if isinstance(template, dict):
        spec = template.get("spec")
        if not isinstance(spec, dict):
            spec = template["spec"] = {}
        pod_spec(spec)


_COMPUTE = ("cpu", "memory")


def qos_class(spec: dict) -> str:
    """Guaranteed, Burstable or BestEffort from the containers' requests and limits."""
    requests: dict[str, bool] = {}
    limits: dict[str, bool] = {}
    guaranteed = True
    any_set = False
    for c in list(spec.get("containers") or []) + list(spec.get("initContainers") or []):
        res = c.get("resources") or {}
        req = {k: v for k, v in (res.get("requests") or {}).items() if k in _COMPUTE or k.startswith("hugepages-")}
        lim = {k: v for k, v in (res.get("limits") or {}).items() if k in _COMPUTE or k.startswith("hugepages-")}
        req = {k: v for k, v in req.items() if str(v) not in ("0", "0m", "")}
        lim = {k: v for k, v in lim.items() if str(v) not in ("0", "0m", "")}
        if req or lim:
            any_set = True
        if set(k for k in lim if k in _COMPUTE) != set(_COMPUTE):
            guaranteed = False
        for k, v in req.items():
            if str(lim.get(k)) != str(v):
                guaranteed = False
        requests.update(dict.fromkeys(req, True))
        limits.update(dict.fromkeys(lim, True))
    if not any_set:
        return "BestEffort"
    return "Guaranteed" if guaranteed else "Burstable"
