"""RBAC's escalation check: nobody grants through a role or a binding more than they hold.

On create/update of a Role or ClusterRole, the writer must be allowed the verb
`escalate` on it, or already hold every rule it contains; on a RoleBinding or
ClusterRoleBinding, the writer must be allowed `bind` on the role it refers
to, or hold every rule of that role. "Hold" is what RBAC grants the writer in
the object's namespace (cluster bindings only, for cluster-scoped objects).
The `escalate` / `bind` question goes to the whole authorizer chain, so under
AlwaysAllow this never refuses; system:masters is always allowed.

It runs as a wrapper around the validating admission phase (the registry hands
it the writer and the object), installed by the assembly (apiserver/assembly/server.py).
"""
from __future__ import annotations

from apiserver.machinery import errors
from apiserver.machinery.user import UserInfo
from apiserver.registry.attributes import AdmitFunc, Attributes

from .rbac_rules import non_resource_url_matches
from .reviews import AccessAttributes
from .tokens import MASTERS_GROUP

GROUP = "rbac.authorization.k8s.io"
_ROLE_KINDS = {"Role": "roles", "ClusterRole": "clusterroles"}
_BINDING_KINDS = ("RoleBinding", "ClusterRoleBinding")


def _atoms(rule: dict):
    """A rule as single (verb, group, resource, name) or (verb, url) grants."""
    verbs = rule.get("verbs") or ()
    for url in rule.get("nonResourceURLs") or ():
        for v in verbs:
            yield ("url", v, url)
    for g in rule.get("apiGroups") or ([""] if rule.get("resources") else ()):
        for r in rule.get("resources") or ():
            for n in rule.get("resourceNames") or ("",):
                for v in verbs:
                    yield ("res", v, g, r, n)


def _owner_grants(owner: dict, atom) -> bool:
    verbs = owner.get("verbs") or ()
    if "*" not in verbs and atom[1] not in verbs:
        return False
    if atom[0] == "url":
        return non_resource_url_matches(owner.get("nonResourceURLs"), atom[2])
    _, _, group, resource, name = atom
    groups = owner.get("apiGroups") or ()
    if "*" not in groups and group not in groups:
        return False
    resources = owner.get("resources") or ()
    sub = resource.partition("/")[2]
    if not ("*" in resources or resource in resources or (sub and f"*/{sub}" in resources)):
        return False
    names = owner.get("resourceNames") or ()
    return not names or (name != "" and name in names)


def not_held(requested: list[dict], owned: list[dict]) -> list[dict]:
    """The requested rules some part of which no owned rule grants (pure)."""
    return [r for r in requested if not all(any(_owner_grants(o, a) for o in owned) for a in _atoms(r))]


def _format_rule(rule: dict) -> str:
    parts = []
    for key, label in (("apiGroups", "APIGroups"), ("resources", "Resources"), ("resourceNames", "ResourceNames"),
                       ("nonResourceURLs", "NonResourceURLs"), ("verbs", "Verbs")):
        if rule.get(key):
            parts.append(f"{label}:[" + " ".join(f'"{v}"' for v in rule[key]) + "]")
    return "{" + ", ".join(parts) + "}"


def _forbidden(attrs: Attributes, missing: list[dict]) -> errors.StatusError:
    u = attrs.user
    where = f' in namespace "{attrs.namespace}"' if attrs.namespace else ""
    msg = (f'{attrs.resource.plural}.{GROUP} "{attrs.name}" is forbidden: user "{u.name}" (groups='
           f'{list(u.groups)!r}) is attempting to grant RBAC permissions not currently held{where}:\n'
           + "\n".join(_format_rule(r) for r in missing))
    return errors.forbidden(msg.replace("'", '"'), name=attrs.name, group=GROUP, kind=attrs.resource.plural)


def escalation_guard(validate: AdmitFunc, authorizer, rbac) -> AdmitFunc:
    """`validate`, preceded by the escalation check on writes of RBAC objects."""

    async def allowed(user: UserInfo, verb: str, plural: str, namespace: str, name: str) -> bool:
        ok, _ = await authorizer.authorize(user, AccessAttributes(
            verb=verb, is_resource_request=True, namespace=namespace, group=GROUP, resource=plural, name=name))
        return ok

    async def referenced_rules(attrs: Attributes, obj: dict, namespace: str) -> list[dict]:
        rules, problem = await rbac.role_rules(obj.get("roleRef") or {}, namespace)
        if rules is None:  # nothing to compare with: only those who may `bind` it may refer to it
            raise errors.forbidden(f'{attrs.resource.plural}.{GROUP} "{attrs.name}" is forbidden: {problem}',
                                   name=attrs.name, group=GROUP, kind=attrs.resource.plural)
        return rules

    async def guarded(attrs: Attributes) -> None:
        r = attrs.resource
        if r.group == GROUP and attrs.operation in ("CREATE", "UPDATE") and attrs.object is not None \
                and MASTERS_GROUP not in attrs.user.groups:
            await check(attrs)
        await validate(attrs)

    async def check(attrs: Attributes) -> None:
        obj, kind, ns = attrs.object, attrs.resource.kind, attrs.namespace
        if kind in _ROLE_KINDS:
            if await allowed(attrs.user, "escalate", _ROLE_KINDS[kind], ns, attrs.name):
                return
            if (obj.get("aggregationRule") or {}).get("clusterRoleSelectors"):
                # Aggregation pulls in other roles' rules: only for those who may escalate (as upstream).
                raise errors.forbidden(f'clusterroles.{GROUP} "{attrs.name}" is forbidden: must have '
                                       "cluster-admin privileges to use the aggregationRule",
                                       name=attrs.name, group=GROUP, kind="clusterroles")
            requested = list(obj.get("rules") or ())
        elif kind in _BINDING_KINDS:
            ref = obj.get("roleRef") or {}
            ref_plural = _ROLE_KINDS.get(ref.get("kind", ""), "")
            if ref_plural and await allowed(attrs.user, "bind", ref_plural, ns, ref.get("name", "")):
                return
            requested = await referenced_rules(attrs, obj, ns)
        else:
            return
        res, nonres, _ = await rbac.rules_for(attrs.user, ns)
        missing = not_held(requested, res + nonres)
        if missing:
            raise _forbidden(attrs, missing)

    return guarded
