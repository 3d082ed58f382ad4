"""Node-pressure eviction's pure part: thresholds as --eviction-hard spells them,
the memory signals, the kubelet's victim order and its eviction message."""
import pytest

from kubeclient.durations import duration
from nodeagent.eviction_policy import (ALLOCATABLE_MEMORY_AVAILABLE, MEMORY_AVAILABLE, eviction_message,
                                       format_bytes, memory_observations, parse_eviction_hard, parse_reserved,
                                       rank_for_memory, thresholds_met, with_allocatable)

MI = 2 ** 20


def _pod(name, priority=0, request=None):
    resources = {"requests": {"memory": request}} if request else {}
    return {"metadata": {"name": name}, "spec": {"priority": priority, "containers": [
        {"name": "main", "resources": resources}]}}


def test_thresholds_parse_as_the_kubelet_spells_them():
    got = parse_eviction_hard("memory.available<100Mi, nodefs.available<10%")
    assert [(t.signal, t.text, t.value(1000 * MI)) for t in got] == [
        ("memory.available", "100Mi", 100 * MI), ("nodefs.available", "10%", 100 * MI)]
    assert parse_eviction_hard("") == []
    for bad, words in (("memory.free<1Gi", "unsupported eviction signal memory.free"),
                       ("memory.available>1Gi", "invalid eviction threshold syntax"),
                       ("memory.available<lots", "invalid eviction threshold value"),
                       ("memory.available<120%", "must be >= 0% and <= 100%")):
        with pytest.raises(ValueError, match=words):
            parse_eviction_hard(bad)
    assert parse_reserved("cpu=100m,memory=1Gi") == {"cpu": "100m", "memory": "1Gi"}
    with pytest.raises(ValueError):
        parse_reserved("memory")
    assert duration("5m0s") == 300 and duration("1s") == 1


def test_memory_threshold_also_guards_what_pods_may_use():
    thresholds = with_allocatable(parse_eviction_hard("memory.available<200Mi"))
    assert [t.signal for t in thresholds] == [MEMORY_AVAILABLE, ALLOCATABLE_MEMORY_AVAILABLE]
    # a roomy host, but the pods' share (250Mi after reservations) has 180Mi left
    observed = memory_observations(capacity=24 * 1024 * MI, node_working_set=4 * 1024 * MI,
                                   pods_capacity=250 * MI, pods_working_set=70 * MI)
    assert [t.signal for t in thresholds_met(thresholds, observed)] == [ALLOCATABLE_MEMORY_AVAILABLE]
    observed = memory_observations(24 * 1024 * MI, 4 * 1024 * MI, 250 * MI, 40 * MI)
    assert thresholds_met(thresholds, observed) == []


def test_victims_over_their_requests_first_then_low_priority_then_the_most_over():
    within = (_pod("within", 0, "64Mi"), 10 * MI)       # uses less than it asked for
    vip_hog = (_pod("vip-hog", 1000), 60 * MI)
    low_small = (_pod("low-small", 0), 30 * MI)
    low_big = (_pod("low-big", 0, "10Mi"), 50 * MI)      # 40Mi over its request
    ranked = rank_for_memory([within, vip_hog, low_small, low_big])
    assert [p["metadata"]["name"] for p, _ in ranked] == ["low-big", "low-small", "vip-hog", "within"]


def test_eviction_message_names_the_threshold_and_the_greedy_containers():
    t = parse_eviction_hard("memory.available<200Mi")[0]
    pod = {"spec": {"containers": [{"name": "hog", "resources": {}},
                                   {"name": "calm", "resources": {"requests": {"memory": "64Mi"}}}]}}
    message = eviction_message(pod, {"hog": 30 * MI, "calm": 1 * MI}, t, 150 * MI + 512, 250 * MI)
    assert message == ("The node was low on resource: memory. Threshold quantity: 200Mi, available: 157286912. "
                       "Container hog was using 30Mi, request is 0, has larger consumption of memory. ")
    assert format_bytes(3 * 1024) == "3Ki" and format_bytes(0) == "0"
