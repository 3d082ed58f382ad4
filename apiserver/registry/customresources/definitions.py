"""What a CustomResourceDefinition serves, derived from the CRD object (pure):
one catalogue Resource per served version and the schema definitions that
routing, field validation, server-side apply and the OpenAPI documents read.

Definition names follow upstream's OpenAPI naming: the group reversed, then
version and kind (`com.example.stable.v1.CronTab`).
"""
from __future__ import annotations

import re

from openapi.catalogue import Resource, Subresource

from apiserver.machinery import schemas

_META = "#/$defs/io.k8s.apimachinery.pkg.apis.meta.v1."
VERBS = ("create", "delete", "deletecollection", "get", "list", "patch", "update", "watch")
_DESCRIPTIONS = {
    "apiVersion": "APIVersion defines the versioned schema of this representation of an object. Servers should "
                  "convert recognized schemas to the latest internal value, and may reject unrecognized values.",
    "kind": "Kind is a string value representing the REST resource this object represents. Servers may infer "
            "this from the endpoint the client submits requests to. Cannot be updated. In CamelCase.",
}


def definition_name(group: str, version: str, kind: str) -> str:
    return ".".join(reversed(group.split("."))) + f".{version}.{kind}"


def served_versions(crd: dict) -> list[dict]:
    """The served versions, highest priority first (upstream's Kubernetes version order)."""
    versions = [v for v in (crd.get("spec") or {}).get("versions") or [] if v.get("served")]
    return sorted(versions, key=lambda v: version_priority(v.get("name", "")))


_KUBE_VERSION = re.compile(r"^v(\d+)(?:(alpha|beta)(\d+))?$")


def version_priority(name: str) -> tuple:
    """GA before beta before alpha, higher numbers first, then the rest by name."""
    m = _KUBE_VERSION.match(name)
    if not m:
        return (3, 0, 0, name)
    major, stage, minor = int(m.group(1)), m.group(2), int(m.group(3) or 0)
    return ({None: 0, "beta": 1, "alpha": 2}[stage], -major, -minor, name)


def storage_version(crd: dict) -> str:
    for v in (crd.get("spec") or {}).get("versions") or []:
        if v.get("storage"):
            return v["name"]
    return ""


def version_schema(crd: dict, version: dict) -> dict:
    """openAPIV3Schema of a version (or the CRD-wide one kept for v1beta1 objects)."""
    spec = crd.get("spec") or {}
    return ((version.get("schema") or spec.get("validation") or {}).get("openAPIV3Schema")) or {}


def resources(crd: dict) -> tuple[Resource, ...]:
    spec = crd.get("spec") or {}
    names = spec.get("names") or {}
    group = spec.get("group", "")
    out = []
    for v in served_versions(crd):
        subs = []
        sub_spec = v.get("subresources") or {}
        if "status" in sub_spec:
            subs.append(Subresource("status", names.get("kind", ""), ("get", "patch", "update")))
        if "scale" in sub_spec:
            subs.append(Subresource("scale", "Scale", ("get", "patch", "update"), group="autoscaling",
                                    version="v1"))
        out.append(Resource(
            group=group, version=v["name"], plural=names.get("plural", ""),
            singular=names.get("singular") or names.get("kind", "").lower(), kind=names.get("kind", ""),
            namespaced=spec.get("scope") == "Namespaced", verbs=VERBS,
            schema=definition_name(group, v["name"], names.get("kind", "")),
            short_names=tuple(names.get("shortNames") or ()), categories=tuple(names.get("categories") or ()),
            subresources=tuple(subs), storage=f"{group}/{names.get('plural', '')}"))
    return tuple(out)


def definitions(crd: dict) -> dict[str, dict]:
    """The object and list definitions of every served version."""
    spec = crd.get("spec") or {}
    names = spec.get("names") or {}
    group, kind = spec.get("group", ""), names.get("kind", "")
    list_kind = names.get("listKind") or kind + "List"
    out: dict[str, dict] = {}
    for v in served_versions(crd):
        schema = _with_embedded_meta(version_schema(crd, v))
        props = dict(schema.get("properties") or {})
        for p in ("apiVersion", "kind"):
            props[p] = {"type": "string", "description": _DESCRIPTIONS[p], **{
                k: x for k, x in (props.get(p) or {}).items() if k not in ("type",)}}
        props["metadata"] = {"$ref": _META + "ObjectMeta", "description": "Standard object's metadata. More "
                             "info: https://git.k8s.io/community/contributors/devel/sig-architecture/"
                             "api-conventions.md#metadata"}
        schema["type"] = "object"
        schema["properties"] = props
        schema["x-kubernetes-group-version-kind"] = [{"group": group, "kind": kind, "version": v["name"]}]
        schema[schemas.CUSTOM_RESOURCE] = True
        name = definition_name(group, v["name"], kind)
        out[name] = schema
        out[definition_name(group, v["name"], list_kind)] = {
            "description": f"{list_kind} is a list of {kind}", "type": "object", "required": ["items"],
            "properties": {
                "apiVersion": {"type": "string", "description": _DESCRIPTIONS["apiVersion"]},
                "items": {"type": "array", "items": {"$ref": "#/$defs/" + name},
                          "description": f"List of {names.get('plural', '')}. More info: "
                                         "https://kubernetes.io/docs/reference/using-api/api-concepts/#collections"},
                "kind": {"type": "string", "description": _DESCRIPTIONS["kind"]},
                "metadata": {"$ref": _META + "ListMeta"},
            },
            "x-kubernetes-group-version-kind": [{"group": group, "kind": list_kind, "version": v["name"]}],
        }
    return out


def _with_embedded_meta(s):
    """A copy of the schema where every x-kubernetes-embedded-resource object declares
    apiVersion, kind and metadata (ObjectMeta), as upstream's structural schema implies,
    so field validation and explain see them."""
    if isinstance(s, list):
        return [_with_embedded_meta(x) for x in s]
    if not isinstance(s, dict):
        return s
    out = {k: (_with_embedded_meta(v) if k in ("items", "additionalProperties", "allOf", "anyOf", "oneOf", "not")
               else {p: _with_embedded_meta(x) for p, x in v.items()} if k == "properties" and isinstance(v, dict)
               else v) for k, v in s.items()}
    if out.get("x-kubernetes-embedded-resource") and not out.get("x-kubernetes-preserve-unknown-fields"):
        props = dict(out.get("properties") or {})
        props.setdefault("apiVersion", {"type": "string"})
        props.setdefault("kind", {"type": "string"})
        props["metadata"] = {"$ref": _META + "ObjectMeta"}
        out["properties"] = props
    return out
