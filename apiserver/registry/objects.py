"""Stored objects as the registry hands them out: decoded once, encoded once.

The store keeps JSON bytes without metadata.resourceVersion (the revision is the
store's business). Every reader (get, list, watch, 1,000 watchers of one event)
needs the same thing: the object with its resourceVersion set, as JSON bytes.
`ObjectCache` computes that once per (key, mod_revision) and shares the bytes,
so a list is a join of cached byte strings and a watch event is encoded once.
"""
from __future__ import annotations

import datetime
import os
import threading
import time
from collections import OrderedDict

import orjson

from apiserver.storage.interface import KeyValue


class StoredObject:
    """One version of one stored object. `obj` is shared: never mutate it;
    call `copy()` for a private dict."""

    __slots__ = ("key", "revision", "raw", "_obj", "_json", "_convert")

    def __init__(self, key: str, revision: int, raw: bytes, obj: dict | None = None, convert=None):
        self.key = key
        self.revision = revision
        self.raw = raw
        self._obj = obj
        self._json: bytes | None = None
        self._convert = convert

    def _decode(self) -> dict:
        o = orjson.loads(self.raw)
        if self._convert is not None:
            o = self._convert(o)
        if self.revision:
            o.setdefault("metadata", {})["resourceVersion"] = str(self.revision)
        return o

    @property
    def obj(self) -> dict:
        if self._obj is None:
            self._obj = self._decode()
        return self._obj

    @property
    def json(self) -> bytes:
        if self._json is None:
            # A reader that wants only the bytes (a LIST, a GET, a watch event) does not keep
            # the decoded dict: it is about five times the size of the bytes.
            self._json = orjson.dumps(self._obj if self._obj is not None else self._decode())
        return self._json

    def transient_obj(self) -> dict:
        """The served dict without keeping it (for a reader of many objects, a LIST, that
        must not leave every one decoded while it answers); the kept one if there is."""
        return self._obj if self._obj is not None else self._decode()

    def transient_json(self) -> bytes:
        """The served JSON without keeping it; the kept one if there is."""
        if self._json is not None:
            return self._json
        return orjson.dumps(self._obj if self._obj is not None else self._decode())

    @property
    def decoded(self) -> bool:
        """Whether the served form is known (a webhook-converted kind sets it with serve())."""
        return self._obj is not None or self._json is not None

    def stored_form(self) -> dict:
        """A private dict of the object as stored (no resourceVersion, not converted)."""
        return orjson.loads(self.raw)

    def serve(self, obj: dict) -> None:
        """Set the served form, converted elsewhere (asynchronously); it gets the resourceVersion."""
        if self.revision:
            obj.setdefault("metadata", {})["resourceVersion"] = str(self.revision)
        self._obj = obj

    def copy(self) -> dict:
        """A private, mutable dict of this version (resourceVersion set)."""
        return orjson.loads(self.json)

    @property
    def metadata(self) -> dict:
        return self.obj.get("metadata") or {}


# What one cached version costs, estimated from its stored bytes when it is cached:
# the decoded dict takes about five times the JSON (measured on pods with orjson),
# plus the served JSON and the stored bytes themselves, plus the entry's own objects.
DECODED_PER_STORED_BYTE = 7
ENTRY_OVERHEAD = 256
DEFAULT_CACHE_BYTES = 512 << 20


def cost(raw: bytes) -> int:
    return len(raw) * DECODED_PER_STORED_BYTE + ENTRY_OVERHEAD


