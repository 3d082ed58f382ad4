"""Per-kind logic on the write path: defaulting + validation (schema included)
of a typical Pod and Service, and table rows. Prints microseconds per call.

    python hack/bench/bench_kinds.py
"""
from __future__ import annotations

import copy
import time

from apiserver.registry import printers
from apiserver.registry.defaulting import apply_defaults
from apiserver.registry.validation import validate_create, validate_update
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
    pods, services = cat.lookup("", "v1", "pods"), cat.lookup("", "v1", "services")

    def default_and_validate(resource, obj):
        o = copy.deepcopy(obj)
        apply_defaults(resource, o)
        assert validate_create(resource, o) == []
        return o

    stored_pod = default_and_validate(pods, POD)
    bench("pod: defaults + validate_create", lambda: default_and_validate(pods, POD))
    bench("pod: validate_update (image change)",
          lambda: validate_update(pods, dict(stored_pod, metadata=dict(stored_pod["metadata"])), stored_pod))
    bench("service: defaults + validate_create", lambda: default_and_validate(services, SERVICE))
    bench("pod: table row", lambda: printers.row(pods, stored_pod))


if __name__ == "__main__":
    main()
