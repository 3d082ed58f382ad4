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
