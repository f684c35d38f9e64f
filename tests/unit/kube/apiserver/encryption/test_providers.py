"""Each provider round-trips with upstream's layout; a wrong key or a moved value fails;
the prefix transformer writes with the first key, reads any, and says when a read is stale."""

from __future__ import annotations

import os

import pytest
from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes

from lab.kube.apiserver.encryption import AESCBC, AESGCM, DecryptError, Identity, PrefixTransformer, Secretbox
from lab.kube.apiserver.encryption.providers import Provider
from lab.kube.apiserver.storage.transform import TransformError

KEY = "/registry/secrets/default/s1"
PLAIN = b'{"kind":"Secret","data":{"password":"aHVudGVyMg=="}}'


def _providers(name: str = "key1") -> list[Provider]:
    return [AESCBC(name, os.urandom(32)), AESGCM(name, os.urandom(32)), Secretbox(name, os.urandom(32))]


@pytest.mark.parametrize("provider", _providers(), ids=lambda p: p.prefix.decode())
def test_each_provider_round_trips_behind_its_exact_prefix(provider: Provider) -> None:
    t = PrefixTransformer([provider])
    stored = t.to_storage(KEY, PLAIN)
    kind = provider.prefix.split(b":")[2].decode()
    assert stored.startswith(f"k8s:enc:{kind}:v1:key1:".encode())
    assert PLAIN not in stored and b"hunter2" not in stored
    assert t.from_storage(KEY, stored) == (PLAIN, False)
    assert t.to_storage(KEY, PLAIN) != stored  # a fresh IV / nonce every write


def test_aescbc_layout_is_iv_then_pkcs7_padded_cbc() -> None:
    secret = os.urandom(32)
    body = AESCBC("k", secret).seal(b"x" * 16, b"")
    assert len(body) == 16 + 32  # already aligned: a whole block of padding
    dec = Cipher(algorithms.AES(secret), modes.CBC(body[:16])).decryptor()
    assert dec.update(body[16:]) + dec.finalize() == b"x" * 16 + bytes([16]) * 16


def test_aesgcm_binds_the_etcd_key_and_the_others_do_not() -> None:
    gcm = AESGCM("k", os.urandom(16))
    with pytest.raises(DecryptError, match="message authentication failed"):
        gcm.open(gcm.seal(PLAIN, KEY.encode()), b"/registry/secrets/default/other")
    for p in (AESCBC("k", os.urandom(16)), Secretbox("k", os.urandom(32))):
        assert p.open(p.seal(PLAIN, KEY.encode()), b"/elsewhere") == PLAIN


@pytest.mark.parametrize("make", [AESCBC, AESGCM, Secretbox], ids=lambda c: c.__name__)
def test_a_wrong_key_is_an_error_not_garbage(make: type) -> None:
    writer = PrefixTransformer([make("key1", os.urandom(32))])
    reader = PrefixTransformer([make("key1", os.urandom(32))])  # same name, other key
    stored = writer.to_storage(KEY, PLAIN * 3)
    with pytest.raises(TransformError, match="failed to decrypt /registry/secrets/default/s1"):
        reader.from_storage(KEY, stored)


def test_identity_reads_old_plaintext_and_refuses_encrypted_data() -> None:
    assert Identity().open(PLAIN, b"") == PLAIN
    with pytest.raises(DecryptError, match="identity transformer tried to read encrypted data"):
        Identity().open(b"k8s:enc:aescbc:v1:key1:xxxx", b"")


def test_writes_use_the_first_key_and_reads_by_a_later_one_are_stale() -> None:
    old, new = AESCBC("key1", os.urandom(32)), AESCBC("key2", os.urandom(32))
    before = PrefixTransformer([old, Identity()])
    plain_then, by_key1 = PLAIN, before.to_storage(KEY, PLAIN)
    after = PrefixTransformer([new, old, Identity()])  # the rotation: key2 first
    assert after.from_storage(KEY, by_key1) == (PLAIN, True)
    assert after.from_storage(KEY, plain_then) == (PLAIN, True)  # via the trailing identity
    rewritten = after.to_storage(KEY, PLAIN)
    assert rewritten.startswith(b"k8s:enc:aescbc:v1:key2:")
    assert after.from_storage(KEY, rewritten) == (PLAIN, False)


def test_identity_first_reads_encrypted_data_with_the_later_providers() -> None:
    key = AESGCM("k", os.urandom(32))
    stored = PrefixTransformer([key]).to_storage(KEY, PLAIN)
    decrypting = PrefixTransformer([Identity(), key])  # moving away from encryption
    assert decrypting.from_storage(KEY, stored) == (PLAIN, True)
    assert decrypting.to_storage(KEY, PLAIN) == PLAIN


def test_data_no_provider_knows_is_an_error() -> None:
    t = PrefixTransformer([AESCBC("key1", os.urandom(32))])
    with pytest.raises(TransformError, match="no matching prefix found"):
        t.from_storage(KEY, PLAIN)

