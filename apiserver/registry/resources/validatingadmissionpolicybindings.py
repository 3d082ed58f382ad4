"""admissionregistration.k8s.io/v1 ValidatingAdmissionPolicyBindings: defaulted and
validated as upstream (policy name, paramRef, match resources, validation actions)."""
from __future__ import annotations

from datetime import datetime

from apiserver.machinery import names
from apiserver.machinery.errors import Cause
from apiserver.registry.printing.columns import age_column, age_of, col, name_column, name_of
from apiserver.registry.strategy import Strategy
from apiserver.registry.validation import field

from . import admission_policy_rules as rules
from .workload_rules import label_selector

_ACTIONS = ("Audit", "Deny", "Warn")
_EXCLUSIVE = "name and selector are mutually exclusive"


def _param_ref(pr, path: str) -> list[Cause]:
    if not isinstance(pr, dict):
        return []
    causes: list[Cause] = []
    name, selector = pr.get("name") or "", pr.get("selector")
    if name:
        causes += field.each_invalid(field.child(path, "name"), name, names.is_valid_path_segment_name(name))
        if selector is not None:
            causes.append(field.forbidden(field.child(path, "name"), _EXCLUSIVE))
    if selector is not None:
        causes += label_selector(selector, field.child(path, "selector"))
        if name:
            causes.append(field.forbidden(field.child(path, "selector"), _EXCLUSIVE))
    if not name and selector is None:
        causes.append(field.required(path, "one of name or selector must be specified"))
    action = pr.get("parameterNotFoundAction")
    if not action:
        causes.append(field.required(field.child(path, "parameterNotFoundAction"), ""))
    else:
        causes += field.supported(field.child(path, "parameterNotFoundAction"), action, ("Deny", "Allow"))
    return causes


def _validation_actions(actions, path: str) -> list[Cause]:
    actions = actions if isinstance(actions, list) else []
    causes: list[Cause] = []
    seen: set = set()
    for i, a in enumerate(actions):
        if a not in _ACTIONS:
            causes.append(field.not_supported(field.index(path, i), a, _ACTIONS))
        if a in seen:
            causes.append(field.duplicate(field.index(path, i), a))
        seen.add(a)
    if "Deny" in seen and "Warn" in seen:
        causes.append(field.invalid(path, actions, "must not contain both Deny and Warn (repeating the same validation "
                                    "failure information in the API response and headers serves no purpose)"))
    if not seen:
        causes.append(field.required(path, "at least one validation action is required"))
    return causes


def validate_binding_spec(spec: dict) -> list[Cause]:
    causes: list[Cause] = []
    policy = spec.get("policyName") or ""
    if not policy:
        causes.append(field.required("spec.policyName", ""))
    else:
        causes += field.each_invalid("spec.policyName", policy, names.is_dns1123_subdomain(policy))
    causes += _param_ref(spec.get("paramRef"), "spec.paramRef")
    causes += rules.match_resources(spec.get("matchResources"), "spec.matchResources")
    return causes + _validation_actions(spec.get("validationActions"), "spec.validationActions")


def param_ref_cell(pr) -> str:
    """namespace/name ('*' for no namespace), the selector, or <unset>, as upstream prints it."""
    if not isinstance(pr, dict):
        return "<unset>"
    if pr.get("name"):
        return f"{pr.get('namespace') or '*'}/{pr['name']}"
    if isinstance(pr.get("selector"), dict):
        return go_label_selector_string(pr["selector"])
    return "<unset>"


def go_label_selector_string(sel: dict) -> str:
    """metav1.LabelSelector's generated String(), which upstream's printer shows."""
    labels = "".join(f"{k}: {v}," for k, v in sorted((sel.get("matchLabels") or {}).items()))
    exprs = "".join(f"LabelSelectorRequirement{{Key:{e.get('key', '')},Operator:{e.get('operator', '')},"
                    f"Values:[{' '.join(str(v) for v in e.get('values') or [])}],}},"
                    for e in sel.get("matchExpressions") or [] if isinstance(e, dict))
    return (f"&LabelSelector{{MatchLabels:map[string]string{{{labels}}},"
            f"MatchExpressions:[]LabelSelectorRequirement{{{exprs}}},}}")


class ValidatingAdmissionPolicyBindingStrategy(Strategy):
    serves = (("admissionregistration.k8s.io", "validatingadmissionpolicybindings"),)

    def defaults(self, obj: dict) -> None:
        spec = obj.get("spec")
        if isinstance(spec, dict):
            rules.default_match_resources(spec.get("matchResources"))

    def validate(self, obj: dict) -> list[Cause]:
        return validate_binding_spec(obj.get("spec") if isinstance(obj.get("spec"), dict) else {})

    def columns(self) -> list[dict]:
        return [name_column(), col("PolicyName", "PolicyName indicates the policy definition which the policy binding "
                                   "binding to"),
                col("ParamRef", "ParamRef indicates the param resource which sets the configration param"),
                age_column()]

    def cells(self, obj: dict, now: datetime) -> list:
        spec = obj.get("spec") or {}
        return [name_of(obj), spec.get("policyName") or "", param_ref_cell(spec.get("paramRef")), age_of(obj, now)]
