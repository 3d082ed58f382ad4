"""ValidatingAdmissionPolicy: each binding whose policy matches a write (matchConstraints
and the binding's matchResources: rules, excluded rules, resource names, namespace and
object selectors) has the policy's `validations` evaluated with cel-python on `object`,
`oldObject`, `request` and `params` (the binding's paramRef, when the policy has a
paramKind). A failed validation is refused (Deny) and/or returned as a warning (Warn), as
upstream words them. Not done: matchConditions, variables, authorizer, namespaceObject,
messageExpression, auditAnnotations and the Audit action (accepted, nothing recorded).
Policies and bindings are read from the store on each write (upstream keeps informers)."""
from __future__ import annotations

import celpy

from apiserver.machinery.errors import StatusError
from apiserver.machinery.labels import SelectorError, from_label_selector_object
from apiserver.registry.attributes import Attributes
from apiserver.registry.customresources.cel import compiled

from .plugin import Plugin
from .webhook_match import rule_matches, webhook_matches

GROUP = "admissionregistration.k8s.io"
_CODES = {"Unauthorized": 401, "Forbidden": 403, "Invalid": 422, "RequestEntityTooLarge": 413}


class _Failure(Exception):
    """A validation that failed, or could not be evaluated."""

    def __init__(self, message: str, reason: str = "Invalid"):
        super().__init__(message)
        self.message, self.reason = message, reason


_EVERYTHING = [{"operations": ["*"], "apiGroups": ["*"], "apiVersions": ["*"], "resources": ["*", "*/*"]}]


def _rule_hits(rule: dict, attrs: Attributes) -> bool:
    return rule_matches(rule, attrs) and (not rule.get("resourceNames") or attrs.name in rule["resourceNames"])


def _matches(mr: dict | None, attrs: Attributes, namespace_labels: dict | None) -> bool:
    """A binding without matchResources (or without resourceRules) matches all its policy does."""
    if not isinstance(mr, dict):
        return True
    rules = mr.get("resourceRules") or []
    if rules and not any(_rule_hits(r, attrs) for r in rules):
        return False
    selectors = {"rules": _EVERYTHING, "objectSelector": mr.get("objectSelector"),
                 "namespaceSelector": mr.get("namespaceSelector")}
    if not webhook_matches(selectors, attrs, namespace_labels):
        return False
    return not any(_rule_hits(r, attrs) for r in mr.get("excludeResourceRules") or [])


def _request(attrs: Attributes) -> dict:
    r = attrs.resource
    return {"operation": attrs.operation, "name": attrs.name, "namespace": attrs.namespace,
            "kind": {"group": r.group, "version": r.version, "kind": r.kind},
            "resource": {"group": r.group, "version": r.version, "resource": r.plural},
            "subResource": attrs.subresource, "userInfo": attrs.user.to_dict() if attrs.user else {},
            "dryRun": attrs.dry_run}


def _evaluate(policy: dict, attrs: Attributes, params) -> list[_Failure]:
    activation = {"object": celpy.json_to_cel(attrs.object if attrs.operation != "DELETE" else None),
                  "oldObject": celpy.json_to_cel(attrs.old_object if attrs.operation != "CREATE" else None),
                  "request": celpy.json_to_cel(_request(attrs)), "params": celpy.json_to_cel(params)}
    failures = []
    for v in (policy.get("spec") or {}).get("validations") or []:
        expression = v.get("expression") or ""
        try:
            result = compiled(expression).evaluate(activation)
        except Exception as e:  # an evaluation error follows the failure policy
            if (policy.get("spec") or {}).get("failurePolicy", "Fail") == "Fail":
                failures.append(_Failure(f"expression '{expression}' resulted in error: {e}"))
            continue
        if isinstance(result, celpy.celtypes.BoolType) and bool(result):
            continue
        message = (v.get("message") or "").strip() or f"failed expression: {expression.strip()}"
        failures.append(_Failure(message, v.get("reason") or "Invalid"))
    return failures


class ValidatingAdmissionPolicy(Plugin):
    name = "ValidatingAdmissionPolicy"
    validating = True

    async def validate(self, attrs: Attributes) -> None:
        bindings = await self.list(GROUP, "validatingadmissionpolicybindings", "")
        if not bindings:
            return
        policies = {(p.get("metadata") or {}).get("name"): p
                    for p in await self.list(GROUP, "validatingadmissionpolicies", "")}
        namespace_labels = None
        if attrs.namespace and attrs.resource.namespaced:
            ns = await self.get("", "namespaces", "", attrs.namespace)
            namespace_labels = ((ns or {}).get("metadata") or {}).get("labels") or {}
        for binding in bindings:
            spec = binding.get("spec") or {}
            policy = policies.get(spec.get("policyName"))
            if policy is None or not _matches((policy.get("spec") or {}).get("matchConstraints"), attrs,
                                              namespace_labels):
                continue
            if not _matches(spec.get("matchResources"), attrs, namespace_labels):
                continue
            failures = []
            try:
                for params in await self._params(policy, spec, attrs):
                    failures += _evaluate(policy, attrs, params)
            except _Failure as f:
                failures.append(f)
            self._act(policy, binding, failures, attrs)

    def _act(self, policy: dict, binding: dict, failures: list[_Failure], attrs: Attributes) -> None:
        if not failures:
            return
        p, b = policy["metadata"]["name"], binding["metadata"]["name"]
        actions = (binding.get("spec") or {}).get("validationActions") or []
        if "Warn" in actions:
            attrs.warnings.extend(f"Validation failed for ValidatingAdmissionPolicy '{p}' with binding '{b}': "
                                  f"{f.message}" for f in failures)
        if "Deny" in actions:
            f = failures[0]
            raise StatusError(_CODES.get(f.reason, 422), f.reason,
                              f"ValidatingAdmissionPolicy '{p}' with binding '{b}' denied request: {f.message}")

    async def _params(self, policy: dict, binding_spec: dict, attrs: Attributes) -> list:
        """The params objects to evaluate with ([None] when the policy takes none)."""
        kind = (policy.get("spec") or {}).get("paramKind")
        ref = binding_spec.get("paramRef")
        if not isinstance(kind, dict) or not isinstance(ref, dict):
            return [None]
        resource = next((r for r in self.registries.catalogue.resources()
                         if r.api_version == kind.get("apiVersion") and r.kind == kind.get("kind")), None)
        if resource is None:
            raise _Failure(f"failed to configure policy: failed to find resource referenced by paramKind: "
                           f"'{kind.get('apiVersion')}, Kind={kind.get('kind')}'")
        namespace = (ref.get("namespace") or attrs.namespace) if resource.namespaced else ""
        if ref.get("name"):
            found = await self.get(resource.group, resource.plural, namespace, ref["name"])
            found = [found] if found is not None else []
        else:
            try:
                selector = from_label_selector_object(ref.get("selector") or {})
            except SelectorError:
                selector = None
            found = [o for o in await self.list(resource.group, resource.plural, namespace)
                     if selector is not None and selector.matches((o.get("metadata") or {}).get("labels") or {})]
        if found:
            return found
        if ref.get("parameterNotFoundAction") == "Allow":
            return []
        raise _Failure("failed to configure binding: no params found for policy binding with `Deny` "
                       "parameterNotFoundAction")
