"""The expander's pure parts: when a claim needs its volume grown, and the
claim status it writes while growing and when done."""
from controllers.volumes.expander import needs_expansion, resized_status, resizing_status


def _claim(request: str, capacity: str, phase: str = "Bound") -> dict:
    return {"metadata": {"name": "c", "namespace": "d"},
            "spec": {"volumeName": "v", "resources": {"requests": {"storage": request}}},
            "status": {"phase": phase, "capacity": {"storage": capacity}}}


def test_only_a_bound_claim_asking_for_more_needs_expansion():
    pv = {"metadata": {"name": "v"}, "spec": {"capacity": {"storage": "1Gi"}}}
    assert needs_expansion(_claim("2Gi", "1Gi"), pv)
    assert not needs_expansion(_claim("1024Mi", "1Gi"), pv)  # the same size, spelt differently
    assert not needs_expansion(_claim("2Gi", "1Gi", "Pending"), pv)
    assert not needs_expansion(_claim("2Gi", "1Gi"), None)


def test_status_while_resizing_and_after():
    start = {"phase": "Bound", "capacity": {"storage": "1Gi"}, "accessModes": ["ReadWriteOnce"]}
    growing = resizing_status(start, "2Gi")
    assert growing["allocatedResources"] == {"storage": "2Gi"}
    assert growing["allocatedResourceStatuses"] == {"storage": "ControllerResizeInProgress"}
    assert [(c["type"], c["status"]) for c in growing["conditions"]] == [("Resizing", "True")]
    assert growing["capacity"] == {"storage": "1Gi"}
    done = resized_status(growing, "2Gi")
    assert done == {"phase": "Bound", "capacity": {"storage": "2Gi"}, "accessModes": ["ReadWriteOnce"],
                    "allocatedResources": {"storage": "2Gi"}}
