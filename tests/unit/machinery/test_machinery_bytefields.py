"""Byte fields decoded as Go's base64.StdEncoding decodes them."""
import pytest

from apiserver.machinery import bytefields
from apiserver.machinery.errors import StatusError


@pytest.mark.parametrize("text,raw", [("aGVsbG8=", b"hello"), ("aGVsbG8=\n", b"hello"), ("aGVs\r\nbG8=", b"hello"),
                                      ("\naGk=\n\n", b"hi"), ("aGk=", b"hi"), ("", b""), ("aGl=", b"hi")])
def test_go_accepts(text, raw):
    assert bytefields.decode_std(text) == raw


@pytest.mark.parametrize("text,offset", [("aGVsbG8", 4), ("aGk", 0), ("a===", 1), ("aGVsbG8=x", 8),
                                         ("a$bc", 1), ("aGVs bG8=", 4), ("aGVsbA=", 7), ("aGVsbG8_", 7)])
def test_go_refuses_at_its_offset(text, offset):
    with pytest.raises(bytefields.CorruptInput) as e:
        bytefields.decode_std(text)
    assert e.value.offset == offset


def test_byte_fields_come_from_the_schema():
    assert bytefields.byte_paths("", "v1", "Secret") == (("data", bytefields.MAP),)
    assert bytefields.byte_paths("", "v1", "ConfigMap") == (("binaryData", bytefields.MAP),)
    assert ("spec", "request") in bytefields.byte_paths("certificates.k8s.io", "v1", "CertificateSigningRequest")
    assert bytefields.byte_paths("", "v1", "Pod") == ()


def test_canonicalize_stores_what_upstream_answers():
    s = {"kind": "Secret", "data": {"tls.crt": "aGVsbG8=\n", "k": "aGk="}}
    bytefields.canonicalize(s, "", "v1", "Secret")
    assert s["data"] == {"tls.crt": "aGVsbG8=", "k": "aGk="}
    hook = {"webhooks": [{"name": "w", "clientConfig": {"caBundle": "Y2E=\r\n"}}]}
    bytefields.canonicalize(hook, "admissionregistration.k8s.io", "v1", "ValidatingWebhookConfiguration")
    assert hook["webhooks"][0]["clientConfig"]["caBundle"] == "Y2E="


def test_undecodable_value_is_400_as_the_decoder_fails():
    with pytest.raises(StatusError) as e:
        bytefields.canonicalize({"data": {"k": "not base64!"}}, "", "v1", "Secret")
    assert e.value.code == 400
    assert e.value.message == ('Secret in version "v1" cannot be handled as a Secret: '
                               "illegal base64 data at input byte 3")
