"""Table column definitions (metav1.TableColumnDefinition) and the cells most
kinds share: Name first, Age from metadata.creationTimestamp."""
from __future__ import annotations

from datetime import datetime

from .humanize import age, doc

OBJECT_META = "io.k8s.apimachinery.pkg.apis.meta.v1.ObjectMeta"
CORE = "io.k8s.api.core.v1."


def col(name: str, description: str, type_: str = "string", priority: int = 0, format_: str = "") -> dict:
    return {"name": name, "type": type_, "format": format_, "description": description, "priority": priority}


def name_column(priority: int = 0) -> dict:
    return col("Name", doc(OBJECT_META, "name"), priority=priority, format_="name")


def age_column() -> dict:
    return col("Age", doc(OBJECT_META, "creationTimestamp"))


def created_at_column() -> dict:
    """Upstream's default table shows the creation time as a date, not an age."""
    return col("Created At", doc(OBJECT_META, "creationTimestamp"), "date")


def name_of(obj: dict) -> str:
    return (obj.get("metadata") or {}).get("name", "")


def created_at_of(obj: dict) -> str | None:
    return (obj.get("metadata") or {}).get("creationTimestamp")


def age_of(obj: dict, now: datetime) -> str:
    return age(created_at_of(obj), now)
