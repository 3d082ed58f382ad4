"""A large object's field ownership is recorded off the event loop (issue 20): correct, and
others are answered meanwhile (ordering, not timing)."""
from __future__ import annotations

import threading

CM = "/api/v1/namespaces/default/configmaps"
KEYS = 20_000   # well past the off-loop bound, within etcd's value limit with managedFields


def test_a_large_update_records_its_managed_fields_while_others_are_served(admin_http, server):
    data = {f"k{i}": "v" for i in range(KEYS)}
    r = admin_http.post(CM, params={"fieldManager": "creator"},
                        json={"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "big-owned"}, "data": data})
    assert r.status_code == 201, r.text
    data["k7"] = "changed"
    order: list[str] = []

    def put():
        with server.http_client(timeout=120) as c:
            r = c.put(f"{CM}/big-owned", params={"fieldManager": "editor"},
                      json={"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "big-owned"}, "data": data})
            order.append(f"put {r.status_code}")

    t = threading.Thread(target=put)
    t.start()
    while not order:   # some GET lands while the PUT is being handled
        assert admin_http.get("/readyz").status_code == 200
        if not order:
            order.append("get")
    t.join()
    assert order[0] == "get" and order[-1] == "put 200", order
    managed = {e["manager"]: e for e in admin_http.get(f"{CM}/big-owned").json()["metadata"]["managedFields"]}
    assert set(managed["editor"]["fieldsV1"]["f:data"]) == {"f:k7"}
    assert "f:k7" not in managed["creator"]["fieldsV1"]["f:data"]
    assert len([k for k in managed["creator"]["fieldsV1"]["f:data"] if k.startswith("f:")]) == KEYS - 1
    assert admin_http.delete(f"{CM}/big-owned").status_code == 200
