"""The HorizontalPodAutoscaler's arithmetic (autoscaling/v2), pure.

- A Resource metric's ratio is its current value over its target (average
  utilization of the pods' requests, or average value); within the tolerance
  (0.1) of 1 the replica count stays; else ceil(ratio * pods with metrics).
- The metrics' proposals are combined by taking the largest.
- Stabilization: the recommendation used is the highest of those made within
  the scale-down window (default 300 s) when going down, the lowest within the
  scale-up window (default 0 s) when going up.
- Policies (Pods / Percent per period) cap how far one step may go, counting the
  scale events already made within each period; selectPolicy Max takes the
  policy allowing the most change, Min the least, Disabled forbids the direction.
- The result is clamped to [minReplicas, maxReplicas].
"""
from __future__ import annotations

import math
from dataclasses import dataclass

TOLERANCE = 0.1
DEFAULT_SCALE_UP = {"stabilizationWindowSeconds": 0, "selectPolicy": "Max",
                    "policies": [{"type": "Percent", "value": 100, "periodSeconds": 15},
                                 {"type": "Pods", "value": 4, "periodSeconds": 15}]}
DEFAULT_SCALE_DOWN = {"stabilizationWindowSeconds": 300, "selectPolicy": "Max",
                      "policies": [{"type": "Percent", "value": 100, "periodSeconds": 15}]}


def proposal(current_replicas: int, ratio: float, pods_with_metrics: int) -> int:
    """Replicas one metric asks for."""
    if abs(ratio - 1.0) <= TOLERANCE or pods_with_metrics == 0:
        return current_replicas
    return math.ceil(ratio * pods_with_metrics)


@dataclass
class Event:
    at: float
    change: int   # replicas added (>0) or removed (<0)


def stabilized(recommendations: list[tuple[float, int]], now: float, desired: int, current: int,
               up_window: float, down_window: float) -> int:
    """`recommendations`: (time, replicas) made before, this one included by the caller."""
    up_limit, down_limit = desired, desired
    for at, replicas in recommendations:
        if now - at <= up_window:
            up_limit = min(up_limit, replicas)
        if now - at <= down_window:
            down_limit = max(down_limit, replicas)
    if desired > current:
        return max(current, up_limit)
    if desired < current:
        return min(current, down_limit)
    return current


def _changed_within(events: list[Event], now: float, period: float, up: bool) -> int:
    return sum(abs(e.change) for e in events if now - e.at <= period and (e.change > 0) == up)


def limited(current: int, desired: int, rules: dict, events: list[Event], now: float) -> int:
    """Cap a step by the direction's policies (rules: scaleUp or scaleDown of behavior)."""
    if desired == current:
        return current
    up = desired > current
    select = rules.get("selectPolicy") or "Max"
    if select == "Disabled":
        return current
    limits = []
    for p in rules.get("policies") or []:
        period = float(p.get("periodSeconds") or 15)
        value = int(p.get("value") or 0)
        if up:
            start = current - _changed_within(events, now, period, True)
            limits.append(start + value if p.get("type") == "Pods" else math.ceil(start * (1 + value / 100)))
        else:
            start = current + _changed_within(events, now, period, False)
            limits.append(start - value if p.get("type") == "Pods" else math.ceil(start * (1 - value / 100)))
    if not limits:
        return desired
    if up:
        cap = max(limits) if select == "Max" else min(limits)
        return min(desired, max(cap, current))
    floor = min(limits) if select == "Max" else max(limits)
    return max(desired, min(floor, current))


def clamp(replicas: int, min_replicas: int, max_replicas: int) -> int:
    return max(min_replicas, min(max_replicas, replicas))
