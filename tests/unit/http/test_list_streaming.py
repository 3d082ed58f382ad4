"""A streamed LIST is byte for byte the whole one; objects the cache let go of keep no memo."""
import orjson
import pytest

from apiserver.http.tables import join_list, stream_list
from apiserver.registry.objects import ObjectCache, StoredObject
from apiserver.storage.interface import KeyValue


def _items(n: int) -> list[StoredObject]:
    return [StoredObject(f"/registry/configmaps/ns/c{i}", i + 1, orjson.dumps({"metadata": {"name": f"c{i}"}}))
            for i in range(n)]


def _parts():
    return b'{"items":[', lambda i: i.transient_json(), b"]}"


@pytest.mark.parametrize("n", [0, 1, 3, 4, 7, 9])
def test_streamed_chunks_join_to_the_whole_answer(n):
    items = _items(n)
    whole = join_list(_parts(), items)
    assert b"".join(stream_list(_parts(), items, per_chunk=3)) == whole
    assert len(orjson.loads(whole)["items"]) == n


def test_transient_forms_are_not_kept_and_the_cache_says_what_it_holds():
    cache = ObjectCache(max_bytes=10_000)
    kvs = [KeyValue(f"/registry/pods/ns/p{i}", b'{"metadata":{"name":"p%d"}}' % i, i + 1, i + 1) for i in range(200)]
    got = [cache.get(kv) for kv in kvs]
    held = [so for so in got if cache.holds(so)]
    assert held and len(held) < len(got)            # the oldest were evicted
    evicted = got[0]
    assert not cache.holds(evicted)
    assert orjson.loads(evicted.transient_json())["metadata"] == {"name": "p0", "resourceVersion": "1"}
    assert evicted.transient_obj()["metadata"]["name"] == "p0"
    assert not evicted.decoded                       # nothing stayed memoized on it
