#!/usr/bin/env python
"""GET latency of a ConfigMap while CRDs come and go and a client fetches the
OpenAPI documents after each change (each fetch makes the server build them
again). Prints the latency of the GETs when idle, during CRD churn alone, and
during CRD churn with OpenAPI fetches.
Prints numbers, asserts nothing.

    python hack/bench/bench_crd_churn.py [--crds 10] [--idle 3]

The OpenAPI build runs in a worker thread: the GETs should barely notice it.
"""
from __future__ import annotations

import argparse
import asyncio
import ssl
import statistics
import sys
import tempfile
import time
from pathlib import Path

import httpx

REPO = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(REPO))

from tests.harness import ServerProcess, running_server  # noqa: E402

PROTO_V2 = "application/com.github.proto-openapi.spec.v2@v1.0+protobuf"
CM = "/api/v1/namespaces/default/configmaps/bench-cm"


def crd(i: int) -> dict:
    group = f"churn{i}.pocketkube.test"
    return {"apiVersion": "apiextensions.k8s.io/v1", "kind": "CustomResourceDefinition",
            "metadata": {"name": f"widgets.{group}"},
            "spec": {"group": group, "scope": "Namespaced",
                     "names": {"plural": "widgets", "singular": "widget", "kind": "Widget"},
                     "versions": [{"name": "v1", "served": True, "storage": True, "schema": {"openAPIV3Schema": {
                         "type": "object", "properties": {"spec": {"type": "object", "properties": {
                             "size": {"type": "integer"}, "name": {"type": "string"}}}}}}}]}}


async def getter(client: httpx.AsyncClient, stop: asyncio.Event, out: list[float]) -> None:
    while not stop.is_set():
        t = time.perf_counter()
        r = await client.get(CM)
        out.append(time.perf_counter() - t)
        assert r.status_code == 200


async def churn(client: httpx.AsyncClient, n: int, openapi: bool) -> None:
    for i in range(n):
        body = crd(i)
        assert (await client.post("/apis/apiextensions.k8s.io/v1/customresourcedefinitions", json=body)).status_code == 201
        name = body["metadata"]["name"]
        while True:
            got = (await client.get(f"/apis/apiextensions.k8s.io/v1/customresourcedefinitions/{name}")).json()
            if any(c["type"] == "Established" and c["status"] == "True" for c in got["status"]["conditions"]):
                break
            await asyncio.sleep(0.05)
        if openapi:
            await client.get("/openapi/v2")
            await client.get("/openapi/v2", headers={"Accept": PROTO_V2})
            await client.get("/openapi/v3")
        await client.delete(f"/apis/apiextensions.k8s.io/v1/customresourcedefinitions/{name}")


def summary(what: str, xs: list[float]) -> None:
    xs = sorted(xs)
    p99 = xs[int(len(xs) * 0.99) - 1] if xs else 0
    print(f"{what:24s} n={len(xs):6d} median={statistics.median(xs) * 1e3:7.1f} ms  p99={p99 * 1e3:7.1f} ms  "
          f"max={xs[-1] * 1e3:7.1f} ms")


async def run(srv: ServerProcess, args) -> None:
    ctx = ssl.create_default_context(cafile=str(srv.ca_file))
    async with httpx.AsyncClient(base_url=srv.url, verify=ctx, timeout=60,
                                 headers={"Authorization": f"Bearer {srv.token}"}) as client, \
            httpx.AsyncClient(base_url=srv.url, verify=ctx, timeout=60,
                              headers={"Authorization": f"Bearer {srv.token}"}) as reader:
        await client.post("/api/v1/namespaces/default/configmaps",
                          json={"metadata": {"name": "bench-cm"}, "data": {"a": "b"}})
        await client.get("/openapi/v2")
        for what, work in (("idle", asyncio.sleep(args.idle)),
                           (f"{args.crds} CRDs", churn(client, args.crds, openapi=False)),
                           (f"{args.crds} CRDs + OpenAPI", churn(client, args.crds, openapi=True))):
            stop, lat = asyncio.Event(), []
            task = asyncio.create_task(getter(reader, stop, lat))
            await work
            stop.set()
            await task
            summary(what, lat)


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--crds", type=int, default=10)
    p.add_argument("--idle", type=float, default=3.0)
    args = p.parse_args()
    with tempfile.TemporaryDirectory() as d, running_server(Path(d)) as srv:
        asyncio.run(run(srv, args))


if __name__ == "__main__":
    main()
