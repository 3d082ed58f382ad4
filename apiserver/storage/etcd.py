"""EtcdStore: the Store contract on a real etcd cluster (v3 API over gRPC).

Revisions are etcd's own. Creates are transactions on create_revision == 0;
conditional updates and deletes are transactions on mod_revision. Values are
stored as given (JSON), so `etcdctl get` shows them. The constructor never
touches the network: until etcd answers, operations raise UnavailableError.

Compaction: every `compaction_interval` seconds, like kube-apiserver, the
servers sharing the etcd race a compare-and-swap on the version of the
`compact_rev_key` key; the winner compacts to the revision it saw one interval
earlier, so exactly one compaction per interval happens and history always
spans at least one interval.
"""
from __future__ import annotations

import asyncio
import logging

import grpc

from .etcd_conn import KeyMap, open_channel, range_end, rpc, store_error
from .etcd_gets import CoalescedGets
from .etcd_watch import EtcdWatch
from .interface import (
    CompactedError,
    FutureRevisionError,
    KeyExistsError,
    KeyNotFoundError,
    KeyValue,
    ListResult,
    RevisionConflictError,
    Store,
    StoreError,
    UnavailableError,
)

log = logging.getLogger(__name__)

COMPACT_REV_KEY = b"compact_rev_key"
_TIMEOUT_S = 10.0


def _progress_fixed(version: str) -> bool:
    try:
        major, minor, patch = (int(x) for x in version.split("-")[0].split(".")[:3])
    except ValueError:
        return False
    return (major, minor, patch) >= (3, 5, 13) or (major, minor) == (3, 4) and patch >= 31 or major > 3


def _retrieve(fut: asyncio.Future) -> None:
    """A shared round's error is retrieved even when every caller of it went away."""
    if not fut.cancelled():
        fut.exception()


def _kv(keys: KeyMap, kv) -> KeyValue:
    return KeyValue(keys.from_etcd(kv.key), kv.value, kv.mod_revision, kv.create_revision)


