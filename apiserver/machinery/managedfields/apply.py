"""Server-side apply: merge a manager's configuration into the live object.

The configuration is the manager's whole intent: fields it sets are merged in
by schema (keyed lists by key, sets by value, atomic parts whole); fields it
set last time and no longer sets are removed unless someone else owns them;
changing a field another manager owns is a conflict (409) unless forced, in
which case ownership moves. Upgrading from client-side apply follows upstream:
when `kubectl` applies, conflicts on fields listed in the
`kubectl.kubernetes.io/last-applied-configuration` annotation are taken over,
and the annotation is kept in step with what was applied.
"""
from __future__ import annotations

import copy
import json
from typing import Iterable

from apiserver.machinery import errors

from . import entries as E
from . import fieldpaths as fp
from . import typed
from .fieldpaths import Path

LAST_APPLIED = "kubectl.kubernetes.io/last-applied-configuration"
KUBECTL = "kubectl"  # the only manager whose applies upgrade/keep the client-side annotation

# Metadata the server keeps; an applied value is never merged over the live one.
_SERVER_METADATA = ("uid", "resourceVersion", "creationTimestamp", "generation", "managedFields", "selfLink",
                    "deletionTimestamp", "deletionGracePeriodSeconds")


def _gvk_string(api_version: str, kind: str) -> str:
    group, _, version = api_version.rpartition("/")
    return f"{group}/{version}, Kind={kind}"


def _check_config(config, api_version: str, kind: str) -> None:
    if not isinstance(config, dict):
        raise errors.bad_request("error decoding YAML: apply patch must be an object")
    if "metadata" in config and not isinstance(config["metadata"], dict):
        raise errors.bad_request("json: cannot unmarshal into Go struct field of type v1.ObjectMeta: "
                                 "metadata must be an object")
    if E.metadata(config).get("managedFields") is not None:
        # a configuration states intent; ownership records are the server's (upstream refuses them)
        raise errors.bad_request("metadata.managedFields must be nil")
    got = config.get("apiVersion", "")
    if got != api_version:
        raise errors.bad_request(
            f"Incorrect version specified in apply patch. Specified patch version: {got}, expected: {api_version}")
    if config.get("kind", "") != kind:
        raise errors.bad_request(
            f"Incorrect kind specified in apply patch. Specified patch kind: {config.get('kind', '')}, expected: {kind}")


def _unknown_error(config: dict, api_version: str, kind: str, unknown: list[Path],
                   duplicates: list[tuple[Path, str]]) -> errors.StatusError:
    meta = E.metadata(config)
    where = f"{meta.get('namespace', '')}/{meta.get('name', '')}; {_gvk_string(api_version, kind)}"
    texts = [f"{fp.path_string(p)}: duplicate entries for key {fp.element_string(pe)}" for p, pe in duplicates]
    texts += [f"{fp.path_string(p)}: field not declared in schema" for p in unknown]
    detail = texts[0] if len(texts) == 1 else "errors:\n" + "".join(f"  {t}\n" for t in texts)
    return errors.bad_request(f"failed to create typed patch object ({where}): {detail}")


def conflict_error(conflicts: list[tuple[E.Entry, Path]]) -> errors.StatusError:
    """409 with upstream's message and one FieldManagerConflict cause per field."""
    causes = [errors.Cause("FieldManagerConflict", f"conflict with {e.describe()}", fp.path_string(p))
              for e, p in conflicts]
    if len(conflicts) == 1:
        e, p = conflicts[0]
        message = f"Apply failed with 1 conflict: conflict with {e.describe()}: {fp.path_string(p)}"
    else:
        by_manager: dict[str, list[Path]] = {}
        for e, p in conflicts:
            by_manager.setdefault(e.describe(), []).append(p)
        lines = []
        for who in sorted(by_manager):
            lines.append(f"conflicts with {who}:")
            lines.extend(f"- {fp.path_string(p)}" for p in by_manager[who])
        message = f"Apply failed with {len(conflicts)} conflicts: " + "\n".join(lines)
    return errors.StatusError(409, "Conflict", message, causes=causes)


def _clean_config(config: dict) -> dict:
    out = copy.deepcopy(config)
    meta = out.get("metadata")
    if isinstance(meta, dict):
        for k in _SERVER_METADATA:
            meta.pop(k, None)
    return out


