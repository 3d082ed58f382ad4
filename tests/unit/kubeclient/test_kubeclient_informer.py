from kubeclient.informer import Informer
from kubeclient.resources import PODS


def test_assume_never_replaces_a_newer_cached_version():
    inf = Informer(None, PODS)
    obj = lambda rv: {"metadata": {"namespace": "n", "name": "p", "resourceVersion": str(rv)}}
    inf.assume(obj(5))
    inf.assume(obj(4))
    assert inf.get("n/p")["metadata"]["resourceVersion"] == "5"
    inf.assume(obj(7))
    assert inf.get("n/p")["metadata"]["resourceVersion"] == "7"


def test_assume_never_brings_back_an_object_the_watch_saw_deleted():
    # the write's response arrives after the watch delivered that write and then the deletion
    inf = Informer(None, PODS)
    obj = lambda rv: {"metadata": {"namespace": "n", "name": "p", "resourceVersion": str(rv)}}
    inf._apply("ADDED", obj(4))
    inf._apply("MODIFIED", obj(5))
    inf._apply("DELETED", obj(6))
    inf.resource_version = "6"   # as run() records after each event
    inf.assume(obj(5))
    assert inf.get("n/p") is None
    inf.assume(obj(7))   # a write the watch has not delivered yet is assumed
    assert inf.get("n/p")["metadata"]["resourceVersion"] == "7"


def test_list_by_namespace_follows_adds_updates_deletes_assumes_and_forgets():
    inf = Informer(None, PODS)
    obj = lambda ns, name, rv: {"metadata": {"namespace": ns, "name": name, "resourceVersion": str(rv)}}
    names = lambda ns: sorted(o["metadata"]["name"] for o in inf.list(ns))
    inf._apply("ADDED", obj("a", "p1", 1))
    inf._apply("ADDED", obj("a", "p2", 2))
    inf._apply("ADDED", obj("b", "p1", 3))
    assert names("a") == ["p1", "p2"] and names("b") == ["p1"] and names("c") == []
    inf._apply("MODIFIED", obj("a", "p1", 4))
    assert [o["metadata"]["resourceVersion"] for o in inf.list("a") if o["metadata"]["name"] == "p1"] == ["4"]
    inf._apply("DELETED", obj("a", "p2", 5))
    assert names("a") == ["p1"]
    inf.assume(obj("c", "p9", 6))
    assert names("c") == ["p9"]
    inf.forget("c/p9")
    assert names("c") == [] and inf.get("c/p9") is None
    inf._apply("DELETED", obj("b", "p1", 7))
    assert names("b") == [] and len(inf.list()) == 1
    # every namespace's list is what a scan of the whole cache finds
    for ns in ("a", "b", "c"):
        assert inf.list(ns) == [o for o in inf.list() if o["metadata"]["namespace"] == ns]


def test_a_named_index_follows_objects_whose_value_changes():
    inf = Informer(None, PODS)
    obj = lambda name, owner, rv: {"metadata": {"namespace": "a", "name": name, "resourceVersion": str(rv),
                                                "labels": {"owner": owner} if owner else {}}}
    inf._apply("ADDED", obj("p1", None, 1))
    inf.add_index("owner", lambda o: o["metadata"]["labels"].get("owner"))  # added late: indexes what is cached
    inf._apply("ADDED", obj("p2", "x", 2))
    inf.add_index("owner", lambda o: "ignored")  # a second add under the name keeps the first
    assert [o["metadata"]["name"] for o in inf.by_index("owner", "x")] == ["p2"]
    inf._apply("MODIFIED", obj("p1", "x", 3))  # gains a value
    inf._apply("MODIFIED", obj("p2", "y", 4))  # moves
    assert [o["metadata"]["name"] for o in inf.by_index("owner", "x")] == ["p1"]
    assert [o["metadata"]["resourceVersion"] for o in inf.by_index("owner", "y")] == ["4"]  # the newest object
    inf._apply("DELETED", obj("p2", "y", 5))
    assert inf.by_index("owner", "y") == [] and inf.by_index("owner", "nobody") == []
