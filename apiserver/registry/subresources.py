"""Subresources that are not plain status writes (binding, scale, finalize,
and those other parts of the server register: eviction, token...).

A handler answers some of get / update / create for `<resource>/<name>/<sub>`;
the HTTP layer calls whichever the verb needs. PATCH calls `patch` with a function from
what GET shows to the body wanted; the handler runs it inside the store's read-modify-write
loop (as upstream's patcher runs inside its update loop), so it may run more than once.
"""
from __future__ import annotations

from typing import TYPE_CHECKING, Callable, Protocol

from apiserver.registry.context import WriteContext

if TYPE_CHECKING:
    from apiserver.registry.store import GenericStore


class SubresourceHandler(Protocol):
    async def get(self, store: "GenericStore", namespace: str, name: str) -> dict: ...

    async def update(self, store: "GenericStore", namespace: str, name: str, body: dict,
                     ctx: WriteContext) -> dict: ...

    async def patch(self, store: "GenericStore", namespace: str, name: str,
                    patched: Callable[[dict], dict], ctx: WriteContext) -> dict: ...

    async def create(self, store: "GenericStore", namespace: str, name: str, body: dict,
                     ctx: WriteContext) -> tuple[int, dict]: ...


class VirtualCreate(Protocol):
    """A resource that is created but never stored (reviews, bindings):
    returns (HTTP code, response object)."""

    async def __call__(self, namespace: str, body: dict, ctx: WriteContext) -> tuple[int, dict]: ...
