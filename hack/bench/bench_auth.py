#!/usr/bin/env python
"""Authentication/authorization cost per request: prints a table, asserts nothing.

  python hack/bench/bench_auth.py

- signing and verifying one service-account JWT (ES256)
- authenticating a bearer JWT end to end (signature, claims, service-account lookup)
- one RBAC decision with N cluster role bindings and N role bindings in the
  namespace (every binding is read per decision: this is the number to watch)
Stores: SQLite behind the watch cache, as the server runs them.
"""
from __future__ import annotations

import asyncio
import pathlib
import sys
import tempfile
import time

sys.path.insert(0, str(pathlib.Path(__file__).resolve().parents[2]))

from cryptography.hazmat.primitives.asymmetric import ec  # noqa: E402

from apiserver.auth.rbac import RBACAuthorizer  # noqa: E402
from apiserver.assembly.rbac_bootstrap import ensure_bootstrap_policy  # noqa: E402
from apiserver.auth.reviews import AccessAttributes  # noqa: E402
from apiserver.auth.serviceaccount_tokens import ServiceAccountTokenAuthenticator  # noqa: E402
from apiserver.auth.serviceaccounts import DEFAULT_ISSUER, TokenSigner, token_claims  # noqa: E402
from apiserver.machinery.user import UserInfo  # noqa: E402
from apiserver.registry.context import WriteContext  # noqa: E402
from apiserver.registry.registries import Registries  # noqa: E402
from apiserver.storage.cache import CachedStore  # noqa: E402
from apiserver.storage.sqlite import SQLiteStore  # noqa: E402
from openapi.catalogue import load  # noqa: E402

RBAC = "rbac.authorization.k8s.io"


async def timed(label: str, fn, n: int) -> None:
    start = time.perf_counter()
    for _ in range(n):
        r = fn()
        if asyncio.iscoroutine(r):
            await r
    per = (time.perf_counter() - start) / n
    print(f"{label:<58} {per * 1e6:>10.1f} us   {1 / per:>10.0f} /s")


async def main() -> None:
    key = ec.generate_private_key(ec.SECP256R1())
    signer = TokenSigner(key, key.public_key())
    with tempfile.TemporaryDirectory() as d:
        store = CachedStore(SQLiteStore(str(pathlib.Path(d) / "db.sqlite")))
        regs = Registries(store, load())
        await ensure_bootstrap_policy(regs)
        ctx = WriteContext()
        await regs.for_plural("", "namespaces").create("", {"metadata": {"name": "team"}}, ctx)
        sa = await regs.for_plural("", "serviceaccounts").create("team", {"metadata": {"name": "ci"}}, ctx)
        claims = token_claims(issuer=DEFAULT_ISSUER, audiences=[DEFAULT_ISSUER], namespace="team", name="ci",
                              uid=sa.metadata["uid"], expiration_seconds=3600)
        token = signer.sign(claims)
        authn = ServiceAccountTokenAuthenticator(signer, regs, (DEFAULT_ISSUER,), (DEFAULT_ISSUER,))
        headers = {"authorization": f"Bearer {token}"}
        print(f"{'operation':<58} {'per call':>13}   {'rate':>12}")
        await timed("sign a service-account JWT", lambda: signer.sign(claims), 2000)
        await timed("verify a service-account JWT (signature only)", lambda: signer.verify(token), 2000)
        await timed("authenticate a bearer JWT (+ service account lookup)", lambda: authn.authenticate(headers), 2000)

        rbac = RBACAuthorizer(regs)
        bob = UserInfo("bob", groups=("system:authenticated",))
        attrs = AccessAttributes(verb="list", is_resource_request=True, namespace="team", resource="pods")
        await regs.for_plural(RBAC, "roles").create("team", {"metadata": {"name": "reader"}, "rules": [
            {"verbs": ["list"], "apiGroups": [""], "resources": ["pods"]}]}, ctx)
        made = 0
        for n in (10, 100, 1000):
            for i in range(made, n):
                subject = [{"kind": "User", "apiGroup": RBAC, "name": f"user-{i}"}]
                await regs.for_plural(RBAC, "clusterrolebindings").create("", {
                    "metadata": {"name": f"crb-{i}"}, "subjects": subject,
                    "roleRef": {"apiGroup": RBAC, "kind": "ClusterRole", "name": "system:basic-user"}}, ctx)
                await regs.for_plural(RBAC, "rolebindings").create("team", {
                    "metadata": {"name": f"rb-{i}"}, "subjects": subject,
                    "roleRef": {"apiGroup": RBAC, "kind": "Role", "name": "reader"}}, ctx)
            made = n
            await timed(f"RBAC decision, {n} cluster + {n} namespace bindings (deny)",
                        lambda: rbac.decide(bob, attrs), 200 if n < 1000 else 50)
        await store.close()


if __name__ == "__main__":
    asyncio.run(main())
