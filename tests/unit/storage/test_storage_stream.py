import asyncio

from apiserver.storage.interface import KeyValue, WatchEvent
from apiserver.storage.stream import WatchStream, bookmark


def ev(rev):
    return WatchEvent("ADDED", KeyValue(f"/registry/pods/k{rev}", b"", rev, rev))


async def test_delivers_in_order_skipping_already_seen():
    s = WatchStream("/registry/pods/", 1, max_buffer=None)
    for r in (1, 2, 2, 3):
        s.push(ev(r))
    s.push(bookmark(3))
    got = [(await s.__anext__()) for _ in range(3)]
    assert [(e.type, e.revision) for e in got] == [("ADDED", 2), ("ADDED", 3), ("BOOKMARK", 3)]


async def test_overflow_ends_the_stream():
    closed = []
    s = WatchStream("/registry/pods/", 0, max_buffer=2)
    s._on_close = closed.append
    for r in (1, 2, 3):
        s.push(ev(r))
    assert s.overflowed and closed == [s]
    try:
        await s.__anext__()
        raise AssertionError("expected the stream to end")
    except StopAsyncIteration:
        pass


async def test_waiting_consumer_is_woken_and_fail_raises():
    s = WatchStream("/registry/pods/", 0, max_buffer=None)
    task = asyncio.ensure_future(s.__anext__())
    await asyncio.sleep(0)
    s.push(ev(1))
    assert (await task).revision == 1
    s.fail(RuntimeError("boom"))
    try:
        await s.__anext__()
        raise AssertionError("expected the error")
    except RuntimeError:
        pass


async def test_take_buffered_returns_what_iteration_would_and_leaves_the_end_to_it():
    s = WatchStream("/registry/pods/", 1, max_buffer=None)
    for r in (1, 2, 2, 3):
        s.push(ev(r))
    s.push(bookmark(2))   # older than what was delivered: skipped, as iteration skips it
    s.push(bookmark(3))
    s.end()
    got = s.take_buffered()
    assert [(e.type, e.revision) for e in got] == [("ADDED", 2), ("ADDED", 3), ("BOOKMARK", 3)]
    assert s.take_buffered() == []
    try:
        await s.__anext__()
        raise AssertionError("expected the stream to end")
    except StopAsyncIteration:
        pass
