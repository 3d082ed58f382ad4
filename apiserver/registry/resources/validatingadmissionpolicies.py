"""admissionregistration.k8s.io/v1 ValidatingAdmissionPolicies (with /status):
defaulted and validated as upstream, their CEL expressions compiled (see
admission_policy_rules for what cel-python does not check). No type-checking
controller writes status.typeChecking. Enforced by admission/validating_admission_policy.py."""
from __future__ import annotations

import re
from datetime import datetime

from apiserver.machinery import names
from apiserver.machinery.errors import Cause
from apiserver.registry.printing.columns import age_column, age_of, col, name_column, name_of
from apiserver.registry.strategy import Strategy
from apiserver.registry.validation import field

from . import admission_policy_rules as rules

_REASONS = ("Forbidden", "Invalid", "RequestEntityTooLarge", "Unauthorized")
_CEL_IDENT = re.compile(r"^[_a-zA-Z][_a-zA-Z0-9]*$")
_CEL_RESERVED = {"true", "false", "null", "in", "as", "break", "const", "continue", "else", "for", "function", "if",
                 "import", "let", "loop", "package", "namespace", "return", "var", "void", "while"}
_MAX_AUDIT_ANNOTATIONS = 20
_MAX_VALUE_EXPRESSION = 5 * 1024


def _param_kind(pk: dict, path: str) -> list[Cause]:
    causes: list[Cause] = []
    api_version = pk.get("apiVersion") or ""
    if not api_version:
        causes.append(field.required(field.child(path, "apiVersion"), ""))
    elif api_version.count("/") > 1:
        causes.append(field.invalid(field.child(path, "apiVersion"), api_version,
                                    f"unexpected GroupVersion string: {api_version}"))
    elif api_version != "/":
        group, _, version = api_version.rpartition("/")
        if group and names.is_dns1123_subdomain(group):
            causes.append(field.invalid(field.child(path, "apiVersion"), group,
                                        ",".join(names.is_dns1123_subdomain(group))))
        if not version:
            causes.append(field.invalid(field.child(path, "apiVersion"), api_version, "version must be specified"))
        elif names.is_dns1035_label(version):
            causes.append(field.invalid(field.child(path, "apiVersion"), version,
                                        ",".join(names.is_dns1035_label(version))))
    kind = pk.get("kind") or ""
    if not kind:
        causes.append(field.required(field.child(path, "kind"), ""))
    elif names.is_dns1035_label(kind.lower()):
        causes.append(field.invalid(field.child(path, "kind"), kind, "may have mixed case, but should otherwise match: "
                                    + ",".join(names.is_dns1035_label(kind.lower()))))
    return causes


def _validation(v: dict, path: str) -> list[Cause]:
    causes: list[Cause] = []
    expression = str(v.get("expression") or "")
    if not expression.strip():
        causes.append(field.required(field.child(path, "expression"), "expression is not specified"))
    else:
        causes += rules.expression_errors(field.child(path, "expression"), expression)
    message_expression = str(v.get("messageExpression") or "")
    if message_expression and not message_expression.strip():
        causes.append(field.invalid(field.child(path, "messageExpression"), message_expression,
                                    "must be non-empty if specified"))
    elif message_expression.strip():
        causes += rules.expression_errors(field.child(path, "messageExpression"), message_expression)
    message = str(v.get("message") or "")
    if message and not message.strip():
        causes.append(field.invalid(field.child(path, "message"), message, "message must be non-empty if specified"))
    elif rules.has_newlines(message.strip()):
        causes.append(field.invalid(field.child(path, "message"), message, "message must not contain line breaks"))
    causes += field.supported(field.child(path, "reason"), v.get("reason"), _REASONS)
    return causes


def _variable(v: dict, path: str) -> list[Cause]:
    causes: list[Cause] = []
    name = str(v.get("name") or "")
    if not name.strip():
        causes.append(field.required(field.child(path, "name"), "name is not specified"))
    elif not _CEL_IDENT.match(name) or name in _CEL_RESERVED:
        causes.append(field.invalid(field.child(path, "name"), name, "name is not a valid CEL identifier"))
    expression = str(v.get("expression") or "")
    if not expression.strip():
        causes.append(field.required(field.child(path, "expression"), "expression is not specified"))
    else:
        causes += rules.expression_errors(field.child(path, "expression"), expression)
    return causes


