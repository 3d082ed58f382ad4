"""Bounded decoding of request bodies (machinery.decoding): every refusal is a DecodeError."""
from __future__ import annotations

import pytest
import yaml

from apiserver.machinery.decoding import MAX_DEPTH, DecodeError, decode_json, decode_yaml

BILLION_LAUGHS = b"""a: &a ["lol","lol","lol","lol","lol","lol","lol","lol","lol"]
b: &b [*a,*a,*a,*a,*a,*a,*a,*a,*a]
c: &c [*b,*b,*b,*b,*b,*b,*b,*b,*b]
d: &d [*c,*c,*c,*c,*c,*c,*c,*c,*c]
e: &e [*d,*d,*d,*d,*d,*d,*d,*d,*d]
f: &f [*e,*e,*e,*e,*e,*e,*e,*e,*e]
g: &g [*f,*f,*f,*f,*f,*f,*f,*f,*f]
h: &h [*g,*g,*g,*g,*g,*g,*g,*g,*g]
i: &i [*h,*h,*h,*h,*h,*h,*h,*h,*h]
"""


def nested_list(depth: int) -> bytes:
    return b"[" * depth + b"]" * depth


def test_alias_bomb_is_refused_without_expanding():
    with pytest.raises(DecodeError, match="excessive aliasing"):
        decode_yaml(BILLION_LAUGHS)


def test_a_few_aliases_are_copies_not_shared_objects():
    obj, _, _ = decode_yaml(b"a: &x {k: v}\nb: *x\nc: [*x, *x]\n")
    assert obj == {"a": {"k": "v"}, "b": {"k": "v"}, "c": [{"k": "v"}, {"k": "v"}]}
    assert obj["a"] is not obj["b"] and obj["c"][0] is not obj["c"][1]


def test_recursive_and_unknown_anchors_are_refused():
    with pytest.raises(DecodeError, match="contains itself"):
        decode_yaml(b"a: &x [*x]\n")
    with pytest.raises(Exception, match="undefined alias|unknown anchor"):
        decode_yaml(b"a: *nope\n")


@pytest.mark.parametrize("depth", [MAX_DEPTH + 1, 10_000, 1_000_000])
def test_too_deep_json_and_yaml_are_refused(depth):
    with pytest.raises(DecodeError, match=f"max depth of {MAX_DEPTH}"):
        decode_json(nested_list(depth))
    with pytest.raises(ValueError if depth < 1000 else Exception, match="max(imum nesting)? depth"):
        decode_yaml(nested_list(depth))   # past 1000 levels libyaml's own scanner refuses


def test_max_depth_itself_decodes():
    assert decode_json(nested_list(MAX_DEPTH))[0] is not None
    assert decode_yaml(nested_list(MAX_DEPTH))[0] is not None
    block = "".join(" " * i + "a:\n" for i in range(MAX_DEPTH - 1)) + " " * (MAX_DEPTH - 1) + "a: 1\n"
    assert decode_yaml(block.encode())[0]["a"]["a"]


@pytest.mark.parametrize("body", [b'{"a": NaN}', b'{"a": Infinity}', b'{"a": -Infinity}', b'{"a": 1e400}',
                                  b'{"a": 99999999999999999999}'])
def test_json_numbers_outside_float64_and_int64_are_refused(body):
    with pytest.raises(DecodeError):
        decode_json(body)


@pytest.mark.parametrize("body", [b"a: .nan", b"a: .inf", b"a: -.Inf", b"a: 99999999999999999999"])
def test_yaml_numbers_outside_float64_and_int64_are_refused(body):
    with pytest.raises(DecodeError):
        decode_yaml(body)


def test_yaml_values_become_json_values():
    obj, _, _ = decode_yaml(b"t: 2001-12-14\n1: one\ntrue: yes\nb: !!binary aGk=\n")
    assert obj == {"t": "2001-12-14", "1": "one", "true": True, "b": "hi"}
    with pytest.raises(DecodeError, match="mapping key"):
        decode_yaml(b"? [a]\n: v\n")
    with pytest.raises(DecodeError, match="no JSON form"):
        decode_yaml(b"a: !!set {x}\n")


def test_lone_surrogates_become_replacement_characters():
    obj, _ = decode_json(b'{"name": "a\\ud800b", "k\\udc00": ["\\ud83d\\ude00", "\\udfff"]}')
    assert obj == {"name": "a\ufffdb", "k\ufffd": ["\U0001F600", "\ufffd"]}


def test_duplicate_keys_are_remembered_in_document_order():
    obj, dups = decode_json(b'{"a": 1, "b": 2, "a": 3}')
    assert obj == {"a": 3, "b": 2} and [keys for _, keys in dups.values()] == [["a", "b", "a"]]
    obj, dups, lines = decode_yaml(b"a: 1\nb: 2\na: 3\n")
    assert obj == {"a": 3, "b": 2} and lines == [(3, "a")]


def test_empty_and_multi_document_yaml():
    assert decode_yaml(b"")[0] is None
    with pytest.raises(yaml.YAMLError, match="single document"):
        decode_yaml(b"a: 1\n---\nb: 2\n")
