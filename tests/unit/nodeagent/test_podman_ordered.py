"""The gate in front of Podman's pod-start calls: a few at a time, lowest rank first."""

import asyncio

import pytest

from nodeagent.runtime.ordered import RANK, OrderedGate, serving


async def test_holds_to_limit_and_lets_in_by_rank():
    gate = OrderedGate(2)
    order: list[float] = []
    release = asyncio.Event()

    async def call(rank: float):
        await gate.acquire(rank)
        order.append(rank)
        try:
            await release.wait()
        finally:
            gate.release()

    first = [asyncio.ensure_future(call(r)) for r in (9.0, 8.0)]   # take both places
    await asyncio.sleep(0)
    later = [asyncio.ensure_future(call(r)) for r in (5.0, 1.0, 3.0)]
    await asyncio.sleep(0)
    assert order == [9.0, 8.0] and gate.inside == 2
    release.set()
    await asyncio.gather(*first, *later)
    assert order == [9.0, 8.0, 1.0, 3.0, 5.0]
    assert gate.inside == 0


async def test_cancelled_waiter_gives_up_its_turn():
    gate = OrderedGate(1)
    await gate.acquire(0)
    waiter = asyncio.ensure_future(gate.acquire(1))
    nxt = asyncio.ensure_future(gate.acquire(2))
    await asyncio.sleep(0)
    waiter.cancel()
    with pytest.raises(asyncio.CancelledError):
        await waiter
    gate.release()
    await asyncio.wait_for(nxt, 1)   # the place went past the cancelled waiter
    gate.release()
    assert gate.inside == 0


async def test_rank_follows_the_task_that_set_it():
    async def worker(rank: float):
        serving(rank)
        await asyncio.sleep(0)
        inner = asyncio.ensure_future(asyncio.sleep(0, result=RANK.get()))  # tasks it starts inherit it
        return RANK.get(), await inner

    got = await asyncio.gather(worker(1.0), worker(2.0))
    assert got == [(1.0, 1.0), (2.0, 2.0)]
    assert RANK.get() is None   # the caller's context is untouched
