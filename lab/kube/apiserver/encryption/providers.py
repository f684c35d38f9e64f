"""The encryption providers of an EncryptionConfiguration, one object per key, each with the
upstream on-disk layout (`storage/value/encrypt/{aes,secretbox,identity}`): the stored value
is `k8s:enc:<provider>:v1:<keyname>:` followed by what `seal` returns."""

from __future__ import annotations

import os
from typing import Protocol

import nacl.exceptions
import nacl.secret
from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes
from cryptography.hazmat.primitives.ciphers.aead import AESGCM as _AESGCM

ENCRYPTED_PREFIX = b"k8s:enc:"
AES_KEY_SIZES = (16, 24, 32)
SECRETBOX_KEY_SIZE = 32
_BLOCK = 16
_GCM_NONCE = 12


class DecryptError(Exception):
    """The data does not open with this key (upstream's message where it has one)."""


class Provider(Protocol):
    prefix: bytes
    """`k8s:enc:aescbc:v1:key1:`, or empty for identity."""

    def seal(self, plaintext: bytes, context: bytes) -> bytes:
        """The ciphertext for `plaintext`; `context` is the etcd key (only aesgcm binds it)."""
        ...

    def open(self, ciphertext: bytes, context: bytes) -> bytes:
        """The plaintext, or DecryptError."""
        ...


def _prefix(provider: str, key_name: str) -> bytes:
    return f"k8s:enc:{provider}:v1:{key_name}:".encode()


class Identity:
    """Plaintext, no prefix; refuses data that is plainly encrypted."""

    prefix = b""

    def seal(self, plaintext: bytes, context: bytes) -> bytes:
        return plaintext

    def open(self, ciphertext: bytes, context: bytes) -> bytes:
        if ciphertext.startswith(ENCRYPTED_PREFIX):
            raise DecryptError("identity transformer tried to read encrypted data")
        return ciphertext


class AESCBC:
    """IV (16 random bytes) || AES-CBC of the PKCS#7-padded plaintext; no authenticated data."""

    def __init__(self, key_name: str, secret: bytes) -> None:
        self.prefix = _prefix("aescbc", key_name)
        self._algorithm = algorithms.AES(secret)

    def seal(self, plaintext: bytes, context: bytes) -> bytes:
        iv = os.urandom(_BLOCK)
        pad = _BLOCK - len(plaintext) % _BLOCK  # a full block when already aligned
        enc = Cipher(self._algorithm, modes.CBC(iv)).encryptor()
        return iv + enc.update(plaintext + bytes([pad]) * pad) + enc.finalize()

    def open(self, ciphertext: bytes, context: bytes) -> bytes:
        if len(ciphertext) < _BLOCK:
            raise DecryptError("the stored data was shorter than the required size")
        iv, body = ciphertext[:_BLOCK], ciphertext[_BLOCK:]
        if len(body) % _BLOCK != 0:
            raise DecryptError("the stored data is not a multiple of the block size")
        dec = Cipher(self._algorithm, modes.CBC(iv)).decryptor()
        padded = dec.update(body) + dec.finalize()
        pad = padded[-1] if padded else 0
        if not padded or pad == 0 or pad > _BLOCK:
            raise DecryptError("invalid PKCS7 data (empty or not padded)")
        if padded[-pad:] != bytes([pad]) * pad:
            raise DecryptError("invalid padding on input")
        return padded[:-pad]


class AESGCM:
    """nonce (12 random bytes) || GCM seal with the etcd key as authenticated data, so a value
    copied to another key does not open."""

    def __init__(self, key_name: str, secret: bytes) -> None:
        self.prefix = _prefix("aesgcm", key_name)
        self._aead = _AESGCM(secret)

    def seal(self, plaintext: bytes, context: bytes) -> bytes:
        nonce = os.urandom(_GCM_NONCE)
        return nonce + self._aead.encrypt(nonce, plaintext, context)

    def open(self, ciphertext: bytes, context: bytes) -> bytes:
        if len(ciphertext) < _GCM_NONCE:
            raise DecryptError("the stored data was shorter than the required size")
        try:
            return self._aead.decrypt(ciphertext[:_GCM_NONCE], ciphertext[_GCM_NONCE:], context)
        except InvalidTag:
            raise DecryptError("cipher: message authentication failed") from None


class Secretbox:
    """nonce (24 random bytes) || XSalsa20-Poly1305 box (NaCl secretbox); no authenticated data."""

    def __init__(self, key_name: str, secret: bytes) -> None:
        self.prefix = _prefix("secretbox", key_name)
        self._box = nacl.secret.SecretBox(secret)

    def seal(self, plaintext: bytes, context: bytes) -> bytes:
        return bytes(self._box.encrypt(plaintext))  # nonce || tag || ciphertext, as Go's Seal

    def open(self, ciphertext: bytes, context: bytes) -> bytes:
        if len(ciphertext) < nacl.secret.SecretBox.NONCE_SIZE + nacl.secret.SecretBox.MACBYTES:
            raise DecryptError("the stored data was shorter than the required size")
        try:
            return bytes(self._box.decrypt(ciphertext))
        except nacl.exceptions.CryptoError:
            raise DecryptError("output array was not large enough for encryption") from None
