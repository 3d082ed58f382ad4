"""The Store contract that every storage backend (SQLite, etcd) keeps.

Values are opaque bytes (JSON-encoded objects *without* metadata.resourceVersion:
the revision is the store's business and is set on read by the layers above).
Keys look like kube-apiserver's: /registry/<resource>/<namespace>/<name>.

Every write gets a new, strictly increasing revision. An object's revision is
the revision of its last write (etcd's mod_revision).
"""
from __future__ import annotations

import abc
from dataclasses import dataclass
from typing import AsyncIterator, Awaitable, Callable, Literal


class StoreError(Exception):
    """Base of storage errors; the registry maps them to API Status errors."""


class KeyExistsError(StoreError):
    def __init__(self, key: str):
        super().__init__(f"key exists: {key}")
        self.key = key


class KeyNotFoundError(StoreError):
    def __init__(self, key: str):
        super().__init__(f"key not found: {key}")
        self.key = key


class RevisionConflictError(StoreError):
    """The key's current revision differs from the one the write was conditioned on."""

    def __init__(self, key: str, current: "KeyValue | None"):
        super().__init__(f"revision conflict: {key}")
        self.key = key
        self.current = current


class CompactedError(StoreError):
    """The requested revision is older than the compacted horizon (HTTP 410)."""

    def __init__(self, requested: int, compacted: int):
        super().__init__(f"revision {requested} compacted (horizon {compacted})")
        self.requested = requested
        self.compacted = compacted


class FutureRevisionError(StoreError):
    """The requested revision is newer than the store's current revision."""

    def __init__(self, requested: int, current: int):
        super().__init__(f"revision {requested} is in the future (current {current})")
        self.requested = requested
        self.current = current


class UnavailableError(StoreError):
    """The backend cannot be reached right now (HTTP 503 / readyz failure)."""


class ValueTooLargeError(StoreError):
    """The backend refuses a value this large (etcd's --max-request-bytes, 1.5 MiB
    by default): HTTP 413, as kube-apiserver answers it."""


@dataclass(frozen=True, slots=True)
class KeyValue:
    key: str
    value: bytes
    mod_revision: int
    create_revision: int


@dataclass(frozen=True, slots=True)
class WatchEvent:
    """One change. For DELETED, `kv.value` is the last value and `kv.mod_revision`
    is the revision of the delete itself. `prev` is the value before the change
    (None for ADDED).

    BOOKMARK (added for the watch cache; only sent to a watcher that asked for it
    with `request_progress()` on its stream): no change, `kv.mod_revision` is a
    revision up to which every change under the prefix has been delivered;
    `kv.key` is "" and `kv.value` is b""."""

    type: Literal["ADDED", "MODIFIED", "DELETED", "BOOKMARK"]
    kv: KeyValue
    prev: KeyValue | None = None

    @property
    def revision(self) -> int:
        return self.kv.mod_revision


@dataclass(frozen=True, slots=True)
class ListResult:
    items: list[KeyValue]
    revision: int        # the snapshot revision the list was read at
    more: bool           # more keys after the last one returned
    remaining: int       # how many keys remain after this page (0 when not more)


