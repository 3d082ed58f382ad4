"""Field selectors: terms, escaping, matching, and upstream error wording."""
import pytest

from apiserver.machinery.fields import (
    SelectorError, escape_value, field_label_not_supported, not_a_known_field_selector,
    object_meta_fields, parse_field_selector, unescape_value,
)

FIELDS = {"metadata.name": "web-1", "metadata.namespace": "default", "status.phase": "Running",
          "spec.nodeName": ""}


@pytest.mark.parametrize("text,expected", [
    ("", True),
    ("metadata.name=web-1", True),
    ("metadata.name==web-1", True),
    ("metadata.name!=web-1", False),
    ("metadata.name=web-2", False),
    ("metadata.name=web-1,status.phase=Running", True),
    ("metadata.name=web-1,status.phase!=Running", False),
    ("spec.nodeName=", True),
    ("spec.nodeName!=", False),
    ("missing=", True),  # a missing field reads as ""
    ("missing!=x", True),
    ("metadata.name=web-1,", True),  # empty terms are skipped
])
def test_matches(text, expected):
    assert parse_field_selector(text).matches(FIELDS) is expected


def test_requirements_and_exact_value():
    sel = parse_field_selector("status.phase!=Failed,metadata.name=x")
    assert [(r.field, r.op, r.value) for r in sel.requirements] == [
        ("metadata.name", "=", "x"), ("status.phase", "!=", "Failed")]
    assert sel.exact_value("metadata.name") == "x"
    assert sel.exact_value("status.phase") is None
    assert sel.fields() == {"metadata.name", "status.phase"}
    assert parse_field_selector("").empty
    assert parse_field_selector(None).empty


def test_leftmost_operator_splits_the_term():
    sel = parse_field_selector("a=\\=b")
    assert sel.requirements[0].value == "=b"
    sel = parse_field_selector("a!=b")
    assert (sel.requirements[0].field, sel.requirements[0].op) == ("a", "!=")
    sel = parse_field_selector("a==b")
    assert (sel.requirements[0].field, sel.requirements[0].op, sel.requirements[0].value) == ("a", "==", "b")


def test_escapes():
    sel = parse_field_selector(r"metadata.name=a\,b\=c\\d,status.phase=x")
    assert sel.requirements[0].value == "a,b=c\\d"
    assert sel.matches({"metadata.name": "a,b=c\\d", "status.phase": "x"})
    for raw in ["plain", "a,b", "x=y", "back\\slash", "\\,=", ""]:
        assert unescape_value(escape_value(raw)) == raw
    assert str(sel) == r"metadata.name=a\,b\=c\\d,status.phase=x"


@pytest.mark.parametrize("text,message", [
    ("metadata.name", "invalid selector: 'metadata.name'; can't understand 'metadata.name'"),
    ("a=b,c", "invalid selector: 'a=b,c'; can't understand 'c'"),
    ("a=b=c", "invalid field selector: unescaped character in value: 61"),
    ("a!==b", "invalid field selector: unescaped character in value: 61"),
    (r"a=b\x", r"invalid field selector: invalid escape sequence: \x"),
    ("a=b\\", "invalid field selector: invalid escape sequence: \\"),
])
def test_errors(text, message):
    with pytest.raises(SelectorError) as e:
        parse_field_selector(text)
    assert str(e.value) == message


def test_unsupported_field_messages():
    assert not_a_known_field_selector("foo.bar") == \
        '"foo.bar" is not a known field selector: only "metadata.name", "metadata.namespace"'
    assert not_a_known_field_selector("x", ["metadata.name", "metadata.namespace", "spec.nodeName"]) == \
        '"x" is not a known field selector: only "metadata.name", "metadata.namespace", "spec.nodeName"'
    assert field_label_not_supported("spec.foo") == "field label not supported: spec.foo"


def test_object_meta_fields():
    obj = {"metadata": {"name": "n", "namespace": "ns"}}
    assert object_meta_fields(obj) == {"metadata.name": "n", "metadata.namespace": "ns"}
    assert object_meta_fields(obj, namespaced=False) == {"metadata.name": "n"}
