"""ObjectMeta rules every kind shares: names, namespace, labels, annotations,
finalizers, owner references, and what an update may not change."""
from __future__ import annotations

from typing import Callable

from apiserver.machinery import names
from apiserver.machinery.errors import Cause

from . import field

NameFn = Callable[[str], list[str]]
TOTAL_ANNOTATION_SIZE_LIMIT = 256 * 1024


def _mask_trailing_dash(name: str) -> str:
    """generateName prefixes may end in '-'; upstream checks them with that dash masked."""
    if len(name) > 1 and name.endswith("-"):
        return name[:-2] + "a"
    return name


def validate_labels(labels, path: str) -> list[Cause]:
    causes: list[Cause] = []
    if not isinstance(labels, dict):
        return causes
    for k, v in labels.items():
        causes += field.each_invalid(path, k, names.is_qualified_name(k))
        if not isinstance(v, str):
            causes.append(field.invalid(path, v, "must be a string"))
            continue
        causes += field.each_invalid(path, v, names.is_valid_label_value(v))
    return causes


def validate_annotations(annotations, path: str) -> list[Cause]:
    causes: list[Cause] = []
    if not isinstance(annotations, dict):
        return causes
    total = 0
    for k, v in annotations.items():
        causes += field.each_invalid(path, k, names.is_qualified_name(k.lower()))
        total += len(k.encode()) + len(str(v).encode())
    if total > TOTAL_ANNOTATION_SIZE_LIMIT:
        causes.append(field.too_long(path, TOTAL_ANNOTATION_SIZE_LIMIT))
    return causes


def _owner_references(refs, path: str) -> list[Cause]:
    causes: list[Cause] = []
    controllers = 0
    for p, ref in field.objects(refs, path):
        for key in ("apiVersion", "kind", "name", "uid"):
            if not ref.get(key):
                causes.append(field.required(field.child(p, key), ""))
        if ref.get("controller"):
            controllers += 1
    if controllers > 1:
        causes.append(field.invalid(path, refs, "Only one reference can have Controller set to true"))
    return causes


def validate_finalizers(finalizers, path: str) -> list[Cause]:
    causes: list[Cause] = []
    for i, f in enumerate(finalizers or []):
        if isinstance(f, str):
            causes += field.each_invalid(field.index(path, i), f, names.is_qualified_name(f))
    return causes


def validate_object_meta(meta: dict, namespaced: bool, name_fn: NameFn | None, path: str = "metadata") -> list[Cause]:
    causes: list[Cause] = []
    meta = meta if isinstance(meta, dict) else {}
    name = meta.get("name") or ""
    generate = meta.get("generateName") or ""
    if name_fn is not None:
        if generate:
            causes += field.each_invalid(field.child(path, "generateName"), generate,
                                         name_fn(_mask_trailing_dash(generate)))
        if name:
            causes += field.each_invalid(field.child(path, "name"), name, name_fn(name))
        elif not generate:
            causes.append(field.required(field.child(path, "name"), "name or generateName is required"))
    ns = meta.get("namespace") or ""
    if namespaced:
        if not ns:
            causes.append(field.required(field.child(path, "namespace"), ""))
        else:
            causes += field.each_invalid(field.child(path, "namespace"), ns, names.is_dns1123_label(ns))
    elif ns:
        causes.append(field.forbidden(field.child(path, "namespace"), "not allowed on this type"))
    gen = meta.get("generation")
    if isinstance(gen, int) and gen < 0:
        causes.append(field.invalid(field.child(path, "generation"), gen, "must be greater than or equal to 0"))
    causes += validate_labels(meta.get("labels"), field.child(path, "labels"))
    causes += validate_annotations(meta.get("annotations"), field.child(path, "annotations"))
    causes += _owner_references(meta.get("ownerReferences"), field.child(path, "ownerReferences"))
    causes += validate_finalizers(meta.get("finalizers"), field.child(path, "finalizers"))
    return causes


def validate_object_meta_update(new: dict, old: dict, path: str = "metadata") -> list[Cause]:
    new = new if isinstance(new, dict) else {}
    old = old if isinstance(old, dict) else {}
    causes: list[Cause] = []
    for key in ("name", "namespace", "uid", "creationTimestamp"):
        if old.get(key) and new.get(key) != old.get(key):
            causes.append(field.immutable(field.child(path, key), new.get(key)))
    if old.get("deletionTimestamp") and new.get("deletionTimestamp") != old.get("deletionTimestamp"):
        causes.append(field.invalid(field.child(path, "deletionTimestamp"), new.get("deletionTimestamp"),
                                    "field is immutable; may only be changed via deletion"))
    if old.get("deletionGracePeriodSeconds") is not None and \
            new.get("deletionGracePeriodSeconds") != old.get("deletionGracePeriodSeconds"):
        causes.append(field.invalid(field.child(path, "deletionGracePeriodSeconds"), new.get("deletionGracePeriodSeconds"),
                                    "field is immutable; may only be changed via deletion"))
    causes += validate_labels(new.get("labels"), field.child(path, "labels"))
    causes += validate_annotations(new.get("annotations"), field.child(path, "annotations"))
    causes += _owner_references(new.get("ownerReferences"), field.child(path, "ownerReferences"))
    causes += validate_finalizers(new.get("finalizers"), field.child(path, "finalizers"))
    return causes
