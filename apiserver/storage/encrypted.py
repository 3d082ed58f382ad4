"""A Store that encrypts chosen resources' values on their way to the backend.

It sits right above the backend (below the watch cache), so the cache, the
registry and watchers see plain values while SQLite and etcd only ever hold what
`envelope.ProviderChain.seal` made of them. `chain_for(key)` says which chain, if
any, applies to a key (the EncryptionConfiguration's resources, resolved by the
assembly). Values read with an old key come back as StaleKeyValue, so that the
registry writes them again even when nothing changed (key rotation).
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Callable

from .envelope import ProviderChain
from .forwarding import ForwardingStore
from .interface import KeyValue, ListResult, RevisionConflictError, Store, WatchEvent


@dataclass(frozen=True, slots=True)
class StaleKeyValue(KeyValue):
    """A value read with a provider or key other than the one that writes now."""

    stale = True


class EncryptedStore(ForwardingStore):
    """Only the calls that carry values change; guaranteed_update stays Store's own
    read-modify-write through them (a backend's native one would bypass encryption)."""

    def __init__(self, backend: Store, chain_for: Callable[[str], ProviderChain | None]):
        super().__init__(backend)
        self.chain_for = chain_for

    # ---- the two directions ---------------------------------------------------
    def _seal(self, key: str, value: bytes) -> bytes:
        chain = self.chain_for(key)
        return chain.seal(value, key) if chain is not None else value

    def _open(self, kv: KeyValue | None) -> KeyValue | None:
        if kv is None or not kv.value:
            return kv
        chain = self.chain_for(kv.key)
        if chain is None:
            return kv
        plain, stale = chain.open(kv.value, kv.key)
        cls = StaleKeyValue if stale else KeyValue
        return cls(kv.key, plain, kv.mod_revision, kv.create_revision)

    def _open_event(self, ev: WatchEvent) -> WatchEvent:
        if ev.type == "BOOKMARK":
            return ev
        return WatchEvent(ev.type, self._open(ev.kv), self._open(ev.prev))

    # ---- the Store contract ---------------------------------------------------
    async def create(self, key, value):
        return await self.backend.create(key, self._seal(key, value))

    async def get(self, key):
        return self._open(await self.backend.get(key))

    async def update(self, key, value, expected_revision=None):
        try:
            return await self.backend.update(key, self._seal(key, value), expected_revision)
        except RevisionConflictError as e:
            raise RevisionConflictError(key, self._open(e.current)) from None

    async def delete(self, key, expected_revision=None):
        try:
            return self._open(await self.backend.delete(key, expected_revision))
        except RevisionConflictError as e:
            raise RevisionConflictError(key, self._open(e.current)) from None

    async def list(self, prefix, *, limit=0, start_key=None, revision=0):
        res = await self.backend.list(prefix, limit=limit, start_key=start_key, revision=revision)
        return ListResult([self._open(kv) for kv in res.items], res.revision, res.more, res.remaining)

    def watch(self, prefix, from_revision, **kwargs):
        return _OpenedWatch(self.backend.watch(prefix, from_revision, **kwargs), self._open_event)


class _OpenedWatch:
    """The backend's watch stream, its events decrypted as they are read."""

    def __init__(self, inner, open_event):
        self.inner, self._open_event = inner, open_event

    def __getattr__(self, name):   # push, request_progress, start, aclose, last_revision...
        return getattr(self.inner, name)

    def __aiter__(self):
        return self

    async def __anext__(self):
        return self._open_event(await self.inner.__anext__())

    def take_buffered(self):
        return [self._open_event(ev) for ev in self.inner.take_buffered()]
