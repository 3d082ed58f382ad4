"""The answers of the review APIs, as pure functions of the request and a decision.

authentication.k8s.io/v1   SelfSubjectReview   who am I (the request's own user)
                           TokenReview         who is this token (status.authenticated, user, audiences, error)
authorization.k8s.io/v1    SelfSubjectAccessReview  may I do X
                           SubjectAccessReview      may user U (groups G) do X
                           LocalSubjectAccessReview the same, within the URL's namespace
                           SelfSubjectRulesReview   what may I do in namespace N

The HTTP glue (http/handlers/reviews.py) asks the server's own authenticator
and authorizer, then calls these to check the spec and shape the response:
the request echoed back (spec as sent) with status filled, as upstream does.
"""
from __future__ import annotations

from dataclasses import dataclass, field

from apiserver.machinery import errors
from apiserver.machinery.user import UserInfo

from .tokens import MASTERS_GROUP

AUTHN = "authentication.k8s.io"
AUTHZ = "authorization.k8s.io"


def _echo(body: dict, api_version: str, kind: str) -> dict:
    """The request as the response starts from: type meta set, metadata kept, status replaced."""
    meta = dict(body.get("metadata") or {})
    meta.setdefault("creationTimestamp", None)
    out = {"kind": kind, "apiVersion": api_version, "metadata": meta}
    if "spec" in body:
        out["spec"] = body["spec"]
    return out


def user_info_dict(user: UserInfo) -> dict:
    """authentication.k8s.io UserInfo: username, uid, groups, extra (empty parts left out)."""
    return user.to_dict()


# --- authentication.k8s.io ------------------------------------------------------

def self_subject_review(body: dict, user: UserInfo) -> dict:
    out = _echo(body, f"{AUTHN}/v1", "SelfSubjectReview")
    out["status"] = {"userInfo": user_info_dict(user)}
    return out


def token_review_spec(body: dict) -> tuple[str, tuple[str, ...]]:
    """(token, audiences) of a TokenReview; 422 when the token is missing."""
    spec = body.get("spec") or {}
    if not isinstance(spec, dict):
        raise errors.bad_request("TokenReview spec must be an object")
    token = spec.get("token") or ""
    if not isinstance(token, str) or not token:
        name = (body.get("metadata") or {}).get("name", "")
        raise errors.invalid(AUTHN, "TokenReview", name, [
            errors.Cause("FieldValueRequired", "Required value: token is required", "spec.token")])
    audiences = spec.get("audiences") or ()
    if not isinstance(audiences, (list, tuple)) or not all(isinstance(a, str) for a in audiences):
        raise errors.bad_request("spec.audiences must be a list of strings")
    return token, tuple(audiences)


def token_review(body: dict, user: UserInfo | None, audiences: tuple[str, ...], error: str = "") -> dict:
    out = _echo(body, f"{AUTHN}/v1", "TokenReview")
    out.setdefault("spec", {})
    status: dict = {}
    if user is not None:
        status["authenticated"] = True
        status["user"] = user_info_dict(user)
        status["audiences"] = list(audiences)
    else:
        status["user"] = {}
        if error:
            status["error"] = error
    out["status"] = status
    return out


# --- authorization.k8s.io --------------------------------------------------------

@dataclass(slots=True)
class AccessAttributes:
    """What a review asks about, in the shape the authorizer reads from a real request
    (the same field names as http.requestinfo.RequestInfo)."""
    verb: str
    is_resource_request: bool
    namespace: str = ""
    group: str = ""
    version: str = ""
    resource: str = ""
    subresource: str = ""
    name: str = ""
    path: str = ""
    api_prefix: str = ""
    parts: list[str] = field(default_factory=list)

    @property
    def api_group(self) -> str:
        return self.group


def _spec_invalid(kind: str, name: str, cause: errors.Cause) -> errors.StatusError:
    return errors.invalid(AUTHZ, kind, name, [cause])


def access_attributes(body: dict, kind: str) -> AccessAttributes:
    """The attributes a (Self)SubjectAccessReview asks about; exactly one kind of attributes must be set."""
    spec = body.get("spec")
    name = (body.get("metadata") or {}).get("name", "")
    if not isinstance(spec, dict):
        spec = {}
    res, nonres = spec.get("resourceAttributes"), spec.get("nonResourceAttributes")
    if res is None and nonres is None:
        raise _spec_invalid(kind, name, errors.Cause(
            "FieldValueRequired",
            "Required value: exactly one of nonResourceAttributes or resourceAttributes must be specified",
            "spec.resourceAttributes"))
    if res is not None and nonres is not None:
        raise _spec_invalid(kind, name, errors.Cause(
            "FieldValueInvalid", "Invalid value: \"\": cannot be specified in combination with resourceAttributes",
            "spec.nonResourceAttributes"))
    if res is not None:
        if not isinstance(res, dict):
            raise errors.bad_request("spec.resourceAttributes must be an object")
        g = lambda k: str(res.get(k) or "")  # noqa: E731 - absent and null both mean "" upstream
        return AccessAttributes(verb=g("verb"), is_resource_request=True, namespace=g("namespace"),
                                group=g("group"), version=g("version"), resource=g("resource"),
                                subresource=g("subresource"), name=g("name"))
    if not isinstance(nonres, dict):
        raise errors.bad_request("spec.nonResourceAttributes must be an object")
    return AccessAttributes(verb=str(nonres.get("verb") or ""), is_resource_request=False,
                            path=str(nonres.get("path") or ""))


