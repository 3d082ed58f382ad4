"""The sweep removes the files of Podman services that are gone, and only those."""
import fcntl
import os
import subprocess
import sys
import time

from nodeagent.runtime import leftovers


def _set(d, name: str, pid: int, lock: bool = True) -> str:
    sock = str(d / f"podman-{name}.sock")
    open(sock, "w").close()
    with open(sock + ".pid", "w") as f:
        f.write(str(pid))
    if lock:
        open(sock + ".lock", "w").close()
    return sock


def test_sweep_removes_dead_services_files_only(tmp_path):
    dead = _set(tmp_path, "dead-c1", os.getpid())            # a live pid, but not a service of that socket
    no_lock = _set(tmp_path, "old-c2", 2**22 + 7, lock=False)   # no such process; an agent of before locks
    held = _set(tmp_path, "held-c3", os.getpid())            # service gone, but an agent holds the lock
    fd = os.open(held + ".lock", os.O_RDWR)
    fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    live_sock = str(tmp_path / "podman-live-c4.sock")
    service = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)", live_sock])
    try:
        live = _set(tmp_path, "live-c4", service.pid)
        (tmp_path / "unrelated.pid").write_text("1")
        for _ in range(1000):   # until the child has exec'd (its command line is empty before)
            if open(f"/proc/{service.pid}/cmdline", "rb").read():
                break
            time.sleep(0.01)
        assert leftovers.service_pid(live) == service.pid and leftovers.service_pid(dead) is None

        assert sorted(leftovers.sweep(str(tmp_path))) == sorted([dead, no_lock])
        left = sorted(os.listdir(tmp_path))
        assert left == sorted(["podman-held-c3.sock", "podman-held-c3.sock.pid", "podman-held-c3.sock.lock",
                               "podman-live-c4.sock", "podman-live-c4.sock.pid", "podman-live-c4.sock.lock",
                               "unrelated.pid"])
    finally:
        os.close(fd)
        service.kill()
        service.wait()
    assert sorted(leftovers.sweep(str(tmp_path))) == sorted([held, live])
    assert os.listdir(tmp_path) == ["unrelated.pid"]
