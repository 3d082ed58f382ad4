"""v1 ComponentStatuses (deprecated upstream since 1.19, still served by 1.33): read-only,
computed on every read by componentstatus_store.py; this is their table and warning."""
from __future__ import annotations

from datetime import datetime

from apiserver.registry.printing.columns import col, name_column, name_of
from apiserver.registry.strategy import Strategy


class ComponentStatusStrategy(Strategy):
    serves = (("", "componentstatuses"),)
    has_spec = False
    deprecation = "v1 ComponentStatus is deprecated in v1.19+"

    def columns(self) -> list[dict]:
        return [name_column(), col("Status", "Status of the component conditions"),
                col("Message", "Message of the component conditions"),
                col("Error", "Error of the component conditions")]

    def cells(self, obj: dict, now: datetime) -> list:
        status, message, error = "Unknown", "", ""
        for c in obj.get("conditions") or []:
            if c.get("type") != "Healthy":
                continue
            if c.get("status") == "True":
                status, message = "Healthy", c.get("message") or ""
            else:
                status, error = "Unhealthy", c.get("error") or ""
        return [name_of(obj), status, message, error]
