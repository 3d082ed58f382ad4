"""Server-side field validation: unknown and duplicate fields in request bodies.

kube-apiserver decodes bodies strictly and, per the `fieldValidation` query
parameter, fails the request (Strict), answers with one Warning header per
problem (Warn, the default when the parameter is absent) or silently drops the
fields (Ignore). kubectl relies on this instead of validating on its side.

Paths are written as upstream's strict JSON decoder writes them
(`spec.containers[0].foo`, `metadata.foo`), so messages read the same:
  Pod in version "v1" cannot be handled as a Pod: strict decoding error: unknown field "spec.foo"
"""
from __future__ import annotations

from typing import Any

import yaml

from apiserver.machinery import decoding, errors, queryparams, schemas, timestamps, typecheck
from apiserver.machinery.decoding import KeySequences

STRICT, WARN, IGNORE = "Strict", "Warn", "Ignore"
DIRECTIVES = (IGNORE, STRICT, WARN)


def directive(query, options_kind: str = "CreateOptions") -> str:
    """The request's validation directive (its first `fieldValidation`); absent means Warn
    (upstream's default). Another value fails ValidateFieldValidation: 422 on `options_kind`."""
    value = queryparams.first(query, "fieldValidation")
    if value is None or value == "":
        return WARN
    if value not in DIRECTIVES:
        raise queryparams.invalid_options(
            options_kind, "fieldValidation",
            f'Unsupported value: "{value}": supported values: "", "Ignore", "Strict", "Warn"',
            "FieldValueNotSupported")
    return value


# ---- decoding with duplicate detection ----------------------------------------

def _join(prefix: str, key: str) -> str:
    return f"{prefix}.{key}" if prefix else key




class DuplicatePaths(list):
    """Paths of repeated fields; `sequences` keeps where they sat in the document, so
    problems can be reported in document order as upstream's decoder meets them."""

    def __init__(self, paths=(), sequences: KeySequences | None = None):
        super().__init__(paths)
        self.sequences: KeySequences = sequences or {}


def _repeated(keys: list[str]) -> list[str]:
    seen: set[str] = set()
    twice: list[str] = []
    for k in keys:
        if k in seen and k not in twice:
            twice.append(k)
        seen.add(k)
    return twice


def _paths_of_duplicates(obj: Any, dups: KeySequences, prefix: str, out: list[str]) -> None:
    if isinstance(obj, dict):
        entry = dups.get(id(obj))
        if entry is not None and entry[0] is obj:
            out.extend(_join(prefix, key) for key in _repeated(entry[1]))
        for k, v in obj.items():
            _paths_of_duplicates(v, dups, _join(prefix, k), out)
    elif isinstance(obj, list):
        for i, v in enumerate(obj):
            _paths_of_duplicates(v, dups, f"{prefix}[{i}]", out)


def _with_paths(obj: Any, dups: KeySequences) -> tuple[Any, DuplicatePaths]:
    out: list[str] = []
    if dups:
        _paths_of_duplicates(obj, dups, "", out)
    return obj, DuplicatePaths(out, dups)


def yaml_duplicate_error(body: bytes) -> str | None:
    """Upstream's YAML-side text for repeated keys (what apply patches are checked with), or None.

      error converting YAML to JSON: yaml: unmarshal errors:
        line 5: key "a" already set in map
    """
    try:
        _, _, lines = decoding.decode_yaml(body)
    except (ValueError, yaml.YAMLError):
        return None
    if not lines:
        return None
    return "error converting YAML to JSON: yaml: unmarshal errors:\n" + "\n".join(
        f'  line {line}: key "{key}" already set in map' for line, key in sorted(lines))


def decode_strict(body: bytes, content_type: str) -> tuple[Any, list[str]]:
    """Decode a JSON or YAML body (machinery.decoding: bounded, JSON values only); also
    return the paths of duplicated fields.

    Raises StatusError 400 for bodies that are not JSON/YAML at all or break a bound.
    """
    ct = (content_type or "").split(";")[0].strip().lower()
    try:
        if "yaml" in ct:
            obj, dups, _ = decoding.decode_yaml(body)
            return _with_paths(obj, dups)
        return _with_paths(*decoding.decode_json(body))
    except (ValueError, yaml.YAMLError) as e:
        raise errors.bad_request(f"error decoding request body: {e}") from None


