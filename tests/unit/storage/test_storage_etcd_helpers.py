from apiserver.storage.etcd import _progress_fixed
from apiserver.storage.etcd_conn import KeyMap, grpc_target, range_end


def test_grpc_target_single_and_multi_member():
    assert grpc_target(["http://127.0.0.1:2379"]) == ("127.0.0.1:2379", False)
    assert grpc_target(["https://10.0.0.1:2379"]) == ("10.0.0.1:2379", True)
    assert grpc_target(["127.0.0.1:1", "http://127.0.0.1:2"]) == ("ipv4:127.0.0.1:1,127.0.0.1:2", False)
    assert grpc_target(["http://etcd-a:2379", "http://etcd-b:2379"]) == ("etcd-a:2379", False)


def test_keymap_replaces_the_registry_prefix():
    default = KeyMap()
    assert default.to_etcd("/registry/pods/ns/a") == b"/registry/pods/ns/a"
    custom = KeyMap("/cluster1/")
    assert custom.to_etcd("/registry/pods/ns/a") == b"/cluster1/pods/ns/a"
    assert custom.from_etcd(b"/cluster1/pods/ns/a") == "/registry/pods/ns/a"


def test_range_end():
    assert range_end(b"/registry/pods/") == b"/registry/pods0"
    assert range_end(b"a\xff") == b"b"
    assert range_end(b"\xff") == b"\x00"


def test_progress_fix_versions():
    assert not _progress_fixed("3.4.23")
    assert _progress_fixed("3.4.31") and _progress_fixed("3.5.13") and _progress_fixed("3.6.0")
    assert not _progress_fixed("3.5.12") and not _progress_fixed("garbage")
