"""ServiceAccount token keys: PEM RSA or EC keys as upstream's `keyutil` reads them, each with
its key id (`kid`) and JWS algorithm, and the JWK form the OIDC `jwks` document publishes.

kid = base64url, unpadded, of SHA-256 over the DER SubjectPublicKeyInfo (upstream `keyIDFromPublicKey`),
so a token's header names the key that verifies it, whichever server signed it.
"""

from __future__ import annotations

import base64
import hashlib
from dataclasses import dataclass
from pathlib import Path

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from cryptography.x509 import load_pem_x509_certificate

PublicKey = rsa.RSAPublicKey | ec.EllipticCurvePublicKey
PrivateKey = rsa.RSAPrivateKey | ec.EllipticCurvePrivateKey
_EC_ALGORITHMS = {"secp256r1": "ES256", "secp384r1": "ES384", "secp521r1": "ES512"}
_EC_JWK_CURVES = {"secp256r1": "P-256", "secp384r1": "P-384", "secp521r1": "P-521"}


class KeyFileError(ValueError):
    """A key file that holds no usable RSA or EC key (the server refuses to start)."""


def b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def key_id(public: PublicKey) -> str:
    der = public.public_bytes(serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo)
    return b64url(hashlib.sha256(der).digest())


def algorithm(public: PublicKey) -> str:
    if isinstance(public, rsa.RSAPublicKey):
        return "RS256"
    alg = _EC_ALGORITHMS.get(public.curve.name)
    if alg is None:
        raise KeyFileError(f"unsupported EC curve {public.curve.name}")
    return alg


@dataclass(frozen=True)
class VerificationKey:
    public: PublicKey
    kid: str
    alg: str

    @classmethod
    def of(cls, public: PublicKey) -> VerificationKey:
        return cls(public, key_id(public), algorithm(public))

    def jwk(self) -> dict[str, str]:
        """go-jose's JWK of a public key, in its field order."""
        out = {"use": "sig"}
        if isinstance(self.public, rsa.RSAPublicKey):
            nums = self.public.public_numbers()
            out |= {"kty": "RSA", "kid": self.kid, "alg": self.alg,
                    "n": b64url(nums.n.to_bytes((nums.n.bit_length() + 7) // 8, "big")),
                    "e": b64url(nums.e.to_bytes((nums.e.bit_length() + 7) // 8, "big"))}
            return out
        ecn = self.public.public_numbers()
        size = (self.public.curve.key_size + 7) // 8
        out |= {"kty": "EC", "kid": self.kid, "crv": _EC_JWK_CURVES[self.public.curve.name],
                "alg": self.alg, "x": b64url(ecn.x.to_bytes(size, "big")),
                "y": b64url(ecn.y.to_bytes(size, "big"))}
        return out


@dataclass(frozen=True)
class SigningKey:
    private: PrivateKey
    verification: VerificationKey

    @property
    def kid(self) -> str:
        return self.verification.kid

    @property
    def alg(self) -> str:
        return self.verification.alg


def _pem_blocks(data: bytes) -> list[bytes]:
    blocks, rest = [], data
    while b"-----BEGIN " in rest:
        start = rest.index(b"-----BEGIN ")
        end_marker = rest.find(b"-----END ", start)
        if end_marker < 0:
            break
        end = rest.find(b"-----", end_marker + 9)
        blocks.append(rest[start:end + 5] + b"\n")
        rest = rest[end + 5:]
    return blocks


def _private_from(block: bytes) -> PrivateKey | None:
    try:
        key = serialization.load_pem_private_key(block, password=None)
    except (ValueError, TypeError):
        return None
    return key if isinstance(key, (rsa.RSAPrivateKey, ec.EllipticCurvePrivateKey)) else None


def _public_from(block: bytes) -> PublicKey | None:
    if b"PRIVATE KEY" in block:
        private = _private_from(block)
        return private.public_key() if private is not None else None
    try:
        key: object = (load_pem_x509_certificate(block).public_key() if b"CERTIFICATE" in block
                       else serialization.load_pem_public_key(block))
    except ValueError:
        return None
    return key if isinstance(key, (rsa.RSAPublicKey, ec.EllipticCurvePublicKey)) else None


def load_public_keys(path: str | Path) -> list[VerificationKey]:
    """Every public key in a PEM file (public keys, certificates, or private keys whose public
    half is used), as `--service-account-key-file` reads them."""
    keys = [VerificationKey.of(k) for k in map(_public_from, _pem_blocks(Path(path).read_bytes()))
            if k is not None]
    if not keys:
        raise KeyFileError(f"{path}: no RSA or EC public key found")
    return keys


def load_signing_key(path: str | Path) -> SigningKey:
    """The first RSA or EC private key in a PEM file (`--service-account-signing-key-file`)."""
    for block in _pem_blocks(Path(path).read_bytes()):
        private = _private_from(block)
        if private is not None:
            return SigningKey(private, VerificationKey.of(private.public_key()))
    raise KeyFileError(f"{path}: no RSA or EC private key found")
