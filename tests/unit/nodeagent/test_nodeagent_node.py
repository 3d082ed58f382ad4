from nodeagent.node import conditions, images_of


def test_node_conditions_keep_transition_times_and_images_sorted():
    first = conditions([], "T1", False, False)
    again = conditions(first, "T2", False, False)
    ready = next(c for c in again if c["type"] == "Ready")
    assert ready["lastTransitionTime"] == "T1" and ready["lastHeartbeatTime"] == "T2"
    assert {c["type"] for c in first} == {"Ready", "MemoryPressure", "DiskPressure", "PIDPressure"}
    imgs = images_of([{"RepoTags": ["a:1"], "Size": 5}, {"RepoTags": ["b:1"], "RepoDigests": ["b@sha256:x"],
                                                          "Size": 9}, {"RepoTags": None, "Size": 1}])
    assert imgs == [{"names": ["b:1", "b@sha256:x"], "sizeBytes": 9}, {"names": ["a:1"], "sizeBytes": 5}]
