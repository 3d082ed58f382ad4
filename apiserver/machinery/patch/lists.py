"""Merging lists whose patch strategy is `merge`, and the order of the result.

Lists of maps are keyed by their merge key (containers by `name`, ports by
`containerPort`): a patch item updates the live item with the same key or is
appended. Lists of primitives merge as ordered sets. The result is ordered as
upstream orders it: items named in the patch follow the patch's order, items
only the server had keep their place relative to their live neighbours.
"""
from __future__ import annotations

from typing import Callable

from apiserver.machinery.patch.directives import clean
from apiserver.machinery.patch.errors import NO_LIST_OF_LISTS, PatchError, go_value

MergeMap = Callable[[dict, dict, "dict | None"], dict]


def merge_list(original: list, patch: list, item_schema: dict | None, merge_key: str,
               merge_map: MergeMap) -> list:
    if not original and not patch:
        return list(original)
    maps = _element_kind(original, patch)
    if not maps:
        merged = _dedupe(original + patch)
    else:
        if not merge_key:
            raise PatchError("cannot merge lists without merge key", 422)
        original, patch = _apply_special_items(original, patch, merge_key)
        merged = _merge_keyed(list(original), patch, merge_key, item_schema, merge_map)
    return order_like(merged, patch, original, merge_key if maps else "")


def _element_kind(original: list, patch: list) -> bool:
    """True for a list of maps, False for primitives; refuse lists of lists and mixtures."""
    kinds = set()
    for item in (*original, *patch):
        if isinstance(item, list):
            raise PatchError(NO_LIST_OF_LISTS, 422)
        if item is not None:
            kinds.add(isinstance(item, dict))
    if len(kinds) > 1:
        raise PatchError("list elements of mismatched types: maps and primitives", 422)
    return kinds == {True}


def _dedupe(items: list) -> list:
    out: list = []
    for item in items:
        if item not in out:
            out.append(item)
    return out


def _missing_merge_key(item: dict, merge_key: str) -> PatchError:
    return PatchError(f"map: {go_value(item)} does not contain declared merge key: {merge_key}", 422)


def _apply_special_items(original: list, patch: list, merge_key: str) -> tuple[list, list]:
    """Handle `$patch` list items: delete by key, or replace the whole list."""
    plain: list = []
    replace = False
    for item in patch:
        directive = item.get("$patch") if isinstance(item, dict) else None
        if directive is None:
            plain.append(item)
        elif directive == "delete":
            if merge_key not in item:
                raise _missing_merge_key(item, merge_key)
            original = [o for o in original if not (isinstance(o, dict) and o.get(merge_key) == item[merge_key])]
        elif directive == "replace":
            replace = True  # keep scanning: other `$patch` items must still be dropped
        elif directive == "merge":
            raise PatchError("merging lists cannot yet be specified in the patch", 422)
        else:
            raise PatchError(f"unknown patch type: {go_value(directive)} in map: {go_value(item)}", 422)
    if replace:
        return [clean(i) for i in plain], []
    return original, plain


def _merge_keyed(original: list, patch: list, merge_key: str, item_schema: dict | None,
                 merge_map: MergeMap) -> list:
    for item in patch:
        if merge_key not in item:
            raise _missing_merge_key(item, merge_key)
        for i, live in enumerate(original):
            if isinstance(live, dict) and live.get(merge_key) == item[merge_key]:
                original[i] = merge_map(live, item, item_schema)
                break
        else:
            original.append(merge_map({}, item, item_schema))
    return original


def _index(items: list, item, merge_key: str) -> int:
    if merge_key:
        want = item.get(merge_key) if isinstance(item, dict) else None
        for i, x in enumerate(items):
            if isinstance(x, dict) and merge_key in x and x[merge_key] == want:
                return i
        return -1
    for i, x in enumerate(items):
        if x == item:
            return i
    return -1


def _sorted_by(items: list, order: list, merge_key: str) -> list:
    """Stable sort by position in `order`; items not in it go last, in their own order."""
    def position(item):
        i = _index(order, item, merge_key)
        return i if i >= 0 else len(order)
    return sorted(items, key=position)


def order_like(merged: list, patch_order: list, server_order: list, merge_key: str) -> list:
    """Patch items in the patch's order, server-only items woven in by their live position."""
    if merge_key:
        for item in patch_order:
            if not isinstance(item, dict) or merge_key not in item:
                raise _missing_merge_key(item if isinstance(item, dict) else {}, merge_key)
    from_patch = [m for m in merged if _index(patch_order, m, merge_key) >= 0]
    server_only = [m for m in merged if _index(patch_order, m, merge_key) < 0]
    from_patch = _sorted_by(from_patch, patch_order, merge_key)
    server_only = _sorted_by(server_only, server_order, merge_key)
    return _weave(server_only, from_patch, server_order, merge_key)


def _weave(left: list, right: list, server_order: list, merge_key: str) -> list:
    """Merge two sorted lists; a left item goes first only if both are live and it was earlier."""
    out: list = []
    i = j = 0
    while i < len(left) or j < len(right):
        if i >= len(left):
            out.append(right[j])
            j += 1
        elif j >= len(right):
            out.append(left[i])
            i += 1
        else:
            li = _index(server_order, left[i], merge_key)
            ri = _index(server_order, right[j], merge_key)
            if li >= 0 and ri >= 0 and li < ri:
                out.append(left[i])
                i += 1
            else:
                out.append(right[j])
                j += 1
    return out
