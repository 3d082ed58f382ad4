"""PodSecurity: the namespace's pod-security.kubernetes.io/{enforce,warn,audit}
labels pick a Pod Security Standard (privileged, baseline, restricted); pods
that break the enforced level are refused, and the warn level is reported as
Warning headers (for pods and for the pod templates of workloads)."""
from __future__ import annotations

from apiserver.registry.attributes import Attributes

from . import pod_security_checks as checks
from .plugin import Plugin, forbidden

LABEL = "pod-security.kubernetes.io/"
LEVELS = ("privileged", "baseline", "restricted")


def policy(labels: dict, mode: str) -> tuple[str, str] | None:
    level = labels.get(LABEL + mode)
    if level not in LEVELS:
        return None
    version = labels.get(LABEL + mode + "-version") or "latest"
    return level, version


def _pod_spec(attrs: Attributes) -> tuple[dict, dict] | None:
    """(spec, metadata) of the pod or pod template this write carries, if any."""
    r, obj = attrs.resource, attrs.object
    if not isinstance(obj, dict) or r.group:
        return None
    if r.plural == "pods" and attrs.subresource in ("", "ephemeralcontainers"):
        return obj.get("spec") or {}, obj.get("metadata") or {}
    if r.plural == "replicationcontrollers" and not attrs.subresource:
        t = (obj.get("spec") or {}).get("template") or {}
        return t.get("spec") or {}, t.get("metadata") or {}
    if r.plural == "podtemplates":
        t = obj.get("template") or {}
        return t.get("spec") or {}, t.get("metadata") or {}
    return None


class PodSecurity(Plugin):
    name = "PodSecurity"
    validating = True

    async def validate(self, attrs: Attributes) -> None:
        if attrs.operation not in ("CREATE", "UPDATE") or not attrs.namespace:
            return
        found = _pod_spec(attrs)
        if found is None:
            return
        spec, meta = found
        if attrs.operation == "UPDATE" and attrs.old_object is not None and \
                (attrs.old_object.get("spec") == (attrs.object or {}).get("spec")):
            return  # metadata/status-only updates are never re-judged
        ns = await self.get("", "namespaces", "", attrs.namespace)
        labels = ((ns or {}).get("metadata") or {}).get("labels") or {}
        is_pod = attrs.resource.plural == "pods"
        enforce = policy(labels, "enforce")
        if enforce and is_pod:
            failures = checks.evaluate(enforce[0], spec, meta)
            if failures:
                raise forbidden(attrs, f'violates PodSecurity "{enforce[0]}:{enforce[1]}": ' + ", ".join(failures))
        warn = policy(labels, "warn")
        levels = [warn] if warn else []
        if enforce and not is_pod:
            levels.append(enforce)  # workloads are only warned about the enforced level
        for level, version in levels:
            failures = checks.evaluate(level, spec, meta)
            if failures:
                attrs.warnings.append(f'would violate PodSecurity "{level}:{version}": ' + ", ".join(failures))
                break
