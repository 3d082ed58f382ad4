"""Cluster IP and node port allocation against a real (SQLite) store."""
import asyncio
import copy

import orjson
import pytest

from apiserver.machinery.errors import StatusError
from apiserver.registry.allocators import SERVICE_IPS_KEY, ServiceAllocator
from apiserver.registry.allocators import ipaddresses
from apiserver.registry.allocators.repair import repair
from apiserver.registry.allocators.ranges import IPRange, PortRange, RangeFullError
from apiserver.storage.sqlite import SQLiteStore

allocator = ServiceAllocator.from_flags("10.96.0.0/12", "30000-32767")


@pytest.fixture
async def store(tmp_path):
    s = SQLiteStore(str(tmp_path / "db.sqlite"))
    yield s
    await s.close()


def svc(name="s", **spec):
    s = {"type": "ClusterIP", "ports": [{"port": 80, "protocol": "TCP"}]}
    s.update(spec)
    return {"metadata": {"name": name, "namespace": "d"}, "spec": s}


def test_ranges_pure():
    import random
    r = IPRange("10.0.0.0/29")  # .1 kept for kubernetes, .7 broadcast: .2-.6 free
    rng = random.Random(1)
    got = set()
    for _ in range(5):
        got.add(r.pick(got, rng))
    assert got == {f"10.0.0.{i}" for i in range(2, 7)}
    with pytest.raises(RangeFullError):
        r.pick(got | {"10.0.0.1"}, rng)
    assert r.contains("10.0.0.1") and not r.contains("10.0.0.7") and not r.contains("10.0.1.1")
    assert str(PortRange.parse("30000-32767")) == "30000-32767"


async def test_allocate_and_release(store):
    a = svc("a", type="NodePort")
    await allocator.allocate_for_create(store, a)
    ip = a["spec"]["clusterIP"]
    assert a["spec"]["clusterIPs"] == [ip] and IPRange("10.96.0.0/12").contains(ip) and ip != "10.96.0.1"
    port = a["spec"]["ports"][0]["nodePort"]
    assert 30000 <= port <= 32767
    b = svc("b", type="NodePort", clusterIP=ip, ports=[{"port": 80, "protocol": "TCP", "nodePort": port}])
    with pytest.raises(StatusError) as e:
        await allocator.allocate_for_create(store, b)
    assert e.value.code == 422
    assert e.value.message == (f'Service "b" is invalid: spec.clusterIPs: Invalid value: ["{ip}"]: '
                               f"failed to allocate IP {ip}: provided IP is already allocated")
    b["spec"].pop("clusterIP")
    with pytest.raises(StatusError) as e:
        await allocator.allocate_for_create(store, b)
    assert e.value.message == (f'Service "b" is invalid: spec.ports[0].nodePort: Invalid value: {port}: '
                               "provided port is already allocated")
    await allocator.release(store, a)
    b = svc("b", type="NodePort", clusterIP=ip, ports=[{"port": 80, "protocol": "TCP", "nodePort": port}])
    await allocator.allocate_for_create(store, b)
    assert b["spec"]["clusterIP"] == ip


async def test_out_of_range_and_kubernetes_ip(store):
    with pytest.raises(StatusError) as e:
        await allocator.allocate_for_create(store, svc(clusterIP="10.0.0.1"))
    assert "the provided IP (10.0.0.1) is not in the valid range. The range of valid IPs is 10.96.0.0/12" in e.value.message
    with pytest.raises(StatusError) as e:
        await allocator.allocate_for_create(store, svc(type="NodePort", ports=[{"port": 1, "protocol": "TCP", "nodePort": 40000}]))
    assert "The range of valid ports is 30000-32767" in e.value.message
    k = svc("kubernetes", clusterIP=allocator.kubernetes_service_ip())
    await allocator.allocate_for_create(store, k)
    assert k["spec"]["clusterIPs"] == ["10.96.0.1"]


async def test_headless_and_external_name_take_nothing(store):
    h = svc(clusterIP="None")
    await allocator.allocate_for_create(store, h)
    assert h["spec"]["clusterIPs"] == ["None"]
    e = {"metadata": {"name": "e"}, "spec": {"type": "ExternalName", "externalName": "x.com"}}
    await allocator.allocate_for_create(store, e)
    assert "clusterIP" not in e["spec"]
    assert (await store.list(ipaddresses.PREFIX)).items == []


async def test_dry_run_does_not_keep(store):
    a = svc(type="NodePort")
    await allocator.allocate_for_create(store, a, dry_run=True)
    b = svc(type="NodePort", clusterIP=a["spec"]["clusterIP"],
            ports=[{"port": 80, "protocol": "TCP", "nodePort": a["spec"]["ports"][0]["nodePort"]}])
    await allocator.allocate_for_create(store, b)


async def test_update_type_changes(store):
    old = svc(type="NodePort")
    await allocator.allocate_for_create(store, old)
    port = old["spec"]["ports"][0]["nodePort"]
    new = copy.deepcopy(old)
    new["spec"]["type"] = "ClusterIP"
    await allocator.reconcile_on_update(store, old, new)
    assert "nodePort" not in new["spec"]["ports"][0]
    again = svc("x", type="NodePort", ports=[{"port": 1, "protocol": "TCP", "nodePort": port}])
    await allocator.allocate_for_create(store, again)  # released: free again
    # a PUT without the clusterIP keeps it
    put = svc(type="ClusterIP")
    await allocator.reconcile_on_update(store, new, put)
    assert put["spec"]["clusterIP"] == new["spec"]["clusterIP"]
    # to ExternalName: the IP goes back
    ext = copy.deepcopy(put)
    ext["spec"].update(type="ExternalName", externalName="x.com")
    await allocator.reconcile_on_update(store, put, ext)
    assert "clusterIP" not in ext["spec"]
    reuse = svc("y", clusterIP=put["spec"]["clusterIP"])
    await allocator.allocate_for_create(store, reuse)