def _prefixes(paths: Iterable[Path]) -> set[Path]:
    out: set[Path] = set()
    for p in paths:
        for i in range(1, len(p)):
            out.add(p[:i])
    return out


def _prune(merged: dict, schema: dict | None, last: set[Path], keep: set[Path]) -> None:
    """Remove what this manager set before and nobody sets now (nothing beneath it owned either)."""
    beneath_kept = _prefixes(keep)
    for p in sorted(last - keep, key=len):
        if p not in beneath_kept:
            typed.remove(merged, p, schema)
            # Do not leave an emptied list or map behind unless someone owns it.
            parent = p[:-1]
            while parent and parent not in keep and typed.is_empty_at(merged, parent, schema):
                typed.remove(merged, parent, schema)
                parent = parent[:-1]


def _last_applied_fields(live: dict, schema: dict | None) -> set[Path]:
    annotations = E.metadata(live).get("annotations")
    raw = annotations.get(LAST_APPLIED) if isinstance(annotations, dict) else None
    if not raw:
        return set()
    try:
        last = json.loads(raw)
    except ValueError:
        return set()
    return typed.fieldset(last, schema) if isinstance(last, dict) else set()


def _sync_last_applied(obj: dict, config: dict) -> None:
    annotations = E.metadata(obj).get("annotations")
    if not isinstance(annotations, dict) or LAST_APPLIED not in annotations:
        return
    applied = copy.deepcopy(config)
    ann = E.metadata(applied).get("annotations")
    if isinstance(ann, dict):
        ann.pop(LAST_APPLIED, None)  # an emptied map stays `{}`, as upstream encodes it
    annotations[LAST_APPLIED] = json.dumps(applied, separators=(",", ":"), sort_keys=True) + "\n"


def apply(live: dict | None, config: dict, manager: str, *, force: bool, api_version: str, kind: str,
          now: str, subresource: str = "", schema: dict | None = None, ignored: Iterable[Path] = ()) -> dict:
    """The object after `manager` applies `config` to `live` (None: it does not exist yet).

    Returns a new object with metadata.managedFields updated; raises StatusError
    400 for a malformed configuration and 409 for conflicts.
    """
    _check_config(config, api_version, kind)
    schema = E.schema_for(config, schema)
    ignored = tuple(ignored)
    cfg = _clean_config(config)
    unknown: list[Path] = []
    duplicates: list[tuple[Path, str]] = []
    config_set = E.owned(typed.fieldset(cfg, schema, unknown=unknown, duplicates=duplicates), ignored)
    if unknown or duplicates:
        raise _unknown_error(config, api_version, kind, unknown, duplicates)

    base = E.without_managed_fields(copy.deepcopy(live)) if live is not None else {}
    entries = E.decode(E.metadata(live).get("managedFields")) if live is not None else []
    merged = typed.merge(base, cfg, schema)

    me = E.find(entries, manager, E.APPLY, api_version, subresource)
    others = [e for e in entries if e is not me]
    keep = set(config_set)
    for e in others:
        keep |= e.fields
    _prune(merged, schema, set(me.fields), keep)

    changed, _ = typed.compare(base if live is not None else E.empty_like(merged, schema), merged, schema)
    conflicts = [(e, p) for e in others for p in sorted(e.fields & changed, key=fp.path_string)]
    if conflicts and not force and live is not None and manager == KUBECTL:
        # Upgrading from client-side apply: fields the last client-side apply set are taken over.
        allowed = _last_applied_fields(live, schema)
        if all(p in allowed for _, p in conflicts):
            conflicts, force = [], True
    if conflicts and not force:
        conflicts.sort(key=lambda c: (c[0].describe(), fp.path_string(c[1])))
        raise conflict_error(conflicts)
    for e in others:
        e.fields -= changed
    unchanged = live is not None and merged == base and me.fields == config_set and me.time
    me.fields = config_set
    if not unchanged:  # a no-op apply keeps its time, so it writes nothing (as upstream)
        me.time = now
    if manager == KUBECTL and live is not None:
        _sync_last_applied(merged, config)
    E.set_managed_fields(merged, entries)
    return merged