# ---- unknown fields -------------------------------------------------------------

def _is_free_form(s: dict) -> bool:
    """Objects whose content the schema does not describe (RawExtension, FieldsV1, a
    schema with no type at all such as JSONSchemaPropsOrArray, a custom resource's
    x-kubernetes-preserve-unknown-fields). A custom resource's embedded resource is
    described: its definition lists apiVersion, kind and metadata."""
    if s.get("x-kubernetes-preserve-unknown-fields"):
        return True
    if s.get("x-kubernetes-embedded-resource"):
        return "properties" not in s
    types = schemas.types_of(s)
    return (not types or "object" in types) and "properties" not in s and "additionalProperties" not in s


def _walk(obj: Any, schema: dict | None, prefix: str, found: list[tuple[str, dict | None, str, str]],
          sequences: KeySequences | None = None, memo: dict | None = None) -> None:
    """Collect, in document order, ("unknown", parent, key, path) for every field the
    schema does not declare and ("duplicate", None, key, path) for every repeat."""
    if schema is None:
        return
    if memo is None:
        memo = schemas.memo("fieldvalidation")
    hit = memo.get(id(schema))
    if hit is None or hit[0] is not schema:
        s = schemas.resolve(schema)
        items = s.get("items")
        hit = memo[id(schema)] = (schema, (_is_free_form(s), s.get("properties") or {}, s.get("additionalProperties"),
                                           items if isinstance(items, dict) else None))
    free, props, extra, items = hit[1]
    if isinstance(obj, dict):
        if free:
            _walk_duplicates(obj, prefix, found, sequences)
            return
        entry = sequences.get(id(obj)) if sequences else None
        keys = entry[1] if entry is not None and entry[0] is obj else obj.keys()
        seen: set[str] = set()
        for key in keys:
            path = _join(prefix, key)
            if key in seen:
                found.append(("duplicate", None, key, path))
                continue
            seen.add(key)
            value = obj[key]
            if key in props:
                _walk(value, props[key], path, found, sequences, memo)
            elif isinstance(extra, dict):
                _walk(value, extra, path, found, sequences, memo)
            elif extra is True:
                continue
            else:
                found.append(("unknown", obj, key, path))
    elif isinstance(obj, list):
        if items is not None:
            for i, value in enumerate(obj):
                _walk(value, items, f"{prefix}[{i}]", found, sequences, memo)


def _walk_duplicates(obj: Any, prefix: str, found: list, sequences: KeySequences | None) -> None:
    """Repeats inside content no schema describes: still refused (upstream's decoder sees them)."""
    if not sequences:
        return
    if isinstance(obj, dict):
        entry = sequences.get(id(obj))
        if entry is not None and entry[0] is obj:
            found.extend(("duplicate", None, key, _join(prefix, key)) for key in _repeated(entry[1]))
        for key, value in obj.items():
            _walk_duplicates(value, _join(prefix, key), found, sequences)
    elif isinstance(obj, list):
        for i, value in enumerate(obj):
            _walk_duplicates(value, f"{prefix}[{i}]", found, sequences)


def unknown_fields(obj: Any, schema: dict) -> list[str]:
    """Paths of the fields in obj that the schema does not know, in document order."""
    found: list = []
    _walk(obj, schema, "", found)
    return [path for what, _, _, path in found if what == "unknown"]


def drop_unknown(obj: Any, schema: dict) -> list[str]:
    """Remove unknown fields from obj in place; return their paths."""
    found: list = []
    _walk(obj, schema, "", found)
    for what, parent, key, _ in found:
        if what == "unknown":
            parent.pop(key, None)
    return [path for what, _, _, path in found if what == "unknown"]


