"""apiserver_admission_*_admission_duration_seconds, as upstream names them:

  step        {type, operation, rejected}        the chain's two steps (admit: the mutating
                                                 plugins; validate), timed around
  controller  {name, type, operation, rejected}  each plugin within a step
  webhook     {name, type, operation, rejected}  each webhook call (type admit or validating)
"""
from __future__ import annotations

from promtext import Histogram
from apiserver.admission.timing import observe_step

_BUCKETS = (0.005, 0.025, 0.1, 0.5, 1.0, 2.5)


def step_histogram() -> Histogram:
    return Histogram("apiserver_admission_step_admission_duration_seconds",
                     "Admission sub-step latency histogram in seconds, broken out for each operation and API "
                     "resource and step type (validate or admit).", ("type", "operation", "rejected"), _BUCKETS)


def controller_histogram() -> Histogram:
    return Histogram("apiserver_admission_controller_admission_duration_seconds",
                     "Admission controller latency histogram in seconds, identified by name and broken out for "
                     "each operation and API resource and type (validate or admit).",
                     ("name", "type", "operation", "rejected"), _BUCKETS)


def webhook_histogram() -> Histogram:
    return Histogram("apiserver_admission_webhook_admission_duration_seconds",
                     "Admission webhook latency histogram in seconds, identified by name and broken out for each "
                     "operation and API resource and type (validate or admit).",
                     ("name", "type", "operation", "rejected"), _BUCKETS)


def timed(step, kind: str, histogram: Histogram):
    async def run(attrs) -> None:
        await observe_step(histogram, (kind,), attrs.operation, step(attrs))
    return run