async def test_concurrent_creates_never_share(store):
    services = [svc(f"s{i}", type="NodePort") for i in range(40)]
    await asyncio.gather(*(allocator.allocate_for_create(store, s) for s in services))
    ips = [s["spec"]["clusterIP"] for s in services]
    ports = [s["spec"]["ports"][0]["nodePort"] for s in services]
    assert len(set(ips)) == 40 and len(set(ports)) == 40


async def test_claims_are_per_owner_and_idempotent(store):
    a = svc("a", type="NodePort")
    a["metadata"]["uid"] = "uid-a"
    await allocator.allocate_for_create(store, a)
    port = a["spec"]["ports"][0]["nodePort"]
    # an update retried after a write conflict claims its new port twice: no error
    old = copy.deepcopy(a)
    new = copy.deepcopy(a)
    new["spec"]["ports"].append({"port": 81, "protocol": "TCP", "nodePort": 31999})
    await allocator.reconcile_on_update(store, old, copy.deepcopy(new))
    await allocator.reconcile_on_update(store, old, copy.deepcopy(new))
    # another object can neither take it nor free it
    b = svc("b", type="NodePort", ports=[{"port": 80, "protocol": "TCP", "nodePort": 31999}])
    b["metadata"]["uid"] = "uid-b"
    with pytest.raises(StatusError):
        await allocator.allocate_for_create(store, b)
    dup = copy.deepcopy(a)
    dup["metadata"]["uid"] = "uid-dup"  # a create of an existing name gives back only its own values
    await allocator.release(store, dup)
    c = svc("c", type="NodePort", ports=[{"port": 80, "protocol": "TCP", "nodePort": port}])
    c["metadata"]["uid"] = "uid-c"
    with pytest.raises(StatusError):
        await allocator.allocate_for_create(store, c)


async def test_each_cluster_ip_is_an_ipaddress_naming_its_service(store):
    a = svc("a")
    a["metadata"]["uid"] = "uid-a"
    await allocator.allocate_for_create(store, a)
    ip = a["spec"]["clusterIP"]
    kv = await store.get(ipaddresses.key_of(ip))
    obj = orjson.loads(kv.value)
    assert obj["kind"] == "IPAddress" and obj["metadata"]["name"] == ip
    assert obj["spec"]["parentRef"] == {"group": "", "resource": "services", "namespace": "d", "name": "a"}
    assert obj["metadata"]["labels"]["ipaddress.kubernetes.io/managed-by"] == "ipallocator.k8s.io"
    # a create of an existing name (another uid) gives back nothing of a's
    await allocator.release(store, {**a, "metadata": {**a["metadata"], "uid": "uid-dup"}})
    assert await store.get(ipaddresses.key_of(ip)) is not None
    await allocator.release(store, a)
    assert await store.get(ipaddresses.key_of(ip)) is None


async def test_crowded_range_lists_what_is_free(store):
    small = ServiceAllocator.from_flags("10.0.0.0/29", "30000-30001")  # .2-.6 free
    got = []
    for i in range(5):
        s = svc(f"s{i}")
        await small.allocate_for_create(store, s)
        got.append(s["spec"]["clusterIP"])
    assert sorted(got) == [f"10.0.0.{i}" for i in range(2, 7)]
    with pytest.raises(StatusError) as e:
        await small.allocate_for_create(store, svc("full"))
    assert e.value.code == 500 and "range is full" in e.value.message


async def test_repair_restores_missing_and_frees_orphans(store):
    r = IPRange("10.96.0.0/12")
    held = svc("held")
    held["metadata"]["uid"] = "uid-held"
    await allocator.allocate_for_create(store, held)
    await store.create("/registry/services/d/held", orjson.dumps(held))
    # a Service written before IPAddresses existed, with the range document of then
    old = svc("old", clusterIP="10.96.0.50")
    old["metadata"]["uid"] = "uid-old"
    await store.create("/registry/services/d/old", orjson.dumps(old))
    await store.create(SERVICE_IPS_KEY, b'{"allocated": [["10.96.0.50", "uid-old"]]}')
    # an address taken by a create that never wrote its Service
    lost = svc("lost")
    lost["metadata"]["uid"] = "uid-lost"
    await allocator.allocate_for_create(store, lost)
    lost_ip = lost["spec"]["clusterIP"]

    first = await repair(store, r)  # the orphan is young: a create may still be in flight
    assert (first.restored, first.freed) == (1, 0)
    assert await store.get(ipaddresses.key_of(lost_ip)) is not None
    assert await store.get(SERVICE_IPS_KEY) is None
    assert ipaddresses.owner_of((await store.get(ipaddresses.key_of("10.96.0.50"))).value) == ("uid-old", True)
    second = await repair(store, r, grace_s=0)
    assert (second.restored, second.freed, second.conflicts) == (0, 1, 0)
    assert await store.get(ipaddresses.key_of(lost_ip)) is None
    assert await store.get(ipaddresses.key_of(held["spec"]["clusterIP"])) is not None
    # the restored address is the old Service's: nobody else gets it
    with pytest.raises(StatusError):
        await allocator.allocate_for_create(store, svc("x", clusterIP="10.96.0.50"))
