"""JSON and YAML request bodies decoded within bounds, into plain JSON values.

A body is at most 3 MiB, but its decoded form need not be small or shallow:
  - YAML aliases can name a subtree many times ("billion laughs"): 500 bytes
    expand to 10^9 nodes. Composition counts nodes as they would be expanded and
    refuses excessive aliasing by the rule go-yaml (upstream's YAML reader)
    applies; aliases are then constructed as copies, as upstream's YAML -> JSON
    conversion makes them, so nothing downstream sees shared objects.
  - Nesting: everything after decoding (field validation, patches, managed
    fields, deep copies) recurses, so bodies deeper than MAX_DEPTH are refused
    here. Composition is iterative, and JSON's C decoder stops at the
    interpreter's recursion limit; neither ever raises RecursionError upward.
  - Values JSON cannot carry: NaN and infinities (literal or overflowing),
    integers past int64, YAML timestamps (kept as the strings they were),
    binary and non-string keys (keys become strings, as upstream converts them).
  - JSON escapes of lone UTF-16 surrogates decode to U+FFFD, as Go's decoder does,
    so the object (and any error naming it) can be encoded as UTF-8.

Every refusal is a DecodeError whose text says what was wrong.
"""
from __future__ import annotations

import base64
import json
import math
import re
from typing import Any

import yaml
from yaml.nodes import MappingNode, ScalarNode, SequenceNode

# Deeper than any real object (a CRD's schema is the deepest, a few dozen levels):
# recursion downstream stays well inside Python's limit.
MAX_DEPTH = 100
INT64_MIN, INT64_MAX = -(1 << 63), (1 << 63) - 1

# id(dict) -> (the dict, its keys in document order, repeats included); holding the
# dict keeps its id from being reused while the sequences are in use.
KeySequences = dict[int, tuple[dict, list[str]]]


class DecodeError(ValueError):
    """A body that cannot become a JSON value within the bounds; str() says why."""


def _too_deep() -> DecodeError:
    return DecodeError(f"exceeded max depth of {MAX_DEPTH}")


# ---- JSON -------------------------------------------------------------------------

def _no_constant(name: str):
    # Go's decoder knows no NaN/Infinity literals
    raise DecodeError(f"invalid character '{name[0] if name[0] != '-' else name[1]}' looking for beginning of value")


def _finite(text: str) -> float:
    value = float(text)
    if math.isinf(value):
        raise DecodeError(f"cannot unmarshal number {text} into Go value of type float64")
    return value


def _int64(text: str) -> int:
    value = int(text)
    if not INT64_MIN <= value <= INT64_MAX:
        raise DecodeError(f"cannot unmarshal number {text} into Go value of type int64")
    return value


# an escaped surrogate, or one encoded directly (json decodes bytes with surrogatepass)
_SURROGATE_ESCAPE = re.compile(rb"\\u[dD][89a-fA-F]|\xed[\xa0-\xbf]")
_SURROGATE = re.compile("[\ud800-\udfff]")


def decode_json(body: bytes) -> tuple[Any, KeySequences]:
    """(value, key sequences of the objects that repeat a key)."""
    dups: KeySequences = {}

    def pairs(items):
        d: dict = {}
        repeated = False
        for k, v in items:
            repeated = repeated or k in d
            d[k] = v  # the last one wins, as in upstream's decoder
        if repeated:
            dups[id(d)] = (d, [k for k, _ in items])
        return d

    try:
        obj = json.loads(body, object_pairs_hook=pairs, parse_constant=_no_constant, parse_float=_finite,
                         parse_int=_int64)
    except RecursionError:
        raise _too_deep() from None
    except UnicodeDecodeError as e:
        raise DecodeError(f"invalid UTF-8 in the body: {e.reason}") from None
    fix = _SURROGATE_ESCAPE.search(body) is not None
    obj = _check_depth(obj, fix)
    if fix:
        dups = {id(d): (d, [_SURROGATE.sub("\ufffd", k) for k in keys]) for d, keys in dups.values()}
    return obj, dups


def _check_depth(obj: Any, fix_surrogates: bool) -> Any:
    """Refuse values nested deeper than MAX_DEPTH (iteratively); optionally replace lone
    surrogates in strings and keys with U+FFFD, in place."""
    fix = (lambda s: _SURROGATE.sub("\ufffd", s)) if fix_surrogates else None
    if fix and isinstance(obj, str):
        return fix(obj)
    stack = [(obj, 1)]
    while stack:
        node, depth = stack.pop()
        if depth > MAX_DEPTH:
            raise _too_deep()
        if isinstance(node, dict):
            if fix and any(_SURROGATE.search(k) for k in node):
                items = list(node.items())
                node.clear()
                node.update((fix(k), v) for k, v in items)
            for k, v in node.items():
                if isinstance(v, (dict, list)):
                    stack.append((v, depth + 1))
                elif fix and isinstance(v, str):
                    node[k] = fix(v)
        elif isinstance(node, list):
            for i, v in enumerate(node):
                if isinstance(v, (dict, list)):
                    stack.append((v, depth + 1))
                elif fix and isinstance(v, str):
                    node[i] = fix(v)
    return obj


# ---- YAML -------------------------------------------------------------------------

def _allowed_alias_ratio(decoded: int) -> float:
    """go-yaml's rule: small documents may be mostly aliases, large ones barely."""
    low, high = 400_000, 4_000_000
    if decoded <= low:
        return 0.99
    if decoded >= high:
        return 0.10
    return 0.99 - 0.89 * (decoded - low) / (high - low)


# Not upstream's: no real manifest expands 100k nodes from aliases; go-yaml's ratio
# alone would let a document grow to about 4 million.
MAX_ALIASED = 100_000