class Store(abc.ABC):
    """An async, revisioned key-value store with watch, as kube-apiserver needs."""

    @abc.abstractmethod
    async def create(self, key: str, value: bytes) -> int:
        """Write a new key; returns the revision. KeyExistsError if present."""

    @abc.abstractmethod
    async def get(self, key: str) -> KeyValue | None:
        """The current value of a key, or None."""

    @abc.abstractmethod
    async def update(self, key: str, value: bytes, expected_revision: int | None = None) -> int:
        """Replace a key's value; returns the new revision.

        KeyNotFoundError if absent; RevisionConflictError if expected_revision is
        given and is not the key's current mod_revision."""

    @abc.abstractmethod
    async def delete(self, key: str, expected_revision: int | None = None) -> KeyValue:
        """Delete a key; returns its last value with mod_revision = the delete's revision.

        KeyNotFoundError if absent; RevisionConflictError on a stale expected_revision."""

    @abc.abstractmethod
    async def list(
        self,
        prefix: str,
        *,
        limit: int = 0,
        start_key: str | None = None,
        revision: int = 0,
    ) -> ListResult:
        """Keys under prefix in key order, as one consistent snapshot.

        limit=0 means no limit. start_key (inclusive) continues a paged list.
        revision=0 means the current revision; an older one reads history
        (CompactedError if compacted, FutureRevisionError if not yet reached)."""

    @abc.abstractmethod
    def watch(self, prefix: str, from_revision: int) -> AsyncIterator[WatchEvent]:
        """Every change under prefix with revision > from_revision, in order,
        exactly once, then live changes until the iterator is closed.
        Raises CompactedError (on first iteration) when from_revision + 1 is
        older than the compacted horizon.

        The returned stream (apiserver.storage.stream.WatchStream) also has
        `aclose()` (always call it, e.g. in a finally) and `request_progress()`
        (queue one BOOKMARK event; see WatchEvent), `start()` (attach now: replay
        history / raise CompactedError before the first read) and `push(event)`
        (a consumer may queue its own BOOKMARK ticks to wake its reader). The
        iterator simply ends if
        the watcher falls too far behind; re-watch from the last revision seen."""

    @abc.abstractmethod
    async def current_revision(self) -> int:
        """The newest revision in the store."""

    @abc.abstractmethod
    async def compacted_revision(self) -> int:
        """Revisions below this are gone from history (this one stays readable, as in etcd)."""

    @abc.abstractmethod
    async def compact(self, revision: int) -> None:
        """Forget history below revision (the state at `revision` and current values stay)."""

    async def healthy(self) -> bool:
        """True when the backend answers (readyz)."""
        try:
            await self.current_revision()
            return True
        except StoreError:
            return False

    async def close(self) -> None:
        """Release connections and background tasks."""

    async def get_not_older_than(self, key: str, revision: int) -> KeyValue | None:
        """The key's value in a state no older than `revision`; 0: any state this server has
        (upstream's GET with resourceVersion "0", or another, "not older than"). A backend
        answers a current read; the watch cache answers from memory when it may.
        FutureRevisionError when `revision` is newer than the store's."""
        await self._check_not_future(revision)
        return await self.get(key)

    async def list_not_older_than(
        self, prefix: str, revision: int, *, limit: int = 0, start_key: str | None = None
    ) -> ListResult:
        """A list (see `list`) at a revision no older than `revision` (0: any), as
        get_not_older_than; the ListResult's revision is the snapshot's."""
        await self._check_not_future(revision)
        return await self.list(prefix, limit=limit, start_key=start_key)

    async def _check_not_future(self, revision: int) -> None:
        if revision:
            current = await self.current_revision()
            if revision > current:
                raise FutureRevisionError(revision, current)

    async def reliable_progress(self) -> bool:
        """True when a BOOKMARK answering request_progress() is never ahead of
        events still to be delivered, so a watch cache may serve consistent
        reads from memory (added for the watch cache)."""
        return False

    async def guaranteed_update(
        self,
        key: str,
        mutate: Callable[[KeyValue], Awaitable[bytes | None]],
        *,
        attempts: int = 16,
    ) -> tuple[int, bytes] | None:
        """The read-modify-write loop: read, let `mutate` compute the new value
        (None: leave it as it is), write conditioned on the read revision, and
        retry on conflict. Returns (revision, value) written, or None if mutate
        declined. KeyNotFoundError if the key is absent."""
        for _ in range(attempts):
            current = await self.get(key)
            if current is None:
                raise KeyNotFoundError(key)
            new_value = await mutate(current)
            if new_value is None:
                return None
            try:
                rev = await self.update(key, new_value, expected_revision=current.mod_revision)
                return rev, new_value
            except RevisionConflictError:
                continue
        raise RevisionConflictError(key, None)
