"""OIDC discovery for ServiceAccount tokens (upstream `pkg/serviceaccount/openidmetadata.go`):
the provider configuration and the JWKS, so anyone can verify a token without asking us."""

from __future__ import annotations

from typing import Any

from lab.kube.apiserver.serviceaccount.config import TokenConfig

CACHE_CONTROL = "public, max-age=3600"
JWKS_CONTENT_TYPE = "application/jwk-set+json"


def provider_configuration(config: TokenConfig) -> dict[str, Any]:
    """In upstream's field order; the algorithms are sorted and unique."""
    return {
        "issuer": config.issuer,
        "jwks_uri": config.jwks_uri,
        "response_types_supported": ["id_token"],
        "subject_types_supported": ["public"],
        "id_token_signing_alg_values_supported": sorted({k.alg for k in config.verification_keys}),
    }


def jwks(config: TokenConfig) -> dict[str, Any]:
    return {"keys": [k.jwk() for k in config.verification_keys]}
