from openapi.catalogue import load

from apiserver.registry.deletion import _wanted_finalizers
from apiserver.registry.options import DeleteOptions
from apiserver.registry.resources import strategy_for
from apiserver.registry.resources.events import to_core, to_events_v1


def strategy(group, plural):
    return strategy_for(next(r for r in load().resources() if (r.group, r.plural) == (group, plural)))


def test_pod_grace_period_rules():
    pods = strategy("", "pods")
    bound = {"spec": {"nodeName": "n1", "terminationGracePeriodSeconds": 10}, "status": {"phase": "Running"}}
    assert pods.grace_period(bound, None) == 10
    assert pods.grace_period(bound, 3) == 3
    assert pods.grace_period({"spec": {}}, None) == 0
    assert pods.grace_period({"spec": {"nodeName": "n1"}, "status": {"phase": "Succeeded"}}, None) == 0
    assert pods.grace_period({"spec": {"nodeName": "n1"}}, None) == 30


def test_pod_field_selector_values():
    pods = strategy("", "pods")
    f = pods.fields({"metadata": {"name": "p", "namespace": "ns"}, "spec": {"nodeName": "n1"},
                     "status": {"phase": "Running"}})
    assert f["spec.nodeName"] == "n1" and f["status.phase"] == "Running" and f["metadata.namespace"] == "ns"
    assert f["status.podIP"] == ""


def test_status_update_keeps_spec_and_owners_but_takes_labels():
    # upstream's status strategies reset the spec (and, for pods, ownerReferences);
    # labels and annotations written through /status stick
    pods = strategy("", "pods")
    owner = [{"apiVersion": "v1", "kind": "ReplicationController", "name": "rc", "uid": "u"}]
    old = {"metadata": {"name": "p", "labels": {"a": "1"}, "ownerReferences": owner},
           "spec": {"x": 1}, "status": {"phase": "Pending"}}
    new = {"metadata": {"name": "p", "labels": {"a": "2"}}, "spec": {"x": 2}, "status": {"phase": "Running"}}
    pods.prepare_for_status_update(new, old)
    assert new["spec"] == {"x": 1} and new["metadata"]["labels"] == {"a": "2"} and new["status"]["phase"] == "Running"
    assert new["metadata"]["ownerReferences"] == owner
    main = {"metadata": {"name": "p"}, "spec": {"x": 3}, "status": {"phase": "Failed"}}
    pods.prepare_for_update(main, old)
    assert main["status"] == {"phase": "Pending"} and main["spec"] == {"x": 3}


def test_propagation_policy_finalizers():
    assert _wanted_finalizers({}, DeleteOptions(propagation_policy="Orphan")) == ["orphan"]
    assert _wanted_finalizers({"finalizers": ["orphan"]}, DeleteOptions(propagation_policy="Foreground")) == \
        ["foregroundDeletion"]
    assert _wanted_finalizers({"finalizers": ["x"]}, DeleteOptions(propagation_policy="Background")) == ["x"]
    assert _wanted_finalizers({}, DeleteOptions(orphan_dependents=True)) == ["orphan"]


def test_events_convert_both_ways():
    core = {"apiVersion": "v1", "kind": "Event", "metadata": {"name": "e"}, "involvedObject": {"kind": "Pod"},
            "message": "hi", "reason": "Started", "source": {"component": "kubelet"}, "count": 2,
            "reportingComponent": "kubelet"}
    v1 = to_events_v1(core)
    assert v1["apiVersion"] == "events.k8s.io/v1" and v1["regarding"] == {"kind": "Pod"} and v1["note"] == "hi"
    assert v1["deprecatedCount"] == 2 and v1["reportingController"] == "kubelet"
    assert to_core(v1) == core


def test_every_kind_module_is_found_by_its_serves():
    from apiserver.registry.resources import strategy_classes
    from apiserver.registry.resources.events import EventsV1Strategy
    from apiserver.registry.resources.pods import PodStrategy
    from apiserver.registry.resources.rbac import RoleBindingStrategy
    found = strategy_classes()
    assert found[("", "pods")] is PodStrategy
    assert found[("events.k8s.io", "events")] is EventsV1Strategy
    assert found[("rbac.authorization.k8s.io", "clusterrolebindings")] is RoleBindingStrategy
    assert type(strategy(("rbac.authorization.k8s.io"), "clusterroles")).__name__ == "RoleStrategy"
    assert type(strategy("", "bindings")).__name__ == "Strategy"  # nobody claims it: the base


def test_serves_is_not_inherited_and_a_double_claim_is_refused():
    import pytest

    from apiserver.registry.resources import collect
    from apiserver.registry.strategy import Strategy

    class A(Strategy):
        serves = (("x.io", "as"),)

    class B(A):  # inherits A's rules, serves nothing of its own
        pass

    class C(Strategy):
        serves = (("x.io", "as"),)

    assert collect([A, B]) == {("x.io", "as"): A}
    with pytest.raises(TypeError, match="served by both"):
        collect([A, C])
