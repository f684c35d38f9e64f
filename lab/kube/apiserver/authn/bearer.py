"""Bearer tokens (`Authorization: Bearer <token>`), handed to each token validator in turn.

A validator returns None for a token that is not its kind (another validator may know it)
and raises `InvalidToken` for one that is its kind but bad (expired, tampered, wrong
audience, its pod gone). A token nobody knows is a 401, as upstream."""

from __future__ import annotations

import logging
from collections.abc import Sequence
from typing import Protocol

from aiohttp import web

from lab.kube.apiserver.authn.chain import unauthorized
from lab.kube.machinery.user import UserInfo

log = logging.getLogger(__name__)


class InvalidToken(Exception):
    """The token is for this validator and does not hold (the reason is logged, not shown)."""


class TokenValidator(Protocol):
    async def validate(self, token: str) -> UserInfo | None: ...


def bearer_token(request: web.Request) -> str | None:
    """The token of an `Authorization: Bearer` header; None when there is no such header.
    A malformed header (no token, several) is a bad credential: raises Unauthorized."""
    header = request.headers.get("Authorization")
    if header is None:
        return None
    scheme, _, token = header.strip().partition(" ")
    if scheme.lower() != "bearer":
        return None
    token = token.strip()
    if not token or " " in token:
        raise unauthorized()
    return token


class BearerTokenAuthenticator:
    def __init__(self, validators: Sequence[TokenValidator]) -> None:
        self.validators = list(validators)

    async def authenticate(self, request: web.Request) -> UserInfo | None:
        token = bearer_token(request)
        if token is None:
            return None
        for validator in self.validators:
            try:
                user = await validator.validate(token)
            except InvalidToken as exc:
                log.info("bearer token refused from %s: %s", request.remote, exc)
                raise unauthorized() from exc
            if user is not None:
                return user
        raise unauthorized()
