"""The upstream API schemas, read at run time from the pinned kubernetes-validate.

Nothing here is copied into the repository: the JSON Schema `$defs` that
kubernetes-validate ships for each Kubernetes release are loaded once and
indexed. Users: strategic merge patch (patch keys/strategies), server-side apply
(list types, map keys), strict field validation (known fields), schema
validation, and the OpenAPI documents (component schemas, descriptions).
"""
from __future__ import annotations

import json
from pathlib import Path

import kubernetes_validate

KUBERNETES_VERSION = "1.33.0"  # the release whose API we serve (matches /version)

_REF_PREFIX = "#/$defs/"
# Marks a custom resource's definition (added at run time): decoded as unstructured,
# its types are checked by its structural schema, not by Go-typed decoding.
CUSTOM_RESOURCE = "x-pocketkube-custom-resource"


def _schema_dir() -> Path:
    return Path(kubernetes_validate.__file__).parent / "kubernetes-json-schema" / f"v{KUBERNETES_VERSION}-local"


_definitions: dict[str, dict] | None = None


def definitions() -> dict[str, dict]:
    """All definitions, keyed like `io.k8s.api.core.v1.Pod`: upstream's, and custom
    resources' added at run time. Never mutated once handed out (changes replace the
    whole dict), so a reader in a worker thread (the OpenAPI build) sees one
    consistent snapshot."""
    global _definitions
    if _definitions is None:
        with (_schema_dir() / "_definitions.json").open() as f:
            _definitions = json.load(f)["$defs"]
    return _definitions


def add_definitions(defs: dict[str, dict]) -> None:
    """Definitions that arrive at run time (custom resources), beside the upstream ones."""
    global _definitions
    _definitions = {**definitions(), **defs}


def remove_definitions(names) -> None:
    global _definitions
    gone = set(names)
    _definitions = {k: v for k, v in definitions().items() if k not in gone}


# Facts the body walkers (typecheck, timestamps, fieldvalidation) derive from a schema node
# ($ref followed, the types it allows, its properties) for every value of every request body:
# worked out once per node and kept by the node's identity, one memo per walker, for one
# definitions snapshot (a $ref resolves against it; a changed CRD replaces the snapshot).
_MEMO_LIMIT = 200_000   # a custom resource's schema may be built anew per request: stay bounded
_memos: tuple[dict, dict[str, dict]] | None = None


def memo(walker: str) -> dict[int, tuple]:
    """The walker's memo: id(schema node) -> (node, facts). Entries hold their node, so an
    id is not reused while its entry lives; check `entry[0] is node` on a hit."""
    global _memos
    defs = definitions()
    m = _memos
    if m is None or m[0] is not defs:
        m = _memos = (defs, {})
    d = m[1].get(walker)
    if d is None or len(d) > _MEMO_LIMIT:
        d = m[1][walker] = {}
    return d


def definition(name: str) -> dict:
    return definitions()[name]


def ref_name(schema: dict) -> str | None:
    """The definition name a `$ref` schema points at, else None."""
    ref = schema.get("$ref")
    if isinstance(ref, str) and ref.startswith(_REF_PREFIX):  # a property may be named "$ref" (JSONSchemaProps)
        return ref[len(_REF_PREFIX):]
    return None


def resolve(schema: dict | None) -> dict:
    """Follow `$ref` (and single-element allOf wrappers) to the schema proper."""
    seen = 0
    while schema:
        name = ref_name(schema)
        if name is not None:
            schema = definitions()[name]
        elif "allOf" in schema and len(schema["allOf"]) == 1:
            schema = schema["allOf"][0]
        else:
            return schema
        seen += 1
        if seen > 32:
            break
    return schema or {}


def types_of(schema: dict) -> set[str]:
    """The JSON types a schema allows, ignoring kubernetes-validate's `null`."""
    t = resolve(schema).get("type")
    if t is None:
        return set()
    if isinstance(t, str):
        return {t}
    return {x for x in t if x != "null"}


def property_schema(schema: dict, name: str) -> dict | None:
    """Schema of a property of an object schema, or of a map value (additionalProperties)."""
    s = resolve(schema)
    props = s.get("properties")
    if props and name in props:
        return props[name]
    extra = s.get("additionalProperties")
    if isinstance(extra, dict):
        return extra
    return None


def items_schema(schema: dict) -> dict | None:
    s = resolve(schema)
    items = s.get("items")
    return items if isinstance(items, dict) else None


# (the definitions snapshot it was built from, the index): rebuilt when the snapshot changes
_gvk: tuple[dict, dict] | None = None


def _gvk_index() -> dict[tuple[str, str, str], str]:
    global _gvk
    defs = definitions()
    built = _gvk
    if built is not None and built[0] is defs:
        return built[1]
    index: dict[tuple[str, str, str], str] = {}
    for name, d in defs.items():
        for gvk in d.get("x-kubernetes-group-version-kind") or ():
            index.setdefault((gvk.get("group", ""), gvk["version"], gvk["kind"]), name)
    _gvk = (defs, index)
    return index


def name_for_kind(group: str, version: str, kind: str) -> str | None:
    """The definition name for a group/version/kind (e.g. ("", "v1", "Pod"))."""
    return _gvk_index().get((group, version, kind))


def for_kind(group: str, version: str, kind: str) -> dict | None:
    name = name_for_kind(group, version, kind)
    return definitions()[name] if name else None
