"""The registry's memo of decoded objects is bounded by (estimated) bytes, not entries."""
from __future__ import annotations

import orjson

from apiserver.registry.objects import ObjectCache, cost
from apiserver.storage.interface import KeyValue


def kv(name: str, rev: int, size: int) -> KeyValue:
    raw = orjson.dumps({"metadata": {"name": name}, "data": {"x": "a" * size}})
    return KeyValue(key=f"/registry/configmaps/ns/{name}", value=raw, create_revision=rev, mod_revision=rev)


def test_large_objects_evict_by_bytes_oldest_first():
    one = cost(kv("a", 1, 10_000).value)
    cache = ObjectCache(max_bytes=one * 10)
    for i in range(30):
        cache.get(kv(f"o{i}", i + 1, 10_000))
    assert cache.size_bytes <= one * 10
    assert 8 <= len(cache) <= 10
    kept = cache.get(kv("o29", 30, 10_000))
    assert kept is cache.get(kv("o29", 30, 10_000))   # the newest stays, shared


def test_many_small_objects_fit_where_few_large_ones_do():
    budget = cost(kv("a", 1, 100_000).value) * 2
    cache = ObjectCache(max_bytes=budget)
    for i in range(200):
        cache.get(kv(f"s{i}", i + 1, 10))
    assert len(cache) == 200
    cache.get(kv("big", 500, 100_000))
    cache.get(kv("big2", 501, 100_000))
    assert cache.size_bytes <= budget


def test_a_recently_read_object_outlives_older_ones():
    one = cost(kv("a", 1, 1000).value)
    cache = ObjectCache(max_bytes=one * 10)
    first = cache.get(kv("first", 1, 1000))
    for i in range(20):
        cache.get(kv("first", 1, 1000))   # read again: most recently used
        cache.get(kv(f"o{i}", i + 2, 1000))
    assert cache.get(kv("first", 1, 1000)) is first


def test_put_counts_and_evicts_too():
    one = cost(kv("a", 1, 1000).value)
    cache = ObjectCache(max_bytes=one * 5)
    for i in range(20):
        v = kv(f"p{i}", i + 1, 1000)
        cache.put(v.key, v.mod_revision, v.value, orjson.loads(v.value))
    assert cache.size_bytes <= one * 5 and len(cache) <= 5
