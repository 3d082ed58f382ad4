"""/approval of a CertificateSigningRequest: what `kubectl certificate approve|deny` PUTs.

Only the conditions change here, as upstream's approval strategy has it (spec, the
certificate and the rest stay as stored; validation keeps Approved, Denied and Failed
conditions from being removed); condition timestamps the client left out are filled in.
Whether the writer may approve for the request's signer is the certificate guard's
question (the `approve` verb on `signers`), asked in validating admission.
"""
from __future__ import annotations

import copy

from apiserver.machinery import errors
from apiserver.registry.context import WriteContext
from apiserver.registry.objects import now_rfc3339


def stamp_conditions(status: dict, old_status: dict, now: str) -> None:
    """lastUpdateTime defaults to now; lastTransitionTime to the old condition's when its status
    did not change, else now."""
    old = {c.get("type"): c for c in old_status.get("conditions") or [] if isinstance(c, dict)}
    for c in status.get("conditions") or []:
        if not isinstance(c, dict):
            continue
        c.setdefault("lastUpdateTime", now)
        if not c.get("lastTransitionTime"):
            before = old.get(c.get("type"))
            if before is not None and before.get("status") == c.get("status") and before.get("lastTransitionTime"):
                c["lastTransitionTime"] = before["lastTransitionTime"]
            else:
                c["lastTransitionTime"] = now


class ApprovalHandler:
    async def get(self, store, namespace: str, name: str) -> dict:
        return (await store.get(namespace, name)).copy()

    @staticmethod
    def _check(body: dict) -> None:
        if body.get("kind") not in (None, "CertificateSigningRequest"):
            raise errors.bad_request(f'expected CertificateSigningRequest, got {body.get("kind")}')

    async def update(self, store, namespace: str, name: str, body: dict, ctx: WriteContext) -> dict:
        self._check(body)   # a bad body is refused before the object is read
        return await self.patch(store, namespace, name, lambda _csr: body, ctx)

    async def patch(self, store, namespace: str, name: str, patched, ctx: WriteContext) -> dict:
        """`patched(csr)`: the CertificateSigningRequest wanted, from a copy of the stored one,
        computed inside the store's read-modify-write loop (a concurrent write is retried)."""
        async def transform(csr: dict) -> dict:
            body = patched(copy.deepcopy(csr))
            self._check(body)
            meta = body.get("metadata") if isinstance(body.get("metadata"), dict) else {}
            rv = meta.get("resourceVersion")
            status = body.get("status") if isinstance(body.get("status"), dict) else {}
            wanted = list(status.get("conditions") or [])
            if rv and csr["metadata"].get("resourceVersion") != rv:
                raise errors.stale_update("certificates.k8s.io", "certificatesigningrequests", name)
            old_status = csr.get("status") or {}
            new_status = dict(old_status)
            new_status["conditions"] = [dict(c) if isinstance(c, dict) else c for c in wanted]
            if not new_status["conditions"]:
                del new_status["conditions"]
            stamp_conditions(new_status, old_status, now_rfc3339())
            csr["status"] = new_status
            for k in ("labels", "annotations"):   # metadata changes as sent, as an update would
                if k in meta:
                    csr["metadata"][k] = meta[k]
            return csr

        return (await store.guaranteed_update(namespace, name, transform, ctx, subresource="approval")).obj
