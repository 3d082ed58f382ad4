"""The data maps of ConfigMaps and Secrets: key names, the size limit, and what
`immutable: true` freezes."""
from __future__ import annotations

import re

from apiserver.machinery import names
from apiserver.machinery.errors import Cause

from . import field

MAX_SIZE = 1024 * 1024  # both kinds: one etcd value must stay small
IMMUTABLE_DETAIL = "field is immutable when `immutable` is set"


# A key names.is_config_map_key accepts, in one C-level match: the allowed characters, at
# most 253 of them, and neither "." nor a start of "..". Only keys failing it are checked
# (and worded) one rule at a time: an 80,000-key ConfigMap is validated in milliseconds.
_VALID_KEY = re.compile(r"(?!\.\.)(?!\.\Z)[-._a-zA-Z0-9]{1,%d}" % names.DNS1123_SUBDOMAIN_MAX_LENGTH)


def validate_keys(data, path: str) -> list[Cause]:
    causes: list[Cause] = []
    valid = _VALID_KEY.fullmatch
    for k in data or {}:
        if not (isinstance(k, str) and valid(k)):
            causes += field.each_invalid(field.key(path, k), k, names.is_config_map_key(k))
    return causes


def validate_immutable_update(new: dict, old: dict, data_keys: tuple[str, ...]) -> list[Cause]:
    if old.get("immutable") is not True:
        return []
    causes: list[Cause] = []
    if new.get("immutable") is not True:
        causes.append(field.forbidden("immutable", IMMUTABLE_DETAIL))
    for key in data_keys:
        if (new.get(key) or {}) != (old.get(key) or {}):
            causes.append(field.forbidden(key, IMMUTABLE_DETAIL))
    return causes
