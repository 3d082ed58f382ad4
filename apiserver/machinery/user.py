"""Who is making a request, as authenticators report it (user.Info upstream)."""
from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(frozen=True, slots=True)
class UserInfo:
    name: str
    uid: str = ""
    groups: tuple[str, ...] = ()
    extra: dict[str, tuple[str, ...]] = field(default_factory=dict)

    def to_dict(self) -> dict:
        d: dict = {"username": self.name}
        if self.uid:
            d["uid"] = self.uid
        if self.groups:
            d["groups"] = list(self.groups)
        if self.extra:
            d["extra"] = {k: list(v) for k, v in self.extra.items()}
        return d


ANONYMOUS = UserInfo("system:anonymous", groups=("system:unauthenticated",))


NODES_GROUP = "system:nodes"
NODE_USER_PREFIX = "system:node:"


def node_name(user: UserInfo) -> str | None:
    """The node a user is (`system:node:<name>` in group system:nodes), or None:
    upstream's NodeIdentifier, read by the Node authorizer and NodeRestriction."""
    if NODES_GROUP in user.groups and user.name.startswith(NODE_USER_PREFIX):
        return user.name[len(NODE_USER_PREFIX):] or None
    return None
