"""ServiceAccount: every pod runs as a service account (`default` unless named)
and, unless automounting is off, gets the projected API credentials volume
(`kube-api-access-xxxxx`: a bound token, the cluster CA, the namespace)
mounted in each container at /var/run/secrets/kubernetes.io/serviceaccount.

Upstream refuses a pod whose service account does not exist yet. A missing
`default` account is let through here (it is created by the service account
controller moments after the namespace, and an API server run alone has no
controller); a missing named account is refused as upstream refuses it.
"""
from __future__ import annotations

from apiserver.machinery import names
from apiserver.registry.attributes import Attributes

from .plugin import Plugin, forbidden, is_pod

DEFAULT_SA = "default"
MOUNT_PATH = "/var/run/secrets/kubernetes.io/serviceaccount"
VOLUME_PREFIX = "kube-api-access-"
TOKEN_EXPIRATION = 3607  # upstream's default: one hour plus a little, so kubelets refresh in time
MIRROR_ANNOTATION = "kubernetes.io/config.mirror"


def api_access_volume(name: str) -> dict:
    return {"name": name, "projected": {"defaultMode": 420, "sources": [
        {"serviceAccountToken": {"expirationSeconds": TOKEN_EXPIRATION, "path": "token"}},
        {"configMap": {"name": "kube-root-ca.crt", "items": [{"key": "ca.crt", "path": "ca.crt"}]}},
        {"downwardAPI": {"items": [{"path": "namespace", "fieldRef": {"apiVersion": "v1",
                                                                      "fieldPath": "metadata.namespace"}}]}},
    ]}}


def should_automount(sa: dict | None, spec: dict) -> bool:
    if spec.get("automountServiceAccountToken") is not None:
        return bool(spec["automountServiceAccountToken"])
    if sa is not None and sa.get("automountServiceAccountToken") is not None:
        return bool(sa["automountServiceAccountToken"])
    return True


def mount_token(spec: dict) -> None:
    volumes = spec.setdefault("volumes", [])
    existing = next((v.get("name") for v in volumes if str(v.get("name", "")).startswith(VOLUME_PREFIX)), None)
    vol_name = existing
    if vol_name is None:
        taken = {v.get("name") for v in volumes}
        vol_name = VOLUME_PREFIX + names.random_suffix()
        while vol_name in taken:
            vol_name = VOLUME_PREFIX + names.random_suffix()
        volumes.append(api_access_volume(vol_name))
    for key in ("initContainers", "containers"):
        for c in spec.get(key) or []:
            mounts = c.setdefault("volumeMounts", [])
            if any(m.get("mountPath") == MOUNT_PATH for m in mounts):
                continue
            mounts.append({"name": vol_name, "readOnly": True, "mountPath": MOUNT_PATH})


class ServiceAccount(Plugin):
    name = "ServiceAccount"
    mutating = True

    async def admit(self, attrs: Attributes) -> None:
        if attrs.operation != "CREATE" or not is_pod(attrs) or not isinstance(attrs.object, dict):
            return
        pod = attrs.object
        if MIRROR_ANNOTATION in ((pod.get("metadata") or {}).get("annotations") or {}):
            return  # static pods from a kubelet never get API credentials
        spec = pod.setdefault("spec", {})
        sa_name = spec.get("serviceAccountName") or spec.get("serviceAccount") or DEFAULT_SA
        spec["serviceAccountName"] = sa_name
        spec["serviceAccount"] = sa_name  # the deprecated alias upstream still returns
        sa = await self.get("", "serviceaccounts", attrs.namespace, sa_name)
        if sa is None and sa_name != DEFAULT_SA:
            raise forbidden(attrs, f"error looking up service account {attrs.namespace}/{sa_name}: "
                                   f'serviceaccount "{sa_name}" not found')
        if should_automount(sa, spec):
            mount_token(spec)
