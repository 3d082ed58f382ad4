"""Objects seen through their schema, as server-side apply sees them.

The upstream schemas say how each part of an object merges and is owned:
structs and maps are granular (each key on its own) unless
`x-kubernetes-map-type: atomic`; lists are `atomic` unless
`x-kubernetes-list-type` says `map` (items keyed by `x-kubernetes-list-map-keys`)
or `set` (items are their own values). Everything here is pure.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from apiserver.machinery import schemas

from . import fieldpaths as fp
from .fieldpaths import Path

STRUCT, MAP, LIST_MAP, LIST_SET, ATOMIC = "struct", "map", "list-map", "list-set", "atomic"

# Key fields upstream defaults before keying list items (a container port
# without a protocol is the same port as the one with "TCP").
KEY_DEFAULTS = {"protocol": "TCP"}


@dataclass(frozen=True, slots=True)
class Shape:
    kind: str
    schema: dict
    keys: tuple[str, ...] = ()
    # read once from the schema: child() runs for every field of every write
    props: dict = field(init=False, repr=False, compare=False)
    extra: dict | None = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        extra = self.schema.get("additionalProperties")
        object.__setattr__(self, "props", self.schema.get("properties") or {})
        object.__setattr__(self, "extra", extra if isinstance(extra, dict) else None)

    def child(self, name: str) -> dict | None:
        """Schema of a struct field or map value; None when the schema does not declare it."""
        return self.props.get(name, self.extra)

    def item(self) -> dict | None:
        items = self.schema.get("items")
        return items if isinstance(items, dict) else None


_shapes: dict[int, tuple[dict, Shape]] = {}


def shape(schema: dict | None) -> Shape:
    """How a schema node merges. Unknown (None) schemas merge atomically."""
    if schema is None:
        return Shape(ATOMIC, {})
    hit = _shapes.get(id(schema))
    if hit is not None and hit[0] is schema:
        return hit[1]
    s = _shape(schema)
    _shapes[id(schema)] = (schema, s)
    return s


def _shape(schema: dict) -> Shape:
    outer = schema
    s = schemas.resolve(schema)
    types = schemas.types_of(s)
    # extensions may sit on the referring property as well as on the definition
    def ext(name):
        return outer.get(name, s.get(name))
    if "array" in types:
        list_type = ext("x-kubernetes-list-type") or "atomic"
        if list_type == "map":
            return Shape(LIST_MAP, s, tuple(ext("x-kubernetes-list-map-keys") or ()))
        if list_type == "set":
            return Shape(LIST_SET, s)
        return Shape(ATOMIC, s)
    if "object" in types:
        if ext("x-kubernetes-map-type") == "atomic" or s.get("x-kubernetes-preserve-unknown-fields"):
            return Shape(ATOMIC, s)
        if "properties" in s:
            return Shape(STRUCT, s)
        if isinstance(s.get("additionalProperties"), dict):
            return Shape(MAP, s)
        return Shape(ATOMIC, s)  # free-form (RawExtension, FieldsV1)
    return Shape(ATOMIC, s)


def item_element(sh: Shape, item: Any) -> str:
    """The path element naming one item of an associative or set list."""
    if sh.kind == LIST_MAP and isinstance(item, dict):
        fields = {}
        for k in sh.keys:
            if k in item and item[k] is not None:
                fields[k] = item[k]
            elif k in KEY_DEFAULTS:
                fields[k] = KEY_DEFAULTS[k]
        return fp.key(fields)
    return fp.value(item)


def _is_map_like(sh: Shape) -> bool:
    return sh.kind in (STRUCT, MAP)


# ---- the fields an object sets ------------------------------------------------------

def fieldset(value: Any, schema: dict | None, path: Path = (), out: set[Path] | None = None,
             unknown: list[Path] | None = None, duplicates: list[tuple[Path, str]] | None = None) -> set[Path]:
    """The paths a value sets (what an applier comes to own).

    Leaves, atomic values and empty containers are members; list items are
    members as well as their fields; granular structs and maps are not members
    themselves. Fields the schema does not declare go to `unknown`, and keyed
    list items given twice to `duplicates` (list path, item), when those are given.
    """
    if out is None:
        out = set()
    sh = shape(schema)
    if value is None or sh.kind == ATOMIC:
        if path:
            out.add(path)
        return out
    if (sh.kind == STRUCT or sh.kind == MAP) and isinstance(value, dict):
        if not value and path:
            out.add(path)
        props, extra = sh.props, sh.extra
        for k, v in value.items():
            child = props.get(k, extra)
            if child is None and unknown is not None:
                unknown.append(path + ("f:" + k,))
                continue
            fieldset(v, child, path + ("f:" + k,), out, unknown, duplicates)
        return out
    if sh.kind in (LIST_MAP, LIST_SET) and isinstance(value, list):
        if not value and path:
            out.add(path)
        seen: set[str] = set()
        for item in value:
            pe = item_element(sh, item)
            p = path + (pe,)
            if pe in seen and duplicates is not None:
                duplicates.append((path, pe))
            seen.add(pe)
            out.add(p)
            if sh.kind == LIST_MAP:
                fieldset(item, sh.item(), p, out, unknown, duplicates)
        return out
    if path:
        out.add(path)  # a value whose type the schema does not expect: owned whole
    return out


# ---- what changed between two versions -----------------------------------------------

_MISSING = object()


def compare(old: Any, new: Any, schema: dict | None, path: Path = ()) -> tuple[set[Path], set[Path]]:
    """(added or modified paths, removed paths) going from old to new."""
    changed: set[Path] = set()
    removed: set[Path] = set()
    _compare(old, new, schema, path, changed, removed)
    return changed, removed


def _added(new: Any, schema: dict | None, path: Path, changed: set[Path]) -> None:
    sh = shape(schema)
    fieldset(new, schema, path, changed)
    if path and sh.kind == MAP:
        changed.add(path)  # a new map is owned as a whole too (its `.`), as upstream records


def _compare(old, new, schema, path, changed, removed) -> None:
    if old is _MISSING and new is _MISSING:
        return
    if old is _MISSING:
        _added(new, schema, path, changed)
        return
    if new is _MISSING:
        removed.update(fieldset(old, schema, path))
        if path:
            removed.add(path)
        return
    sh = shape(schema)
    if (sh.kind == STRUCT or sh.kind == MAP) and isinstance(old, dict) and isinstance(new, dict):
        if not new and old and path:
            changed.add(path)
        props, extra = sh.props, sh.extra
        for k in list(old.keys()) + [k for k in new if k not in old]:
            _compare(old.get(k, _MISSING), new.get(k, _MISSING), props.get(k, extra), path + ("f:" + k,),
                     changed, removed)
        return
    if sh.kind in (LIST_MAP, LIST_SET) and isinstance(old, list) and isinstance(new, list):
        before = {item_element(sh, i): i for i in old}
        after = {item_element(sh, i): i for i in new}
        for pe, item in after.items():
            p = path + (pe,)
            if pe in before:
                if sh.kind == LIST_MAP:
                    _compare(before[pe], item, sh.item(), p, changed, removed)
            else:
                changed.add(p)
                if sh.kind == LIST_MAP:
                    fieldset(item, sh.item(), p, changed)
        for pe, item in before.items():
            if pe not in after:
                p = path + (pe,)
                removed.add(p)
                if sh.kind == LIST_MAP:
                    removed.update(fieldset(item, sh.item(), p))
        if not new and old and path:
            changed.add(path)
        return
    if old != new and path:
        changed.add(path)


# ---- merging an applied configuration into the live object ---------------------------

def merge(live: Any, config: Any, schema: dict | None) -> Any:
    """Structured merge: the config wins field by field, keyed lists merge by key, sets union."""
    if live is None:
        return config
    sh = shape(schema)
    if _is_map_like(sh) and isinstance(live, dict) and isinstance(config, dict):
        out = dict(live)
        for k, v in config.items():
            if v is None:
                out.pop(k, None)
            else:
                out[k] = merge(live.get(k), v, sh.child(k))
        return out
    if sh.kind in (LIST_MAP, LIST_SET) and isinstance(live, list) and isinstance(config, list):
        out = list(live)
        where = {item_element(sh, item): i for i, item in enumerate(out)}
        for item in config:
            pe = item_element(sh, item)
            if pe in where:
                if sh.kind == LIST_MAP:
                    out[where[pe]] = merge(out[where[pe]], item, sh.item())
            else:
                where[pe] = len(out)
                out.append(item)
        return out
    return config


# ---- removing owned paths --------------------------------------------------------------

_ABSENT = object()


def _find(obj: Any, path: Path, schema: dict | None, drop: bool) -> Any:
    """The value at path (or _ABSENT); with drop, remove it from its parent."""
    node, sh = obj, shape(schema)
    for depth, pe in enumerate(path):
        last = depth == len(path) - 1
        if pe.startswith("f:") and isinstance(node, dict):
            name = pe[2:]
            if name not in node:
                return _ABSENT
            if last and drop:
                return node.pop(name)
            node, sh = node[name], shape(sh.child(name))
        elif pe[:2] in ("k:", "v:") and isinstance(node, list):
            for i, item in enumerate(node):
                if item_element(sh, item) == pe:
                    break
            else:
                return _ABSENT
            if last and drop:
                return node.pop(i)
            node, sh = node[i], shape(sh.item())
        else:
            return _ABSENT
    return node


def remove(obj: Any, path: Path, schema: dict | None) -> None:
    """Remove the field or item at path from obj in place (no-op when absent)."""
    if path:
        _find(obj, path, schema, drop=True)


def is_empty_at(obj: Any, path: Path, schema: dict | None) -> bool:
    """Whether path holds an empty list or map."""
    value = _find(obj, path, schema, drop=False)
    return isinstance(value, (dict, list)) and not value
