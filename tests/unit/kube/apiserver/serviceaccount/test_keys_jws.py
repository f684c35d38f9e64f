"""Token keys and JWS: upstream's key ids, RS256/ES256 signatures that verify only unchanged
and only with the right key, and the JWK form OIDC discovery publishes."""

from __future__ import annotations

import base64
import hashlib
from pathlib import Path

import orjson
import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa

from lab.kube.apiserver.serviceaccount import jws
from lab.kube.apiserver.serviceaccount.keys import (
    KeyFileError,
    load_public_keys,
    load_signing_key,
)

RSA_KEY = rsa.generate_private_key(public_exponent=65537, key_size=2048)
EC_KEY = ec.generate_private_key(ec.SECP256R1())


def _write_private(path: Path, key: rsa.RSAPrivateKey | ec.EllipticCurvePrivateKey,
                   fmt: serialization.PrivateFormat = serialization.PrivateFormat.TraditionalOpenSSL) -> Path:
    path.write_bytes(key.private_bytes(serialization.Encoding.PEM, fmt, serialization.NoEncryption()))
    return path


def _write_public(path: Path, *keys: rsa.RSAPrivateKey | ec.EllipticCurvePrivateKey) -> Path:
    path.write_bytes(b"".join(k.public_key().public_bytes(serialization.Encoding.PEM,
                                                          serialization.PublicFormat.SubjectPublicKeyInfo)
                              for k in keys))
    return path


def _unb64(part: str) -> bytes:
    return base64.urlsafe_b64decode(part + "=" * (-len(part) % 4))


def test_kid_is_unpadded_base64url_sha256_of_the_spki(tmp_path: Path) -> None:
    key = load_signing_key(_write_private(tmp_path / "sa.key", RSA_KEY))
    der = RSA_KEY.public_key().public_bytes(serialization.Encoding.DER,
                                            serialization.PublicFormat.SubjectPublicKeyInfo)
    expected = base64.urlsafe_b64encode(hashlib.sha256(der).digest()).decode().rstrip("=")
    assert key.kid == expected and len(key.kid) == 43 and key.alg == "RS256"
    assert [k.kid for k in load_public_keys(_write_public(tmp_path / "sa.pub", RSA_KEY))] == [expected]


def test_a_key_file_may_hold_several_keys_or_a_private_key(tmp_path: Path) -> None:
    both = load_public_keys(_write_public(tmp_path / "both.pub", RSA_KEY, EC_KEY))
    assert [k.alg for k in both] == ["RS256", "ES256"]
    pkcs8 = _write_private(tmp_path / "ec.key", EC_KEY, serialization.PrivateFormat.PKCS8)
    assert [k.kid for k in load_public_keys(pkcs8)] == [load_signing_key(pkcs8).kid]
    (tmp_path / "junk.pem").write_text("not a key\n")
    with pytest.raises(KeyFileError):
        load_public_keys(tmp_path / "junk.pem")
    with pytest.raises(KeyFileError):
        load_signing_key(_write_public(tmp_path / "only.pub", RSA_KEY))


@pytest.mark.parametrize("private", [RSA_KEY, EC_KEY], ids=["RS256", "ES256"])
def test_signed_tokens_verify_and_read_as_go_jose_writes_them(tmp_path: Path, private: object) -> None:
    key = load_signing_key(_write_private(tmp_path / "k.pem", private))  # type: ignore[arg-type]
    token = jws.sign({"sub": "x", "aud": ["a"], "exp": 2}, key)
    header, payload, signature = token.split(".")
    assert orjson.loads(_unb64(header)) == {"alg": key.alg, "kid": key.kid}
    assert _unb64(payload) == b'{"aud":["a"],"exp":2,"sub":"x"}'  # sorted keys, like a Go map
    if key.alg == "ES256":
        assert len(_unb64(signature)) == 64  # r || s, not DER
    assert jws.verify(token, [key.verification]) == {"sub": "x", "aud": ["a"], "exp": 2}


def test_tampered_or_foreign_tokens_are_refused(tmp_path: Path) -> None:
    key = load_signing_key(_write_private(tmp_path / "k.pem", RSA_KEY))
    other = load_signing_key(_write_private(tmp_path / "o.pem", rsa.generate_private_key(65537, 2048)))
    token = jws.sign({"sub": "system:serviceaccount:default:default"}, key)
    header, payload, signature = token.split(".")
    forged = base64.urlsafe_b64encode(b'{"sub":"system:serviceaccount:kube-system:admin"}').decode().rstrip("=")
    with pytest.raises(jws.BadSignature):
        jws.verify(f"{header}.{forged}.{signature}", [key.verification])
    with pytest.raises(jws.BadSignature, match="no keys found"):
        jws.verify(token, [other.verification])
    _, other_payload, other_signature = jws.sign({"sub": "x"}, other).split(".")
    with pytest.raises(jws.BadSignature):  # our kid on another key's signature
        jws.verify(f"{header}.{other_payload}.{other_signature}", [key.verification])
    none_alg = base64.urlsafe_b64encode(b'{"alg":"none"}').decode().rstrip("=")
    with pytest.raises(jws.BadSignature):
        jws.verify(f"{none_alg}.{payload}.", [key.verification])
    for bad in ("", "a.b", "{}.{}.{}", "a.b.c.d", "!!!.???.***"):
        with pytest.raises(jws.MalformedToken):
            jws.verify(bad, [key.verification])


def test_jwk_is_the_go_jose_form(tmp_path: Path) -> None:
    rsa_jwk = load_signing_key(_write_private(tmp_path / "r.pem", RSA_KEY)).verification.jwk()
    assert list(rsa_jwk) == ["use", "kty", "kid", "alg", "n", "e"]
    assert rsa_jwk["e"] == "AQAB" and rsa_jwk["use"] == "sig"
    assert int.from_bytes(_unb64(rsa_jwk["n"]), "big") == RSA_KEY.public_key().public_numbers().n
    ec_jwk = load_signing_key(_write_private(tmp_path / "e.pem", EC_KEY)).verification.jwk()
    assert (ec_jwk["kty"], ec_jwk["crv"], ec_jwk["alg"]) == ("EC", "P-256", "ES256")
    assert len(_unb64(ec_jwk["x"])) == 32 == len(_unb64(ec_jwk["y"]))