def ordered_problems(obj: Any, duplicates: list[str], schema: dict) -> list[str]:
    """Every problem text in document order when the decoder kept the key order,
    else repeats first (those of a patch body), then unknown fields."""
    sequences = getattr(duplicates, "sequences", None)
    if not sequences:
        return problems(duplicates, unknown_fields(obj, schema))
    found: list = []
    _walk(obj, schema, "", found, sequences)
    return [f'{what} field "{path}"' for what, _, _, path in found]


# ---- what a round trip through the typed objects leaves out --------------------------

# ObjectMeta's optional maps and lists: all `omitempty` upstream. Elsewhere not every
# optional list is (EndpointSlice.ports is not), and a controller that writes `[]`
# must read `[]` back, so only metadata is normalized.
_OMITEMPTY_METADATA = ("annotations", "labels", "finalizers", "ownerReferences", "managedFields")


def drop_empty_metadata(obj: Any) -> None:
    """Remove empty metadata maps and lists, in place.

    Upstream decodes into typed objects and encodes them back, so `annotations: {}`
    sent by a client (kubectl's diff and apply patches send it) does not survive.
    """
    meta = obj.get("metadata") if isinstance(obj, dict) else None
    if not isinstance(meta, dict):
        return
    for key in _OMITEMPTY_METADATA:
        value = meta.get(key)
        if isinstance(value, (dict, list)) and not value:
            del meta[key]


# ---- the directive applied --------------------------------------------------------

def problems(duplicates: list[str], unknown: list[str]) -> list[str]:
    """Upstream's strict error texts: `duplicate field "x"`, `unknown field "y"`."""
    return [f'duplicate field "{p}"' for p in duplicates] + [f'unknown field "{p}"' for p in unknown]


def strict_error(kind: str, version: str, texts: list[str]) -> errors.StatusError:
    return errors.bad_request(
        f'{kind} in version "{version}" cannot be handled as a {kind}: strict decoding error: ' + ", ".join(texts))


def enforce(obj: Any, duplicates: list[str], schema: dict, how: str, *, kind: str, version: str) -> list[str]:
    """Apply a validation directive to a decoded body.

    Strict: raise 400 listing every problem. Warn: drop unknown fields and return
    the warning texts for the response's Warning headers. Ignore: drop them
    silently. Duplicates were already resolved (last value wins) by decoding.
    """
    bad_type = typecheck.first_type_error(obj, schema, kind)   # undecodable whatever the directive
    if bad_type:
        raise errors.bad_request(f'{kind} in version "{version}" cannot be handled as a {kind}: {bad_type}')
    drop_empty_metadata(obj)
    bad_time = timestamps.first_bad_time(obj, schema)   # undecodable whatever the directive
    if bad_time:
        raise errors.bad_request(f'{kind} in version "{version}" cannot be handled as a {kind}: {bad_time}')
    if how == IGNORE:
        drop_unknown(obj, schema)
        return []
    texts = ordered_problems(obj, duplicates, schema)
    if not texts:
        return []
    if how == STRICT:
        raise strict_error(kind, version, texts)
    drop_unknown(obj, schema)
    return texts


def enforce_patched(obj: Any, patch_duplicates: list[str], schema: dict, how: str) -> list[str]:
    """The directive applied to the result of a JSON, merge or strategic merge patch.

    Upstream decodes the patched object strictly; its error carries no kind prefix:
      strict decoding error: unknown field "spec.foo"
    """
    bad_type = typecheck.first_type_error(obj, schema)
    if bad_type:
        raise errors.bad_request(bad_type)
    drop_empty_metadata(obj)
    bad_time = timestamps.first_bad_time(obj, schema)
    if bad_time:
        raise errors.bad_request(bad_time)
    if how == IGNORE:
        drop_unknown(obj, schema)
        return []
    texts = problems(patch_duplicates, unknown_fields(obj, schema))
    if not texts:
        return []
    if how == STRICT:
        raise errors.bad_request("strict decoding error: " + ", ".join(texts))
    drop_unknown(obj, schema)
    return texts


def warning_header(text: str) -> str:
    """One `Warning` header value (RFC 7234 code 299, as kube-apiserver sends)."""
    return '299 - "' + text.replace("\\", "\\\\").replace('"', '\\"') + '"'
