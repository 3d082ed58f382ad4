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
