"""The Store contract (apiserver/storage/interface.py), run against every backend.

This suite is the spec a backend must pass. Revisions are compared relative to
each other (etcd's start wherever the shared server is), never as absolutes.
"""
from __future__ import annotations

import asyncio

import pytest

from apiserver.storage.interface import (
    CompactedError,
    FutureRevisionError,
    KeyExistsError,
    KeyNotFoundError,
    RevisionConflictError,
)

from tests.integration.storage.watch_helpers import P, assert_quiet, take


# ---- single-key operations ---------------------------------------------------

async def test_create_then_get(store):
    before = await store.current_revision()
    rev = await store.create(P + "ns/a", b'{"a":1}')
    assert rev > before
    kv = await store.get(P + "ns/a")
    assert (kv.key, kv.value, kv.mod_revision, kv.create_revision) == (P + "ns/a", b'{"a":1}', rev, rev)
    assert await store.get(P + "ns/missing") is None
    assert await store.current_revision() == rev


async def test_current_revision_reflects_every_write_acknowledged_before_it_was_asked(store):
    """Consistent reads ask for it; asked while other reads are asking (etcd shares one Range
    among concurrent callers), it still covers a write acknowledged just before."""
    stop = asyncio.Event()

    async def other_readers() -> None:
        while not stop.is_set():
            await store.current_revision()
            await asyncio.sleep(0)   # a store answering from memory never yields by itself

    readers = [asyncio.create_task(other_readers()) for _ in range(4)]
    try:
        for i in range(40):
            rev = await store.create(P + f"ns/r{i}", b"{}")
            assert await store.current_revision() >= rev
    finally:
        stop.set()
        await asyncio.gather(*readers)


async def test_concurrent_gets_each_see_every_write_acknowledged_before(store):
    """Many GETs at once (etcd answers those arriving together in one read, at most 128 keys a
    read, one key asked twice answered to both): each gets its own key's value, None for a
    missing one, and a GET asked after a write acknowledged sees it, while others read on."""
    keys = [P + f"ns/g{i}" for i in range(300)]
    revs = await asyncio.gather(*(store.create(k, k.encode()) for k in keys))
    asked = keys + keys[:50] + [P + "ns/none"]
    got = await asyncio.gather(*(store.get(k) for k in asked))
    assert [kv.value if kv else None for kv in got] == [k.encode() for k in keys + keys[:50]] + [None]
    assert [kv.mod_revision for kv in got[:300]] == revs
    stop = asyncio.Event()

    async def other_readers(i: int) -> None:
        while not stop.is_set():
            assert (await store.get(keys[i])).value == keys[i].encode()
            await asyncio.sleep(0)

    readers = [asyncio.create_task(other_readers(i)) for i in range(8)]
    try:
        for i in range(30):
            rev = await store.update(keys[100], str(i).encode())
            kv = await store.get(keys[100])
            assert (kv.value, kv.mod_revision) == (str(i).encode(), rev)
    finally:
        stop.set()
        await asyncio.gather(*readers)


async def test_create_existing_key_fails(store):
    await store.create(P + "ns/a", b"1")
    with pytest.raises(KeyExistsError):
        await store.create(P + "ns/a", b"2")
    assert (await store.get(P + "ns/a")).value == b"1"


async def test_update_conditional_and_unconditional(store):
    r1 = await store.create(P + "ns/a", b"1")
    r2 = await store.update(P + "ns/a", b"2", expected_revision=r1)
    assert r2 > r1
    kv = await store.get(P + "ns/a")
    assert (kv.value, kv.mod_revision, kv.create_revision) == (b"2", r2, r1)
    with pytest.raises(RevisionConflictError) as err:
        await store.update(P + "ns/a", b"3", expected_revision=r1)
    assert err.value.current is not None and err.value.current.mod_revision == r2
    r3 = await store.update(P + "ns/a", b"3")
    assert r3 > r2 and (await store.get(P + "ns/a")).value == b"3"
    with pytest.raises(KeyNotFoundError):
        await store.update(P + "ns/missing", b"x")


async def test_delete(store):
    r1 = await store.create(P + "ns/a", b"1")
    with pytest.raises(RevisionConflictError):
        await store.delete(P + "ns/a", expected_revision=r1 + 1000)
    gone = await store.delete(P + "ns/a", expected_revision=r1)
    assert gone.value == b"1" and gone.mod_revision > r1 and gone.create_revision == r1
    assert await store.get(P + "ns/a") is None
    with pytest.raises(KeyNotFoundError):
        await store.delete(P + "ns/a")
    with pytest.raises(KeyNotFoundError):
        await store.update(P + "ns/a", b"x")
    r3 = await store.create(P + "ns/a", b"again")   # a deleted key can be created anew
    kv = await store.get(P + "ns/a")
    assert kv.create_revision == r3 > gone.mod_revision


async def test_revisions_strictly_increase_across_keys(store):
    revs = [await store.create(f"{P}ns/k{i}", b"v") for i in range(5)]
    revs.append(await store.update(P + "ns/k0", b"w"))
    revs.append((await store.delete(P + "ns/k1")).mod_revision)
    assert revs == sorted(set(revs))
    assert await store.current_revision() == revs[-1]


