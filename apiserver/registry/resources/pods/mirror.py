"""The mirror pod annotation's rules (upstream's pod annotation validation): a mirror
pod names its node, and the annotation can be neither added, changed nor removed."""
from __future__ import annotations

from apiserver.machinery.errors import Cause
from apiserver.registry.validation import field

MIRROR = "kubernetes.io/config.mirror"
_PATH = field.key("metadata.annotations", MIRROR)


def _annotations(obj: dict) -> dict:
    ann = (obj.get("metadata") or {}).get("annotations")
    return ann if isinstance(ann, dict) else {}


def validate_mirror_annotation(obj: dict) -> list[Cause]:
    ann = _annotations(obj)
    if MIRROR in ann and not (obj.get("spec") or {}).get("nodeName"):
        return [field.invalid(_PATH, ann[MIRROR], "must set spec.nodeName if mirror pod annotation is set")]
    return []


def validate_mirror_annotation_update(new: dict, old: dict) -> list[Cause]:
    before, after = _annotations(old), _annotations(new)
    if MIRROR in before and after.get(MIRROR) != before[MIRROR]:
        return [field.forbidden(_PATH, "may not remove or update mirror pod annotation")]
    if MIRROR in after and MIRROR not in before:
        return [field.forbidden(_PATH, "may not add mirror pod annotation")]
    return []
