"""Secret stringData is folded into data on every write, as upstream's conversion does."""
from apiserver.registry.resources.secrets import default_secret as secret


def test_string_data_becomes_base64_data_and_is_dropped():
    obj = {"data": {"a": "eA==", "b": "eQ=="}, "stringData": {"b": "admin", "c": ""}}
    secret(obj)
    assert obj == {"type": "Opaque", "data": {"a": "eA==", "b": "YWRtaW4=", "c": ""}}


def test_no_string_data_leaves_data_alone():
    obj = {"type": "kubernetes.io/tls", "data": {"tls.crt": "", "tls.key": ""}}
    secret(obj)
    assert obj == {"type": "kubernetes.io/tls", "data": {"tls.crt": "", "tls.key": ""}}
