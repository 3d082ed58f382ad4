"""--encryption-provider-config: an `apiserver.config.k8s.io/v1` EncryptionConfiguration.

    apiVersion: apiserver.config.k8s.io/v1
    kind: EncryptionConfiguration
    resources:
      - resources: [secrets]              # or configmaps, deployments.apps, *.apps, *.*
        providers:
          - aescbc: {keys: [{name: key1, secret: <base64 of 16, 24 or 32 bytes>}]}
          - identity: {}

Each entry's providers form one chain (the first one writes; every one reads);
a resource takes the first entry that names it, as upstream does. Parsing is pure
and refuses a bad file with a message naming the field, so the server does not
start on a configuration it would misread. KMS providers need a plugin process
and are refused.
"""
from __future__ import annotations

import base64
import binascii
from typing import Callable, Iterable

import yaml

from apiserver.storage.envelope import AESCBC, AESGCMProvider, Identity, ProviderChain, Secretbox

_KEY_SIZES = {"aescbc": (16, 24, 32), "aesgcm": (16, 24, 32), "secretbox": (32,)}
_KEYED = {"aescbc": AESCBC, "aesgcm": AESGCMProvider, "secretbox": Secretbox}


class EncryptionConfigError(ValueError):
    pass


def parse(text: str) -> list[tuple[list[str], ProviderChain]]:
    """The (resource patterns, chain) entries of a configuration file, in order."""
    try:
        doc = yaml.safe_load(text)
    except yaml.YAMLError as e:
        raise EncryptionConfigError(f"not YAML: {e}") from None
    if not isinstance(doc, dict):
        raise EncryptionConfigError("the file must hold one EncryptionConfiguration object")
    if doc.get("kind") != "EncryptionConfiguration" or doc.get("apiVersion") not in (
            "apiserver.config.k8s.io/v1", "apiserver.config.k8s.io/v1beta1"):
        raise EncryptionConfigError("kind must be EncryptionConfiguration and apiVersion "
                                    "apiserver.config.k8s.io/v1")
    entries = doc.get("resources")
    if not isinstance(entries, list) or not entries:
        raise EncryptionConfigError("resources: Required value: at least one entry")
    out, seen = [], set()
    for i, entry in enumerate(entries):
        path = f"resources[{i}]"
        if not isinstance(entry, dict):
            raise EncryptionConfigError(f"{path}: must be an object")
        names = entry.get("resources")
        if not isinstance(names, list) or not names or not all(isinstance(n, str) and n for n in names):
            raise EncryptionConfigError(f"{path}.resources: Required value: a list of resource names")
        for j, n in enumerate(names):
            if n != n.lower():
                raise EncryptionConfigError(f"{path}.resources[{j}]: Invalid value: {n!r}: resource names "
                                            "must be lowercase")
            if n in seen:
                raise EncryptionConfigError(f"{path}.resources[{j}]: Duplicate value: {n!r}")
            seen.add(n)
        providers = entry.get("providers")
        if not isinstance(providers, list) or not providers:
            raise EncryptionConfigError(f"{path}.providers: Required value: at least one provider")
        chain = [p for k, prov in enumerate(providers) for p in _providers(prov, f"{path}.providers[{k}]")]
        out.append((names, ProviderChain(chain)))
    return out


def _providers(prov, path: str) -> list:
    if not isinstance(prov, dict) or len(prov) != 1:
        raise EncryptionConfigError(f"{path}: exactly one provider type must be specified")
    (kind, body), = prov.items()
    if kind == "identity":
        return [Identity()]
    if kind == "kms":
        raise EncryptionConfigError(f"{path}.kms: Unsupported value: KMS plugins are not supported; "
                                    "use aescbc, aesgcm or secretbox")
    if kind not in _KEYED:
        raise EncryptionConfigError(f"{path}: Unsupported value: {kind!r}: supported values: "
                                    "\"aescbc\", \"aesgcm\", \"secretbox\", \"identity\"")
    keys = body.get("keys") if isinstance(body, dict) else None
    if not isinstance(keys, list) or not keys:
        raise EncryptionConfigError(f"{path}.{kind}.keys: Required value: at least one key")
    out, names = [], set()
    for k, key in enumerate(keys):
        kp = f"{path}.{kind}.keys[{k}]"
        name = key.get("name") if isinstance(key, dict) else None
        if not isinstance(name, str) or not name or ":" in name:
            raise EncryptionConfigError(f"{kp}.name: Required value: a key name without ':'")
        if name in names:
            raise EncryptionConfigError(f"{kp}.name: Duplicate value: {name!r}")
        names.add(name)
        try:
            secret = base64.b64decode(str(key.get("secret", "")), validate=True)
        except (binascii.Error, ValueError):
            raise EncryptionConfigError(f"{kp}.secret: Invalid value: not valid base64") from None
        if len(secret) not in _KEY_SIZES[kind]:
            sizes = " or ".join(str(s) for s in _KEY_SIZES[kind])
            raise EncryptionConfigError(f"{kp}.secret: Invalid value: {kind} keys must be {sizes} bytes "
                                        f"long (this one is {len(secret)})")
        out.append(_KEYED[kind](name, secret))
    return out


def resolver(entries: list[tuple[list[str], ProviderChain]],
             group_resource_of: Callable[[str], tuple[str, str] | None]) -> Callable[[str], ProviderChain | None]:
    """chain_for(store key): the chain of the first entry matching the key's resource.
    `group_resource_of(segment)` names the (group, resource) a key's first segment
    stores, or None for a segment that holds no API objects."""
    memo: dict[str, ProviderChain | None] = {}

    def chain_for(key: str) -> ProviderChain | None:
        parts = key.split("/", 4)     # ['', 'registry', segment, (plural or ns), ...]
        if len(parts) < 4:
            return None
        segment = parts[2]
        if "." in segment and len(parts) > 3:     # custom resources: /registry/<group>/<plural>/...
            segment = f"{parts[2]}/{parts[3]}"
        if segment not in memo:
            gr = group_resource_of(segment)
            memo[segment] = None if gr is None else _first_match(entries, *gr)
        return memo[segment]

    return chain_for


def _first_match(entries, group: str, resource: str) -> ProviderChain | None:
    for patterns, chain in entries:
        if any(_matches(p, group, resource) for p in patterns):
            return chain
    return None


def _matches(pattern: str, group: str, resource: str) -> bool:
    if pattern == "*.*":
        return True
    name, _, pgroup = pattern.partition(".")
    if name == "*":
        return pgroup == group       # "*." is every core resource
    return name == resource and pgroup == group


def group_resources(resources: Iterable) -> Callable[[str], tuple[str, str] | None]:
    """The (group, resource) of a store segment, from the catalogue's resources;
    `<group>/<plural>` segments (custom resources) name themselves."""
    table = {r.storage_name: (r.group, r.plural) for r in resources if r.stored}

    def lookup(segment: str) -> tuple[str, str] | None:
        if segment in table:
            return table[segment]
        if "/" in segment:
            group, _, plural = segment.partition("/")
            return group, plural
        return None

    return lookup
