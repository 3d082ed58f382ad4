from apiserver.storage.cache_state import ResourceState
from apiserver.storage.interface import KeyValue, WatchEvent

P = "/registry/pods/"


def kv(name, rev, value=b"v", create=None):
    return KeyValue(P + name, value, rev, create or rev)


def test_apply_keeps_items_sorted_and_revisions():
    st = ResourceState(P, [kv("ns/b", 3), kv("ns/a", 2)], revision=5)
    assert st.keys == [P + "ns/a", P + "ns/b"]
    st.apply(WatchEvent("ADDED", kv("ns/0", 6)))
    st.apply(WatchEvent("MODIFIED", kv("ns/a", 7, b"w", 2), kv("ns/a", 2)))
    st.apply(WatchEvent("DELETED", kv("ns/b", 8, b"v", 3), kv("ns/b", 3)))
    assert st.keys == [P + "ns/0", P + "ns/a"]
    assert st.items[P + "ns/a"].value == b"w"
    assert (st.revision, st.last_event_revision) == (8, 8)
    st.progress(12)
    assert st.can_serve_at(8) and st.can_serve_at(12)
    assert not st.can_serve_at(7) and not st.can_serve_at(13)


def test_list_paging_and_prefix():
    st = ResourceState(P, [kv(f"ns{i % 2}/k{i}", i + 1) for i in range(10)], revision=10)
    items, more, remaining = st.list(P + "ns0/", 2, None)
    assert [i.key for i in items] == [P + "ns0/k0", P + "ns0/k2"] and more and remaining == 3
    items, more, remaining = st.list(P + "ns0/", 2, P + "ns0/k8")
    assert [i.key for i in items] == [P + "ns0/k8"] and not more and remaining == 0


def test_ring_window_and_events_after():
    st = ResourceState(P, [], revision=0, window=3)
    for r in range(1, 6):
        st.apply(WatchEvent("ADDED", kv(f"ns/k{r}", r)))
    assert st.window_start == 2 and len(st.events) == 3
    assert [e.revision for e in st.events_after(3, P)] == [4, 5]
    assert [e.revision for e in st.events_after(2, P + "ns/k5")] == [5]
