"""A node agent's Podman objects carry its owner (node and cluster) labels, and it lists only those."""
from __future__ import annotations

import json

from nodeagent.runtime import labels as L
from nodeagent.runtime.podman import Podman


def test_cluster_identity_is_stable_and_tells_clusters_apart():
    a = L.cluster_identity("-----BEGIN CERTIFICATE-----\nA\n", "https://127.0.0.1:6443")
    assert a == L.cluster_identity("-----BEGIN CERTIFICATE-----\nA\n", "https://127.0.0.1:7443")
    assert a != L.cluster_identity("-----BEGIN CERTIFICATE-----\nB\n", "https://127.0.0.1:6443")
    assert len(a) == 12


def test_owner_labels_go_on_creates_and_into_every_filter():
    pm = Podman("/nonexistent.sock", owner=L.owner_labels("n1", "c0ffee"))
    spec = pm._owned({"name": "x", "labels": {L.POD_UID: "u"}})
    assert spec["labels"] == {L.POD_UID: "u", L.NODE_NAME: "n1", L.CLUSTER: "c0ffee"}
    flt = json.loads(pm._filters({L.POD_UID: "u"}))
    assert sorted(flt["label"]) == sorted([f"{L.POD_UID}=u", f"{L.NODE_NAME}=n1", f"{L.CLUSTER}=c0ffee"])
