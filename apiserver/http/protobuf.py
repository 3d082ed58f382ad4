"""Reading the Kubernetes protobuf encoding for the few kinds kubectl sends that way.

kubectl's typed clients (`create namespace|configmap|secret|service|
serviceaccount|quota|token`) POST `application/vnd.kubernetes.protobuf` and
do not fall back to JSON. The body is the magic `k8s\\0` and a runtime.Unknown
message (typeMeta{apiVersion=1, kind=2}, raw=2) whose `raw` is the object in
the wire format. This module turns such a body into the JSON-shaped dict,
using a table of the field numbers of the messages those kinds use (facts of
the public API; any other kind is a 415, a field the table lacks a 400 naming it).
"""
from __future__ import annotations

import base64
import datetime

from apiserver.machinery import errors

from .protobuf_podspec import POD_MESSAGES

MAGIC = b"k8s\x00"
CONTENT_TYPE = "application/vnd.kubernetes.protobuf"

# field number -> (json name, type). Types: str, int, bool, bytes, time, quantity, intorstr,
# raw (embedded JSON), "M:<message>", "map:str", "map:bytes", "map:quantity". A leading "*"
# marks repeated; a trailing "?" a pointer field (zero values are kept, not dropped).
S = "str"
MESSAGES: dict[str, dict[int, tuple[str, str]]] = {
    "ObjectMeta": {1: ("name", S), 2: ("generateName", S), 3: ("namespace", S), 4: ("selfLink", S),
                   5: ("uid", S), 6: ("resourceVersion", S), 7: ("generation", "int"),
                   8: ("creationTimestamp", "time"), 9: ("deletionTimestamp", "time"),
                   10: ("deletionGracePeriodSeconds", "int?"), 11: ("labels", "map:str"),
                   12: ("annotations", "map:str"), 13: ("ownerReferences", "*M:OwnerReference"),
                   14: ("finalizers", "*str"), 17: ("managedFields", "*M:ManagedFieldsEntry")},
    "OwnerReference": {1: ("kind", S), 3: ("name", S), 4: ("uid", S), 5: ("apiVersion", S),
                       6: ("controller", "bool?"), 7: ("blockOwnerDeletion", "bool?")},
    "ManagedFieldsEntry": {1: ("manager", S), 2: ("operation", S), 3: ("apiVersion", S), 4: ("time", "time"),
                           6: ("fieldsType", S), 7: ("fieldsV1", "M:FieldsV1"), 8: ("subresource", S)},
    "FieldsV1": {1: ("Raw", "raw")},
    "Namespace": {1: ("metadata", "M:ObjectMeta"), 2: ("spec", "M:NamespaceSpec")},
    "NamespaceSpec": {1: ("finalizers", "*str")},
    "ConfigMap": {1: ("metadata", "M:ObjectMeta"), 2: ("data", "map:str"), 3: ("binaryData", "map:bytes"),
                  4: ("immutable", "bool?")},
    "Secret": {1: ("metadata", "M:ObjectMeta"), 2: ("data", "map:bytes"), 3: ("type", S),
               4: ("stringData", "map:str"), 5: ("immutable", "bool?")},
    "ServiceAccount": {1: ("metadata", "M:ObjectMeta"), 2: ("secrets", "*M:ObjectReference"),
                       3: ("imagePullSecrets", "*M:LocalObjectReference"),
                       4: ("automountServiceAccountToken", "bool?")},
    "ObjectReference": {1: ("kind", S), 2: ("namespace", S), 3: ("name", S), 4: ("uid", S),
                        5: ("apiVersion", S), 6: ("resourceVersion", S), 7: ("fieldPath", S)},
    "LocalObjectReference": {1: ("name", S)},
    "Service": {1: ("metadata", "M:ObjectMeta"), 2: ("spec", "M:ServiceSpec")},
    "ServiceSpec": {1: ("ports", "*M:ServicePort"), 2: ("selector", "map:str"), 3: ("clusterIP", S),
                    4: ("type", S), 5: ("externalIPs", "*str"), 7: ("sessionAffinity", S),
                    8: ("loadBalancerIP", S), 9: ("loadBalancerSourceRanges", "*str"), 10: ("externalName", S),
                    11: ("externalTrafficPolicy", S), 12: ("healthCheckNodePort", "int"),
                    13: ("publishNotReadyAddresses", "bool"), 14: ("sessionAffinityConfig", "M:SessionAffinityConfig"),
                    17: ("ipFamilyPolicy", "str?"), 18: ("clusterIPs", "*str"), 19: ("ipFamilies", "*str"),
                    20: ("allocateLoadBalancerNodePorts", "bool?"), 21: ("loadBalancerClass", "str?"),
                    22: ("internalTrafficPolicy", "str?"), 23: ("trafficDistribution", "str?")},
    "ServicePort": {1: ("name", S), 2: ("protocol", S), 3: ("port", "int?"), 4: ("targetPort", "intorstr"),
                    5: ("nodePort", "int"), 6: ("appProtocol", "str?")},
    "SessionAffinityConfig": {1: ("clientIP", "M:ClientIPConfig")},
    "ClientIPConfig": {1: ("timeoutSeconds", "int?")},
    "ResourceQuota": {1: ("metadata", "M:ObjectMeta"), 2: ("spec", "M:ResourceQuotaSpec")},
    "ResourceQuotaSpec": {1: ("hard", "map:quantity"), 2: ("scopes", "*str"),
                          3: ("scopeSelector", "M:ScopeSelector")},
    "ScopeSelector": {1: ("matchExpressions", "*M:ScopedResourceSelectorRequirement")},
    "ScopedResourceSelectorRequirement": {1: ("scopeName", S), 2: ("operator", S), 3: ("values", "*str")},
    "TokenRequest": {1: ("metadata", "M:ObjectMeta"), 2: ("spec", "M:TokenRequestSpec")},
    "TokenRequestSpec": {1: ("audiences", "*str"), 3: ("boundObjectRef", "M:BoundObjectReference"),
                         4: ("expirationSeconds", "int?")},
    "BoundObjectReference": {1: ("kind", S), 2: ("apiVersion", S), 3: ("name", S), 4: ("uid", S)},
    # Reviews (kubectl auth whoami / can-i send these as protobuf); status is the server's to fill.
    "SelfSubjectReview": {1: ("metadata", "M:ObjectMeta")},
    "TokenReview": {1: ("metadata", "M:ObjectMeta"), 2: ("spec", "M:TokenReviewSpec")},
    "TokenReviewSpec": {1: ("token", S), 2: ("audiences", "*str")},
    "SelfSubjectAccessReview": {1: ("metadata", "M:ObjectMeta"), 2: ("spec", "M:SelfSubjectAccessReviewSpec")},
    "SelfSubjectAccessReviewSpec": {1: ("resourceAttributes", "M:ResourceAttributes"),
                                    2: ("nonResourceAttributes", "M:NonResourceAttributes")},
    "SubjectAccessReview": {1: ("metadata", "M:ObjectMeta"), 2: ("spec", "M:SubjectAccessReviewSpec")},
    "LocalSubjectAccessReview": {1: ("metadata", "M:ObjectMeta"), 2: ("spec", "M:SubjectAccessReviewSpec")},
    "SubjectAccessReviewSpec": {1: ("resourceAttributes", "M:ResourceAttributes"),
                                2: ("nonResourceAttributes", "M:NonResourceAttributes"), 3: ("user", S),
                                4: ("groups", "*str"), 6: ("uid", S)},
    "ResourceAttributes": {1: ("namespace", S), 2: ("verb", S), 3: ("group", S), 4: ("version", S),
                           5: ("resource", S), 6: ("subresource", S), 7: ("name", S)},
    "NonResourceAttributes": {1: ("path", S), 2: ("verb", S)},
    "SelfSubjectRulesReview": {1: ("metadata", "M:ObjectMeta"), 2: ("spec", "M:SelfSubjectRulesReviewSpec")},
    "SelfSubjectRulesReviewSpec": {1: ("namespace", S)},
    # RBAC (kubectl create role|clusterrole|rolebinding|clusterrolebinding send these as protobuf).
    "Role": {1: ("metadata", "M:ObjectMeta"), 2: ("rules", "*M:PolicyRule")},
    "ClusterRole": {1: ("metadata", "M:ObjectMeta"), 2: ("rules", "*M:PolicyRule"),
                    3: ("aggregationRule", "M:AggregationRule")},
    "PolicyRule": {1: ("verbs", "*str"), 2: ("apiGroups", "*str"), 3: ("resources", "*str"),
                   4: ("resourceNames", "*str"), 5: ("nonResourceURLs", "*str")},
    "AggregationRule": {1: ("clusterRoleSelectors", "*M:LabelSelector")},
    "LabelSelector": {1: ("matchLabels", "map:str"), 2: ("matchExpressions", "*M:LabelSelectorRequirement")},
    "LabelSelectorRequirement": {1: ("key", S), 2: ("operator", S), 3: ("values", "*str")},
    "RoleBinding": {1: ("metadata", "M:ObjectMeta"), 2: ("subjects", "*M:Subject"), 3: ("roleRef", "M:RoleRef")},
    "ClusterRoleBinding": {1: ("metadata", "M:ObjectMeta"), 2: ("subjects", "*M:Subject"),
                           3: ("roleRef", "M:RoleRef")},
    "Subject": {1: ("kind", S), 2: ("apiGroup", S), 3: ("name", S), 4: ("namespace", S)},
    "RoleRef": {1: ("apiGroup", S), 2: ("kind", S), 3: ("name", S)},
    # kubectl certificate approve|deny PUT the whole request to /approval as protobuf.
    "CertificateSigningRequest": {1: ("metadata", "M:ObjectMeta"), 2: ("spec", "M:CertificateSigningRequestSpec"),
                                  3: ("status", "M:CertificateSigningRequestStatus")},
    "CertificateSigningRequestSpec": {1: ("request", "bytes"), 2: ("username", S), 3: ("uid", S),
                                      4: ("groups", "*str"), 5: ("usages", "*str"), 6: ("extra", "map:strlist"),
                                      7: ("signerName", S),
                                      8: ("expirationSeconds", "int?")},
    "CertificateSigningRequestStatus": {1: ("conditions", "*M:CertificateSigningRequestCondition"),
                                        2: ("certificate", "bytes")},
    "CertificateSigningRequestCondition": {1: ("type", S), 2: ("reason", S), 3: ("message", S),
                                           4: ("lastUpdateTime", "time"), 5: ("lastTransitionTime", "time"),
                                           6: ("status", S)},
    # Workloads (kubectl create deployment|job|cronjob|pdb, create job --from=cronjob send these;
    # the last copies a CronJob's whole pod template, so the PodSpec tables cover all of it).
    "Deployment": {1: ("metadata", "M:ObjectMeta"), 2: ("spec", "M:DeploymentSpec")},
    "DeploymentSpec": {1: ("replicas", "int?"), 2: ("selector", "M:LabelSelector"), 3: ("template", "M:PodTemplateSpec"),
                       4: ("strategy", "M:DeploymentStrategy"), 5: ("minReadySeconds", "int"),
                       6: ("revisionHistoryLimit", "int?"), 7: ("paused", "bool"), 9: ("progressDeadlineSeconds", "int?")},
    "DeploymentStrategy": {1: ("type", S), 2: ("rollingUpdate", "M:RollingUpdateDeployment")},
    "RollingUpdateDeployment": {1: ("maxUnavailable", "intorstr?"), 2: ("maxSurge", "intorstr?")},
    "Job": {1: ("metadata", "M:ObjectMeta"), 2: ("spec", "M:JobSpec")},
    "JobSpec": {1: ("parallelism", "int?"), 2: ("completions", "int?"), 3: ("activeDeadlineSeconds", "int?"),
                4: ("selector", "M:LabelSelector"), 5: ("manualSelector", "bool?"), 6: ("template", "M:PodTemplateSpec"),
                7: ("backoffLimit", "int?"), 8: ("ttlSecondsAfterFinished", "int?"), 9: ("completionMode", "str?"),
                10: ("suspend", "bool?"), 12: ("backoffLimitPerIndex", "int?"), 13: ("maxFailedIndexes", "int?"),
                11: ("podFailurePolicy", "M:PodFailurePolicy"), 14: ("podReplacementPolicy", "str?"),
                15: ("successPolicy", "M:SuccessPolicy"), 16: ("managedBy", "str?")},
    "PodFailurePolicy": {1: ("rules", "*M:PodFailurePolicyRule")},
    "PodFailurePolicyRule": {1: ("action", S), 2: ("onExitCodes", "M:PodFailurePolicyOnExitCodes"),
                             3: ("onPodConditions", "*M:PodFailurePolicyOnPodConditions")},
    "PodFailurePolicyOnExitCodes": {1: ("containerName", "str?"), 2: ("operator", S), 3: ("values", "*int")},
    "PodFailurePolicyOnPodConditions": {1: ("type", S), 2: ("status", S)},
    "SuccessPolicy": {1: ("rules", "*M:SuccessPolicyRule")},
    "SuccessPolicyRule": {1: ("succeededIndexes", "str?"), 2: ("succeededCount", "int?")},
    "CronJob": {1: ("metadata", "M:ObjectMeta"), 2: ("spec", "M:CronJobSpec")},
    "CronJobSpec": {1: ("schedule", S), 2: ("startingDeadlineSeconds", "int?"), 3: ("concurrencyPolicy", S),
                    4: ("suspend", "bool?"), 5: ("jobTemplate", "M:JobTemplateSpec"),
                    6: ("successfulJobsHistoryLimit", "int?"), 7: ("failedJobsHistoryLimit", "int?"),
                    8: ("timeZone", "str?")},
    "JobTemplateSpec": {1: ("metadata", "M:ObjectMeta"), 2: ("spec", "M:JobSpec")},
    "PodDisruptionBudget": {1: ("metadata", "M:ObjectMeta"), 2: ("spec", "M:PodDisruptionBudgetSpec")},
    "PodDisruptionBudgetSpec": {1: ("minAvailable", "intorstr?"), 2: ("selector", "M:LabelSelector"),
                                3: ("maxUnavailable", "intorstr?"), 4: ("unhealthyPodEvictionPolicy", "str?")},
    # kubectl autoscale (autoscaling/v2; its fallback, autoscaling/v1, is not served)
    "HorizontalPodAutoscaler": {1: ("metadata", "M:ObjectMeta"), 2: ("spec", "M:HorizontalPodAutoscalerSpec")},
    "HorizontalPodAutoscalerSpec": {1: ("scaleTargetRef", "M:CrossVersionObjectReference"), 2: ("minReplicas", "int?"),
                                    3: ("maxReplicas", "int"), 4: ("metrics", "*M:MetricSpec")},
    "CrossVersionObjectReference": {1: ("kind", S), 2: ("name", S), 3: ("apiVersion", S)},
    "MetricSpec": {1: ("type", S), 4: ("resource", "M:ResourceMetricSource"),
                   7: ("containerResource", "M:ContainerResourceMetricSource")},
    "ResourceMetricSource": {1: ("name", S), 2: ("target", "M:MetricTarget")},
    "ContainerResourceMetricSource": {1: ("name", S), 2: ("target", "M:MetricTarget"), 3: ("container", S)},
    "MetricTarget": {1: ("type", S), 2: ("value", "quantity"), 3: ("averageValue", "quantity"),
                     4: ("averageUtilization", "int?")},
    "DeleteOptions": {1: ("gracePeriodSeconds", "int?"), 2: ("preconditions", "M:Preconditions"),
                      3: ("orphanDependents", "bool?"), 4: ("propagationPolicy", "str?"), 5: ("dryRun", "*str")},
    "Preconditions": {1: ("uid", "str?"), 2: ("resourceVersion", "str?")},
}

