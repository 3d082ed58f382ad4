"""Timestamps a client sends must parse, as upstream's decoder insists.

metav1.Time decodes with Go's `time.Parse(RFC3339)` and metav1.MicroTime with
`time.Parse("2006-01-02T15:04:05.000000Z07:00")`; a string that does not parse makes
the whole body undecodable, a 400 (`... cannot be handled as a Lease: parsing time
"x" as "2006-01-02T15:04:05Z07:00": cannot parse "x" as "2006"`). This module finds
the first such field, walking the object with its schema (fields whose `$ref` is
Time or MicroTime), and words the error as Go's time package does. Values are
checked, not rewritten: what parses is stored as sent.
"""
from __future__ import annotations

import calendar
from typing import Any

from apiserver.machinery import schemas

TIME = "io.k8s.apimachinery.pkg.apis.meta.v1.Time"
MICRO_TIME = "io.k8s.apimachinery.pkg.apis.meta.v1.MicroTime"
RFC3339 = "2006-01-02T15:04:05Z07:00"
RFC3339_MICRO = "2006-01-02T15:04:05.000000Z07:00"

# Layout elements in order: (element, digits it takes or None for a literal, range check)
_NUMBERS = {"2006": (4, None), "01": (2, "month"), "02": (2, "day"), "15": (2, "hour"),
            "04": (2, "minute"), "05": (2, "second")}
_LIMITS = {"month": (1, 12), "hour": (0, 23), "minute": (0, 59), "second": (0, 59)}


def _elements(micro: bool) -> list[str]:
    elems = ["2006", "-", "01", "-", "02", "T", "15", ":", "04", ":", "05"]
    return elems + ([".000000"] if micro else []) + ["Z07:00"]


def _q(s: str) -> str:
    return '"' + s.replace("\\", "\\\\").replace('"', '\\"') + '"'


# Strings that parsed, by layout: a body's timestamps mostly repeat (one write stamps several
# fields with the same second, and every object of a burst shares it), and a check is a
# pure function of the string, so a string seen to parse is not parsed again.
_PARSED: tuple[set[str], set[str]] = (set(), set())
_PARSED_LIMIT = 4096


def parse_error(value: str, micro: bool) -> str | None:
    """Go's time.Parse error text for `value`, or None when it parses."""
    parsed = _PARSED[micro]
    if value in parsed:
        return None
    err = _parse_error(value, micro)
    if err is None:
        if len(parsed) >= _PARSED_LIMIT:
            parsed.clear()
        parsed.add(value)
    return err


def _parse_error(value: str, micro: bool) -> str | None:
    layout = RFC3339_MICRO if micro else RFC3339
    rest = value
    got: dict[str, int] = {}

    def cannot(elem: str) -> str:
        return f"parsing time {_q(value)} as {_q(layout)}: cannot parse {_q(rest)} as {_q(elem)}"

    for elem in _elements(micro):
        if elem in _NUMBERS:
            width, name = _NUMBERS[elem]
            digits = rest[:width]
            if len(digits) < width or not digits.isdigit():
                return cannot(elem)
            n = int(digits)
            if name in _LIMITS and not _LIMITS[name][0] <= n <= _LIMITS[name][1]:
                return f"parsing time {_q(value)}: {name} out of range"
            got[name or "year"] = n
            rest = rest[width:]
            if elem == "05" and not micro and len(rest) > 1 and rest[0] in ".," and rest[1].isdigit():
                i = 1
                while i < len(rest) and rest[i].isdigit():
                    i += 1
                rest = rest[i:]   # Go accepts a fraction after the seconds the layout does not show
        elif elem == ".000000":
            if len(rest) < 7 or rest[0] not in ".," or not rest[1:7].isdigit():
                return cannot(elem)
            rest = rest[7:]
        elif elem == "Z07:00":
            if rest[:1] == "Z":
                rest = rest[1:]
            elif (len(rest) >= 6 and rest[0] in "+-" and rest[1:3].isdigit() and rest[3] == ":"
                  and rest[4:6].isdigit()):
                if int(rest[1:3]) > 24 or int(rest[4:6]) > 59:
                    return f"parsing time {_q(value)}: time zone offset out of range"  # hh<=24, mm<60
                rest = rest[6:]
            else:
                return cannot(elem)
        else:
            if not rest.startswith(elem):
                return cannot(elem)
            rest = rest[len(elem):]
    if rest:
        return f"parsing time {_q(value)}: extra text: {_q(rest)}"
    if got["day"] < 1 or got["day"] > calendar.monthrange(got["year"], got["month"])[1]:
        return f"parsing time {_q(value)}: day out of range"
    return None


def first_bad_time(obj: Any, schema: dict | None) -> str | None:
    """The parse error of the first Time/MicroTime field of `obj` that does not parse."""
    return _first_bad_time(obj, schema, schemas.memo("timestamps"))


def _first_bad_time(obj: Any, schema: dict | None, memo: dict) -> str | None:
    if schema is None or obj is None:
        return None
    hit = memo.get(id(schema))
    if hit is None or hit[0] is not schema:
        hit = memo[id(schema)] = (schema, _facts(schema))
    time_kind, props, extra, items = hit[1]
    if time_kind is not None:
        return parse_error(obj, time_kind == MICRO_TIME) if isinstance(obj, str) else None
    if isinstance(obj, dict):
        for key, value in obj.items():
            sub = props.get(key) if key in props else extra
            err = _first_bad_time(value, sub, memo)
            if err:
                return err
    elif isinstance(obj, list) and items is not None:
        for value in obj:
            err = _first_bad_time(value, items, memo)
            if err:
                return err
    return None


def _facts(schema: dict) -> tuple:
    """(TIME or MICRO_TIME when the node is one, else None; properties; the schema of a map's
    values or None; the schema of a list's items or None) of one schema node."""
    while "allOf" in schema and len(schema["allOf"]) == 1 and "$ref" not in schema:
        schema = schema["allOf"][0]
    name = schemas.ref_name(schema)
    if name in (TIME, MICRO_TIME):
        return name, {}, None, None
    s = schemas.resolve(schema)
    extra, items = s.get("additionalProperties"), s.get("items")
    return (None, s.get("properties") or {}, extra if isinstance(extra, dict) else None,
            items if isinstance(items, dict) else None)
