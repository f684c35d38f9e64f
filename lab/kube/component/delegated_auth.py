"""Delegated authentication and authorization for component servers (the kubelet on 10250,
kube-scheduler on 10259, kube-controller-manager on 10257), as upstream's
`authenticatorfactory.DelegatingAuthenticatorConfig` and `authorizerfactory.DelegatingAuthorizerConfig`.

Who: a client certificate verified against the component's client CA (CN user, O groups),
else a bearer token the API server vouches for in a TokenReview, else anonymous when
allowed. A bad certificate or token is a 401, never anonymous; any success gets
`system:authenticated`. What: `system:masters` and the always-allowed paths pass; anything
else is a SubjectAccessReview. Both answers are cached briefly so a scrape loop costs the
API server one review per TTL, not one per request.
"""

from __future__ import annotations

import hashlib
import json
import logging
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Protocol

from lab.kube.component.client_certs import CertificateError, X509Verifier
from lab.kube.component.reviews import AccessAttributes, AccessReviewResult, Reviewer, ReviewError, TokenReviewResult
from lab.kube.component.ttl_cache import TTLCache
from lab.kube.machinery.user import ANONYMOUS_USER, AUTHENTICATED, MASTERS, UNAUTHENTICATED, UserInfo

log = logging.getLogger(__name__)
DELEGATED_CACHE_TTL = 10.0
"""Upstream's delegated default for the token cache and both SubjectAccessReview caches."""
ALWAYS_ALLOW_GROUPS = (MASTERS,)
"""Upstream's delegated default: the API server allows system:masters anyway, so skip the review."""


class Unauthenticated(Exception):
    """No acceptable credential: the request is a 401 (the reason is logged, never shown)."""


class AuthorizationError(Exception):
    """The authorizer could not decide (the review failed): the request is a 500."""


def bearer_token(headers: Mapping[str, str]) -> str | None:
    """The token of `Authorization: Bearer <token>`, split as upstream's bearertoken
    authenticator does: a missing header, another scheme or an empty token is no token."""
    header = headers.get("Authorization", "").strip()
    parts = header.split(" ", 2)
    if len(parts) < 2 or parts[0].lower() != "bearer" or not parts[1]:
        return None
    return parts[1]


class DelegatedAuthenticator:
    """x509 (when a client CA is set), then TokenReview (when a reviewer is set), then anonymous.

    `success_ttl` / `failure_ttl`: how long a TokenReview answer is reused (the kubelet uses
    `authentication.webhook.cacheTTL` for both, the scheduler and controller-manager 10 s).
    A review that could not be had is a 401 and is not cached."""

    def __init__(self, x509: X509Verifier | None = None, reviewer: Reviewer | None = None, *,
                 anonymous: bool = False, success_ttl: float = DELEGATED_CACHE_TTL,
                 failure_ttl: float = DELEGATED_CACHE_TTL, clock: Callable[[], float] = time.monotonic) -> None:
        self.x509, self.reviewer, self.anonymous = x509, reviewer, anonymous
        self.success_ttl, self.failure_ttl = success_ttl, failure_ttl
        self._tokens: TTLCache[TokenReviewResult] = TTLCache(clock)

    async def authenticate(self, headers: Mapping[str, str], peer_cert: bytes | None) -> UserInfo:
        """The caller, or raise Unauthenticated. `peer_cert`: the DER client certificate, if any."""
        failures: list[str] = []
        if self.x509 is not None and peer_cert is not None:
            try:
                return self.x509.verify(peer_cert).with_group(AUTHENTICATED)
            except CertificateError as exc:
                failures.append(str(exc))  # a valid token may still authenticate (union, not fail-fast)
        token = bearer_token(headers) if self.reviewer is not None else None
        if token is not None:
            result = await self._review(token)
            if result.authenticated and result.user is not None and result.user.name:
                user = result.user  # upstream's group adder: not when either group is there already
                return user if UNAUTHENTICATED in user.groups else user.with_group(AUTHENTICATED)
            failures.append(result.error or "invalid bearer token")
        if failures:
            raise Unauthenticated("; ".join(failures))
        if self.anonymous:
            return ANONYMOUS_USER
        raise Unauthenticated("no credentials and anonymous requests are disabled")

    async def _review(self, token: str) -> TokenReviewResult:
        assert self.reviewer is not None
        key = hashlib.sha256(token.encode()).hexdigest()  # the cache keeps no token
        cached = self._tokens.get(key)
        if cached is not None:
            return cached
        try:
            result = await self.reviewer.review_token(token)
        except ReviewError as exc:
            log.warning("TokenReview failed: %s", exc)
            return TokenReviewResult(False, error=f"TokenReview failed: {exc}")
        self._tokens.set(key, result, self.success_ttl if result.authenticated else self.failure_ttl)
        return result


@dataclass(frozen=True)
class AccessDecision:
    allowed: bool
    reason: str = ""


class AccessAuthorizer(Protocol):
    async def authorize(self, attrs: AccessAttributes) -> AccessDecision: ...


class AlwaysAllow:
    """The kubelet's `authorization.mode: AlwaysAllow` (upstream's flag default; not the lab's)."""

    async def authorize(self, attrs: AccessAttributes) -> AccessDecision:
        return AccessDecision(True)


def path_allowed(path: str, patterns: Sequence[str]) -> bool:
    """Upstream's path authorizer: exact paths, or a prefix ending in `*` (`/healthz/*`)."""
    return any(path == p or (p.endswith("*") and path.startswith(p[:-1])) for p in patterns)


class DelegatedAuthorizer:
    """Always-allowed groups, then always-allowed non-resource paths, then SubjectAccessReview.

    Without a reviewer (no authorization kubeconfig) only the always-allowed pass, as upstream.
    A review that could not be had raises AuthorizationError (not cached)."""

    def __init__(self, reviewer: Reviewer | None, *, allow_ttl: float = DELEGATED_CACHE_TTL,
                 deny_ttl: float = DELEGATED_CACHE_TTL, always_allow_paths: Sequence[str] = (),
                 always_allow_groups: Sequence[str] = (), clock: Callable[[], float] = time.monotonic) -> None:
        self.reviewer = reviewer
        self.allow_ttl, self.deny_ttl = allow_ttl, deny_ttl
        self.always_allow_paths = tuple(always_allow_paths)
        self.always_allow_groups = tuple(always_allow_groups)
        self._answers: TTLCache[AccessReviewResult] = TTLCache(clock)

    async def authorize(self, attrs: AccessAttributes) -> AccessDecision:
        if any(g in attrs.user.groups for g in self.always_allow_groups):
            return AccessDecision(True)
        if not attrs.resource_request and path_allowed(attrs.path, self.always_allow_paths):
            return AccessDecision(True)
        if self.reviewer is None:
            return AccessDecision(False)
        key = json.dumps(attrs.review_spec(), sort_keys=True)
        result = self._answers.get(key)
        if result is None:
            try:
                result = await self.reviewer.review_access(attrs)
            except ReviewError as exc:
                raise AuthorizationError(str(exc)) from exc
            self._answers.set(key, result, self.allow_ttl if result.allowed else self.deny_ttl)
        if result.allowed and result.denied:
            raise AuthorizationError("webhook subject access review returned both allow and deny response")
        return AccessDecision(result.allowed, result.reason)