# (apiVersion, kind) -> top message
KINDS = {("v1", "Namespace"): "Namespace", ("v1", "ConfigMap"): "ConfigMap", ("v1", "Secret"): "Secret",
         ("v1", "ServiceAccount"): "ServiceAccount", ("v1", "Service"): "Service",
         ("v1", "ResourceQuota"): "ResourceQuota", ("authentication.k8s.io/v1", "TokenRequest"): "TokenRequest",
         ("v1", "DeleteOptions"): "DeleteOptions", ("meta.k8s.io/v1", "DeleteOptions"): "DeleteOptions",
         ("apps/v1", "Deployment"): "Deployment", ("batch/v1", "Job"): "Job", ("batch/v1", "CronJob"): "CronJob",
         ("policy/v1", "PodDisruptionBudget"): "PodDisruptionBudget",
         ("autoscaling/v2", "HorizontalPodAutoscaler"): "HorizontalPodAutoscaler",
         ("certificates.k8s.io/v1", "CertificateSigningRequest"): "CertificateSigningRequest",
         **{(f"{g}/v1", k): k for g, kinds in (
             ("authentication.k8s.io", ("SelfSubjectReview", "TokenReview")),
             ("authorization.k8s.io", ("SelfSubjectAccessReview", "SubjectAccessReview",
                                       "LocalSubjectAccessReview", "SelfSubjectRulesReview")),
             ("rbac.authorization.k8s.io", ("Role", "ClusterRole", "RoleBinding", "ClusterRoleBinding")))
            for k in kinds}}


