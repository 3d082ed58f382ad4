"""The generic registry: one store for every resource plus a strategy per kind.

Entry points: `build_registries(store, catalogue)`; `bootstrap.ensure_defaults`.
"""
from __future__ import annotations


def build_registries(store, catalogue=None):
    """All resource stores over one Store (wrap it in CachedStore first)."""
    from openapi.catalogue import load
    from apiserver.registry.registries import Registries
    return Registries(store, catalogue or load())


__all__ = ["build_registries"]
