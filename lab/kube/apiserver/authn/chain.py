"""The authenticator chain (upstream `union.NewFailOnError` + `AuthenticatedGroupAdder`).

Each authenticator looks for its own kind of credential: None means "none of mine here",
an `errors.Unauthorized` means "mine, and bad". A bad credential is a 401 and never falls
back to anonymous. With no credential at all the request is anonymous, allowed only on
the anonymous paths (the AuthenticationConfiguration `anonymous.conditions` form); every
other anonymous request is a 401.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Protocol

from aiohttp import web

from lab.kube.machinery import errors
from lab.kube.machinery.user import ANONYMOUS_USER, AUTHENTICATED, MASTERS, UserInfo

# What a client may read without credentials: health, version and OIDC discovery, so
# load balancers can probe the server and others can verify ServiceAccount tokens.
ANONYMOUS_PATHS = ("/healthz", "/livez", "/readyz", "/version", "/version/",
                   "/.well-known/openid-configuration", "/openid/v1/jwks")


class RequestAuthenticator(Protocol):
    async def authenticate(self, request: web.Request) -> UserInfo | None: ...


def unauthorized() -> errors.Unauthorized:
    return errors.Unauthorized("Unauthorized")


def _anonymous_path(path: str, allowed: Sequence[str]) -> bool:
    # /healthz/etcd, /livez/ping, /readyz?verbose are the same checks
    return any(path == p or (p in ("/healthz", "/livez", "/readyz") and path.startswith(p + "/"))
               for p in allowed)


class AuthenticationChain:
    def __init__(self, authenticators: Sequence[RequestAuthenticator], *, anonymous: bool = True,
                 anonymous_paths: Sequence[str] = ANONYMOUS_PATHS,
                 insecure_anonymous_admin: bool = False) -> None:
        self.authenticators = list(authenticators)
        self.anonymous = anonymous
        self.anonymous_paths = tuple(anonymous_paths)
        self.insecure_anonymous_admin = insecure_anonymous_admin

    async def authenticate(self, request: web.Request) -> UserInfo:
        for authenticator in self.authenticators:
            user = await authenticator.authenticate(request)
            if user is not None:
                return user.with_group(AUTHENTICATED)
        if self.insecure_anonymous_admin:
            # --insecure-anonymous-admin: a throwaway local server, never a lab
            return ANONYMOUS_USER.with_group(MASTERS)
        if self.anonymous and _anonymous_path(request.path, self.anonymous_paths):
            return ANONYMOUS_USER
        raise unauthorized()