async def test_concurrent_creates_of_one_key_one_wins(store):
    results = await asyncio.gather(*(store.create(P + "ns/race", str(i).encode()) for i in range(20)),
                                   return_exceptions=True)
    assert sum(isinstance(r, int) for r in results) == 1
    assert all(isinstance(r, (int, KeyExistsError)) for r in results)


# ---- the read-modify-write loop ----------------------------------------------

async def test_guaranteed_update_under_concurrency(store):
    await store.create(P + "ns/counter", b"0")

    async def incr(kv):
        await asyncio.sleep(0)  # let the others read the same revision: conflicts happen
        return str(int(kv.value) + 1).encode()

    results = await asyncio.gather(*(store.guaranteed_update(P + "ns/counter", incr, attempts=100)
                                     for _ in range(20)))
    assert (await store.get(P + "ns/counter")).value == b"20"
    assert len({rev for rev, _ in results}) == 20


async def test_guaranteed_update_declined_and_missing(store):
    rev = await store.create(P + "ns/a", b"1")

    async def decline(kv):
        return None

    assert await store.guaranteed_update(P + "ns/a", decline) is None
    assert (await store.get(P + "ns/a")).mod_revision == rev
    with pytest.raises(KeyNotFoundError):
        await store.guaranteed_update(P + "ns/missing", decline)


# ---- lists -------------------------------------------------------------------

async def test_list_is_prefix_scoped_and_key_ordered(store):
    for k in ["ns/b", "ns/a", "other/c", "ns/c"]:
        await store.create(P + k, k.encode())
    await store.create("/registry/podsx/ns/z", b"not a pod")   # shares the text prefix "pods"
    await store.create("/registry/services/ns/a", b"svc")
    res = await store.list(P)
    assert [kv.key for kv in res.items] == [P + "ns/a", P + "ns/b", P + "ns/c", P + "other/c"]
    assert res.revision == await store.current_revision()
    assert (res.more, res.remaining) == (False, 0)
    ns = await store.list(P + "ns/")
    assert [kv.value for kv in ns.items] == [b"ns/a", b"ns/b", b"ns/c"]
    assert (await store.list("/registry/nothing/")).items == []


async def test_list_paging_is_one_snapshot(store):
    for i in range(25):
        await store.create(f"{P}ns/k{i:02}", b"v0")
    first = await store.list(P, limit=10)
    assert len(first.items) == 10 and first.more and first.remaining == 15
    # writes between pages must not show in later pages read at the first page's revision
    await store.update(P + "ns/k15", b"v1")
    await store.delete(P + "ns/k20")
    await store.create(P + "ns/k99", b"new")
    seen = list(first.items)
    page = first
    while page.more:
        page = await store.list(P, limit=10, start_key=page.items[-1].key + "\x00", revision=first.revision)
        assert page.revision == first.revision
        seen.extend(page.items)
    assert [kv.key for kv in seen] == [f"{P}ns/k{i:02}" for i in range(25)]
    assert {kv.value for kv in seen} == {b"v0"}
    assert (page.more, page.remaining) == (False, 0)
    now = await store.list(P, limit=100)
    assert len(now.items) == 25 and not now.more


async def test_list_limit_exact_fit_has_no_more(store):
    for i in range(3):
        await store.create(f"{P}ns/k{i}", b"v")
    res = await store.list(P, limit=3)
    assert len(res.items) == 3 and (res.more, res.remaining) == (False, 0)


async def test_list_at_old_revision(store):
    r1 = await store.create(P + "ns/a", b"a1")
    await store.create(P + "ns/b", b"b1")
    at = await store.current_revision()
    await store.update(P + "ns/a", b"a2")
    await store.delete(P + "ns/b")
    await store.create(P + "ns/c", b"c1")
    old = await store.list(P, revision=at)
    assert old.revision == at
    assert [(kv.key, kv.value) for kv in old.items] == [(P + "ns/a", b"a1"), (P + "ns/b", b"b1")]
    assert old.items[0].mod_revision == r1
    assert [kv.value for kv in (await store.list(P)).items] == [b"a2", b"c1"]
    with pytest.raises(FutureRevisionError):
        await store.list(P, revision=await store.current_revision() + 1000)


# ---- watches -----------------------------------------------------------------

async def test_watch_replays_history_then_live_exactly_once(store):
    start = await store.current_revision()
    r1 = await store.create(P + "ns/a", b"1")
    r2 = await store.update(P + "ns/a", b"2")
    await store.create("/registry/services/ns/a", b"not watched")
    gone = await store.delete(P + "ns/a")
    w = store.watch(P, start)
    try:
        evs = await take(w, 3)
        assert [(e.type, e.kv.value, e.revision) for e in evs] == [
            ("ADDED", b"1", r1), ("MODIFIED", b"2", r2), ("DELETED", b"2", gone.mod_revision)]
        assert evs[0].prev is None
        assert (evs[1].prev.value, evs[1].prev.mod_revision) == (b"1", r1)
        assert evs[2].prev.value == b"2" and evs[2].kv.create_revision == r1
        r4 = await store.create(P + "ns/b", b"live")
        [live] = await take(w, 1)
        assert (live.type, live.kv.key, live.revision) == ("ADDED", P + "ns/b", r4)
        await assert_quiet(w)
    finally:
        await w.aclose()


