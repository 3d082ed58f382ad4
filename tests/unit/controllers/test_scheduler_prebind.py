"""PreBind's wait for claims (pure asyncio over a claims cache)."""
import asyncio

from controllers.scheduler.prebind import TIMED_OUT, ClaimWaiter


class Cache(dict):
    """What the waiter reads of the claims informer: get(key)."""


def _claim(name, bound=False):
    claim = {"metadata": {"name": name, "namespace": "d"}, "spec": {}, "status": {"phase": "Pending"}}
    if bound:
        claim["spec"]["volumeName"] = "pv"
        claim["status"]["phase"] = "Bound"
    return claim


async def test_waits_for_every_claim_then_answers():
    cache = Cache({"d/a": _claim("a"), "d/b": _claim("b", bound=True)})
    waiter = ClaimWaiter(cache)
    task = asyncio.ensure_future(waiter.wait_bound(["d/a", "d/b"], timeout=30))
    await asyncio.sleep(0)
    assert not task.done()
    cache["d/a"] = _claim("a", bound=True)
    waiter.changed(cache["d/a"])
    assert await task is None
    assert waiter._waiting == {}


async def test_a_deleted_claim_or_the_deadline_ends_the_wait():
    cache = Cache({"d/a": _claim("a")})
    waiter = ClaimWaiter(cache)
    assert await waiter.wait_bound(["d/a"], timeout=0.01) == TIMED_OUT
    task = asyncio.ensure_future(waiter.wait_bound(["d/a"], timeout=30))
    await asyncio.sleep(0)
    gone = cache.pop("d/a")
    waiter.changed(gone)
    assert await task == 'persistentvolumeclaim "a" not found'
