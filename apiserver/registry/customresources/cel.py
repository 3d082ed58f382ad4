"""x-kubernetes-validations: CEL rules of a custom resource's schema, evaluated
with cel-python (celpy). `self` is the value at the rule's node; a rule that
names `oldSelf` is a transition rule, evaluated on updates only, when the old
object had a value there. Failures are worded as apiextensions-apiserver's:
`spec: Invalid value: "object": <message or "failed rule: <rule>">`.
"""
from __future__ import annotations

import re
from functools import lru_cache

import celpy

from apiserver.machinery.errors import Cause
from apiserver.registry.validation import field

_REASONS = {"FieldValueInvalid", "FieldValueForbidden", "FieldValueRequired", "FieldValueDuplicate"}
_MISSING = object()


@lru_cache(maxsize=1)
def _env() -> celpy.Environment:
    return celpy.Environment()


@lru_cache(maxsize=1024)
def compiled(rule: str):
    """The program of a rule; raises celpy.CELParseError for a rule that does not parse."""
    env = _env()
    return env.program(env.compile(rule))


def compile_error(rule: str) -> str:
    """Why a rule cannot be compiled ('' when it can)."""
    try:
        compiled(rule)
    except Exception as e:  # the library's parse errors carry the position
        return str(e).splitlines()[0] if str(e) else type(e).__name__
    return ""


def undefined_field(rule: str, schema: dict) -> str:
    """cel-go's type-check error for the first `self.a.b` selection naming a field the
    schema does not declare ('' when there is none, or the rule does not parse).
    cel-python does not type-check: this covers the error CRD authors meet most."""
    try:
        tree = _parser().parse(rule)
    except Exception:
        return ""
    for node in tree.iter_subtrees_topdown():
        if node.data != "member_dot":
            continue
        names, base = _selection(node)
        if base not in ("self", "oldSelf"):
            continue
        current, root = schema, True
        for name in names:
            if not isinstance(current, dict) or current.get("x-kubernetes-preserve-unknown-fields") \
                    or current.get("type") != "object" or isinstance(current.get("additionalProperties"), dict):
                break   # dynamic, a map, or not an object: nothing cel-go would refuse here
            props = current.get("properties") or {}
            if name in props:
                if root and name == "metadata":
                    break   # ObjectMeta: checked by its own rules
                current, root = props[name], False
                continue
            if (root or current.get("x-kubernetes-embedded-resource")) and name in ("apiVersion", "kind", "metadata"):
                break
            line, column = name.line, name.column - 1   # cel-go points at the '.'
            text = rule.splitlines()[line - 1] if rule.splitlines() else rule
            return (f"ERROR: <input>:{line}:{column}: undefined field '{name}'\n | {text}\n | "
                    + "." * (column - 1) + "^")
    return ""


def _selection(node):
    """(the selected names, outermost first, as tokens; the identifier at the base) of a.b.c."""
    names = []
    while node.data == "member_dot":
        names.append(node.children[1])
        node = node.children[0]
        while node.data in ("member", "primary") and len(node.children) == 1 and hasattr(node.children[0], "data"):
            node = node.children[0]
    base = str(node.children[0]) if node.data == "ident" and node.children else ""
    return names[::-1], base


@lru_cache(maxsize=1)
def _parser():
    from celpy.celparser import CELParser
    return CELParser()


def _type_of(schema: dict, value) -> str:
    if schema.get("type"):
        return schema["type"]
    return "object" if isinstance(value, dict) else "array" if isinstance(value, list) else "string"


def _evaluate(rule: dict, schema: dict, value, old, path: str) -> Cause | None:
    text = rule.get("rule", "")
    transition = "oldSelf" in text
    if transition and old is _MISSING and not rule.get("optionalOldSelf"):
        return None
    activation = {"self": celpy.json_to_cel(value)}
    if transition:
        activation["oldSelf"] = celpy.json_to_cel(None if old is _MISSING else old)
    where = path
    if rule.get("fieldPath"):
        where = path + rule["fieldPath"] if rule["fieldPath"].startswith(("[", ".")) else field.child(
            path, rule["fieldPath"])
    try:
        result = compiled(text).evaluate(activation)
    except Exception as e:
        detail = str(e.args[0] if getattr(e, "args", None) else e)
        missing = re.match(r"no such member in mapping: '(.*)'", detail)
        if missing:  # cel-go's wording for the same error
            detail = f"no such key: {missing.group(1)}"
        return field.invalid(where, _type_of(schema, value), f"{detail} evaluating rule: {text}")
    if isinstance(result, celpy.celtypes.BoolType) and bool(result):
        return None
    if not isinstance(result, celpy.celtypes.BoolType):
        return field.invalid(where, _type_of(schema, value), f"rule did not evaluate to a bool: {text}")
    message = rule.get("message") or f"failed rule: {text}"
    cause = field.invalid(where, _type_of(schema, value), message)
    reason = rule.get("reason")
    if reason in _REASONS and reason != "FieldValueInvalid":
        cause.reason = reason
    return cause


def validate(schema: dict, value, old=_MISSING, path: str = "") -> list[Cause]:
    """Every failed rule under `schema` for `value` (old: the previous object, on updates)."""
    out: list[Cause] = []
    _walk(schema or {}, value, old, path, out)
    return out


def _walk(s: dict, v, old, path: str, out: list[Cause]) -> None:
    if v is None:
        return
    for rule in s.get("x-kubernetes-validations") or ():
        if isinstance(rule, dict):
            cause = _evaluate(rule, s, v, old, path)
            if cause is not None:
                out.append(cause)
    if isinstance(v, dict):
        props = s.get("properties") or {}
        extra = s.get("additionalProperties") if isinstance(s.get("additionalProperties"), dict) else None
        for name, x in v.items():
            sub = props.get(name, extra)
            if sub is not None:
                sub_old = old.get(name, _MISSING) if isinstance(old, dict) else _MISSING
                _walk(sub, x, sub_old, field.child(path, name), out)
    elif isinstance(v, list) and isinstance(s.get("items"), dict):
        # old items are matched by position only for map lists keyed alike (kept simple: by index)
        for i, x in enumerate(v):
            sub_old = old[i] if isinstance(old, list) and i < len(old) else _MISSING
            _walk(s["items"], x, sub_old, field.index(path, i), out)


def rules_in(schema, path: str):
    """(path of the rule, rule text) for every rule of a schema (for CRD validation)."""
    if not isinstance(schema, dict):
        return
    for i, rule in enumerate(schema.get("x-kubernetes-validations") or ()):
        if isinstance(rule, dict):
            yield f"{path}.x-kubernetes-validations[{i}].rule", rule.get("rule", "")
    for name, sub in (schema.get("properties") or {}).items():
        yield from rules_in(sub, f"{path}.properties[{name}]")
    for key in ("items", "additionalProperties"):
        if isinstance(schema.get(key), dict):
            yield from rules_in(schema[key], f"{path}.{key}")
