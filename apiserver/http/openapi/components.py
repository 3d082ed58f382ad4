"""Component schemas for the OpenAPI documents, converted from kubernetes-validate.

kubernetes-validate ships JSON Schema (`$defs`, `#/$defs/` refs, nullable
`type: [x, "null"]`, `oneOf` for int-or-string and quantities). OpenAPI v3 and
Swagger 2.0 readers (kubectl explain, the query-parameter verifier, client
generators) expect the shapes kube-apiserver publishes: refs into
`#/components/schemas/` (or `#/definitions/`), plain types, and a ref with
siblings wrapped in `allOf`. The schemas are converted at run time; nothing
from them is stored in the repository.
"""
from __future__ import annotations

from apiserver.http.openapi.enums import add_enums
from apiserver.machinery import schemas

V3_REF = "#/components/schemas/"
V2_REF = "#/definitions/"

# Types every document needs for its operations, whatever its kinds reference.
META_TYPES = (
    "io.k8s.apimachinery.pkg.apis.meta.v1.Status",
    "io.k8s.apimachinery.pkg.apis.meta.v1.DeleteOptions",
    "io.k8s.apimachinery.pkg.apis.meta.v1.Patch",
    "io.k8s.apimachinery.pkg.apis.meta.v1.WatchEvent",
    "io.k8s.apimachinery.pkg.apis.meta.v1.APIResourceList",
)


def _plain_type(t):
    """`["string", "null"]` -> "string"; kube-apiserver never publishes null types."""
    if isinstance(t, list):
        rest = [x for x in t if x != "null"]
        return rest[0] if len(rest) == 1 else rest
    return t


def _one_of_scalar(schema: dict, v3: bool) -> dict | None:
    """int-or-string and quantity: `oneOf` in v3 documents, strings in Swagger 2.0 (as upstream)."""
    alts = schema.get("oneOf")
    if not isinstance(alts, list):
        return None
    kinds = [_plain_type(a.get("type")) for a in alts if isinstance(a, dict)]
    fmt = {"format": "int-or-string"} if set(kinds) == {"string", "integer"} else {}
    if set(kinds) not in ({"string", "integer"}, {"string", "number"}):
        return None
    if v3:
        return {**fmt, "oneOf": [{"type": k} for k in kinds]}
    return {"type": "string", **fmt}


def convert(schema, ref_prefix: str = V3_REF, wrap_refs: bool = True):
    """One JSON Schema node (recursively) to its OpenAPI shape."""
    if isinstance(schema, list):
        return [convert(x, ref_prefix, wrap_refs) for x in schema]
    if not isinstance(schema, dict):
        return schema
    scalar = _one_of_scalar(schema, wrap_refs)
    if scalar is not None:
        out = {k: v for k, v in schema.items() if k != "oneOf"}
        out.update(scalar)
        return out
    name = schemas.ref_name(schema)
    if name is not None:
        ref = {"$ref": ref_prefix + name}
        siblings = {k: convert(v, ref_prefix, wrap_refs) for k, v in schema.items() if k != "$ref"}
        if not siblings:
            return ref
        if wrap_refs:
            # OpenAPI v3.0 ignores siblings of $ref; upstream wraps the ref in allOf.
            return {"allOf": [ref], **siblings}
        return {**ref, **siblings}
    out = {}
    for key, value in schema.items():
        if key == schemas.CUSTOM_RESOURCE:
            continue
        if key == "type":
            out[key] = _plain_type(value)
        elif key in ("properties", "patternProperties"):
            out[key] = {p: convert(v, ref_prefix, wrap_refs) for p, v in value.items()}
        elif key in ("x-kubernetes-group-version-kind", "enum", "required", "x-kubernetes-list-map-keys", "default"):
            out[key] = value
        else:
            out[key] = convert(value, ref_prefix, wrap_refs)
    return out


def _refs_in(schema, found: set[str]) -> None:
    if isinstance(schema, dict):
        name = schemas.ref_name(schema)
        if name is not None:
            found.add(name)
        for v in schema.values():
            _refs_in(v, found)
    elif isinstance(schema, list):
        for v in schema:
            _refs_in(v, found)


def reachable(roots) -> list[str]:
    """The definition names reachable from `roots` (the roots included), sorted."""
    defs = schemas.definitions()
    seen: set[str] = set()
    todo = [r for r in roots if r in defs]
    while todo:
        name = todo.pop()
        if name in seen:
            continue
        seen.add(name)
        found: set[str] = set()
        _refs_in(defs[name], found)
        todo.extend(n for n in found if n not in seen and n in defs)
    return sorted(seen)


def component_schemas(roots, ref_prefix: str = V3_REF, wrap_refs: bool = True) -> dict[str, dict]:
    """The converted definitions reachable from `roots` plus the meta types."""
    defs = schemas.definitions()
    names = reachable(list(roots) + list(META_TYPES))
    out = {n: convert(defs[n], ref_prefix, wrap_refs) for n in names}
    for d in out.values():
        if "x-kubernetes-group-version-kind" in d:
            # kubernetes-validate pins apiVersion/kind with enums; upstream documents do not.
            for p in ("apiVersion", "kind"):
                (d.get("properties") or {}).get(p, {}).pop("enum", None)
    if ref_prefix == V3_REF:  # upstream's swagger (v2) document carries no enums
        add_enums(out)
    return out
