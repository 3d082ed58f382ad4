"""CertificateSigningRequests (certificates.k8s.io/v1): a request for a certificate, its
approval (/approval: the Approved and Denied conditions) and its issue (/status: the
certificate and the Failed condition), each written only through its own path.

Who asked (spec.username, uid, groups, extra) is filled in from the request's user by the
assembly's certificate guard (auth/certificates_guard.py), as upstream's PrepareForCreate
does; the same guard checks the `approve` and `sign` verbs on signers. The signers and the
auto-approver run in the controller manager.
"""
from __future__ import annotations

from datetime import datetime

from apiserver.machinery.errors import Cause
from apiserver.registry.objects import now_rfc3339
from apiserver.registry.printing.columns import age_column, age_of, col, name_column, name_of
from apiserver.registry.printing.humanize import human_duration
from apiserver.registry.strategy import Strategy

from .approval import ApprovalHandler, stamp_conditions
from .validation import APPROVED, DENIED, FAILED, validate_csr, validate_csr_update

_APPROVAL_TYPES = (APPROVED, DENIED)


class CertificateSigningRequestStrategy(Strategy):
    serves = (("certificates.k8s.io", "certificatesigningrequests"),)
    has_spec = False   # upstream sets no metadata.generation on CSRs
    selectable_fields = ("spec.signerName",)

    def name_errors(self, name: str) -> list[str]:
        return []   # upstream: "We don't care what you call your certificate requests."

    def validate(self, obj: dict) -> list[Cause]:
        return validate_csr(obj)

    def validate_update(self, new: dict, old: dict) -> list[Cause]:
        return validate_csr_update(new, old)

    def check_update(self, new: dict, old: dict) -> list[Cause]:
        # validate() with the old object at hand, so stored data that broke a rule is tolerated
        from apiserver.registry.strategy import merge_causes
        from apiserver.registry.validation import meta, schema
        meta_causes = meta.validate_object_meta_update(new.get("metadata") or {}, old.get("metadata") or {})
        return merge_causes(meta_causes, self.validate_update(new, old), validate_csr(new, old),
                            schema.validate(self.resource.schema, new))

    def prepare_for_create(self, obj: dict) -> None:
        obj.pop("status", None)

    def prepare_for_update(self, new: dict, old: dict) -> None:
        """The main resource changes metadata only: spec is immutable, status has its paths."""
        for part in ("spec", "status"):
            if part in old:
                new[part] = old[part]
            else:
                new.pop(part, None)

    def prepare_for_status_update(self, new: dict, old: dict) -> None:
        """/status writes the certificate and the other conditions; approval stays as it was."""
        super().prepare_for_status_update(new, old)
        status = new.get("status") if isinstance(new.get("status"), dict) else {}
        new["status"] = status
        kept = [c for c in (old.get("status") or {}).get("conditions") or [] if c.get("type") in _APPROVAL_TYPES]
        sent = [c for c in status.get("conditions") or [] if isinstance(c, dict) and c.get("type") in _APPROVAL_TYPES]
        if _approval_view(sent) != _approval_view(kept):   # approval is written through /approval only
            others = [c for c in status.get("conditions") or [] if not (isinstance(c, dict)
                                                                       and c.get("type") in _APPROVAL_TYPES)]
            status["conditions"] = kept + others
        if not status["conditions"]:
            del status["conditions"]
        stamp_conditions(status, old.get("status") or {}, now_rfc3339())

    def subresource_handlers(self) -> dict:
        return {"approval": ApprovalHandler()}

    def columns(self) -> list[dict]:
        return [name_column(), age_column(),
                col("SignerName", "Signer Name"), col("Requestor", "Request Requestor"),
                col("RequestedDuration", "Requested certificate duration"),
                col("Condition", "The current state of the CertificateSigningRequest")]

    def cells(self, obj: dict, now: datetime) -> list:
        spec = obj.get("spec") or {}
        seconds = spec.get("expirationSeconds")
        duration = human_duration(seconds) if isinstance(seconds, int) else "<none>"
        return [name_of(obj), age_of(obj, now), spec.get("signerName", ""), spec.get("username", ""),
                duration, condition_cell(obj)]


def _approval_view(conditions: list[dict]) -> list:
    return [(c.get("type"), c.get("status"), c.get("reason"), c.get("message")) for c in conditions]


def condition_cell(obj: dict) -> str:
    """Upstream's CSR condition column: Denied, Approved or Pending, then ,Failed and ,Issued."""
    status = obj.get("status") or {}
    types = {c.get("type") for c in status.get("conditions") or [] if isinstance(c, dict)}
    out = "Denied" if DENIED in types else "Approved" if APPROVED in types else "Pending"
    if FAILED in types:
        out += ",Failed"
    if status.get("certificate"):
        out += ",Issued"
    return out
