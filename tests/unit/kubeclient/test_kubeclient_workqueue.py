import asyncio

from kubeclient.ratelimit import ControllerRateLimiter, ItemBackoff, TokenBucket
from kubeclient.workqueue import ShutDown, WorkQueue


def test_item_backoff_doubles_per_item_and_forgets():
    b = ItemBackoff(base=0.01, cap=0.05)
    assert [b.when("a") for _ in range(4)] == [0.01, 0.02, 0.04, 0.05]
    assert b.when("other") == 0.01
    b.forget("a")
    assert b.when("a") == 0.01 and b.retries("a") == 1


def test_token_bucket_burst_then_rate():
    t = [0.0]
    bucket = TokenBucket(rate=10, burst=2, clock=lambda: t[0])
    assert bucket.reserve() == 0 and bucket.reserve() == 0
    assert abs(bucket.reserve() - 0.1) < 1e-9
    t[0] = 10.0  # refilled, but never beyond the burst
    assert bucket.reserve() == 0 and bucket.reserve() == 0


def test_rate_limiter_takes_the_larger_delay():
    t = [0.0]
    rl = ControllerRateLimiter(ItemBackoff(base=1.0), TokenBucket(rate=1, burst=1, clock=lambda: t[0]))
    assert rl.when("x") == 1.0  # back-off dominates
    assert rl.when("y") == 1.0  # bucket empty: wait a second


async def test_dedup_and_single_processing():
    q = WorkQueue()
    q.add("a"); q.add("a"); q.add("b")
    assert len(q) == 2
    item = await q.get()
    assert item == "a"
    q.add("a")  # while processing: not queued twice, re-queued on done
    assert len(q) == 1
    q.done("a")
    assert [await q.get(), await q.get()] == ["b", "a"]


async def test_waiting_worker_is_woken_and_add_after_fires():
    q = WorkQueue()
    getter = asyncio.ensure_future(q.get())
    await asyncio.sleep(0)
    q.add_after("late", 0.01)
    assert await asyncio.wait_for(getter, 5) == "late"


async def test_add_after_keeps_the_earliest_wakeup():
    q = WorkQueue()
    q.add_after("k", 0.01)
    q.add_after("k", 100)
    assert await asyncio.wait_for(q.get(), 5) == "k"


async def test_shutdown_releases_workers():
    q = WorkQueue()
    getter = asyncio.ensure_future(q.get())
    await asyncio.sleep(0)
    q.shutdown()
    try:
        await asyncio.wait_for(getter, 5)
        raise AssertionError("expected ShutDown")
    except ShutDown:
        pass


async def test_each_item_is_timed_waiting_once_per_queueing():
    from kubeclient.metrics import REGISTRY

    waited = REGISTRY["workqueue_queue_duration_seconds"]
    q = WorkQueue(name="unit-wait")
    q.add("a")
    q.add("a")                 # deduplicated: one wait
    item = await q.get()
    assert waited.series[("unit-wait",)][-1] == 1
    q.add("a")                 # dirty while processing: queued again by done()
    q.done(item)
    await q.get()
    assert waited.series[("unit-wait",)][-1] == 2
