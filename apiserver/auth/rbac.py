"""The RBAC authorizer: Roles, ClusterRoles and their bindings, read from the store.

For a request, every ClusterRoleBinding and every RoleBinding of the request's
namespace whose subjects name the user contributes its role's rules; the first
rule that covers the request allows it. RBAC never denies: no matching rule is
"no opinion", so a later --authorization-mode may still allow.

ClusterRoles with an aggregationRule take the rules of every ClusterRole whose
labels match one of its selectors (matchLabels), recursively, computed when
read: what upstream's aggregation controller writes into them.

Writes of roles and bindings that would grant more than the writer holds are
refused by rbac_escalation.py, which asks this authorizer what the writer holds.
"""
from __future__ import annotations

from apiserver.machinery.user import UserInfo
from apiserver.registry.options import ListOptions

from .rbac_rules import describe_subject, matching_subject, rule_allows, rule_infos

GROUP = "rbac.authorization.k8s.io"


def _matches_labels(selector: dict, labels: dict) -> bool:
    want = (selector or {}).get("matchLabels") or {}
    if (selector or {}).get("matchExpressions"):
        return False  # only matchLabels selectors are understood here
    return bool(want) and all(labels.get(k) == v for k, v in want.items())


def _aggregated(role: dict, by_name: dict[str, dict], seen: set[str]) -> list[dict]:
    """A ClusterRole's rules with those of every role its selectors match, through chains
    (admin <- edit <- view, as upstream's controller builds them), each role once."""
    seen.add((role.get("metadata") or {}).get("name"))
    rules = list(role.get("rules") or ())
    selectors = (role.get("aggregationRule") or {}).get("clusterRoleSelectors") or ()
    for name, other in by_name.items():
        labels = (other.get("metadata") or {}).get("labels") or {}
        if name not in seen and any(_matches_labels(s, labels) for s in selectors):
            rules.extend(_aggregated(other, by_name, seen))
    return rules


class RBACAuthorizer:
    def __init__(self, registries):
        self.registries = registries

    def _store(self, plural: str):
        return self.registries.for_plural(GROUP, plural)

    async def _list(self, plural: str, namespace: str = "") -> list[dict]:
        page = await self._store(plural).list(namespace, ListOptions())
        return [so.obj for so in page.items]

    async def role_rules(self, ref: dict, namespace: str) -> tuple[list[dict] | None, str]:
        """(rules, error) of a binding's roleRef; None rules when the role is missing."""
        kind, name = ref.get("kind"), ref.get("name", "")
        if kind == "Role":
            so = await self._store("roles").get_or_none(namespace, name)
            if so is None:
                return None, f'role.{GROUP} "{name}" not found'
            return list(so.obj.get("rules") or ()), ""
        if kind == "ClusterRole":
            so = await self._store("clusterroles").get_or_none("", name)
            if so is None:
                return None, f'clusterrole.{GROUP} "{name}" not found'
            role = so.obj
            if (role.get("aggregationRule") or {}).get("clusterRoleSelectors"):
                by_name = {(r.get("metadata") or {}).get("name"): r for r in await self._list("clusterroles")}
                return _aggregated(role, by_name, set()), ""
            return list(role.get("rules") or ()), ""
        return None, f"unknown roleRef kind {kind!r}"

    async def _applicable(self, user: UserInfo, namespace: str):
        """(binding kind, binding, subject, rules) for every binding naming the user, and errors met."""
        found, problems = [], []
        sources = [("ClusterRoleBinding", b) for b in await self._list("clusterrolebindings")]
        if namespace:
            sources += [("RoleBinding", b) for b in await self._list("rolebindings", namespace)]
        for kind, binding in sources:
            subject = matching_subject(binding, user)
            if subject is None:
                continue
            rules, err = await self.role_rules(binding.get("roleRef") or {},
                                                (binding.get("metadata") or {}).get("namespace", ""))
            if rules is None:
                problems.append(err)
                continue
            found.append((kind, binding, subject, rules))
        return found, problems

    async def decide(self, user: UserInfo, attrs) -> tuple[bool | None, str]:
        namespace = attrs.namespace if attrs.is_resource_request else ""
        found, problems = await self._applicable(user, namespace)
        for kind, binding, subject, rules in found:
            if any(rule_allows(r, attrs) for r in rules):
                meta = binding.get("metadata") or {}
                bname = meta.get("name", "")
                if kind == "RoleBinding":
                    bname = f"{bname}/{meta.get('namespace', '')}"
                ref = binding.get("roleRef") or {}
                return True, (f'RBAC: allowed by {kind} "{bname}" of {ref.get("kind")} "{ref.get("name")}" '
                              f'to {describe_subject(subject, meta.get("namespace", ""))}')
        return None, "; ".join(f"RBAC: {p}" for p in problems)

    async def rules_for(self, user: UserInfo, namespace: str) -> tuple[list[dict], list[dict], list[str]]:
        """(resourceRules, nonResourceRules, evaluation errors) for SelfSubjectRulesReview."""
        found, problems = await self._applicable(user, namespace)
        res, nonres = [], []
        for _kind, _binding, _subject, rules in found:
            r, n = rule_infos(rules)
            res.extend(r)
            nonres.extend(n)
        return res, nonres, problems
