"""ComponentStatus health from the controller manager's lease, and the kubectl table cells."""
from datetime import datetime, timedelta, timezone

from openapi import catalogue

from apiserver.registry.componentstatus_store import component_status, lease_problem
from apiserver.registry.resources import strategy_for

NOW = datetime(2026, 1, 1, tzinfo=timezone.utc)


def _lease(holder="cm-1", renewed=NOW, duration=15):
    return {"spec": {"holderIdentity": holder, "leaseDurationSeconds": duration,
                     "renewTime": renewed.strftime("%Y-%m-%dT%H:%M:%S.%fZ")}}


def test_lease_problem():
    assert lease_problem(_lease(), NOW + timedelta(seconds=10)) == ""
    assert "not renewed within its 15s" in lease_problem(_lease(), NOW + timedelta(seconds=16))
    assert "not held" in lease_problem(_lease(holder=""), NOW)
    assert "not found" in lease_problem(None, NOW)


def test_cells_as_upstream_prints_them():
    res = next(r for r in catalogue.load().resources() if r.plural == "componentstatuses")
    s = strategy_for(res)
    assert s.cells(component_status("etcd-0", True, ""), NOW) == ["etcd-0", "Healthy", "ok", ""]
    assert s.cells(component_status("scheduler", False, "down"), NOW) == ["scheduler", "Unhealthy", "", "down"]
    assert s.cells({"metadata": {"name": "x"}}, NOW) == ["x", "Unknown", "", ""]