_Base = getattr(yaml, "CSafeLoader", yaml.SafeLoader)   # libyaml's parser when present: fast


class JSONLoader(_Base):
    """A YAML reader whose result is a JSON value (see the module text); remembers the
    key order of mappings that repeat a key, and the lines of the repeats."""

    def __init__(self, stream):
        super().__init__(stream)
        self.dups: KeySequences = {}
        self.lines: list[tuple[int, str]] = []  # (1-based line, key) of every repeated key

    # -- composition (libyaml's) and its bounds --
    def compose_bounded(self):
        """The document's node graph, after checking depth and alias expansion on it."""
        root = self.get_single_node()
        if root is not None:
            _check_graph(root)
        return root

    # -- construction: no shared objects, JSON values only --
    def construct_object(self, node, deep=False):
        obj = super().construct_object(node, deep=True)
        self.constructed_objects.pop(node, None)   # an alias gets its own copy
        return obj

    def construct_mapping(self, node, deep=True):
        if not isinstance(node, MappingNode):
            raise yaml.constructor.ConstructorError(None, None, f"expected a mapping node, but found {node.id}",
                                                    node.start_mark)
        self.flatten_mapping(node)
        mapping: dict = {}
        keys: list[str] = []
        for key_node, value_node in node.value:
            key = _json_key(self.construct_object(key_node), key_node)
            if key in mapping:
                self.lines.append((key_node.start_mark.line + 1, key))
            keys.append(key)
            mapping[key] = self.construct_object(value_node)
        if len(mapping) != len(keys):
            self.dups[id(mapping)] = (mapping, keys)
        return mapping

    def construct_finite_float(self, node):
        value = self.construct_yaml_float(node)
        if math.isnan(value) or math.isinf(value):
            raise DecodeError(f"json: unsupported value: {'NaN' if math.isnan(value) else ('+Inf' if value > 0 else '-Inf')}")
        return value

    def construct_int64(self, node):
        value = self.construct_yaml_int(node)
        if not INT64_MIN <= value <= INT64_MAX:
            raise DecodeError(f"cannot unmarshal number {node.value} into Go value of type int64")
        return value

    def construct_text_binary(self, node):
        try:
            return base64.b64decode(self.construct_scalar(node)).decode("utf-8")
        except (ValueError, UnicodeDecodeError):
            raise DecodeError("a !!binary value is not valid base64 of UTF-8 text") from None

    def construct_unsupported(self, node):
        raise DecodeError(f"the YAML tag {node.tag} has no JSON form")


def _children(node) -> list:
    if isinstance(node, SequenceNode):
        return node.value
    if isinstance(node, MappingNode):
        return [x for pair in node.value for x in pair]
    return []


def _check_graph(root) -> None:
    """Refuse a composed document nested past MAX_DEPTH once aliases are expanded, whose
    aliases refer to themselves, or whose aliases expand too much.

    The composer shares one node among its anchor and all aliases to it: the first
    reference in document order is the anchor, every later one an alias. Sizes and
    depths are computed once per node, so the cost is that of the text, not of its
    expansion.
    """
    size: dict[int, int] = {}
    depth: dict[int, int] = {}
    aliased = 0
    seen: set[int] = set()
    stack: list = [(root, False)]
    while stack:
        node, children_done = stack.pop()
        key = id(node)
        if children_done:
            kids = _children(node)
            size[key] = 1 + sum(size[id(c)] for c in kids)
            depth[key] = 0 if isinstance(node, ScalarNode) else 1 + max((depth[id(c)] for c in kids), default=0)
            if depth[key] > MAX_DEPTH:
                raise _too_deep()
            continue
        if key in seen:
            if key not in size:
                raise DecodeError(f"anchor value contains itself (line {node.start_mark.line + 1})")
            aliased += size[key]
            continue
        seen.add(key)
        stack.append((node, True))
        stack.extend((c, False) for c in reversed(_children(node)))
    decoded = size[id(root)]
    if aliased > MAX_ALIASED or (aliased > 100 and decoded > 1000
                                 and aliased / decoded > _allowed_alias_ratio(decoded)):
        raise DecodeError("yaml: document contains excessive aliasing")


def _json_key(key: Any, node) -> str:
    if isinstance(key, str):
        return key
    if isinstance(key, bool):
        return "true" if key else "false"
    if key is None:
        return "null"
    if isinstance(key, (int, float)):
        return str(key)
    raise DecodeError(f"line {node.start_mark.line + 1}: a mapping key must be a string, number or boolean")


JSONLoader.add_constructor("tag:yaml.org,2002:map", lambda loader, node: loader.construct_mapping(node))
JSONLoader.add_constructor("tag:yaml.org,2002:float", JSONLoader.construct_finite_float)
JSONLoader.add_constructor("tag:yaml.org,2002:int", JSONLoader.construct_int64)
JSONLoader.add_constructor("tag:yaml.org,2002:timestamp", yaml.SafeLoader.construct_scalar)
JSONLoader.add_constructor("tag:yaml.org,2002:binary", JSONLoader.construct_text_binary)
for _tag in ("omap", "pairs", "set"):
    JSONLoader.add_constructor(f"tag:yaml.org,2002:{_tag}", JSONLoader.construct_unsupported)


def decode_yaml(body: bytes) -> tuple[Any, KeySequences, list[tuple[int, str]]]:
    """(value, key sequences of mappings that repeat a key, (line, key) of each repeat)."""
    loader = JSONLoader(body)
    try:
        node = loader.compose_bounded()
        obj = None if node is None else loader.construct_document(node)
    except RecursionError:   # not expected below MAX_DEPTH; still a refusal, not a crash
        raise _too_deep() from None
    finally:
        loader.dispose()
    return obj, loader.dups, loader.lines