class EtcdStore(Store):
    def __init__(
        self,
        endpoints: list[str] | str,
        *,
        prefix: str = "/registry",
        ca_file=None,
        cert_file=None,
        key_file=None,
        compaction_interval: float = 300.0,
        timeout: float = _TIMEOUT_S,
    ):
        if isinstance(endpoints, str):
            endpoints = [e for e in endpoints.split(",") if e]
        self.endpoints = list(endpoints)
        self.keys = KeyMap(prefix)
        self._tls = (ca_file, cert_file, key_file)
        self._timeout = timeout
        self._channel: grpc.aio.Channel | None = None
        self._kv_stub = None
        self._watch_stub_ = None
        self._compacted = 0
        self._compacted_read_at = float("-inf")
        self._compaction_interval = compaction_interval
        self._compactor: asyncio.Task | None = None
        self._closed = False
        self._reliable: bool | None = None
        self._maint_stub = None
        self._revision_next: asyncio.Future | None = None   # the next current_revision round's answer
        self._revision_rounds: asyncio.Task | None = None
        self._gets = CoalescedGets(self._call)

    # ---- connection -------------------------------------------------------
    def _connect(self):
        """The KV stub, opening the channel on first use (inside the event loop:
        grpc.aio channels belong to the loop that made them)."""
        if self._channel is None:
            self._channel = open_channel(self.endpoints, *self._tls)
            self._kv_stub = rpc.KVStub(self._channel)
            self._watch_stub_ = rpc.WatchStub(self._channel)
            self._maint_stub = rpc.MaintenanceStub(self._channel)
            if self._compaction_interval > 0 and self._compactor is None:
                self._compactor = asyncio.get_running_loop().create_task(self._compact_loop())
        return self._kv_stub

    async def _watch_stub(self):
        self._connect()
        return self._watch_stub_

    async def _call(self, method: str, request, revision: int = 0, stub=None):
        stub = stub or self._connect()
        try:
            return await getattr(stub, method)(request, timeout=self._timeout)
        except grpc.aio.AioRpcError as e:
            err = store_error(e, revision)
            try:
                if isinstance(err, CompactedError):
                    await self._refresh_compacted()
                    err = CompactedError(revision, self._compacted)
                elif isinstance(err, FutureRevisionError):
                    err = FutureRevisionError(revision, await self.current_revision())
            except StoreError:
                pass
            raise err from None

    async def _txn(self, compare, success, failure):
        return await self._call("Txn", rpc.TxnRequest(compare=compare, success=success, failure=failure))

    def _get_op(self, k: bytes):
        return rpc.RequestOp(request_range=rpc.RangeRequest(key=k))

    # ---- writes ------------------------------------------------------------
    async def create(self, key: str, value: bytes) -> int:
        k = self.keys.to_etcd(key)
        resp = await self._txn(
            [rpc.Compare(key=k, target=rpc.Compare.CREATE, result=rpc.Compare.EQUAL, create_revision=0)],
            [rpc.RequestOp(request_put=rpc.PutRequest(key=k, value=value))],
            [],
        )
        if not resp.succeeded:
            raise KeyExistsError(key)
        return resp.header.revision

    def _precondition(self, k: bytes, expected_revision: int | None):
        if expected_revision is None:   # "the key exists"
            return rpc.Compare(key=k, target=rpc.Compare.VERSION, result=rpc.Compare.GREATER, version=0)
        return rpc.Compare(key=k, target=rpc.Compare.MOD, result=rpc.Compare.EQUAL,
                           mod_revision=expected_revision)

    def _failure(self, key: str, resp, expected_revision: int | None) -> Exception:
        kvs = resp.responses[0].response_range.kvs
        if not kvs:
            return KeyNotFoundError(key)
        return RevisionConflictError(key, _kv(self.keys, kvs[0]))

    async def update(self, key: str, value: bytes, expected_revision: int | None = None) -> int:
        k = self.keys.to_etcd(key)
        resp = await self._txn(
            [self._precondition(k, expected_revision)],
            [rpc.RequestOp(request_put=rpc.PutRequest(key=k, value=value))],
            [self._get_op(k)],
        )
        if not resp.succeeded:
            raise self._failure(key, resp, expected_revision)
        return resp.header.revision

    async def delete(self, key: str, expected_revision: int | None = None) -> KeyValue:
        k = self.keys.to_etcd(key)
        resp = await self._txn(
            [self._precondition(k, expected_revision)],
            [rpc.RequestOp(request_delete_range=rpc.DeleteRangeRequest(key=k, prev_kv=True))],
            [self._get_op(k)],
        )
        if not resp.succeeded:
            raise self._failure(key, resp, expected_revision)
        prev = resp.responses[0].response_delete_range.prev_kvs[0]
        return KeyValue(key, prev.value, resp.header.revision, prev.create_revision)

    # ---- reads -------------------------------------------------------------
    async def get(self, key: str) -> KeyValue | None:
        kv = await self._gets.get(self.keys.to_etcd(key))   # with the GETs beside it: etcd_gets.py
        return _kv(self.keys, kv) if kv is not None else None

    async def list(
        self, prefix: str, *, limit: int = 0, start_key: str | None = None, revision: int = 0
    ) -> ListResult:
        p = self.keys.to_etcd(prefix)
        lo = p if start_key is None or start_key < prefix else self.keys.to_etcd(start_key)
        resp = await self._call(
            "Range",
            rpc.RangeRequest(key=lo, range_end=range_end(p), limit=max(limit, 0), revision=revision),
            revision,
        )
        items = [_kv(self.keys, kv) for kv in resp.kvs]
        more = bool(resp.more)
        remaining = resp.count - len(items) if more else 0
        rev = revision or resp.header.revision
        if revision and revision > resp.header.revision:
            raise FutureRevisionError(revision, resp.header.revision)
        return ListResult(items, rev, more, remaining)

    def watch(self, prefix: str, from_revision: int, *, max_buffer: int | None = 100_000) -> EtcdWatch:
        return EtcdWatch(self, prefix, from_revision, max_buffer)

    async def current_revision(self) -> int:
        """etcd's revision now (a quorum read), asked for every consistent read.

        At most one such Range is in flight: callers arriving while one is share the next,
        which is sent once it is back, after they all arrived, so it still reflects every
        write acknowledged before any of them asked (linearizable, as one Range each would
        be). Under 32 concurrent GETs this asks etcd a few times per round trip instead of
        once per GET: with etcd on the same cores, those Ranges were what limited GETs."""
        if self._revision_next is None:
            self._revision_next = asyncio.get_running_loop().create_future()
            self._revision_next.add_done_callback(_retrieve)
            if self._revision_rounds is None or self._revision_rounds.done():
                self._revision_rounds = asyncio.get_running_loop().create_task(self._ask_revisions())
        return await asyncio.shield(self._revision_next)

    async def _ask_revisions(self) -> None:
        while self._revision_next is not None:
            round_, self._revision_next = self._revision_next, None
            try:
                resp = await self._call("Range", rpc.RangeRequest(key=COMPACT_REV_KEY, keys_only=True))
            except Exception as e:
                if not round_.done():
                    round_.set_exception(e)
            except BaseException:   # cancelled: the store is closing
                round_.cancel()
                raise
            else:
                if not round_.done():
                    round_.set_result(resp.header.revision)

    async def compacted_revision(self) -> int:
        """The horizon recorded in compact_rev_key (by any server sharing this
        etcd), re-read at most every few seconds: watches ask on every start."""
        now = asyncio.get_running_loop().time()
        if now - self._compacted_read_at > 5.0 and not self._closed:
            try:
                await self._refresh_compacted()
                self._compacted_read_at = now
            except (StoreError, grpc.aio.AioRpcError):
                pass
        return self._compacted

    async def _refresh_compacted(self) -> None:
        stub = self._connect()
        resp = await stub.Range(rpc.RangeRequest(key=COMPACT_REV_KEY), timeout=self._timeout)
        if resp.kvs:
            try:
                self._compacted = max(self._compacted, int(resp.kvs[0].value))
            except ValueError:
                pass

    async def reliable_progress(self) -> bool:
        """Whether this etcd orders progress notifications after pending events
        (fixed in 3.4.31 and 3.5.13; Debian 12 ships 3.4.23)."""
        if self._reliable is None:
            try:
                self._connect()
                status = await self._call("Status", rpc.StatusRequest(), stub=self._maint_stub)
            except StoreError:
                return False   # ask again next time
            self._reliable = _progress_fixed(status.version)
        return self._reliable

    # ---- compaction --------------------------------------------------------
    async def compact(self, revision: int) -> None:
        """Compact now (tests, operators): record it in compact_rev_key, then compact."""
        resp = await self._call("Range", rpc.RangeRequest(key=COMPACT_REV_KEY))
        version = resp.kvs[0].version if resp.kvs else 0
        await self._claim_and_compact(version, revision)

    async def _claim_and_compact(self, version: int, revision: int) -> tuple[bool, int, int]:
        """Compare-and-swap compact_rev_key's version; the winner compacts to
        `revision`. Returns (won, the key's version now, etcd's revision now)."""
        resp = await self._txn(
            [rpc.Compare(key=COMPACT_REV_KEY, target=rpc.Compare.VERSION, result=rpc.Compare.EQUAL,
                         version=version)],
            [rpc.RequestOp(request_put=rpc.PutRequest(key=COMPACT_REV_KEY, value=str(revision).encode()))],
            [self._get_op(COMPACT_REV_KEY)],
        )
        now = resp.header.revision
        if not resp.succeeded:
            kvs = resp.responses[0].response_range.kvs
            return False, kvs[0].version if kvs else 0, now
        if revision > self._compacted:
            try:
                await self._call("Compact", rpc.CompactionRequest(revision=revision))
            except CompactedError:
                pass   # someone compacted further already
            self._compacted = revision
            log.info("compacted etcd to revision %d", revision)
        return True, version + 1, now

    async def _compact_loop(self) -> None:
        version, seen = 0, 0
        while True:
            await asyncio.sleep(self._compaction_interval)
            try:
                won, version, now = await self._claim_and_compact(version, seen)
                seen = now
                if not won:
                    await self._refresh_compacted()
            except StoreError as e:
                log.warning("etcd compaction skipped: %s", e)

    # ---- lifecycle -----------------------------------------------------------
    async def healthy(self) -> bool:
        try:
            stub = self._connect()
            await stub.Range(rpc.RangeRequest(key=COMPACT_REV_KEY, keys_only=True), timeout=2.0)
            return True
        except (grpc.aio.AioRpcError, StoreError):
            return False

    async def close(self) -> None:
        self._closed = True
        if self._revision_rounds is not None:
            self._revision_rounds.cancel()
        if self._revision_next is not None and not self._revision_next.done():
            self._revision_next.set_exception(UnavailableError("the store is closed"))
        self._gets.close(UnavailableError("the store is closed"))
        if self._compactor is not None:
            self._compactor.cancel()
            self._compactor = None
        if self._channel is not None:
            await self._channel.close()
            self._channel = None
