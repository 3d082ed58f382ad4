"""A priority level's queue set: shuffle-sharded hands, seats, queue length limit,
Reject levels, fair dispatch across flows, cancellation, wait time-out. A fake clock
makes durations exact; waits are driven by the event loop, not by time."""
from __future__ import annotations

import asyncio
import itertools

import pytest

from apiserver.http.flowcontrol.classifier import Level
from apiserver.http.flowcontrol.queueset import QueueSet, Rejected, deal


class Clock:
    def __init__(self):
        self.now = 0.0

    def __call__(self):
        return self.now


def level(seats=1, queues=4, hand=2, limit=3):
    return Level("l", "u", exempt=False, seats=seats, queues=queues, hand_size=hand, queue_length_limit=limit)


def test_deal_gives_distinct_cards_in_range():
    for value in (0, 1, 12345, 2 ** 63 - 1, 987654321987):
        cards = deal(value, 128, 6)
        assert len(set(cards)) == 6 and all(0 <= c < 128 for c in cards)
    assert deal(7, 4, 4) != deal(8, 4, 4) or deal(7, 4, 4) != deal(9, 4, 4)
    assert sorted(deal(99, 5, 5)) == [0, 1, 2, 3, 4]


async def test_reject_level_has_no_queue():
    qs = QueueSet(level(seats=2, queues=0))
    a, b = await qs.acquire(1), await qs.acquire(2)
    with pytest.raises(Rejected) as e:
        await qs.acquire(3)
    assert e.value.reason == "concurrency-limit"
    a.release()
    (await qs.acquire(3)).release()
    b.release()
    assert qs.executing == 0


async def test_queue_length_limit_then_fifo_within_a_flow():
    qs = QueueSet(level(seats=1, queues=1, hand=1, limit=2))
    first = await qs.acquire(5)
    waiting = [asyncio.create_task(qs.acquire(5)) for _ in range(2)]
    await asyncio.sleep(0)
    assert qs.waiting == 2
    with pytest.raises(Rejected) as e:
        await qs.acquire(5)
    assert e.value.reason == "queue-full"
    first.release()
    second = await waiting[0]
    assert not waiting[1].done()
    second.release()
    (await waiting[1]).release()
    assert (qs.executing, qs.waiting) == (0, 0)


async def test_fair_dispatch_lets_a_light_flow_pass_a_heavy_one():
    clock = Clock()
    # one queue per flow (hand of one out of many queues: flows 0 and 1 land in different ones)
    qs = QueueSet(level(seats=1, queues=64, hand=1, limit=50), clock=clock)
    heavy, light = 0, next(h for h in itertools.count(1) if deal(h, 64, 1) != deal(0, 64, 1))
    running = await qs.acquire(heavy)
    heavy_waiting = [asyncio.create_task(qs.acquire(heavy)) for _ in range(5)]
    await asyncio.sleep(0)
    light_task = asyncio.create_task(qs.acquire(light))
    await asyncio.sleep(0)
    clock.now += 1.0      # the heavy flow's request ran a second
    running.release()
    await asyncio.sleep(0)
    assert light_task.done() and not any(t.done() for t in heavy_waiting)
    (await light_task).release()
    for t in heavy_waiting:
        (await t).release()
    assert qs.executing == 0


async def test_a_cancelled_waiter_leaves_its_queue():
    qs = QueueSet(level(seats=1, queues=2, hand=1, limit=5))
    held = await qs.acquire(1)
    task = asyncio.create_task(qs.acquire(1))
    await asyncio.sleep(0)
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    assert qs.waiting == 0
    held.release()
    assert qs.executing == 0


async def test_waiting_too_long_is_a_time_out():
    qs = QueueSet(level(seats=1, queues=2, hand=1, limit=5), wait_limit=0)
    held = await qs.acquire(1)
    with pytest.raises(Rejected) as e:
        await qs.acquire(1)
    assert e.value.reason == "time-out" and qs.waiting == 0
    held.release()


async def test_more_seats_dispatch_the_waiting():
    qs = QueueSet(level(seats=1, queues=4, hand=2, limit=5))
    held = await qs.acquire(1)
    task = asyncio.create_task(qs.acquire(2))
    await asyncio.sleep(0)
    qs.resize(2)
    (await task).release()
    held.release()
    assert qs.executing == 0
