"""The server's ServiceAccount token configuration, loaded once from its flags: who it is as an
issuer, which audiences it serves, the key it signs with and the keys it trusts."""

from __future__ import annotations

from dataclasses import dataclass

from lab.kube.apiserver.serviceaccount.keys import (
    SigningKey,
    VerificationKey,
    load_public_keys,
    load_signing_key,
)
from lab.kube.apiserver.settings import Settings


@dataclass(frozen=True)
class TokenConfig:
    issuers: tuple[str, ...]
    """`--service-account-issuer`: the first signs, all are accepted."""
    api_audiences: tuple[str, ...]
    """`--api-audiences`: who a token must be meant for to reach this API server."""
    signing_key: SigningKey | None
    """`--service-account-signing-key-file`; None: TokenRequest is not served."""
    verification_keys: tuple[VerificationKey, ...]
    """`--service-account-key-file` (all of them), else the signing key's public half."""
    max_expiration_seconds: int = 0
    """`--service-account-max-token-expiration`; 0: no cap."""
    extend_expiration: bool = True
    """`--service-account-extend-token-expiration`: projected 3607 s tokens live a year."""
    jwks_uri: str = ""
    """`--service-account-jwks-uri`, else https://<advertise address>/openid/v1/jwks."""

    @property
    def issuer(self) -> str:
        return self.issuers[0]


def from_settings(settings: Settings) -> TokenConfig:
    """Reads the key files; a bad one raises `KeyFileError` (the server must not start)."""
    issuers = settings.service_account_issuer or ("https://kubernetes.default.svc.cluster.local",)
    signing = (load_signing_key(settings.service_account_signing_key_file)
               if settings.service_account_signing_key_file else None)
    keys: list[VerificationKey] = []
    for path in settings.service_account_key_file:
        keys += load_public_keys(path)
    if not keys and signing is not None:  # as upstream: the signing key file also verifies
        keys.append(signing.verification)
    return TokenConfig(
        issuers=tuple(issuers),
        api_audiences=tuple(settings.api_audiences) or (issuers[0],),
        signing_key=signing,
        verification_keys=tuple(keys),
        max_expiration_seconds=int(settings.service_account_max_token_expiration),
        extend_expiration=settings.service_account_extend_token_expiration,
        jwks_uri=settings.service_account_jwks_uri or f"https://{settings.server_address}/openid/v1/jwks",
    )
