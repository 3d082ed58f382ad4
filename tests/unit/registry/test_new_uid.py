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


def test_a_forked_process_does_not_repeat_its_parents_uids():
    import os
    objects.new_uid()   # the parent holds a partly used chunk
    r, w = os.pipe()
    pid = os.fork()
    if pid == 0:
        os.close(r)
        os.write(w, "\n".join(objects.new_uid() for _ in range(10)).encode())
        os._exit(0)
    os.close(w)
    with os.fdopen(r) as f:
        child = set(f.read().split("\n"))
    os.waitpid(pid, 0)
    parent = {objects.new_uid() for _ in range(10)}
    assert len(child) == 10 and not child & parent
