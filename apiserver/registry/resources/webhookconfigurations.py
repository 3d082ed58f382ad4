"""Mutating and validating webhook configurations (admissionregistration.k8s.io):
the body is `webhooks`, not a spec; per-webhook defaults and rules."""
from __future__ import annotations

from datetime import datetime

from apiserver.machinery import names
from apiserver.machinery.errors import Cause
from apiserver.registry.printing.columns import age_column, age_of, col, name_column, name_of
from apiserver.registry.strategy import Strategy
from apiserver.registry.validation import field

_GROUP = "admissionregistration.k8s.io"


class ValidatingWebhookConfigurationStrategy(Strategy):
    serves = ((_GROUP, "validatingwebhookconfigurations"),)

    def defaults(self, obj: dict) -> None:
        for w in obj.get("webhooks") or []:
            self.default_webhook(w)

    def default_webhook(self, w: dict) -> None:
        w.setdefault("failurePolicy", "Fail")
        w.setdefault("matchPolicy", "Equivalent")
        w.setdefault("namespaceSelector", {})
        w.setdefault("objectSelector", {})
        w.setdefault("timeoutSeconds", 10)
        for r in w.get("rules") or []:
            r.setdefault("scope", "*")
        svc = (w.get("clientConfig") or {}).get("service")
        if isinstance(svc, dict):
            svc.setdefault("port", 443)

    def validate(self, obj: dict) -> list[Cause]:
        causes: list[Cause] = []
        seen: set[str] = set()
        for p, w in field.objects(obj.get("webhooks"), "webhooks"):
            causes += _validate_webhook(w, p, seen)
        return causes

    def spec_changed(self, new: dict, old: dict) -> bool:
        return new.get("webhooks") != old.get("webhooks")

    def columns(self) -> list[dict]:
        return [name_column(),
                col("Webhooks", "Webhooks indicates the number of webhooks registered in this configuration",
                    "integer"),
                age_column()]

    def cells(self, obj: dict, now: datetime) -> list:
        return [name_of(obj), len(obj.get("webhooks") or []), age_of(obj, now)]


class MutatingWebhookConfigurationStrategy(ValidatingWebhookConfigurationStrategy):
    serves = ((_GROUP, "mutatingwebhookconfigurations"),)

    def default_webhook(self, w: dict) -> None:
        super().default_webhook(w)
        w.setdefault("reinvocationPolicy", "Never")


def _validate_webhook(w: dict, p: str, seen: set[str]) -> list[Cause]:
    causes: list[Cause] = []
    name = w.get("name") or ""
    if not name:
        causes.append(field.required(field.child(p, "name"), ""))
    else:
        causes += field.each_invalid(field.child(p, "name"), name, names.is_dns1123_subdomain(name))
        if name.count(".") < 2 and not names.is_dns1123_subdomain(name):
            pass
        elif name.count(".") < 2:
            causes.append(field.invalid(field.child(p, "name"), name,
                                        "should be a domain with at least three segments separated by dots"))
        if name in seen:
            causes.append(field.duplicate(field.child(p, "name"), name))
        seen.add(name)
    cc = w.get("clientConfig") or {}
    if bool(cc.get("url")) == bool(cc.get("service")):
        causes.append(field.required(field.child(p, "clientConfig"), "exactly one of url or service is required"))
    if not w.get("admissionReviewVersions"):
        causes.append(field.required(field.child(p, "admissionReviewVersions"), ""))
    causes += field.supported(field.child(p, "sideEffects"), w.get("sideEffects"), ("None", "NoneOnDryRun"))
    if w.get("sideEffects") is None:
        causes.append(field.required(field.child(p, "sideEffects"), ""))
    causes += field.supported(field.child(p, "failurePolicy"), w.get("failurePolicy"), ("Fail", "Ignore"))
    t = w.get("timeoutSeconds")
    if isinstance(t, int) and not 1 <= t <= 30:
        causes.append(field.invalid(field.child(p, "timeoutSeconds"), t,
                                    "the timeout value must be between 1 and 30 seconds"))
    return causes
