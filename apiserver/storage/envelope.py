"""Values encrypted at rest, in the format kube-apiserver writes.

A stored value that a provider encrypted starts with `k8s:enc:<provider>:v1:<key name>:`
followed by the provider's ciphertext, so that any kube-apiserver (or pocketkube)
holding the keys can read what the other wrote:

  aescbc     16-byte IV, then AES-CBC of the PKCS#7-padded value
  aesgcm     12-byte nonce, then AES-GCM of the value with the store key as
             additional authenticated data (a value copied under another key fails)
  secretbox  24-byte nonce, then NaCl secretbox (XSalsa20-Poly1305)
  identity   the value as it is, no prefix

A chain of providers writes with its first one and reads with whichever one's
prefix the value carries; a plain value is readable only while `identity` is in
the chain. A value read with anything but the first provider and key is *stale*:
the next write of that object re-encrypts it, which is how a key rotation (rewrite
every Secret) moves data to the new key.
"""
from __future__ import annotations

import os
from dataclasses import dataclass

from cryptography.hazmat.primitives import padding
from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from .interface import StoreError


class DecryptError(StoreError):
    """A stored value no configured provider can read."""


@dataclass(frozen=True)
class Identity:
    name: str = "identity"
    prefix: bytes = b""

    def seal(self, plain: bytes, key: str) -> bytes:
        return plain

    def open(self, body: bytes, key: str) -> bytes:
        return body


class _Keyed:
    provider = ""

    def __init__(self, key_name: str, secret: bytes):
        self.key_name, self.secret = key_name, secret
        self.name = f"{self.provider}:{key_name}"
        self.prefix = f"k8s:enc:{self.provider}:v1:{key_name}:".encode()


class AESCBC(_Keyed):
    provider = "aescbc"

    def seal(self, plain: bytes, key: str) -> bytes:
        iv = os.urandom(16)
        padder = padding.PKCS7(128).padder()
        data = padder.update(plain) + padder.finalize()
        enc = Cipher(algorithms.AES(self.secret), modes.CBC(iv)).encryptor()
        return iv + enc.update(data) + enc.finalize()

    def open(self, body: bytes, key: str) -> bytes:
        if len(body) < 32 or len(body) % 16:
            raise DecryptError("the stored data is not a whole number of AES blocks")
        dec = Cipher(algorithms.AES(self.secret), modes.CBC(body[:16])).decryptor()
        data = dec.update(body[16:]) + dec.finalize()
        unpadder = padding.PKCS7(128).unpadder()
        try:
            return unpadder.update(data) + unpadder.finalize()
        except ValueError:
            raise DecryptError("invalid PKCS#7 padding (wrong key?)") from None


class AESGCMProvider(_Keyed):
    provider = "aesgcm"

    def __init__(self, key_name: str, secret: bytes):
        super().__init__(key_name, secret)
        self._aead = AESGCM(secret)

    def seal(self, plain: bytes, key: str) -> bytes:
        nonce = os.urandom(12)
        return nonce + self._aead.encrypt(nonce, plain, key.encode())

    def open(self, body: bytes, key: str) -> bytes:
        from cryptography.exceptions import InvalidTag
        if len(body) < 12 + 16:
            raise DecryptError("the stored data is too short for AES-GCM")
        try:
            return self._aead.decrypt(body[:12], body[12:], key.encode())
        except InvalidTag:
            raise DecryptError("AES-GCM authentication failed (wrong key, or data moved)") from None


class Secretbox(_Keyed):
    provider = "secretbox"

    def __init__(self, key_name: str, secret: bytes):
        super().__init__(key_name, secret)
        import nacl.secret
        self._box = nacl.secret.SecretBox(secret)

    def seal(self, plain: bytes, key: str) -> bytes:
        import nacl.utils
        nonce = nacl.utils.random(24)
        return nonce + self._box.encrypt(plain, nonce).ciphertext

    def open(self, body: bytes, key: str) -> bytes:
        import nacl.exceptions
        if len(body) < 24 + 16:
            raise DecryptError("the stored data is too short for secretbox")
        try:
            return self._box.decrypt(body[24:], body[:24])
        except nacl.exceptions.CryptoError:
            raise DecryptError("secretbox authentication failed (wrong key?)") from None


class ProviderChain:
    """The providers configured for one set of resources, in the configured order."""

    def __init__(self, providers: list):
        if not providers:
            raise ValueError("a provider chain needs at least one provider")
        self.providers = providers
        self.writer = providers[0]
        self._identity = any(isinstance(p, Identity) for p in providers)
        # longest prefix first, so `key1` never shadows `key10`
        self._keyed = sorted((p for p in providers if p.prefix), key=lambda p: -len(p.prefix))

    def seal(self, plain: bytes, key: str) -> bytes:
        return self.writer.prefix + self.writer.seal(plain, key)

    def open(self, stored: bytes, key: str) -> tuple[bytes, bool]:
        """(plain value, stale): stale when the value was not written by the first provider."""
        for p in self._keyed:
            if stored.startswith(p.prefix):
                return p.open(stored[len(p.prefix):], key), p is not self.writer
        if stored.startswith(b"k8s:enc:"):
            raise DecryptError("no matching prefix found: the value was encrypted by a provider "
                               "or key not in the encryption configuration")
        if not self._identity:
            raise DecryptError("the value is not encrypted and identity is not a configured provider")
        return stored, not isinstance(self.writer, Identity)
