#!/usr/bin/env python
"""Field ownership and validation cost per write: prints a table, asserts nothing.

  python hack/bench/bench_managedfields.py

Every create/update/patch records managed fields; every server-side apply
merges, prunes and checks conflicts; every decoded body is checked for unknown
and duplicate fields. Measured on a 3-container pod.
"""
from __future__ import annotations

import copy
import pathlib
import sys
import timeit

import orjson

sys.path.insert(0, str(pathlib.Path(__file__).resolve().parents[2]))

from openapi import catalogue  # noqa: E402

from apiserver.http.openapi import documents, protobuf_v2  # noqa: E402
from apiserver.machinery import fieldvalidation, schemas  # noqa: E402
from apiserver.machinery.managedfields import apply, update_managed_fields  # noqa: E402

POD = {
    "apiVersion": "v1", "kind": "Pod",
    "metadata": {"name": "p", "namespace": "d", "labels": {"app": "x", "tier": "web"}, "annotations": {"a": "b"}},
    "spec": {
        "containers": [{
            "name": f"c{i}", "image": "busybox", "command": ["sh", "-c", "sleep 1000"],
            "ports": [{"containerPort": 80 + i, "protocol": "TCP"}],
            "env": [{"name": f"E{j}", "value": "v"} for j in range(5)],
            "resources": {"limits": {"cpu": "1"}}, "imagePullPolicy": "Always",
        } for i in range(3)],
        "restartPolicy": "Always", "dnsPolicy": "ClusterFirst", "terminationGracePeriodSeconds": 30,
    },
    "status": {"phase": "Running", "conditions": [{"type": "Ready", "status": "True"}]},
}


def per_call_ms(fn, number: int = 300) -> float:
    return min(timeit.repeat(fn, number=number, repeat=3)) / number * 1000


def main() -> None:
    created = update_managed_fields(None, copy.deepcopy(POD), "creator", api_version="v1", now="t",
                                    ignored=[("f:status",)])
    status = copy.deepcopy(created)
    status["status"]["phase"] = "Succeeded"
    config = {k: v for k, v in POD.items() if k != "status"}
    body = orjson.dumps(POD)
    schema = schemas.definition("io.k8s.api.core.v1.Pod")
    rows = [
        ("managed fields: create", lambda: update_managed_fields(None, copy.deepcopy(POD), "m", api_version="v1",
                                                                 now="t", ignored=[("f:status",)])),
        ("managed fields: status update", lambda: update_managed_fields(
            created, copy.deepcopy(status), "kubelet", api_version="v1", now="t", subresource="status",
            ignored=[("f:spec",)])),
        ("server-side apply (no-op)", lambda: apply(created, config, "creator", force=True, api_version="v1",
                                                    kind="Pod", now="t")),
        ("decode with duplicate check", lambda: fieldvalidation.decode_strict(body, "application/json")),
        ("orjson.loads (for comparison)", lambda: orjson.loads(body)),
        ("unknown-field check", lambda: fieldvalidation.unknown_fields(POD, schema)),
    ]
    print(f"{'operation':34} {'ms/call':>8}")
    for name, fn in rows:
        print(f"{name:34} {per_call_ms(fn):8.3f}")
    print(f"{'openapi v3 documents (once)':34} "
          f"{per_call_ms(lambda: [documents.v3_dict(gv) for gv in catalogue.load().group_versions], 1):8.1f}")
    print(f"{'openapi v2 protobuf (once)':34} {per_call_ms(lambda: protobuf_v2.encode_document(documents.v2_dict()), 1):8.1f}")


if __name__ == "__main__":
    main()
