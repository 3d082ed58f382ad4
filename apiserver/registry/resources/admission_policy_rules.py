"""Rules ValidatingAdmissionPolicies and their bindings share, as upstream's
admissionregistration validation writes them: match resources (selectors, named
rules with operations), CEL expressions compiled with cel-python, and defaults.

cel-python parses but does not type-check: a syntax error is reported as upstream
reports a compile error ('compilation failed: ERROR: <input>:L:C: ...'), while a
reference to an undeclared variable or a type mismatch, which cel-go's checker
refuses at write time, passes here."""
from __future__ import annotations

import re

from apiserver.machinery import names
from apiserver.machinery.errors import Cause
from apiserver.registry.customresources import cel
from apiserver.registry.validation import field

from .workload_rules import label_selector

_OPERATIONS = ("*", "CONNECT", "CREATE", "DELETE", "UPDATE")
_SCOPES = ("*", "Cluster", "Namespaced")
_NEWLINES = re.compile(r"[\n\r]+")


def default_match_resources(mr) -> None:
    """SetDefaults_MatchResources and the rules' scope default."""
    if not isinstance(mr, dict):
        return
    mr.setdefault("matchPolicy", "Equivalent")
    mr.setdefault("namespaceSelector", {})
    mr.setdefault("objectSelector", {})
    for key in ("resourceRules", "excludeResourceRules"):
        for rule in mr.get(key) or []:
            if isinstance(rule, dict):
                rule.setdefault("scope", "*")


def compile_problem(expression: str) -> str:
    """'' when the expression parses; else the error as cel-go words a syntax error."""
    try:
        cel.compiled(expression)
    except Exception as e:  # celpy.CELParseError carries the line and column
        line, column = getattr(e, "line", None), getattr(e, "column", None)
        if not line or not column:
            return f"ERROR: <input>: Syntax error: {str(e).splitlines()[0] if str(e) else type(e).__name__}"
        text = expression.splitlines()[line - 1] if expression.splitlines() else expression
        return f"ERROR: <input>:{line}:{column}: Syntax error\n | {text}\n | {'.' * (column - 1)}^"
    return ""


def expression_errors(path: str, expression: str) -> list[Cause]:
    why = compile_problem(expression)
    return [field.invalid(path, expression, f"compilation failed: {why}")] if why else []


def _star_exclusive(path: str, values: list, what: str) -> list[Cause]:
    if "*" in values and len(values) > 1:
        return [field.invalid(path, values, f"if '*' is present, must not specify other {what}")]
    return []


def rule_with_operations(rule: dict, path: str) -> list[Cause]:
    causes: list[Cause] = []
    ops = rule.get("operations") or []
    if not ops:
        causes.append(field.required(field.child(path, "operations"), ""))
    for i, op in enumerate(ops):
        causes += field.supported(field.index(field.child(path, "operations"), i), op, _OPERATIONS)
    causes += _star_exclusive(field.child(path, "operations"), ops, "operations")
    for key, what in (("apiGroups", "API groups"), ("apiVersions", "API versions"), ("resources", "resources")):
        values = rule.get(key) or []
        if not values:
            causes.append(field.required(field.child(path, key), ""))
        elif key != "resources":
            causes += _star_exclusive(field.child(path, key), values, what)
    causes += field.supported(field.child(path, "scope"), rule.get("scope"), _SCOPES)
    seen: set[str] = set()
    for i, name in enumerate(rule.get("resourceNames") or []):
        p = field.index(field.child(path, "resourceNames"), i)
        causes += field.each_invalid(p, name, names.is_valid_path_segment_name(str(name)))
        if name in seen:
            causes.append(field.duplicate(p, name))
        seen.add(name)
    return causes


def match_resources(mr, path: str) -> list[Cause]:
    if not isinstance(mr, dict):
        return []
    causes: list[Cause] = []
    if mr.get("matchPolicy") is None:
        causes.append(field.required(field.child(path, "matchPolicy"), ""))
    else:
        causes += field.supported(field.child(path, "matchPolicy"), mr["matchPolicy"], ("Equivalent", "Exact"))
    for key in ("namespaceSelector", "objectSelector"):
        if mr.get(key) is None:
            causes.append(field.required(field.child(path, key), ""))
        else:
            causes += label_selector(mr[key], field.child(path, key))
    for key in ("resourceRules", "excludeResourceRules"):
        for p, rule in field.objects(mr.get(key), field.child(path, key)):
            causes += rule_with_operations(rule, p)
    return causes


def match_conditions(conditions, path: str) -> list[Cause]:
    conditions = conditions if isinstance(conditions, list) else []
    causes: list[Cause] = []
    if len(conditions) > 64:
        causes.append(field.too_many(path, len(conditions), 64))
    seen: set[str] = set()
    for p, c in field.objects(conditions, path):
        expression = str(c.get("expression") or "").strip()
        if not expression:
            causes.append(field.required(field.child(p, "expression"), ""))
        else:
            causes += expression_errors(field.child(p, "expression"), expression)
        name = c.get("name") or ""
        if not name:
            causes.append(field.required(field.child(p, "name"), ""))
        else:
            causes += field.each_invalid(field.child(p, "name"), name, names.is_qualified_name(name))
            if name in seen:
                causes.append(field.duplicate(field.child(p, "name"), name))
            seen.add(name)
    return causes


def has_newlines(text: str) -> bool:
    return bool(_NEWLINES.search(text))
