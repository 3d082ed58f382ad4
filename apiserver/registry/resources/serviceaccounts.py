"""ServiceAccounts: a data holder (no spec); the table counts their secrets."""
from __future__ import annotations

from datetime import datetime

from apiserver.registry.printing.columns import CORE, age_column, age_of, col, name_column, name_of
from apiserver.registry.printing.humanize import doc
from apiserver.registry.strategy import Strategy


class ServiceAccountStrategy(Strategy):
    serves = (("", "serviceaccounts"),)
    has_spec = False

    def columns(self) -> list[dict]:
        return [name_column(), col("Secrets", doc(CORE + "ServiceAccount", "secrets"), "integer"), age_column()]

    def cells(self, obj: dict, now: datetime) -> list:
        return [name_of(obj), len(obj.get("secrets") or []), age_of(obj, now)]
