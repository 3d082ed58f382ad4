"""Encryption at rest: the stored format and which provider reads what (no I/O)."""
from __future__ import annotations

import os

import pytest

from apiserver.storage.envelope import (AESCBC, AESGCMProvider, DecryptError, Identity, ProviderChain,
                                        Secretbox)

KEY = "/registry/secrets/default/s1"
PLAIN = b'{"kind":"Secret","data":{"password":"aHVudGVyMg=="}}'


@pytest.mark.parametrize("cls,size", [(AESCBC, 32), (AESCBC, 16), (AESGCMProvider, 32), (Secretbox, 32)])
def test_each_provider_round_trips_and_writes_upstreams_prefix(cls, size):
    chain = ProviderChain([cls("key1", os.urandom(size))])
    sealed = chain.seal(PLAIN, KEY)
    assert sealed.startswith(f"k8s:enc:{cls.provider}:v1:key1:".encode())
    assert b"aHVudGVyMg" not in sealed
    assert chain.open(sealed, KEY) == (PLAIN, False)
    assert chain.seal(PLAIN, KEY) != sealed          # a fresh IV/nonce each time


def test_aesgcm_binds_the_value_to_its_key():
    chain = ProviderChain([AESGCMProvider("k", os.urandom(32))])
    sealed = chain.seal(PLAIN, KEY)
    with pytest.raises(DecryptError, match="authentication failed"):
        chain.open(sealed, "/registry/secrets/default/other")


def test_aescbc_with_the_wrong_key_is_an_error_not_garbage():
    sealed = ProviderChain([AESCBC("k", os.urandom(32))]).seal(PLAIN, KEY)
    with pytest.raises(DecryptError):
        ProviderChain([AESCBC("k", os.urandom(32))]).open(sealed, KEY)


def test_rotation_reads_old_keys_and_marks_them_stale():
    old, new = AESCBC("old", os.urandom(32)), AESCBC("new", os.urandom(32))
    sealed_old = ProviderChain([old]).seal(PLAIN, KEY)
    rotated = ProviderChain([new, old])
    assert rotated.open(sealed_old, KEY) == (PLAIN, True)
    assert rotated.seal(PLAIN, KEY).startswith(b"k8s:enc:aescbc:v1:new:")
    assert rotated.open(rotated.seal(PLAIN, KEY), KEY) == (PLAIN, False)


def test_plain_values_need_identity_and_are_stale_under_an_encrypting_writer():
    enc = AESCBC("k", os.urandom(32))
    assert ProviderChain([enc, Identity()]).open(PLAIN, KEY) == (PLAIN, True)
    assert ProviderChain([Identity(), enc]).open(PLAIN, KEY) == (PLAIN, False)
    with pytest.raises(DecryptError, match="identity is not a configured provider"):
        ProviderChain([enc]).open(PLAIN, KEY)


def test_identity_first_still_reads_encrypted_values_and_writes_plain():
    enc = AESCBC("k", os.urandom(32))
    chain = ProviderChain([Identity(), enc])
    assert chain.seal(PLAIN, KEY) == PLAIN
    assert chain.open(ProviderChain([enc]).seal(PLAIN, KEY), KEY) == (PLAIN, True)


def test_an_unknown_key_name_is_refused():
    sealed = ProviderChain([AESCBC("gone", os.urandom(32))]).seal(PLAIN, KEY)
    with pytest.raises(DecryptError, match="no matching prefix"):
        ProviderChain([AESCBC("other", os.urandom(32)), Identity()]).open(sealed, KEY)


def test_key_names_that_prefix_each_other_are_told_apart():
    k1, k10 = AESCBC("key1", os.urandom(32)), AESCBC("key10", os.urandom(32))
    chain = ProviderChain([k1, k10])
    assert chain.open(ProviderChain([k10]).seal(PLAIN, KEY), KEY) == (PLAIN, True)
