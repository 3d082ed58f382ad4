"""Consistent single-key reads on etcd, coalesced per process: one gRPC call for many GETs.

Each GET is a linearizable Range of one key. Under load those Ranges, one gRPC call per GET,
cost more CPU in this process (grpc.aio's per-call work) and in etcd (on the same cores) than
the rest of the request. So at most one read is in flight: GETs arriving meanwhile wait for the
next, which is sent once the one in flight is back, after they all arrived, as one read-only
Txn of their Ranges (etcd answers it at one revision, linearizably, as it answers a Range).
So each GET still sees every write acknowledged before it asked, as its own Range would.
A round carries at most etcd's default --max-txn-ops (128) keys; a lone key is a plain Range.
"""
from __future__ import annotations

import asyncio
from typing import Awaitable, Callable

from .etcd_conn import rpc

MAX_KEYS = 128


def _retrieve(fut: asyncio.Future) -> None:
    """A round's error is retrieved even when every caller of it went away."""
    if not fut.cancelled():
        fut.exception()


class CoalescedGets:
    def __init__(self, call: Callable[[str, object], Awaitable]):
        self._call = call    # (method, request) -> the response, store errors raised
        self._next: dict[bytes, asyncio.Future] = {}   # the next round: key -> its answer (kvs)
        self._task: asyncio.Task | None = None

    async def get(self, key: bytes):
        """The key's etcd KeyValue, or None."""
        fut = self._next.get(key)
        if fut is None:
            loop = asyncio.get_running_loop()
            fut = self._next[key] = loop.create_future()
            fut.add_done_callback(_retrieve)
            if self._task is None or self._task.done():
                self._task = loop.create_task(self._rounds())
        return await asyncio.shield(fut)

    async def _rounds(self) -> None:
        while self._next:
            if len(self._next) <= MAX_KEYS:
                round_, self._next = self._next, {}
            else:
                keys = list(self._next)[:MAX_KEYS]
                round_ = {k: self._next.pop(k) for k in keys}
            try:
                answers = await self._read(list(round_))
            except Exception as e:
                for fut in round_.values():
                    if not fut.done():
                        fut.set_exception(e)
            except BaseException:   # cancelled: the store is closing
                for fut in round_.values():
                    fut.cancel()
                raise
            else:
                for fut, kvs in zip(round_.values(), answers):
                    if not fut.done():
                        fut.set_result(kvs[0] if kvs else None)

    async def _read(self, keys: list[bytes]) -> list:
        if len(keys) == 1:
            return [(await self._call("Range", rpc.RangeRequest(key=keys[0]))).kvs]
        resp = await self._call("Txn", rpc.TxnRequest(
            success=[rpc.RequestOp(request_range=rpc.RangeRequest(key=k)) for k in keys]))
        return [r.response_range.kvs for r in resp.responses]

    def close(self, error: Exception) -> None:
        if self._task is not None:
            self._task.cancel()
        pending, self._next = self._next, {}
        for fut in pending.values():
            if not fut.done():
                fut.set_exception(error)
