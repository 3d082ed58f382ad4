from apiserver.storage.fanout import Fanout
from apiserver.storage.interface import KeyValue, WatchEvent
from apiserver.storage.stream import WatchStream


def ev(key, rev):
    return WatchEvent("ADDED", KeyValue(key, b"", rev, rev))


def test_events_reach_only_matching_watchers():
    f = Fanout()
    pods, pods_ns, svcs, wide = (WatchStream(p, 0, None) for p in
                                 ("/registry/pods/", "/registry/pods/ns1/", "/registry/services/", "/registry/"))
    for w in (pods, pods_ns, svcs, wide):
        f.add(w)
    f.publish([ev("/registry/pods/ns1/a", 1), ev("/registry/pods/ns2/b", 2), ev("/registry/podsx/c", 3)])
    assert (pods.buffered(), pods_ns.buffered(), svcs.buffered(), wide.buffered()) == (2, 1, 0, 3)
    f.discard(pods)
    f.discard(wide)
    assert len(f) == 2 and set(f.all()) == {pods_ns, svcs}
