#!/usr/bin/env python
"""Custom resource vs ConfigMap on one API server: creates/s and GET/s of each,
in the same run, over HTTPS. Prints numbers, asserts nothing.

    python hack/bench/bench_crd.py [--creates 2000] [--duration 5] [--concurrency 16]

The custom resource has a small structural schema (a pattern, a range, a default,
one CEL rule), so its write path pays for schema validation, defaulting, pruning
and CEL, where the ConfigMap pays for its typed checks. A third row writes and
reads a custom resource in a version other than the stored one, converted by a
real HTTPS conversion webhook on loopback (one ConversionReview per write; reads
of an unchanged object are converted once).
"""
from __future__ import annotations

import argparse
import asyncio
import ssl
import sys
import tempfile
import time
from pathlib import Path

import httpx

REPO = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(REPO))

from tests.conversion_webhook import ConversionWebhook, crd as converted_crd  # noqa: E402
from tests.harness import ServerProcess, running_server  # noqa: E402

GROUP = "bench.pocketkube.test"
CRD = {
    "apiVersion": "apiextensions.k8s.io/v1", "kind": "CustomResourceDefinition",
    "metadata": {"name": f"crontabs.{GROUP}"},
    "spec": {"group": GROUP, "scope": "Namespaced",
             "names": {"plural": "crontabs", "singular": "crontab", "kind": "CronTab"},
             "versions": [{"name": "v1", "served": True, "storage": True, "schema": {"openAPIV3Schema": {
                 "type": "object", "properties": {"spec": {
                     "type": "object", "x-kubernetes-validations": [{"rule": "self.replicas <= 10"}],
                     "properties": {"cronSpec": {"type": "string", "pattern": "^[0-9*/ ]+$"},
                                    "image": {"type": "string"},
                                    "replicas": {"type": "integer", "minimum": 1, "default": 1}}}}}}}]}}
KINDS = {
    "configmap": ("/api/v1/namespaces/default/configmaps",
                  lambda n: {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": n},
                             "data": {"cronSpec": "*/5 * * * *", "image": "cron-image"}}),
    "custom resource": (f"/apis/{GROUP}/v1/namespaces/default/crontabs",
                        lambda n: {"apiVersion": f"{GROUP}/v1", "kind": "CronTab", "metadata": {"name": n},
                                   "spec": {"cronSpec": "*/5 * * * *", "image": "cron-image"}}),
}


async def creates(client: httpx.AsyncClient, path: str, make, n: int, concurrency: int) -> float:
    names = iter(range(n))

    async def worker():
        for i in names:
            r = await client.post(path, json=make(f"obj-{i}"))
            assert r.status_code == 201, r.text
    t = time.perf_counter()
    await asyncio.gather(*(worker() for _ in range(concurrency)))
    return n / (time.perf_counter() - t)


async def gets(client: httpx.AsyncClient, url: str, duration: float, concurrency: int) -> float:
    done = 0
    end = time.perf_counter() + duration

    async def worker():
        nonlocal done
        while time.perf_counter() < end:
            r = await client.get(url)
            assert r.status_code == 200
            done += 1
    t = time.perf_counter()
    await asyncio.gather(*(worker() for _ in range(concurrency)))
    return done / (time.perf_counter() - t)


CONVERTED = "converted.pocketkube.test"


def _converted_kind(webhook: ConversionWebhook):
    """(CRD, path, make) of a kind stored as v1 and written and read as v2 through the webhook."""
    body = converted_crd(CONVERTED, webhook)
    return body, f"/apis/{CONVERTED}/v2/namespaces/default/hostports", lambda n: {
        "apiVersion": f"{CONVERTED}/v2", "kind": "HostPort", "metadata": {"name": n},
        "spec": {"host": "localhost", "port": "8080"}}


async def _establish(client: httpx.AsyncClient, body: dict) -> None:
    r = await client.post("/apis/apiextensions.k8s.io/v1/customresourcedefinitions", json=body)
    assert r.status_code == 201, r.text
    name = body["metadata"]["name"]
    while True:
        crd = (await client.get(f"/apis/apiextensions.k8s.io/v1/customresourcedefinitions/{name}")).json()
        if any(c["type"] == "Established" and c["status"] == "True" for c in crd["status"]["conditions"]):
            return
        await asyncio.sleep(0.1)


async def run(srv: ServerProcess, args) -> None:
    ctx = ssl.create_default_context(cafile=str(srv.ca_file))
    limits = httpx.Limits(max_connections=args.concurrency)
    async with httpx.AsyncClient(base_url=srv.url, verify=ctx, limits=limits, timeout=60,
                                 headers={"Authorization": f"Bearer {srv.token}"}) as client:
        await _establish(client, CRD)
        webhook = ConversionWebhook()
        try:
            body, path, make = _converted_kind(webhook)
            await _establish(client, body)
            kinds = dict(KINDS)
            kinds["CR via webhook"] = (path, make)
            print(f"{'kind':18s} {'creates/s':>10s} {'GET/s':>10s}")
            for kind, (path, make) in kinds.items():
                c = await creates(client, path, make, args.creates, args.concurrency)
                g = await gets(client, f"{path}/obj-0", args.duration, args.concurrency)
                print(f"{kind:18s} {c:10.0f} {g:10.0f}")
            print(f"conversion reviews the webhook answered: {len(webhook.requests)}")
        finally:
            webhook.close()


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--creates", type=int, default=2000)
    p.add_argument("--duration", type=float, default=5.0)
    p.add_argument("--concurrency", type=int, default=16)
    args = p.parse_args()
    with tempfile.TemporaryDirectory() as d, running_server(Path(d)) as srv:
        asyncio.run(run(srv, args))


if __name__ == "__main__":
    main()
