"""Compact JWS (RFC 7515) for ServiceAccount tokens: RS256/384/512 and ES256/384/512 with
`cryptography`, header `{"alg","kid"}` as go-jose writes it and claims with sorted keys.

`peek` reads a token's claims without checking anything (to see whether it is ours at all);
`verify` checks the signature with the keys its `kid` names, or with every key when it has none.
"""

from __future__ import annotations

import base64
import binascii
from collections.abc import Sequence
from typing import Any

import orjson
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec, padding, rsa
from cryptography.hazmat.primitives.asymmetric.utils import decode_dss_signature, encode_dss_signature

from lab.kube.apiserver.serviceaccount.keys import SigningKey, VerificationKey, b64url

_HASHES: dict[str, type[hashes.HashAlgorithm]] = {
    "RS256": hashes.SHA256, "RS384": hashes.SHA384, "RS512": hashes.SHA512,
    "ES256": hashes.SHA256, "ES384": hashes.SHA384, "ES512": hashes.SHA512,
}


class MalformedToken(ValueError):
    """Not a compact JWS with JSON header and claims: not a token of ours."""


class BadSignature(ValueError):
    """A well-formed token whose signature no verification key accepts."""


def _unb64(part: str) -> bytes:
    try:
        return base64.urlsafe_b64decode(part + "=" * (-len(part) % 4))
    except (binascii.Error, ValueError) as exc:
        raise MalformedToken("invalid base64url") from exc


def _json_part(part: str) -> dict[str, Any]:
    try:
        value = orjson.loads(_unb64(part))
    except orjson.JSONDecodeError as exc:
        raise MalformedToken("invalid JSON") from exc
    if not isinstance(value, dict):
        raise MalformedToken("not a JSON object")
    return value


def _split(token: str) -> tuple[str, str, str]:
    parts = token.split(".")
    if len(parts) != 3 or token.startswith("{"):
        raise MalformedToken("not a compact JWS")
    return parts[0], parts[1], parts[2]


def sign(claims: dict[str, Any], key: SigningKey) -> str:
    header = b64url(orjson.dumps({"alg": key.alg, "kid": key.kid}))
    payload = b64url(orjson.dumps(claims, option=orjson.OPT_SORT_KEYS))
    signing_input = f"{header}.{payload}".encode()
    digest = _HASHES[key.alg]()
    if isinstance(key.private, rsa.RSAPrivateKey):
        signature = key.private.sign(signing_input, padding.PKCS1v15(), digest)
    else:  # JWS wants r || s at the curve's size, not DER
        r, s = decode_dss_signature(key.private.sign(signing_input, ec.ECDSA(digest)))
        size = (key.private.curve.key_size + 7) // 8
        signature = r.to_bytes(size, "big") + s.to_bytes(size, "big")
    return f"{header}.{payload}.{b64url(signature)}"


def peek(token: str) -> dict[str, Any]:
    """The claims, unverified."""
    _, payload, _ = _split(token)
    return _json_part(payload)


def _verifies(key: VerificationKey, alg: str, signing_input: bytes, signature: bytes) -> bool:
    if alg != key.alg:
        return False
    digest = _HASHES[alg]()
    try:
        if isinstance(key.public, rsa.RSAPublicKey):
            key.public.verify(signature, signing_input, padding.PKCS1v15(), digest)
        else:
            size = (key.public.curve.key_size + 7) // 8
            if len(signature) != 2 * size:
                return False
            der = encode_dss_signature(int.from_bytes(signature[:size], "big"),
                                       int.from_bytes(signature[size:], "big"))
            key.public.verify(der, signing_input, ec.ECDSA(digest))
    except InvalidSignature:
        return False
    return True


def verify(token: str, keys: Sequence[VerificationKey]) -> dict[str, Any]:
    """The claims of a token one of `keys` signed; raises MalformedToken or BadSignature."""
    header_part, payload_part, signature_part = _split(token)
    header = _json_part(header_part)
    claims = _json_part(payload_part)
    alg = header.get("alg")
    if not isinstance(alg, str) or alg not in _HASHES:
        raise BadSignature(f"unsupported algorithm {alg!r}")
    kid = header.get("kid")
    candidates = [k for k in keys if not kid or k.kid == kid]
    if not candidates:
        raise BadSignature("invalid signature, no keys found")
    signature = _unb64(signature_part)
    signing_input = f"{header_part}.{payload_part}".encode()
    if not any(_verifies(k, alg, signing_input, signature) for k in candidates):
        raise BadSignature("invalid signature")
    return claims
