"""A watch event is framed once per event and kind, and each frame is the event's own."""
import orjson

from apiserver.registry.objects import StoredObject
from apiserver.registry.watching import encode_stored_event


def test_frames_are_reused_for_one_event_and_differ_by_kind_and_object():
    a = StoredObject("/registry/pods/ns/a", 5, orjson.dumps({"metadata": {"name": "a"}}))
    b = StoredObject("/registry/pods/ns/b", 6, orjson.dumps({"metadata": {"name": "b"}}))
    first = encode_stored_event("MODIFIED", a)
    assert encode_stored_event("MODIFIED", a) is first
    assert orjson.loads(first) == {"type": "MODIFIED", "object": {"metadata": {"name": "a", "resourceVersion": "5"}}}
    assert orjson.loads(encode_stored_event("ADDED", a))["type"] == "ADDED"
    assert orjson.loads(encode_stored_event("ADDED", b))["object"]["metadata"]["name"] == "b"
    assert first.endswith(b"}\n")