def local_access_attributes(body: dict, namespace: str) -> AccessAttributes:
    """A LocalSubjectAccessReview asks about its own namespace only, and about resources only."""
    name = (body.get("metadata") or {}).get("name", "")
    spec = body.get("spec") if isinstance(body.get("spec"), dict) else {}
    if spec.get("nonResourceAttributes") is not None:
        raise _spec_invalid("LocalSubjectAccessReview", name, errors.Cause(
            "FieldValueInvalid", "Invalid value: \"\": disallowed on this kind of request",
            "spec.nonResourceAttributes"))
    attrs = access_attributes(body, "LocalSubjectAccessReview")
    if attrs.namespace != namespace:
        raise errors.bad_request(f"spec.resourceAttributes.namespace must match namespace: {namespace}")
    body_ns = (body.get("metadata") or {}).get("namespace")
    if body_ns and body_ns != namespace:
        raise errors.bad_request("the namespace of the provided object does not match the namespace sent on "
                                 "the request")
    return attrs


def subject_user(body: dict, kind: str = "SubjectAccessReview") -> UserInfo:
    """The user a (Local)SubjectAccessReview asks about (spec.user, groups, uid, extra)."""
    spec = body.get("spec") or {}
    user, groups = spec.get("user") or "", spec.get("groups") or []
    if not user and not groups:
        raise _spec_invalid(kind, (body.get("metadata") or {}).get("name", ""), errors.Cause(
            "FieldValueInvalid", 'Invalid value: "": at least one of user or group must be specified', "spec.user"))
    if not isinstance(groups, list) or not all(isinstance(x, str) for x in groups):
        raise errors.bad_request("spec.groups must be a list of strings")
    extra = spec.get("extra") or {}
    if not isinstance(extra, dict):
        raise errors.bad_request("spec.extra must be an object")
    return UserInfo(str(user), uid=str(spec.get("uid") or ""), groups=tuple(groups),
                    extra={k: tuple(v or ()) for k, v in extra.items()})


def access_review(body: dict, kind: str, allowed: bool, reason: str = "", evaluation_error: str = "") -> dict:
    out = _echo(body, f"{AUTHZ}/v1", kind)
    status: dict = {"allowed": bool(allowed)}
    if reason:
        status["reason"] = reason
    if evaluation_error:
        status["evaluationError"] = evaluation_error
    out["status"] = status
    return out


# --- rules ----------------------------------------------------------------------

ALL_RESOURCES = {"verbs": ["*"], "apiGroups": ["*"], "resources": ["*"]}
ALL_NON_RESOURCES = {"verbs": ["*"], "nonResourceURLs": ["*"]}
RBAC_PENDING = "RBAC is not implemented yet: only system:masters rules are known"


@dataclass(slots=True)
class Rules:
    resource_rules: list[dict] = field(default_factory=list)
    non_resource_rules: list[dict] = field(default_factory=list)
    incomplete: bool = False
    evaluation_errors: list[str] = field(default_factory=list)


def rules_for(modes: list[str], user: UserInfo, rbac: tuple[list, list, list[str]] | None = None) -> Rules:
    """What each --authorization-mode says the user may do (their union, as upstream).

    system:masters may do everything whatever the modes; AlwaysAllow grants
    everything; AlwaysDeny grants nothing (and knows it: the list is complete);
    RBAC lists the rules of the user's bindings (`rbac`: what RBACAuthorizer.rules_for
    found); without them the answer is marked incomplete.
    """
    rules = Rules()
    if MASTERS_GROUP in user.groups or "AlwaysAllow" in modes:
        rules.resource_rules.append(dict(ALL_RESOURCES))
        rules.non_resource_rules.append(dict(ALL_NON_RESOURCES))
        return rules
    if "RBAC" in modes:
        if rbac is None:
            rules.incomplete = True
            rules.evaluation_errors.append(RBAC_PENDING)
        else:
            res, nonres, problems = rbac
            rules.resource_rules.extend(res)
            rules.non_resource_rules.extend(nonres)
            if problems:
                rules.incomplete = True
                rules.evaluation_errors.extend(problems)
    return rules


def rules_review_namespace(body: dict) -> str:
    spec = body.get("spec") or {}
    ns = spec.get("namespace") if isinstance(spec, dict) else None
    if not ns or not isinstance(ns, str):
        raise errors.bad_request("no namespace on request")
    return ns


def self_subject_rules_review(body: dict, rules: Rules) -> dict:
    out = _echo(body, f"{AUTHZ}/v1", "SelfSubjectRulesReview")
    status: dict = {"resourceRules": rules.resource_rules, "nonResourceRules": rules.non_resource_rules,
                    "incomplete": rules.incomplete}
    if rules.evaluation_errors:
        status["evaluationError"] = ", ".join(rules.evaluation_errors)
    out["status"] = status
    return out
