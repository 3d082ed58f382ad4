#!/usr/bin/env python
"""How long large or hostile request bodies hold the API server's event loop: prints numbers.

  python hack/bench/bench_body_decode.py [--rounds 3]

For each body below, one client POSTs it as a ConfigMap while another asks /readyz
in a loop; printed: the POST's status and time, and the worst /readyz answer time
while it ran (the event loop's longest stall, roughly). Bodies: a 3 MB JSON and a
0.7 MB YAML ConfigMap with many keys, one 2.5 MB string value, a YAML alias bomb,
JSON nested 10,000 deep.
"""
from __future__ import annotations

import argparse
import ssl
import sys
import tempfile
import threading
import time
from pathlib import Path

import yaml

REPO = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(REPO))

from tests.harness import ServerProcess  # noqa: E402

CM = "/api/v1/namespaces/default/configmaps"
BOMB = b"apiVersion: v1\nkind: ConfigMap\nmetadata: {name: bomb}\ndata:\n  a: &a [" + b",".join([b'"lol"'] * 9) + b"]\n" + \
    b"".join(b"  %s: &%s [%s]\n" % (n, n, b",".join([b"*" + p] * 9))
             for p, n in zip([bytes([c]) for c in b"abcdefgh"], [bytes([c]) for c in b"bcdefghi"]))


def bodies() -> list[tuple[str, bytes, str]]:
    many = {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "many"},
            "data": {f"key-{i}": "v" * 20 for i in range(80_000)}}
    import json
    one = {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "one"}, "data": {"k": "x" * 2_500_000}}
    few = dict(many, data={f"key-{i}": "v" for i in range(25_000)}, metadata={"name": "many-yaml"})
    deep = b'{"apiVersion":"v1","kind":"ConfigMap","metadata":{"name":"deep"},"x":' + b"[" * 10000 + b"]" * 10000 + b"}"
    return [("JSON, 80k keys", json.dumps(many).encode(), "application/json"),
            ("JSON, one 2.5 MB value", json.dumps(one).encode(), "application/json"),
            ("YAML, 25k keys", yaml.safe_dump(few).encode(), "application/yaml"),
            ("YAML alias bomb", BOMB, "application/yaml"),
            ("JSON nested 10,000 deep", deep, "application/json")]


def main() -> None:
    import httpx
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--rounds", type=int, default=3)
    a = ap.parse_args()
    with tempfile.TemporaryDirectory(prefix="bench-decode-") as d:
        srv = ServerProcess(Path(d) / "server", extra_args=["--endpoint-reconciler-type", "none"])
        try:
            srv.start().wait_ready()
            ctx = ssl.create_default_context(cafile=str(srv.ca_file))
            auth = {"Authorization": f"Bearer {srv.token}"}
            poster = httpx.Client(base_url=srv.url, verify=ctx, headers=auth, timeout=300)
            prober = httpx.Client(base_url=srv.url, verify=ctx, headers=auth, timeout=300)
            print(f"{'body':28} {'size':>9}  {'status':>6} {'POST s':>7} {'worst /readyz ms':>17}")
            for label, body, ctype in bodies():
                for _ in range(a.rounds):
                    done = threading.Event()
                    result: dict = {}

                    def post():
                        t = time.monotonic()
                        r = poster.post(CM, content=body, headers={"content-type": ctype})
                        result.update(code=r.status_code, took=time.monotonic() - t)
                        done.set()

                    worst = 0.0
                    th = threading.Thread(target=post)
                    th.start()
                    while not done.is_set():
                        t = time.monotonic()
                        prober.get("/readyz")
                        worst = max(worst, time.monotonic() - t)
                    th.join()
                    for n in ("many", "one", "many-yaml"):
                        poster.delete(f"{CM}/{n}")
                    print(f"{label:28} {len(body):>9,}  {result['code']:>6} {result['took']:>7.3f} "
                          f"{worst * 1000:>17.1f}")
        finally:
            srv.stop()


if __name__ == "__main__":
    main()
