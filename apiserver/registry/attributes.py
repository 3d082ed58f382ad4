"""What admission plugins and the generic registry share about one write.

The registry calls the admission chain through two callbacks it is given
(mutate, then validate) and hands them these attributes; it never imports the
admission package, which sits above it.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Awaitable, Callable, Literal

from openapi.catalogue import Resource

from apiserver.machinery.user import UserInfo

Operation = Literal["CREATE", "UPDATE", "DELETE", "CONNECT"]


@dataclass(slots=True)
class Attributes:
    operation: Operation
    resource: Resource
    subresource: str          # "" for the main resource
    namespace: str            # "" for cluster-scoped
    name: str
    object: dict | None       # the incoming object (mutable by mutating plugins)
    old_object: dict | None   # the stored object on UPDATE/DELETE
    user: UserInfo
    dry_run: bool = False
    options: dict = field(default_factory=dict)   # CreateOptions/UpdateOptions/DeleteOptions as sent
    warnings: list[str] = field(default_factory=list)  # appended by plugins, returned as Warning headers


# A plugin phase: raises StatusError to refuse, mutates attrs.object to change it.
AdmitFunc = Callable[[Attributes], Awaitable[None]]


async def admit_nothing(attrs: Attributes) -> None:
    """The chain used when admission is off (and in registry unit tests)."""
    return None
