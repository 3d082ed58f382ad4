"""Authorizers, chosen by --authorization-mode (a comma list, tried in order, as upstream).

Modes here (the default is Node,RBAC, as kubeadm sets it):
  AlwaysAllow   every authenticated request is allowed
  AlwaysDeny    nothing is allowed (useful in tests)
  Node          what nodes need, and only for their own pods (auth/node_authorizer.py)
  RBAC          roles and bindings from the store (auth/rbac.py, passed in as `rbac`);
                without it, only system:masters; no matching rule is "no opinion",
                so a later mode may decide
Members of system:masters are always allowed, whatever the modes, as upstream
(the group bypasses authorization entirely).

The interface the HTTP layer calls: `async authorize(user, attributes) -> (allowed, reason)`.
The attributes are whatever the HTTP layer passes; only the user is read here.
"""
from __future__ import annotations

import inspect
from typing import Any

from apiserver.machinery.user import UserInfo

from .tokens import MASTERS_GROUP

KNOWN_MODES = ("AlwaysAllow", "AlwaysDeny", "Node", "RBAC")

# (decision, reason): decision is True (allow), False (deny) or None (no opinion: ask the next one).
Decision = tuple[bool | None, str]


def _always_allow(user: UserInfo, attributes: Any) -> Decision:
    return True, ""


def _always_deny(user: UserInfo, attributes: Any) -> Decision:
    return False, "Everything is forbidden."


def _rbac_placeholder(user: UserInfo, attributes: Any) -> Decision:
    # Roles and bindings are not evaluated yet; masters were already let through.
    return None, "RBAC: no rules evaluated (RBAC is not implemented yet)"


def _no_opinion(user: UserInfo, attributes: Any) -> Decision:
    return None, ""


_MODES = {"AlwaysAllow": _always_allow, "AlwaysDeny": _always_deny, "RBAC": _rbac_placeholder,
          "Node": _no_opinion}


def parse_modes(value: str) -> list[str]:
    modes = [m.strip() for m in value.split(",") if m.strip()]
    if not modes:
        raise ValueError("--authorization-mode must name at least one mode")
    for m in modes:
        if m not in _MODES:
            raise ValueError(f"--authorization-mode: unknown mode {m!r}; known: {', '.join(KNOWN_MODES)}")
    return modes


class ModeAuthorizer:
    def __init__(self, modes: list[str], rbac=None, node=None):
        self.modes = list(modes)
        # `rbac` (auth/rbac.RBACAuthorizer, async, reads roles from the store) replaces the placeholder;
        # `node` (auth/node_authorizer.NodeAuthorizer) the Node mode's.
        self.rbac = rbac
        real = {"RBAC": rbac, "Node": node}
        self._chain = [real[m].decide if real.get(m) is not None else _MODES[m] for m in self.modes]

    async def authorize(self, user: UserInfo, attributes: Any) -> tuple[bool, str]:
        if MASTERS_GROUP in user.groups:
            return True, ""
        reasons = []
        for decide in self._chain:
            decision = decide(user, attributes)
            allowed, reason = (await decision) if inspect.isawaitable(decision) else decision
            if allowed is not None:
                return allowed, reason
            if reason:
                reasons.append(reason)
        return False, "; ".join(reasons)
