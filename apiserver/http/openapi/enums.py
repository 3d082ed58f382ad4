"""`enum` on the fields whose values pocketkube's validation enforces, so the
documents list them as upstream 1.33 publishes them (`kubectl explain
pod.spec.containers.imagePullPolicy` shows ENUM: Always, IfNotPresent, Never).

kubernetes-validate's schemas carry no enums (only apiVersion/kind pins), so the
values come from our own validators, the same lists that answer 422 NotSupported:
a field appears here only when a validator checks it. Upstream sorts the values.
"""
from __future__ import annotations

from apiserver.registry.resources.services import validation as services
from apiserver.registry.validation import podspec

_CORE = "io.k8s.api.core.v1."

ENUMS: dict[tuple[str, str], tuple[str, ...]] = {
    **{(_CORE + d, "imagePullPolicy"): podspec.PULL_POLICIES for d in ("Container", "EphemeralContainer")},
    **{(_CORE + d, "terminationMessagePolicy"): podspec.TERMINATION_MESSAGE_POLICIES
       for d in ("Container", "EphemeralContainer")},
    (_CORE + "ContainerPort", "protocol"): podspec.PROTOCOLS,
    (_CORE + "PodSpec", "restartPolicy"): podspec.RESTART_POLICIES,
    (_CORE + "PodSpec", "dnsPolicy"): podspec.DNS_POLICIES,
    (_CORE + "Toleration", "operator"): podspec.TOLERATION_OPERATORS,
    (_CORE + "Toleration", "effect"): podspec.TAINT_EFFECTS,
    (_CORE + "ServicePort", "protocol"): services.PROTOCOLS,
    (_CORE + "ServiceSpec", "type"): services.SERVICE_TYPES,
    (_CORE + "ServiceSpec", "sessionAffinity"): services.AFFINITIES,
    (_CORE + "ServiceSpec", "externalTrafficPolicy"): services.TRAFFIC_POLICIES,
    (_CORE + "ServiceSpec", "internalTrafficPolicy"): services.TRAFFIC_POLICIES,
    (_CORE + "ServiceSpec", "ipFamilyPolicy"): services.IP_FAMILY_POLICIES,
}


def add_enums(components: dict[str, dict]) -> None:
    """Set `enum` on the converted component schemas (in place)."""
    for (definition, prop), values in ENUMS.items():
        schema = ((components.get(definition) or {}).get("properties") or {}).get(prop)
        if schema is not None:
            schema["enum"] = sorted(values)
