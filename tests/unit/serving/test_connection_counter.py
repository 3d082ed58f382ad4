"""The connection caps' bookkeeping (apiserver/assembly/serving/connection_limits.py)."""
from __future__ import annotations

from apiserver.assembly.serving.connection_limits import ConnectionCaps, ConnectionCounter


def test_caps_per_client_and_in_total_and_slots_come_back():
    c = ConnectionCounter(ConnectionCaps(total=3, per_client=2))
    assert c.admit("10.0.0.1") and c.admit("10.0.0.1")
    assert not c.admit("10.0.0.1")                  # its own cap
    assert c.admit("10.0.0.2")
    assert not c.admit("10.0.0.3")                  # the server is full
    c.release("10.0.0.1")
    assert c.admit("10.0.0.3")
    assert c.refused == 2
    for client in ("10.0.0.1", "10.0.0.2", "10.0.0.3"):
        c.release(client)
    assert c.total == 0 and not c.by_client
