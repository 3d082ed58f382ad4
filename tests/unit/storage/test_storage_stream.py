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


async def test_deliver_to_takes_events_without_waking_and_keeps_order_after_a_refusal():
    s = WatchStream("/registry/pods/", 1, max_buffer=None)
    taken, accept = [], [True]

    def sink(e):
        if accept[0]:
            taken.append(e.revision)
        return accept[0]

    s.deliver_to(sink)
    waiting = asyncio.ensure_future(s.__anext__())
    await asyncio.sleep(0)
    s.push(ev(1))          # already delivered (from_revision): dropped, as iteration drops it
    s.push(ev(2))
    s.push(ev(3))
    await asyncio.sleep(0)
    assert taken == [2, 3] and not waiting.done() and s.buffered() == 0
    accept[0] = False
    s.push(ev(4))          # refused: buffered, the consumer woken
    accept[0] = True
    s.push(ev(5))          # accepted by the sink, but queued behind 4 so the order holds
    s.push(bookmark(5))    # bookmarks always go to the consumer
    assert taken == [2, 3]
    s.deliver_to(None)
    got = [await waiting] + s.take_buffered()
    assert [(e.type, e.revision) for e in got] == [("ADDED", 4), ("ADDED", 5), ("BOOKMARK", 5)]
    s.push(ev(3))          # older than what the sink took: dropped
    assert s.take_buffered() == []


async def test_deliver_to_a_failing_sink_buffers_the_event():
    s = WatchStream("/registry/pods/", 0, max_buffer=None)

    def sink(e):
        raise RuntimeError("boom")

    s.deliver_to(sink)
    s.push(ev(1))
    s.deliver_to(None)
    assert [e.revision for e in s.take_buffered()] == [1]
