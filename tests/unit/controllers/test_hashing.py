"""The hashes in names and labels have upstream's shape."""
import re

from controllers import hashing


def test_fnv_matches_the_published_test_vectors():
    assert hashing.fnv32(b"") == hashing.fnv32a(b"") == 0x811C9DC5
    assert hashing.fnv32(b"a") == 0x050C5D7E
    assert hashing.fnv32a(b"a") == 0xE40C292C
    assert hashing.fnv32a(b"foobar") == 0xBF9CF968


def test_safe_encoding_maps_decimal_digits_to_the_vowel_free_alphabet():
    assert hashing.safe_encode("0123456789") == "45678 9bcdf".replace(" ", "")


def test_pod_template_hash_is_the_encoded_decimal_of_a_32_bit_hash():
    tpl = {"metadata": {"labels": {"app": "web"}}, "spec": {"containers": [{"name": "c", "image": "nginx"}]}}
    h = hashing.pod_template_hash(tpl)
    assert re.fullmatch(r"[45-9bcdf]{1,10}", h)
    assert h == hashing.safe_encode(str(hashing.fnv32a(hashing.canonical(tpl))))
    # a collisionCount, even 0, changes the hash (upstream hashes it whenever the status has one)
    assert len({h, hashing.pod_template_hash(tpl, 0), hashing.pod_template_hash(tpl, 1)}) == 3


def test_revision_names_cut_long_owner_names_to_223_characters():
    h = hashing.revision_hash({"spec": {"template": {"$patch": "replace"}}})
    assert re.fullmatch(r"[45-9bcdf]{1,10}", h)
    assert hashing.revision_name("web", h) == f"web-{h}"
    assert hashing.revision_name("x" * 250, h) == "x" * 223 + "-" + h
    assert hashing.revision_hash({"a": 1}, 1) != hashing.revision_hash({"a": 1})
