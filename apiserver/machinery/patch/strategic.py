"""Strategic merge patch: JSON merge patch that knows which lists are keyed sets.

What steers it is the upstream schema of the kind: a field's
`x-kubernetes-patch-strategy` (`merge`, `replace`, `retainKeys`, `merge,retainKeys`)
and `x-kubernetes-patch-merge-key`. Without that metadata maps merge and lists
are replaced, as in a JSON merge patch.

Directives kubectl sends (three-way patches of client-side apply, `kubectl patch`):
- `$patch: replace|delete|merge` in a map, or as a list item (`{"name": x, "$patch": "delete"}`,
  `{"$patch": "replace"}`);
- `$retainKeys: [..]` in a map: clear every key not listed, then merge;
- `$setElementOrder/<list>: [..]`: the order the merged list must have;
- `$deleteFromPrimitiveList/<list>: [..]`: values to drop from a merged primitive list;
- `null` as a value deletes the key.
This follows upstream's apply order: `$patch`, then `$retainKeys`, then
`$setElementOrder` lists, then every other key.
"""
from __future__ import annotations

import copy

from apiserver.machinery import schemas
from apiserver.machinery.patch.errors import (
    BAD_JSON_DOC, BAD_PRIMITIVE_LIST, BAD_RETAIN_KEYS, BAD_SET_ELEMENT_ORDER,
    PatchError, go_value,
)
from apiserver.machinery.patch.directives import (
    DELETE_FROM_PRIMITIVE_LIST, PATCH, RETAIN_KEYS, SET_ELEMENT_ORDER, clean, is_directive,
)
from apiserver.machinery.patch.lists import merge_list, order_like

def strategic_merge_patch(doc: dict, patch, schema: dict | None) -> dict:
    """Apply `patch` to `doc` (neither is changed). `schema`: `schemas.for_kind(...)`, or None."""
    if not isinstance(patch, dict):
        raise PatchError(BAD_JSON_DOC, 400)
    return merge_map(copy.deepcopy(doc), copy.deepcopy(patch), schema)


class FieldMeta:
    """Patch metadata of one field of an object schema."""

    __slots__ = ("schema", "strategy", "merge_key")

    def __init__(self, parent: dict | None, key: str):
        raw = schemas.property_schema(parent, key) if parent else None
        self.schema = raw
        strategies: list[str] = []
        merge_key = None
        for s in (raw, schemas.resolve(raw) if raw else None):
            if s:
                strategies = strategies or [x for x in (s.get("x-kubernetes-patch-strategy") or "").split(",") if x]
                merge_key = merge_key or s.get("x-kubernetes-patch-merge-key")
        # `retainKeys` rides along with the real strategy ("merge,retainKeys"); it only
        # matters through the `$retainKeys` directive the client puts in the patch.
        others = [x for x in strategies if x != "retainKeys"]
        self.strategy = others[0] if others else ""
        self.merge_key = merge_key or ""

    @property
    def items(self) -> dict | None:
        return schemas.items_schema(self.schema) if self.schema else None


def merge_map(original: dict, patch: dict, schema: dict | None) -> dict:
    directive = patch.pop(PATCH, None)
    if directive is not None:
        if directive == "replace":
            return clean(patch)
        if directive == "delete":
            return {}
        # Upstream accepts no other directive in a map, not even "merge".
        patch[PATCH] = directive
        raise PatchError(f"unknown patch type: {go_value(directive)} in map: {go_value(patch)}", 422)

    if RETAIN_KEYS in patch:
        _retain_keys(original, patch)

    for key in [k for k in patch if k.startswith(SET_ELEMENT_ORDER)]:
        _set_element_order(original, patch, key, schema)

    for key, value in patch.items():
        delete_list = key.startswith(DELETE_FROM_PRIMITIVE_LIST)
        if delete_list:
            key = key[len(DELETE_FROM_PRIMITIVE_LIST):]
        elif is_directive(key):
            continue
        if value is None:
            original.pop(key, None)
            continue
        if delete_list:
            _delete_from_primitive_list(original, key, value)
            continue
        meta = FieldMeta(schema, key)
        current = original.get(key)
        if isinstance(value, dict):
            if not isinstance(current, dict):
                current = {}
            original[key] = clean(value) if meta.strategy == "replace" else merge_map(current, value, meta.schema)
        elif isinstance(value, list):
            if meta.strategy == "merge":
                if not isinstance(current, list):
                    current = []
                original[key] = merge_list(current, value, meta.items, meta.merge_key, merge_map)
            else:
                original[key] = clean(value)
        else:
            original[key] = value
    return original


def _retain_keys(original: dict, patch: dict) -> None:
    keep = patch.pop(RETAIN_KEYS)
    if not isinstance(keep, list) or not all(isinstance(k, str) for k in keep):
        raise PatchError(BAD_RETAIN_KEYS, 400)
    keep_set = set(keep)
    for k, v in patch.items():
        # Keys being set must be among those retained; keys being deleted (null) need not.
        if v is not None and not is_directive(k) and k not in keep_set:
            raise PatchError(BAD_RETAIN_KEYS, 400)  # upstream's choice of error for this case
    for k in list(original):
        if k not in keep_set:
            del original[k]


def _delete_from_primitive_list(original: dict, key: str, values) -> None:
    if not isinstance(values, list):
        raise PatchError(BAD_PRIMITIVE_LIST, 400)
    current = original.get(key)
    if current is None:
        return
    if not isinstance(current, list):
        raise PatchError(BAD_PRIMITIVE_LIST, 400)
    original[key] = [v for v in current if v not in values]


def _set_element_order(original: dict, patch: dict, directive_key: str, schema: dict | None) -> None:
    order = patch.pop(directive_key)
    key = directive_key[len(SET_ELEMENT_ORDER):]
    if not isinstance(order, list):
        raise PatchError(BAD_SET_ELEMENT_ORDER, 400)
    if key in patch and patch[key] is None:
        return  # the list is being deleted; nothing to order
    patch_list = patch.pop(key, None)
    if patch_list is None:
        patch_list = []
    current = original.get(key)
    if current is None:
        current = []
    if not isinstance(patch_list, list) or not isinstance(current, list):
        raise PatchError(BAD_SET_ELEMENT_ORDER, 400)
    meta = FieldMeta(schema, key)
    _check_patch_follows_order(patch_list, order, meta.merge_key)
    if meta.strategy == "merge":
        merged = merge_list(current, patch_list, meta.items, meta.merge_key, merge_map)
    else:
        merged = clean(patch_list)
    result = order_like(merged, order, current, meta.merge_key)
    if result or key in original:
        original[key] = result


def _check_patch_follows_order(patch_list: list, order: list, merge_key: str) -> None:
    """The patch list (deletions aside) must be a subsequence of the `$setElementOrder` list."""
    items = [i for i in patch_list if not (isinstance(i, dict) and PATCH in i)]
    at = 0
    for wanted in order:
        if at >= len(items):
            return
        if merge_key:
            if not isinstance(wanted, dict) or merge_key not in wanted:
                raise PatchError(f"map: {go_value(wanted)} does not contain declared merge key: {merge_key}", 422)
            if not isinstance(items[at], dict) or merge_key not in items[at]:
                raise PatchError(f"map: {go_value(items[at])} does not contain declared merge key: {merge_key}", 422)
            same = items[at][merge_key] == wanted[merge_key]
        else:
            same = items[at] == wanted
        if same:
            at += 1
    if at < len(items):
        raise PatchError(f"The order in patch list:\n{go_value(patch_list)}\n doesn't match $setElementOrder list:"
                         f"\n{go_value(order)}\n", 422)