async def test_watch_from_a_middle_revision(store):
    r1 = await store.create(P + "ns/a", b"1")
    r2 = await store.update(P + "ns/a", b"2")
    w = store.watch(P + "ns/", r1)
    try:
        [ev] = await take(w, 1)
        assert (ev.type, ev.revision) == ("MODIFIED", r2)
        await assert_quiet(w)
    finally:
        await w.aclose()


async def test_watch_under_concurrent_writes_is_ordered_and_complete(store):
    start = await store.current_revision()
    w = store.watch(P, start)
    w2 = store.watch(P + "ns1/", start)
    try:
        await asyncio.gather(
            *(store.create(f"{P}ns{i % 2}/k{i}", b"v") for i in range(100)),
            *(store.create(f"/registry/configmaps/ns/k{i}", b"v") for i in range(20)),
        )
        evs = await take(w, 100)
        revs = [e.revision for e in evs]
        assert revs == sorted(set(revs))
        assert {e.kv.key for e in evs} == {f"{P}ns{i % 2}/k{i}" for i in range(100)}
        evs1 = await take(w2, 50)
        assert {e.kv.key for e in evs1} == {f"{P}ns1/k{i}" for i in range(1, 100, 2)}
        await assert_quiet(w)
    finally:
        await w.aclose()
        await w2.aclose()


async def test_watch_progress_bookmark(store):
    last = await store.create(P + "ns/a", b"1")
    w = store.watch(P, await store.current_revision())
    try:
        await assert_quiet(w)  # attached
        await store.create("/registry/services/ns/x", b"elsewhere")
        target = await store.current_revision()
        if not await store.reliable_progress():
            # a watch cache over etcd < 3.4.31 bookmarks only what it has seen itself
            target = last
        w.request_progress()

        async def bookmark():
            while True:
                ev = await w.__anext__()
                if ev.type == "BOOKMARK" and ev.revision >= target:
                    return ev

        await asyncio.wait_for(bookmark(), 10)
    finally:
        await w.aclose()


async def test_many_watchers_each_get_every_event(store):
    start = await store.current_revision()
    ws = [store.watch(P, start) for _ in range(50)]
    try:
        await asyncio.gather(*(w.start() for w in ws))   # attached before the writes
        revs = [await store.create(f"{P}ns/k{i}", b"v") for i in range(5)]
        for w in ws:
            assert [e.revision for e in await take(w, 5)] == revs
    finally:
        for w in ws:
            await w.aclose()


# ---- compaction --------------------------------------------------------------

async def test_compaction_forgets_history_keeps_values(store):
    start = await store.current_revision()
    await store.create(P + "ns/a", b"1")
    await store.create(P + "ns/b", b"1")
    old = await store.update(P + "ns/a", b"2")
    await store.delete(P + "ns/b")
    at = await store.update(P + "ns/a", b"3")
    later = await store.create(P + "ns/c", b"1")
    # Let every watch (a watch cache's too) catch up first: etcd cancels a watch
    # that compaction overtakes while it is still replaying.
    w = store.watch(P, start)
    await take(w, 6)
    await w.aclose()
    await store.compact(at)
    assert await store.compacted_revision() >= at
    with pytest.raises(CompactedError):
        await store.list(P, revision=old)
    w = store.watch(P, old)
    with pytest.raises(CompactedError):
        await take(w, 1)
    await w.aclose()
    snap = await store.list(P, revision=at)
    assert [(kv.key, kv.value) for kv in snap.items] == [(P + "ns/a", b"3")]
    assert [kv.value for kv in (await store.list(P)).items] == [b"3", b"1"]
    w = store.watch(P, at)
    try:
        [ev] = await take(w, 1)
        assert (ev.type, ev.revision) == ("ADDED", later)
    finally:
        await w.aclose()
    assert (await store.get(P + "ns/a")).value == b"3"
    r = await store.update(P + "ns/a", b"4")
    assert r > later


# ---- persistence -------------------------------------------------------------

async def test_reopen_keeps_values_history_and_revisions(make_store):
    s1 = make_store()
    start = await s1.current_revision()
    r1 = await s1.create(P + "ns/a", b"1")
    r2 = await s1.update(P + "ns/a", b"2")
    await s1.close()
    s2 = make_store()
    kv = await s2.get(P + "ns/a")
    assert (kv.value, kv.mod_revision, kv.create_revision) == (b"2", r2, r1)
    assert await s2.current_revision() >= r2
    assert await s2.create(P + "ns/b", b"1") > r2
    w = s2.watch(P, start)
    try:
        assert [e.revision for e in await take(w, 2)] == [r1, r2]
    finally:
        await w.aclose()
