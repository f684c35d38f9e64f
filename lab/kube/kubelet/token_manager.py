"""The kubelet's ServiceAccount token manager (upstream `pkg/kubelet/token/token_manager.go`).

Projected `serviceAccountToken` volumes get their token from a TokenRequest bound to the pod
(`POST /api/v1/namespaces/<ns>/serviceaccounts/<name>/token`). Tokens are cached per request;
one is renewed once 80 % of its lifetime has passed or it is 24 h old (each less a random jitter
of up to 10 s, so a node's pods do not all renew at once). When renewal fails, a token that has
not expired yet is served on. `TokenSource` is the seam to the API; tests pass a fake.
"""

from __future__ import annotations

import logging
import random
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Protocol

import aiohttp

from lab.kube.client import Client
from lab.kube.machinery import errors, meta
from lab.kube.machinery.objects import Obj

log = logging.getLogger(__name__)
MAX_TTL = 24 * 3600.0   # renew a token at the latest when it is this old
MAX_JITTER = 10.0
REFRESH_PERCENT = 20  # renew when this much of the lifetime is left


class TokenSource(Protocol):
    async def create_token(self, namespace: str, service_account: str, request: Obj) -> Obj:
        """POST the TokenRequest; the answer carries `status.token` and `status.expirationTimestamp`."""


class APITokenSource:
    """TokenRequest through the kubelet's API client (its node identity may ask only for its pods)."""

    def __init__(self, client: Client) -> None:
        self.client = client

    async def create_token(self, namespace: str, service_account: str, request: Obj) -> Obj:
        path = f"/api/v1/namespaces/{namespace}/serviceaccounts/{service_account}/token"
        answer: Obj = await self.client.request("POST", path, body=request)
        return answer


class TokenUnavailable(Exception):
    """No token can be served: none was ever had, or the one we had expired and renewal failed."""


@dataclass(frozen=True)
class BoundToken:
    token: str
    expires_at: float  # seconds since the epoch, from status.expirationTimestamp
    expiration_seconds: int  # the lifetime asked for: issued at = expires_at - expiration_seconds
    pod_uid: str


@dataclass(frozen=True)
class TokenKey:
    namespace: str
    service_account: str
    audiences: tuple[str, ...]
    expiration_seconds: int
    pod_name: str
    pod_uid: str


def token_request(key: TokenKey) -> Obj:
    """The TokenRequest the kubelet sends for a pod's projection; no audience means the API server's."""
    return {"apiVersion": "authentication.k8s.io/v1", "kind": "TokenRequest",
            "spec": {"audiences": list(key.audiences), "expirationSeconds": key.expiration_seconds,
                     "boundObjectRef": {"apiVersion": "v1", "kind": "Pod", "name": key.pod_name,
                                        "uid": key.pod_uid}}}


def _parse(key: TokenKey, answer: Obj) -> BoundToken:
    status = answer.get("status") or {}
    token, expires = status.get("token"), status.get("expirationTimestamp")
    if not token or not expires:
        raise TokenUnavailable("the TokenRequest answer has no status.token or status.expirationTimestamp")
    seconds = (answer.get("spec") or {}).get("expirationSeconds") or key.expiration_seconds
    try:
        expires_at = meta.parse_time(str(expires)).timestamp()
    except ValueError as exc:
        raise TokenUnavailable(f"the TokenRequest answer has a bad expirationTimestamp {expires!r}") from exc
    return BoundToken(str(token), expires_at, int(seconds), key.pod_uid)


class TokenManager:
    def __init__(self, source: TokenSource, clock: Callable[[], float] = time.time,
                 jitter: Callable[[], float] = lambda: random.uniform(0, MAX_JITTER)) -> None:
        self.source, self.clock, self.jitter = source, clock, jitter
        self._cache: dict[TokenKey, BoundToken] = {}

    async def get(self, key: TokenKey) -> BoundToken:
        """The cached token for `key`, renewed first when due."""
        cached = self._cache.get(key)
        if cached is not None and not self.requires_refresh(cached):
            return cached
        try:
            fresh = _parse(key, await self.source.create_token(key.namespace, key.service_account,
                                                               token_request(key)))
        except (errors.APIError, aiohttp.ClientError, OSError, TimeoutError, TokenUnavailable) as exc:
            if cached is None:
                raise TokenUnavailable(f"failed to fetch token: {exc}") from exc
            if self.expired(cached):
                raise TokenUnavailable(f"token of {key.namespace}/{key.service_account} for pod "
                                       f"{key.pod_name} expired and refresh failed: {exc}") from exc
            log.error("Couldn't update token of %s/%s for pod %s, serving the old one: %s",
                      key.namespace, key.service_account, key.pod_name, exc)
            return cached
        self._cache[key] = fresh
        self._drop_expired()
        return fresh

    def requires_refresh(self, token: BoundToken) -> bool:
        now, jitter = self.clock(), self.jitter()
        issued_at = token.expires_at - token.expiration_seconds
        if now > issued_at + MAX_TTL - jitter:
            return True
        return now > token.expires_at - token.expiration_seconds * REFRESH_PERCENT // 100 - jitter

    def expired(self, token: BoundToken) -> bool:
        return self.clock() > token.expires_at

    def forget_pod(self, pod_uid: str) -> None:
        """A removed pod's tokens are never served again (upstream DeleteServiceAccountToken)."""
        for key in [k for k, t in self._cache.items() if t.pod_uid == pod_uid]:
            del self._cache[key]

    def _drop_expired(self) -> None:
        for key in [k for k, t in self._cache.items() if self.expired(t)]:
            del self._cache[key]
