"""Per-kind logic on the write path: defaulting + validation (schema included)
of a typical Pod and Service, and table rows. Prints microseconds per call.

    python hack/bench/bench_kinds.py
"""
from __future__ import annotations

import copy
import time

from apiserver.registry.printing.humanize import now_utc
from apiserver.registry.resources import strategy_for
from openapi.catalogue import load

POD = {"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "web-1", "namespace": "default",
                                                      "labels": {"app": "web", "tier": "front"}},
       "spec": {"containers": [{"name": "web", "image": "nginx:1.25", "ports": [{"containerPort": 80}],
                                "resources": {"requests": {"cpu": "100m", "memory": "64Mi"},
                                              "limits": {"cpu": "500m", "memory": "128Mi"}},
                                "env": [{"name": "MODE", "value": "prod"}],
                                "readinessProbe": {"httpGet": {"path": "/", "port": 80}},
                                "volumeMounts": [{"name": "data", "mountPath": "/data"}]},
                               {"name": "sidecar", "image": "busybox", "command": ["sleep", "inf"]}],
                "volumes": [{"name": "data", "emptyDir": {}}]}}
SERVICE = {"apiVersion": "v1", "kind": "Service", "metadata": {"name": "web", "namespace": "default"},
           "spec": {"type": "NodePort", "selector": {"app": "web"},
                    "ports": [{"name": "http", "port": 80}, {"name": "https", "port": 443}]}}


def bench(label: str, fn, n: int = 2000) -> None:
    fn()  # warm (compiles the schema validator once)
    t = time.perf_counter()
    for _ in range(n):
        fn()
    print(f"{label:42s} {(time.perf_counter() - t) / n * 1e6:8.1f} us")


def main() -> None:
    cat = load()
    pods, services = strategy_for(cat.lookup("", "v1", "pods")), strategy_for(cat.lookup("", "v1", "services"))

    def default_and_validate(strategy, obj):
        o = copy.deepcopy(obj)
        strategy.defaults(o)
        assert strategy.check_create(o) == []
        return o

    stored_pod = default_and_validate(pods, POD)
    bench("pod: defaults + validate_create", lambda: default_and_validate(pods, POD))
    bench("pod: validate_update (image change)",
          lambda: pods.check_update(dict(stored_pod, metadata=dict(stored_pod["metadata"])), stored_pod))
    bench("service: defaults + validate_create", lambda: default_and_validate(services, SERVICE))
    bench("pod: table row", lambda: pods.cells(stored_pod, now_utc()))


if __name__ == "__main__":
    main()
