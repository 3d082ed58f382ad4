"""kill -9 of the API server on the embedded SQLite store while clients write: every
write it acknowledged (201 create, 200 update) is there after a restart, with the content
acknowledged, and nothing appears that no client asked for.

The acknowledgement is the contract: a 201 means the row is committed (WAL, synchronous
commit) before the answer leaves, so a SIGKILL one instant later may lose only requests
still in flight, which no client was told succeeded.
"""
from __future__ import annotations

import os
import signal
import threading
import time
import uuid
from pathlib import Path

import httpx

from tests.harness import ServerProcess

WRITERS = 8


def _writer(srv: ServerProcess, ns: str, stop: threading.Event, acked: dict, asked: set, wid: int) -> None:
    """Create ConfigMaps and update every other one; record what the server acknowledged."""
    try:
        client = srv.http_client(timeout=10)
    except OSError:
        return
    with client:
        i = 0
        while not stop.is_set():
            name = f"w{wid}-{i}"
            asked.add(name)
            try:
                r = client.post(f"/api/v1/namespaces/{ns}/configmaps",
                                json={"metadata": {"name": name}, "data": {"v": "1"}})
                if r.status_code == 201:
                    acked[name] = "1"
                    if i % 2 == 0:
                        obj = r.json()
                        obj["data"] = {"v": "2"}
                        u = client.put(f"/api/v1/namespaces/{ns}/configmaps/{name}", json=obj)
                        if u.status_code == 200:
                            acked[name] = "2"
            except (httpx.HTTPError, OSError):
                return   # the server is gone: what was not acknowledged may or may not be there
            i += 1


def test_kill_9_during_writes_loses_no_acknowledged_write(tmp_path: Path):
    srv = ServerProcess(tmp_path / "data").start().wait_ready()
    try:
        ns = f"kill9-{uuid.uuid4().hex[:6]}"
        with srv.http_client() as c:
            assert c.post("/api/v1/namespaces", json={"metadata": {"name": ns}}).status_code == 201
        acked: dict[str, str] = {}
        asked: set[str] = set()
        for round_ in range(2):   # two kills: the second restarts from a store that was killed once
            stop = threading.Event()
            writers = [threading.Thread(target=_writer, args=(srv, ns, stop, acked, asked, round_ * 100 + w))
                       for w in range(WRITERS)]
            for t in writers:
                t.start()
            deadline = time.monotonic() + 30
            before = len(acked)
            while len(acked) < before + 200 and time.monotonic() < deadline:
                time.sleep(0.05)
            os.killpg(srv.proc.pid, signal.SIGKILL)   # mid-write: the writers are still sending
            srv.proc.wait()
            stop.set()
            for t in writers:
                t.join(30)
            assert len(acked) >= before + 50, f"round {round_}: too few writes acknowledged before the kill"
            srv.start().wait_ready()
            with srv.http_client() as c:
                items = c.get(f"/api/v1/namespaces/{ns}/configmaps").json()["items"]
            stored = {o["metadata"]["name"]: (o.get("data") or {}).get("v") for o in items
                      if o["metadata"]["name"] != "kube-root-ca.crt"}
            lost = sorted(n for n in acked if n not in stored)
            assert not lost, f"acknowledged creates lost after kill -9: {lost[:10]} of {len(lost)}"
            older = sorted(n for n, v in acked.items() if v == "2" and stored[n] != "2")
            assert not older, f"acknowledged updates lost after kill -9: {older[:10]}"
            assert set(stored) <= asked, f"objects no client asked for: {sorted(set(stored) - asked)[:10]}"
            print(f"\nkill -9 round {round_}: {len(acked)} writes acknowledged, {len(stored)} stored, 0 lost")
    finally:
        srv.stop()
