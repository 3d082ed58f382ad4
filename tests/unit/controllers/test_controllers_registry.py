import argparse

import pytest

from controllers.main import duration
from controllers.registry import CONTROLLERS, select


def test_select_all_minus_some():
    assert select("*") == list(CONTROLLERS)
    assert "podgc" not in select("*,-podgc")
    assert select(["scheduler,namespace"]) == ["scheduler", "namespace"]
    with pytest.raises(ValueError):
        select("*,-nonsense")


def test_durations():
    assert duration("40s") == 40 and duration("1m30s") == 90 and duration("500ms") == 0.5 and duration("3") == 3
    with pytest.raises(argparse.ArgumentTypeError):
        duration("4x")


def test_namespace_conditions_say_what_remains():
    from controllers.namespace import remaining_conditions
    conds = {c["type"]: c for c in remaining_conditions({"pods": 2}, {"foregroundDeletion": 1}, [])}
    assert conds["NamespaceContentRemaining"]["status"] == "True"
    assert conds["NamespaceContentRemaining"]["message"] == "Some resources are remaining: pods has 2 resource instances"
    assert conds["NamespaceFinalizersRemaining"]["message"] == (
        "Some content in the namespace has finalizers remaining: foregroundDeletion in 1 resource instances")
    assert conds["NamespaceDeletionContentFailure"]["reason"] == "ContentDeleted"
