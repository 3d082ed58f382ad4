"""ServiceCIDR and IPAddress rules and table cells (networking.k8s.io/v1)."""
from apiserver.registry.resources.ipaddresses import parent_ref_cell, validate_parent_ref
from apiserver.registry.resources.servicecidrs import validate_cidrs, validate_cidrs_update
from apiserver.registry.validation.ips import is_cidr_sloppy, is_ip_sloppy


def _fields(causes):
    return [c.field for c in causes]


def test_sloppy_parsing_as_go_parses():
    assert is_ip_sloppy("010.0.0.1") and is_ip_sloppy("::1") and not is_ip_sloppy("1.2.3")
    assert is_cidr_sloppy("10.0.0.1/8") and is_cidr_sloppy("fd00::/64")
    assert not is_cidr_sloppy("10.0.0.0") and not is_cidr_sloppy("10.0.0.0/33") and not is_cidr_sloppy("10.0.0.0/+8")


def test_service_cidr_spec():
    assert _fields(validate_cidrs({})) == ["spec.cidrs"]
    assert _fields(validate_cidrs({"cidrs": ["a", "b", "c"]})) == ["spec.cidrs"]
    assert _fields(validate_cidrs({"cidrs": ["10.0.0.0/24", "bad"]})) == ["spec.cidrs[1]"]
    assert _fields(validate_cidrs({"cidrs": ["10.0.0.0/24", "10.1.0.0/24"]})) == ["spec.cidrs"]
    assert validate_cidrs({"cidrs": ["10.0.0.0/24", "fd00::/64"]}) == []


def test_service_cidr_update():
    one, two = {"spec": {"cidrs": ["10.0.0.0/24"]}}, {"spec": {"cidrs": ["10.0.0.0/24", "fd00::/64"]}}
    assert validate_cidrs_update(two, one) == []
    assert _fields(validate_cidrs_update({"spec": {"cidrs": ["10.9.0.0/24", "fd00::/64"]}}, one)) == ["spec.cidrs[0]"]
    assert _fields(validate_cidrs_update(one, two)) == ["spec.cidrs"]


def test_ip_address_parent_ref():
    assert _fields(validate_parent_ref({})) == ["spec.parentRef"]
    assert _fields(validate_parent_ref({"parentRef": {}})) == ["spec.parentRef.resource", "spec.parentRef.name"]
    assert _fields(validate_parent_ref({"parentRef": {"group": "Bad_Group", "resource": "services", "name": "a",
                                                      "namespace": "x/y"}})) == \
        ["spec.parentRef.group", "spec.parentRef.namespace"]
    assert parent_ref_cell({"group": "", "resource": "services", "namespace": "default", "name": "k"}) == \
        "services/default/k"
    assert parent_ref_cell({"group": "example.com", "resource": "Gateways", "name": "g"}) == "gateways.example.com/g"
    assert parent_ref_cell(None) == "<none>"
