import pytest

from apiserver.http.negotiation import JSON, YAML, negotiate
from apiserver.machinery.errors import StatusError

KUBECTL_GET = ("application/json;as=Table;v=v1;g=meta.k8s.io,application/json;as=Table;v=v1beta1;g=meta.k8s.io,"
               "application/json")


def test_plain_forms():
    assert negotiate(None).media == JSON
    assert negotiate("*/*").media == JSON
    assert negotiate("application/yaml").media == YAML
    assert negotiate("application/vnd.kubernetes.protobuf,application/json").media == JSON


def test_table_first_when_asked():
    out = negotiate(KUBECTL_GET)
    assert (out.convert, out.version, out.api_version) == ("Table", "v1", "meta.k8s.io/v1")
    assert negotiate("application/json;as=Table;v=v1beta1;g=meta.k8s.io").version == "v1beta1"
    assert negotiate(KUBECTL_GET, allow_conversion=False).convert == ""


def test_partial_object_metadata():
    out = negotiate("application/json;as=PartialObjectMetadataList;g=meta.k8s.io;v=v1")
    assert out.convert == "PartialObjectMetadataList"


def test_unknown_conversions_are_skipped_and_q_values_order():
    assert negotiate("application/json;as=Foo;g=meta.k8s.io;v=v1,application/yaml").media == YAML
    assert negotiate("application/json;q=0.5,application/yaml").media == YAML


@pytest.mark.parametrize("accept", ["application/vnd.kubernetes.protobuf", "text/html",
                                    "application/json;as=Table;g=meta.k8s.io;v=v9"])
def test_nothing_acceptable_is_406(accept):
    with pytest.raises(StatusError) as e:
        negotiate(accept)
    assert e.value.code == 406
