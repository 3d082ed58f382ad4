"""How many feasible nodes a scheduling decision looks for (upstream's percentageOfNodesToScore)."""
from __future__ import annotations

from controllers.scheduler.sampling import feasible_nodes_to_find, rotated


def test_small_clusters_are_searched_whole():
    assert feasible_nodes_to_find(0) == 0
    assert feasible_nodes_to_find(99) == 99


def test_the_adaptive_percentage_shrinks_with_the_cluster_but_never_below_100_nodes_or_5_percent():
    assert feasible_nodes_to_find(100) == 100  # 49% of 100 is below the 100-node floor
    assert feasible_nodes_to_find(1000) == 420  # 50 - 1000/125 = 42%
    assert feasible_nodes_to_find(5000) == 500  # 50 - 40 = 10%
    assert feasible_nodes_to_find(50000) == 2500  # floored at 5%


def test_an_explicit_percentage_is_honoured():
    assert feasible_nodes_to_find(1000, 100) == 1000
    assert feasible_nodes_to_find(1000, 20) == 200
    assert feasible_nodes_to_find(300, 10) == 100


def test_the_search_starts_where_the_last_one_stopped_and_wraps():
    assert list(rotated(["a", "b", "c"], 1)) == ["b", "c", "a"]
    assert list(rotated(["a", "b", "c"], 4)) == ["b", "c", "a"]
    assert list(rotated([], 3)) == []
