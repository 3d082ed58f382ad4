"""One snapshot of the APF configuration (the FlowSchemas and PriorityLevelConfigurations
as stored) turned into what a request needs: its FlowSchema, priority level and flow.

Schemas are tried in matchingPrecedence order (ties by name, as upstream); a schema
whose priority level does not exist is dangling and skipped. Each limited level's
seats are its share of the server's: ceil(server seats × nominalConcurrencyShares /
Σ shares of all levels), at least one since levels here do not borrow from each other.
Pure; results are memoised per request shape, as most requests repeat a few shapes."""
from __future__ import annotations

import hashlib
import math
from dataclasses import dataclass

from apiserver.http.requestinfo import RequestInfo
from apiserver.machinery.user import UserInfo

from .matching import flow_distinguisher, schema_matches

FS_UID_HEADER = b"x-kubernetes-pf-flowschema-uid"
PL_UID_HEADER = b"x-kubernetes-pf-prioritylevel-uid"
_MEMO_MAX = 8192


@dataclass(frozen=True, slots=True)
class Level:
    name: str
    uid: str
    exempt: bool
    seats: int = 0               # nominal concurrency limit (limited levels)
    queues: int = 0              # 0: limitResponse Reject
    hand_size: int = 0
    queue_length_limit: int = 0

    @property
    def shape(self) -> tuple:
        """What a level's queue set is built from: a change of any of these builds a new one."""
        return self.seats, self.queues, self.hand_size, self.queue_length_limit


@dataclass(frozen=True, slots=True)
class Schema:
    name: str
    uid: str
    spec: dict
    level: Level
    headers: tuple[tuple[bytes, bytes], tuple[bytes, bytes]]


@dataclass(frozen=True, slots=True)
class Classification:
    schema: Schema
    flow: str                  # the flow distinguisher (user name, namespace, or "")
    flow_hash: int             # what shuffle sharding deals the flow's queues from

    @property
    def level(self) -> Level:
        return self.schema.level


def _shares(spec: dict) -> int:
    part = spec.get("limited") if spec.get("type") == "Limited" else spec.get("exempt")
    value = (part or {}).get("nominalConcurrencyShares")
    return value if isinstance(value, int) and value > 0 else 0


def levels_from(objects: list[dict], server_seats: int) -> dict[str, Level]:
    total = sum(_shares(o.get("spec") or {}) for o in objects)
    levels = {}
    for obj in objects:
        meta, spec = obj.get("metadata") or {}, obj.get("spec") or {}
        name, uid = meta.get("name", ""), meta.get("uid", "")
        if spec.get("type") == "Exempt":
            levels[name] = Level(name, uid, exempt=True)
            continue
        seats = max(1, math.ceil(server_seats * _shares(spec) / total)) if total else 1
        queuing = (((spec.get("limited") or {}).get("limitResponse") or {}).get("queuing") or {}) \
            if ((spec.get("limited") or {}).get("limitResponse") or {}).get("type") == "Queue" else {}
        levels[name] = Level(name, uid, exempt=False, seats=seats, queues=queuing.get("queues") or 0,
                             hand_size=queuing.get("handSize") or 0,
                             queue_length_limit=queuing.get("queueLengthLimit") or 0)
    return levels


def flow_hash(schema: str, flow: str) -> int:
    """64 bits of the flow's identity (schema name, distinguisher), the same in every process."""
    digest = hashlib.blake2b(f"{schema}\0{flow}".encode(), digest_size=8).digest()
    return int.from_bytes(digest, "big")


class Configuration:
    def __init__(self, schemas: list[dict], levels: list[dict], server_seats: int):
        self.levels = levels_from(levels, server_seats)
        ordered, self.dangling = [], set()
        for obj in schemas:
            meta, spec = obj.get("metadata") or {}, obj.get("spec") or {}
            level = self.levels.get((spec.get("priorityLevelConfiguration") or {}).get("name"))
            if level is None:
                self.dangling.add(meta.get("name", ""))
                continue
            ordered.append((spec.get("matchingPrecedence") or 1000, meta.get("name", ""), Schema(
                meta.get("name", ""), meta.get("uid", ""), spec, level,
                ((FS_UID_HEADER, meta.get("uid", "").encode()), (PL_UID_HEADER, level.uid.encode())))))
        ordered.sort(key=lambda t: (t[0], t[1]))
        self.schemas: list[Schema] = [s for _, _, s in ordered]
        self._memo: dict[tuple, Classification | None] = {}

    def classify(self, user: UserInfo, info: RequestInfo) -> Classification | None:
        """The first matching schema and the request's flow; None when nothing matches
        (the mandatory catch-all matches everyone, so only when it was deleted and not
        yet put back)."""
        key = (user.name, user.groups, info.verb, info.group, info.resource, info.subresource, info.namespace,
               None if info.is_resource_request else info.path)
        found = self._memo.get(key, False)
        if found is not False:
            return found
        found = None
        for schema in self.schemas:
            if schema_matches(schema.spec, user, info):
                flow = flow_distinguisher(schema.spec, user, info)
                found = Classification(schema, flow, flow_hash(schema.name, flow))
                break
        if len(self._memo) >= _MEMO_MAX:
            self._memo.clear()
        self._memo[key] = found
        return found
