"""What a pod makes its node need (pure): the objects upstream's Node authorizer
lets a node read because a pod bound to it refers to them.

  secrets        volumes (secret, projected secret sources), env and envFrom
                 references, imagePullSecrets, and PersistentVolumes' secret refs
  configmaps     volumes (configMap, projected configMap sources), env, envFrom
  persistentvolumeclaims   persistentVolumeClaim volumes and generic ephemeral
                 volumes (claim `<pod>-<volume>`)
  serviceaccounts          the pod's own (for its tokens: serviceaccounts/token)
"""
from __future__ import annotations


def _containers(spec: dict) -> list[dict]:
    return [*(spec.get("initContainers") or ()), *(spec.get("containers") or ()),
            *(spec.get("ephemeralContainers") or ())]


def pod_refs(pod: dict) -> dict[str, set[str]]:
    """The names, in the pod's namespace, of each kind the pod refers to."""
    spec = pod.get("spec") or {}
    name = (pod.get("metadata") or {}).get("name", "")
    refs: dict[str, set[str]] = {"secrets": set(), "configmaps": set(), "persistentvolumeclaims": set(),
                                 "serviceaccounts": {spec.get("serviceAccountName") or "default"}}
    for s in spec.get("imagePullSecrets") or ():
        if s.get("name"):
            refs["secrets"].add(s["name"])
    for c in _containers(spec):
        for env in c.get("env") or ():
            src = env.get("valueFrom") or {}
            if (src.get("secretKeyRef") or {}).get("name"):
                refs["secrets"].add(src["secretKeyRef"]["name"])
            if (src.get("configMapKeyRef") or {}).get("name"):
                refs["configmaps"].add(src["configMapKeyRef"]["name"])
        for env_from in c.get("envFrom") or ():
            if (env_from.get("secretRef") or {}).get("name"):
                refs["secrets"].add(env_from["secretRef"]["name"])
            if (env_from.get("configMapRef") or {}).get("name"):
                refs["configmaps"].add(env_from["configMapRef"]["name"])
    for vol in spec.get("volumes") or ():
        if (vol.get("secret") or {}).get("secretName"):
            refs["secrets"].add(vol["secret"]["secretName"])
        if (vol.get("configMap") or {}).get("name"):
            refs["configmaps"].add(vol["configMap"]["name"])
        for source in (vol.get("projected") or {}).get("sources") or ():
            if (source.get("secret") or {}).get("name"):
                refs["secrets"].add(source["secret"]["name"])
            if (source.get("configMap") or {}).get("name"):
                refs["configmaps"].add(source["configMap"]["name"])
        if (vol.get("persistentVolumeClaim") or {}).get("claimName"):
            refs["persistentvolumeclaims"].add(vol["persistentVolumeClaim"]["claimName"])
        if vol.get("ephemeral") and vol.get("name"):
            refs["persistentvolumeclaims"].add(f"{name}-{vol['name']}")
        for key in ("cephfs", "rbd", "iscsi", "flexVolume", "scaleIO", "storageos", "azureFile", "csi"):
            ref = (vol.get(key) or {}).get("secretRef") or (vol.get(key) or {}).get("nodePublishSecretRef")
            if (ref or {}).get("name"):
                refs["secrets"].add(ref["name"])
    return refs


def pv_secret_refs(pv: dict) -> set[tuple[str, str]]:
    """(namespace, name) of the Secrets a PersistentVolume's source names."""
    out = set()
    claim_ns = ((pv.get("spec") or {}).get("claimRef") or {}).get("namespace", "")
    for key, source in (pv.get("spec") or {}).items():
        if not isinstance(source, dict):
            continue
        for ref_key in ("secretRef", "nodePublishSecretRef", "nodeStageSecretRef", "controllerExpandSecretRef",
                        "nodeExpandSecretRef"):
            ref = source.get(ref_key)
            if isinstance(ref, dict) and ref.get("name"):
                out.add((ref.get("namespace") or claim_ns, ref["name"]))
    return out