class ObjectCache:
    """(key, revision) -> StoredObject, an LRU bounded by the estimated bytes it holds
    (not by entries: a large object costs as much as many small ones). One per process
    is enough."""

    def __init__(self, max_bytes: int = DEFAULT_CACHE_BYTES, convert=None):
        self._items: OrderedDict[tuple[str, int], StoredObject] = OrderedDict()
        self._max_bytes = max_bytes
        self._bytes = 0
        self._convert = convert  # stored form -> served form (events.k8s.io)

    @property
    def size_bytes(self) -> int:
        return self._bytes

    def __len__(self) -> int:
        return len(self._items)

    def get(self, kv: KeyValue) -> StoredObject:
        k = (kv.key, kv.mod_revision)
        item = self._items.get(k)
        if item is not None:
            self._items.move_to_end(k)
            return item
        item = StoredObject(kv.key, kv.mod_revision, kv.value, convert=self._convert)
        self._add(k, item)
        return item

    def holds(self, item: StoredObject) -> bool:
        """Whether `item` is this cache's entry now: what is memoized on it stays
        bounded by the cache, what is memoized on an evicted one lives as long as
        whoever still holds it (a LIST's page)."""
        return self._items.get((item.key, item.revision)) is item

    def put(self, key: str, revision: int, raw: bytes, obj: dict) -> StoredObject:
        """Remember a version we just wrote; `obj` is the served form and gets
        its resourceVersion."""
        obj.setdefault("metadata", {})["resourceVersion"] = str(revision)
        item = StoredObject(key, revision, raw, obj, convert=self._convert)
        self._add((key, revision), item)
        return item

    def _add(self, k: tuple[str, int], item: StoredObject) -> None:
        old = self._items.pop(k, None)
        if old is not None:
            self._bytes -= cost(old.raw)
        self._items[k] = item
        self._bytes += cost(item.raw)
        if self._bytes > self._max_bytes:
            # down to nine tenths at once, oldest first, so eviction is rare
            floor = self._max_bytes * 9 // 10
            while self._bytes > floor and len(self._items) > 1:
                _, gone = self._items.popitem(last=False)
                self._bytes -= cost(gone.raw)


def encode_for_store(obj: dict) -> bytes:
    """The stored form: the object without resourceVersion."""
    meta = obj.get("metadata")
    if meta and "resourceVersion" in meta:
        rv = meta.pop("resourceVersion")
        try:
            return orjson.dumps(obj)
        finally:
            meta["resourceVersion"] = rv
    return orjson.dumps(obj)


_last_second: tuple[int, str] = (-1, "")


def now_rfc3339() -> str:
    """metav1.Time as upstream serializes it: seconds precision, UTC, Z."""
    global _last_second
    # Every write stamps a time or two; formatting once per second saves the strftime.
    second = int(time.time())
    if second != _last_second[0]:
        _last_second = (second, time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(second)))
    return _last_second[1]


def now_micro() -> str:
    """metav1.MicroTime (events, leases)."""
    return datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


# uuid4() reads 16 bytes from the kernel per call, and os.urandom releases the GIL around
# getrandom(): under load the event loop then waits for the SQLite threads to hand the GIL
# back (2.5% of the API server's CPU in the density run). The same random bytes, read 4 KiB
# at a time; the lock keeps two threads from taking the same slice.
_RANDOM_CHUNK = 4096
_random = {"buf": b"", "pos": 0}
_random_lock = threading.Lock()


def _forget_random_bytes() -> None:
    # a forked worker (assembly/workers.py) must not hand out the bytes its parent or a
    # sibling already has: the same slice in two processes is the same uid twice
    _random["buf"], _random["pos"] = b"", 0


os.register_at_fork(after_in_child=_forget_random_bytes)


def _random16() -> bytearray:
    with _random_lock:
        pos = _random["pos"]
        if pos + 16 > len(_random["buf"]):
            _random["buf"], pos = os.urandom(_RANDOM_CHUNK), 0
        _random["pos"] = pos + 16
        return bytearray(_random["buf"][pos:pos + 16])


def new_uid() -> str:
    """A random (version 4, RFC 4122 variant) UUID in its usual text form, as str(uuid.uuid4())."""
    b = _random16()
    b[6] = (b[6] & 0x0F) | 0x40
    b[8] = (b[8] & 0x3F) | 0x80
    h = b.hex()
    return f"{h[:8]}-{h[8:12]}-{h[12:16]}-{h[16:20]}-{h[20:]}"
