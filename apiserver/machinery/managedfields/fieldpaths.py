"""Field paths and FieldsV1, the trie kube-apiserver stores in managedFields.

A path is a tuple of path elements, each kept in its FieldsV1 spelling so sets
compare and serialize without translation:
  `f:<name>`    a struct field or map key
  `k:<json>`    an item of an associative list, by its key fields (sorted, compact JSON)
  `v:<json>`    an item of a set list, by its value
  `i:<index>`   an item of a list addressed by position (not used by v1 schemas)
A field set is a plain Python set of such tuples. In FieldsV1 a node that is a
member itself (and also has children) carries a `.` key.
"""
from __future__ import annotations

import json
from functools import lru_cache
from typing import Any, Iterable

Path = tuple[str, ...]


def _compact(value: Any) -> str:
    return json.dumps(value, separators=(",", ":"), sort_keys=True, ensure_ascii=False)


def field(name: str) -> str:
    return "f:" + name


def key(fields: dict[str, Any]) -> str:
    return "k:" + _compact(fields)


def value(v: Any) -> str:
    return "v:" + _compact(v)


def index(i: int) -> str:
    return f"i:{i}"


# ---- FieldsV1 -------------------------------------------------------------------

def to_fields_v1(paths: Iterable[Path]) -> dict:
    """A set of paths as the FieldsV1 trie."""
    root: dict = {}
    members: set[Path] = set()
    for path in paths:
        node = root
        for pe in path:
            node = node.setdefault(pe, {})
        members.add(path)
    return _finish(root, (), members)


def _finish(node: dict, path: Path, members: set[Path]) -> dict:
    out: dict = {}
    if node and path in members:
        out["."] = {}
    for pe in sorted(node):
        out[pe] = _finish(node[pe], path + (pe,), members)
    return out


def from_fields_v1(trie: dict | None) -> set[Path]:
    """The FieldsV1 trie back as a set of paths."""
    out: set[Path] = set()

    def walk(node: dict, path: Path) -> None:
        for pe, child in node.items():
            if pe == ".":
                out.add(path)
            elif not child:
                out.add(path + (pe,))
            elif isinstance(child, dict):
                walk(child, path + (pe,))

    if isinstance(trie, dict):
        walk(trie, ())
    return out


# ---- display, as in conflict messages: .spec.containers[name="c"].image -----------

def _show_scalar(v: Any) -> str:
    return json.dumps(v, separators=(",", ":"), ensure_ascii=False)


def element_string(pe: str) -> str:
    tag, _, rest = pe.partition(":")
    if tag == "f":
        return "." + rest
    if tag == "k":
        fields = json.loads(rest)
        return "[" + ",".join(f"{k}={_show_scalar(v)}" for k, v in sorted(fields.items())) + "]"
    if tag == "v":
        return "[=" + _show_scalar(json.loads(rest)) + "]"
    if tag == "i":
        return f"[{rest}]"
    return pe


def path_string(path: Path) -> str:
    return "".join(element_string(pe) for pe in path)


# ---- set helpers ------------------------------------------------------------------

def has_prefix(path: Path, prefix: Path) -> bool:
    return path[: len(prefix)] == prefix


def without_prefixes(paths: set[Path], prefixes: Iterable[Path]) -> set[Path]:
    """Drop every path at or under any of the prefixes."""
    prefixes = tuple(prefixes)
    if not prefixes:
        return set(paths)
    # Every write filters a few dozen paths by a dozen prefixes: with the prefixes
    # grouped by length, each path costs one set lookup per distinct length.
    groups = _by_length(prefixes)
    if len(groups) == 1:
        ((n, heads),) = groups
        return {p for p in paths if p[:n] not in heads}
    if len(groups) == 2:
        (n1, heads1), (n2, heads2) = groups
        return {p for p in paths if p[:n1] not in heads1 and p[:n2] not in heads2}
    return {p for p in paths if not any(p[:n] in heads for n, heads in groups)}


@lru_cache(maxsize=256)
def _by_length(prefixes: tuple[Path, ...]) -> tuple[tuple[int, frozenset[Path]], ...]:
    by_length: dict[int, set[Path]] = {}
    for x in prefixes:
        by_length.setdefault(len(x), set()).add(x)
    return tuple((n, frozenset(heads)) for n, heads in sorted(by_length.items()))
