"""new_uid: version-4 UUIDs from buffered random bytes, in uuid's text form, never repeated."""
import threading
import uuid

from apiserver.registry import objects


def test_new_uid_is_a_random_rfc4122_uuid_in_canonical_form():
    for _ in range(2000):  # past one 4 KiB refill (256 uids a chunk)
        text = objects.new_uid()
        u = uuid.UUID(text)
        assert (u.version, u.variant) == (4, uuid.RFC_4122)
        assert str(u) == text


def test_new_uid_never_repeats_across_threads():
    seen: list[list[str]] = [[] for _ in range(4)]

    def make(out):
        out.extend(objects.new_uid() for _ in range(5000))

    threads = [threading.Thread(target=make, args=(out,)) for out in seen]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    everything = [u for out in seen for u in out]
    assert len(set(everything)) == len(everything) == 20000
