"""The token flags as upstream spells them, and the configuration they load."""

from __future__ import annotations

from pathlib import Path

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa

from lab.kube.apiserver.serviceaccount import KeyFileError, from_settings
from lab.kube.apiserver.settings import from_args


@pytest.fixture
def key_files(tmp_path: Path) -> tuple[Path, Path, Path]:
    signing = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    old = ec.generate_private_key(ec.SECP256R1())
    (tmp_path / "sa.key").write_bytes(signing.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.TraditionalOpenSSL, serialization.NoEncryption()))
    for name, key in (("sa.pub", signing), ("old.pub", old)):
        (tmp_path / name).write_bytes(key.public_key().public_bytes(
            serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo))
    return tmp_path / "sa.key", tmp_path / "sa.pub", tmp_path / "old.pub"


def test_defaults_are_the_in_cluster_issuer_and_no_keys() -> None:
    config = from_settings(from_args([]))
    assert config.issuers == ("https://kubernetes.default.svc.cluster.local",)
    assert config.api_audiences == config.issuers and config.signing_key is None
    assert config.verification_keys == () and config.extend_expiration is True
    assert config.jwks_uri == "https://127.0.0.1:6443/openid/v1/jwks"


def test_the_flags_load_keys_audiences_and_limits(key_files: tuple[Path, Path, Path]) -> None:
    key, pub, old = key_files
    config = from_settings(from_args([
        "--service-account-issuer", "https://cp1:6443", "--service-account-issuer", "https://old",
        "--service-account-key-file", f"{pub},{old}", "--service-account-key-file", str(key),
        "--service-account-signing-key-file", str(key), "--api-audiences", "a, b",
        "--service-account-max-token-expiration", "48h", "--service-account-extend-token-expiration=false",
        "--advertise-address", "192.168.56.11"]))
    assert config.issuer == "https://cp1:6443" and config.issuers == ("https://cp1:6443", "https://old")
    assert [k.alg for k in config.verification_keys] == ["RS256", "ES256", "RS256"]
    assert config.signing_key is not None and config.signing_key.kid == config.verification_keys[0].kid
    assert config.api_audiences == ("a", "b") and config.max_expiration_seconds == 172800
    assert config.extend_expiration is False
    assert config.jwks_uri == "https://192.168.56.11:6443/openid/v1/jwks"


def test_the_signing_key_verifies_when_no_key_file_is_given(key_files: tuple[Path, Path, Path]) -> None:
    config = from_settings(from_args(["--service-account-signing-key-file", str(key_files[0])]))
    assert config.signing_key is not None and config.verification_keys == (config.signing_key.verification,)


def test_a_key_file_without_a_key_stops_the_server(tmp_path: Path) -> None:
    (tmp_path / "empty.pem").write_text("")
    with pytest.raises(KeyFileError):
        from_settings(from_args(["--service-account-key-file", str(tmp_path / "empty.pem")]))
