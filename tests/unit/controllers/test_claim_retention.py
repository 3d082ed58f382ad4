"""Which owners a StatefulSet pod's claim carries under each retention policy."""
from __future__ import annotations

import pytest

from controllers.claimretention import claim_owners

OTHER = {"apiVersion": "v1", "kind": "ConfigMap", "name": "x", "uid": "u-other"}


def _sts(when_deleted, when_scaled):
    return {"metadata": {"name": "db", "uid": "u-set"},
            "spec": {"persistentVolumeClaimRetentionPolicy": {"whenDeleted": when_deleted, "whenScaled": when_scaled}}}


POD = {"metadata": {"name": "db-1", "uid": "u-pod"}}


def _uids(refs):
    return [r["uid"] for r in refs]


@pytest.mark.parametrize("deleted,scaled,scaled_away,want", [
    ("Retain", "Retain", False, []),
    ("Retain", "Retain", True, []),
    ("Delete", "Retain", False, ["u-set"]),
    ("Delete", "Retain", True, ["u-set"]),
    ("Retain", "Delete", False, []),
    ("Retain", "Delete", True, ["u-pod"]),
    ("Delete", "Delete", False, ["u-set"]),
    ("Delete", "Delete", True, ["u-pod"]),  # the set's reference would keep it alive
])
def test_policy_decides_the_owners(deleted, scaled, scaled_away, want):
    assert _uids(claim_owners([], _sts(deleted, scaled), POD, scaled_away)) == want


def test_unrelated_owners_are_kept_and_stale_ones_dropped():
    refs = [OTHER, {"uid": "u-set", "kind": "StatefulSet", "name": "db", "apiVersion": "apps/v1"},
            {"uid": "u-pod", "kind": "Pod", "name": "db-1", "apiVersion": "v1"}]
    assert _uids(claim_owners(refs, _sts("Retain", "Retain"), POD, True)) == ["u-other"]
    assert claim_owners(refs[:2], _sts("Delete", "Retain"), POD, False) == refs[:2]  # unchanged: no write


def test_added_references_name_their_owner():
    (ref,) = claim_owners([], _sts("Retain", "Delete"), POD, True)
    assert ref == {"apiVersion": "v1", "kind": "Pod", "name": "db-1", "uid": "u-pod"}


def test_a_set_without_a_policy_retains():
    assert claim_owners([], {"metadata": {"name": "db", "uid": "u-set"}, "spec": {}}, POD, True) == []