MESSAGES.update(POD_MESSAGES)

# A created object's status is the server's to write (it resets what a client sends): kubectl's
# typed clients send an empty one. Known, and skipped.
for _top in set(KINDS.values()):
    if MESSAGES[_top].get(2, ("",))[0] == "spec":
        MESSAGES[_top].setdefault(3, ("status", "ignored"))
MESSAGES["SelfSubjectReview"].setdefault(2, ("status", "ignored"))


class _Malformed(ValueError):
    pass


def _varint(buf: bytes, i: int) -> tuple[int, int]:
    shift = result = 0
    while True:
        if i >= len(buf) or shift > 63:
            raise _Malformed("truncated varint")
        b = buf[i]
        i += 1
        result |= (b & 0x7F) << shift
        if not b & 0x80:
            return result, i
        shift += 7


def fields(buf: bytes) -> list[tuple[int, int, object]]:
    """The wire-level fields of a message: (number, wire type, int | bytes)."""
    out, i = [], 0
    while i < len(buf):
        tag, i = _varint(buf, i)
        num, wt = tag >> 3, tag & 7
        if wt == 0:
            v, i = _varint(buf, i)
        elif wt == 2:
            n, i = _varint(buf, i)
            if i + n > len(buf):
                raise _Malformed("truncated field")
            v, i = buf[i:i + n], i + n
        elif wt == 1:
            v, i = int.from_bytes(buf[i:i + 8], "little"), i + 8
        elif wt == 5:
            v, i = int.from_bytes(buf[i:i + 4], "little"), i + 4
        else:
            raise _Malformed(f"wire type {wt}")
        out.append((num, wt, v))
    return out


