"""The body walkers remember what they derived from each schema node; a $ref is followed
in the definitions of the moment, so replacing a definition (a CRD's schema changing)
changes what the next body is checked against."""
import pytest

from apiserver.machinery import fieldvalidation, schemas, timestamps, typecheck

INNER = "io.pocketkube.test.memo.v1.Inner"
OUTER = {"type": "object", "properties": {"inner": {"$ref": f"#/$defs/{INNER}"}}}


@pytest.fixture
def inner():
    def define(props: dict) -> None:
        schemas.add_definitions({INNER: {"type": "object", "properties": props}})
    yield define
    schemas.remove_definitions([INNER])


def test_unknown_fields_follow_a_replaced_definition(inner):
    inner({"a": {"type": "string"}})
    assert fieldvalidation.unknown_fields({"inner": {"b": "x"}}, OUTER) == ["inner.b"]
    assert fieldvalidation.unknown_fields({"inner": {"b": "x"}}, OUTER) == ["inner.b"]   # remembered
    inner({"a": {"type": "string"}, "b": {"type": "string"}})
    assert fieldvalidation.unknown_fields({"inner": {"b": "x"}}, OUTER) == []


def test_type_errors_follow_a_replaced_definition(inner):
    inner({"a": {"type": "string"}})
    err = "json: cannot unmarshal number into Go struct field Inner.inner.a of type string"
    assert typecheck.first_type_error({"inner": {"a": 5}}, OUTER, "Outer") == err
    assert typecheck.first_type_error({"inner": {"a": 5}}, OUTER, "Outer") == err
    inner({"a": {"type": "integer"}})
    assert typecheck.first_type_error({"inner": {"a": 5}}, OUTER, "Outer") is None


def test_time_fields_follow_a_replaced_definition(inner):
    inner({"t": {"$ref": f"#/$defs/{timestamps.TIME}"}})
    bad = {"inner": {"t": "yesterday"}}
    assert timestamps.first_bad_time(bad, OUTER).startswith('parsing time "yesterday"')
    assert timestamps.first_bad_time({"inner": {"t": "2026-12-03T10:00:00Z"}}, OUTER) is None
    inner({"t": {"type": "string"}})
    assert timestamps.first_bad_time(bad, OUTER) is None


def test_a_time_seen_to_parse_is_still_checked_against_its_own_layout():
    ok = "2026-12-03T10:00:00Z"
    assert timestamps.parse_error(ok, False) is None
    assert timestamps.parse_error(ok, False) is None   # remembered as parsed
    assert timestamps.parse_error(ok, True) is not None   # a MicroTime needs the fraction
    assert timestamps.parse_error("2026-02-30T10:00:00Z", False).endswith("day out of range")
