"""Defaulting helpers shared by several kinds' Strategy.defaults(): the PodSpec
defaults (podspec.py) and `dict_at`, the step every defaulter takes first."""
from __future__ import annotations


def dict_at(obj: dict, key: str) -> dict:
    """obj[key] as a dict, created when absent (or null)."""
    v = obj.get(key)
    if not isinstance(v, dict):
        v = obj[key] = {}
    return v