def _audit_annotation(a: dict, policy_name: str, path: str) -> list[Cause]:
    causes: list[Cause] = []
    key = str(a.get("key") or "")
    if policy_name:
        causes += field.each_invalid(field.child(path, "key"), f"{policy_name}/{key}",
                                     names.is_qualified_name(f"{policy_name}/{key}"))
    else:
        causes.append(field.invalid(field.child(path, "key"), key, "requires metadata.name be non-empty"))
    value = str(a.get("valueExpression") or "").strip()
    if not value:
        causes.append(field.required(field.child(path, "valueExpression"), "valueExpression is not specified"))
    elif len(value) > _MAX_VALUE_EXPRESSION:
        causes.append(field.required(field.child(path, "valueExpression"),
                                     f"must not exceed {_MAX_VALUE_EXPRESSION} bytes in length"))
    else:
        causes += rules.expression_errors(field.child(path, "valueExpression"), value)
    return causes


def validate_policy_spec(spec: dict, policy_name: str) -> list[Cause]:
    causes: list[Cause] = []
    if spec.get("failurePolicy") is None:
        causes.append(field.required("spec.failurePolicy", ""))
    else:
        causes += field.supported("spec.failurePolicy", spec["failurePolicy"], ("Fail", "Ignore"))
    if isinstance(spec.get("paramKind"), dict):
        causes += _param_kind(spec["paramKind"], "spec.paramKind")
    mc = spec.get("matchConstraints")
    if not isinstance(mc, dict):
        causes.append(field.required("spec.matchConstraints", ""))
    else:
        causes += rules.match_resources(mc, "spec.matchConstraints")
        if not mc.get("resourceRules"):
            causes.append(field.required("spec.matchConstraints.resourceRules", ""))
    causes += rules.match_conditions(spec.get("matchConditions"), "spec.matchConditions")
    for p, v in field.objects(spec.get("variables"), "spec.variables"):
        causes += _variable(v, p)
    validations, audits = spec.get("validations") or [], spec.get("auditAnnotations") or []
    if not validations and not audits:
        why = "validations or auditAnnotations must contain at least one item"
        return causes + [field.required("spec.validations", why), field.required("spec.auditAnnotations", why)]
    for p, v in field.objects(validations, "spec.validations"):
        causes += _validation(v, p)
    if len(audits) > _MAX_AUDIT_ANNOTATIONS:
        causes.append(field.invalid("spec.auditAnnotations", audits,
                                    f"must not have more than {_MAX_AUDIT_ANNOTATIONS} auditAnnotations"))
    keys: set[str] = set()
    for p, a in field.objects(audits, "spec.auditAnnotations"):
        causes += _audit_annotation(a, policy_name, p)
        if a.get("key") in keys:
            causes.append(field.duplicate(field.child(p, "key"), a.get("key")))
        keys.add(a.get("key"))
    return causes


class ValidatingAdmissionPolicyStrategy(Strategy):
    serves = (("admissionregistration.k8s.io", "validatingadmissionpolicies"),)

    def defaults(self, obj: dict) -> None:
        spec = obj.get("spec")
        if isinstance(spec, dict):
            spec.setdefault("failurePolicy", "Fail")
            rules.default_match_resources(spec.get("matchConstraints"))

    def validate(self, obj: dict) -> list[Cause]:
        spec = obj.get("spec") if isinstance(obj.get("spec"), dict) else {}
        return validate_policy_spec(spec, (obj.get("metadata") or {}).get("name") or "")

    def columns(self) -> list[dict]:
        return [name_column(),
                col("Validations", "Validations indicates the number of validation rules defined in this "
                    "configuration", "integer"),
                col("ParamKind", "ParamKind specifies the kind of resources used to parameterize this policy"),
                age_column()]

    def cells(self, obj: dict, now: datetime) -> list:
        spec = obj.get("spec") or {}
        pk = spec.get("paramKind")
        shown = f"{pk.get('apiVersion', '')}/{pk.get('kind', '')}" if isinstance(pk, dict) else "<unset>"
        return [name_of(obj), len(spec.get("validations") or []), shown, age_of(obj, now)]