def _signed(v: int) -> int:
    return v - (1 << 64) if v >= 1 << 63 else v


def _text(v) -> str:
    if not isinstance(v, bytes):
        raise _Malformed("expected bytes")
    return v.decode("utf-8")


def _time(buf: bytes) -> str:
    seconds = 0
    for num, _, v in fields(buf):
        if num == 1:
            seconds = _signed(v)
    if seconds == 0:
        return None
    return datetime.datetime.fromtimestamp(seconds, datetime.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


def _intorstr(buf: bytes):
    typ, ival, sval = 0, 0, ""
    for num, _, v in fields(buf):
        if num == 1:
            typ = v
        elif num == 2:
            ival = _signed(v)
        elif num == 3:
            sval = _text(v)
    return sval if typ == 1 else ival


def _scalar(typ: str, v):
    if typ == "str":
        return _text(v)
    if typ == "int":
        if not isinstance(v, int):
            raise _Malformed("expected a number")
        return _signed(v)
    if typ == "bool":
        return bool(v)
    if typ == "bytes":
        return base64.b64encode(v).decode()
    if typ == "time":
        return _time(v)
    if typ == "quantity":
        return next((_text(x) for n, _, x in fields(v) if n == 1), "0")
    if typ == "intorstr":
        return _intorstr(v)
    if typ == "strlist":  # a message of one repeated string (authentication's ExtraValue): a list in JSON
        return [_text(x) for n, _, x in fields(v) if n == 1]
    if typ == "raw":
        import orjson
        return orjson.loads(v) if v else {}
    if typ.startswith("M:"):
        return message(typ[2:], v)
    raise _Malformed(f"type {typ}")


def message(name: str, buf: bytes) -> dict:
    table = MESSAGES[name]
    out: dict = {}
    for num, wire, v in fields(buf):
        spec = table.get(num)
        if spec is None:
            # refused rather than dropped: a field silently lost (a probe, an affinity) is worse
            # than a request the client sees fail
            raise _Malformed(f"field {num} of {name} is not known to this server")
        key, typ = spec
        if typ == "ignored":
            continue
        if typ.startswith("inline:"):  # an embedded Go struct: its fields sit in this object in JSON
            out.update(message(typ[7:], v))
        elif typ.startswith("map:"):
            k = val = None
            for n, _, x in fields(v):
                if n == 1:
                    k = _text(x)
                elif n == 2:
                    val = x
            out.setdefault(key, {})[k or ""] = _scalar(typ[4:], val if val is not None else b"")
        elif typ == "*int" and wire == 2:  # a packed repeated number: varints back to back
            items, i = out.setdefault(key, []), 0
            while i < len(v):
                n, i = _varint(v, i)
                items.append(_signed(n))
        elif typ.startswith("*"):
            out.setdefault(key, []).append(_scalar(typ[1:], v))
        else:
            pointer = typ.endswith("?")
            value = _scalar(typ.rstrip("?"), v)
            if value is None:
                continue  # a zero metav1.Time is null in JSON
            if pointer or value not in ("", 0, False):  # non-pointer zero values mean "unset" in JSON
                out[key] = value
    if name == "FieldsV1":
        return out.get("Raw", {})
    return out


def decode(body: bytes) -> dict:
    """A protobuf request body → the object as a dict (415 for kinds we cannot read)."""
    if not body.startswith(MAGIC):
        raise errors.bad_request("provided protobuf data does not start with the Kubernetes prefix")
    try:
        api_version = kind = ""
        raw = b""
        for num, _, v in fields(body[len(MAGIC):]):
            if num == 1:
                for n, _, x in fields(v):
                    if n == 1:
                        api_version = _text(x)
                    elif n == 2:
                        kind = _text(x)
            elif num == 2:
                raw = v
        top = KINDS.get((api_version, kind))
        if top is None:
            raise errors.unsupported_media_type(CONTENT_TYPE)
        obj = message(top, raw)
    except (_Malformed, UnicodeDecodeError, KeyError) as e:
        raise errors.bad_request(f"unable to decode protobuf body: {e}") from None
    return {"apiVersion": api_version, "kind": kind, **obj}
