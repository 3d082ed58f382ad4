"""Job bookkeeping without I/O: completion indexes, how many pods to run, back-off.

Indexed Jobs report finished indexes as upstream's compressed interval list
("0-2,5,7-9"); pods carry their index in an annotation and a label.
"""
from __future__ import annotations

INDEX_ANNOTATION = "batch.kubernetes.io/job-completion-index"
INDEX_LABEL = "batch.kubernetes.io/job-completion-index"
TRACKING_FINALIZER = "batch.kubernetes.io/job-tracking"
BACKOFF_BASE = 10.0
BACKOFF_MAX = 360.0


def parse_intervals(text: str | None) -> set[int]:
    out: set[int] = set()
    for part in (text or "").split(","):
        part = part.strip()
        if not part:
            continue
        lo, _, hi = part.partition("-")
        try:
            a, b = int(lo), int(hi or lo)
        except ValueError:
            continue
        out.update(range(a, b + 1))
    return out


def format_intervals(indexes: set[int]) -> str:
    parts, ordered = [], sorted(indexes)
    i = 0
    while i < len(ordered):
        j = i
        while j + 1 < len(ordered) and ordered[j + 1] == ordered[j] + 1:
            j += 1
        parts.append(str(ordered[i]) if i == j else f"{ordered[i]}-{ordered[j]}")
        i = j + 1
    return ",".join(parts)


def pod_index(pod: dict) -> int | None:
    meta = pod.get("metadata") or {}
    raw = (meta.get("annotations") or {}).get(INDEX_ANNOTATION) or (meta.get("labels") or {}).get(INDEX_LABEL)
    try:
        return int(raw) if raw is not None else None
    except ValueError:
        return None


def wanted_active(spec: dict, succeeded: int, active: int) -> int:
    """NonIndexed: how many pods should run now (upstream's manageJob arithmetic).

    With completions: never more than are still needed. Without (a work queue):
    parallelism until the first success, then no new pods."""
    parallelism = int(spec.get("parallelism") if spec.get("parallelism") is not None else 1)
    completions = spec.get("completions")
    if completions is None:
        return 0 if succeeded > 0 else parallelism
    return max(min(parallelism, int(completions) - succeeded), 0)


def missing_indexes(completions: int, succeeded: set[int], active: set[int], parallelism: int) -> list[int]:
    """Indexed: the lowest indexes neither done nor running, within parallelism."""
    room = parallelism - len(active)
    out = []
    for i in range(completions):
        if room <= 0:
            break
        if i not in succeeded and i not in active:
            out.append(i)
            room -= 1
    return out


def backoff_delay(recent_failures: int) -> float:
    """Seconds to wait before re-creating after failures: 10s doubling, at most 6 minutes."""
    if recent_failures <= 0:
        return 0.0
    return min(BACKOFF_BASE * 2 ** (recent_failures - 1), BACKOFF_MAX)


def is_finished(job: dict) -> str | None:
    """'Complete' or 'Failed' once the Job has that condition True."""
    for c in (job.get("status") or {}).get("conditions") or []:
        if c.get("type") in ("Complete", "Failed") and c.get("status") == "True":
            return c["type"]
    return None


def failure_policy_match(policy: dict | None, pod: dict) -> tuple[str, str] | None:
    """The first podFailurePolicy rule a failed pod matches: (action, upstream's message
    for FailJob), or None (the failure counts as usual)."""
    meta, status = pod.get("metadata") or {}, pod.get("status") or {}
    for i, rule in enumerate((policy or {}).get("rules") or []):
        action = rule.get("action") or ""
        on_codes = rule.get("onExitCodes")
        if on_codes:
            values, op = set(on_codes.get("values") or []), on_codes.get("operator")
            for cs in (status.get("initContainerStatuses") or []) + (status.get("containerStatuses") or []):
                if on_codes.get("containerName") and cs.get("name") != on_codes["containerName"]:
                    continue
                code = ((cs.get("state") or {}).get("terminated") or {}).get("exitCode")
                if code is None or code == 0:
                    continue  # a container that succeeded matches no rule
                if (op == "In" and code in values) or (op == "NotIn" and code not in values):
                    return action, (f"Container {cs.get('name')} for pod {meta.get('namespace')}/{meta.get('name')} "
                                    f"failed with exit code {code} matching {action} rule at index {i}")
        for want in rule.get("onPodConditions") or []:
            if any(c.get("type") == want.get("type") and c.get("status") == (want.get("status") or "True")
                   for c in status.get("conditions") or []):
                return action, (f"Pod {meta.get('namespace')}/{meta.get('name')} has condition {want.get('type')} "
                                f"matching {action} rule at index {i}")
    return None
