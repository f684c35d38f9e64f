"""The secure port of kube-scheduler (10259) and kube-controller-manager (10257): HTTPS with
delegated authentication and authorization, as upstream's `SecureServingOptions` +
`DelegatingAuthenticationOptions` + `DelegatingAuthorizationOptions`.

Anonymous callers are let in and then authorized like anyone: `/healthz`, `/readyz` and
`/livez` are always allowed (exact paths), `system:masters` always, and everything else
(`/metrics`) needs a SubjectAccessReview that allows it. Errors are upstream's: a bad
credential is the 401 Status, a refusal the 403 Status `forbidden: User "..." cannot get
path "/metrics"`, a review that cannot be had a plain-text 500.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import logging
from collections.abc import AsyncIterator
from dataclasses import dataclass

from aiohttp import web
from aiohttp.typedefs import Handler, Middleware

from lab.kube.client import Client, ClientConfig, load_kubeconfig
from lab.kube.component.client_certs import X509Verifier, peer_certificate
from lab.kube.component.delegated_auth import (
    ALWAYS_ALLOW_GROUPS,
    AccessAuthorizer,
    AuthorizationError,
    DelegatedAuthenticator,
    DelegatedAuthorizer,
    Unauthenticated,
)
from lab.kube.component.flags import parse_duration
from lab.kube.component.healthz import HealthServer
from lab.kube.component.reviews import AccessAttributes, APIReviewer
from lab.kube.component.serving_certs import server_context
from lab.kube.machinery import errors

log = logging.getLogger(__name__)
ALWAYS_ALLOW_PATHS = ("/healthz", "/readyz", "/livez")
SELF_SIGNED_HOSTS = ("localhost", "127.0.0.1")  # upstream MaybeDefaultWithSelfSignedCerts("localhost", 127.0.0.1)


@dataclass(frozen=True)
class SecureServingSettings:
    """The secure-serving and delegated-auth flags (upstream spellings)."""

    secure_port: int
    """--secure-port; 0 serves nothing."""
    bind_address: str = "127.0.0.1"
    """--bind-address (kubeadm binds 127.0.0.1; upstream's default is 0.0.0.0)."""
    cert_dir: str = ""
    """--cert-dir: where the self-signed pair is kept; empty keeps it in memory."""
    tls_cert_file: str = ""
    """--tls-cert-file: the serving certificate (with its chain); none means self-signed."""
    tls_private_key_file: str = ""
    """--tls-private-key-file."""
    client_ca_file: str = ""
    """--client-ca-file: clients with a certificate from this CA are authenticated by it."""
    authentication_kubeconfig: str = ""
    """--authentication-kubeconfig: where TokenReviews go; empty means the component's own kubeconfig."""
    authorization_kubeconfig: str = ""
    """--authorization-kubeconfig: where SubjectAccessReviews go; empty means the component's own kubeconfig."""
    token_cache_ttl: float = 10.0
    """--authentication-token-webhook-cache-ttl."""
    authorized_cache_ttl: float = 10.0
    """--authorization-webhook-cache-authorized-ttl."""
    unauthorized_cache_ttl: float = 10.0
    """--authorization-webhook-cache-unauthorized-ttl."""
    always_allow_paths: tuple[str, ...] = ALWAYS_ALLOW_PATHS
    """--authorization-always-allow-paths: exact paths, or prefixes ending in `*`."""


def add_flags(parser: argparse.ArgumentParser, secure_port: int) -> None:
    """Add the secure-serving and delegated-auth flags to a component's parser."""
    parser.add_argument("--secure-port", type=int, default=secure_port)
    parser.add_argument("--bind-address", default="127.0.0.1")
    parser.add_argument("--cert-dir", default="")
    parser.add_argument("--tls-cert-file", default="")
    parser.add_argument("--tls-private-key-file", default="")
    parser.add_argument("--client-ca-file", default="")
    parser.add_argument("--authentication-kubeconfig", default="")
    parser.add_argument("--authorization-kubeconfig", default="")
    parser.add_argument("--authentication-token-webhook-cache-ttl", type=parse_duration, default=10.0)
    parser.add_argument("--authorization-webhook-cache-authorized-ttl", type=parse_duration, default=10.0)
    parser.add_argument("--authorization-webhook-cache-unauthorized-ttl", type=parse_duration, default=10.0)
    parser.add_argument("--authorization-always-allow-paths", default=",".join(ALWAYS_ALLOW_PATHS),
                        type=lambda s: tuple(p.strip() for p in s.split(",") if p.strip()))


def settings_from_args(args: argparse.Namespace) -> SecureServingSettings:
    return SecureServingSettings(
        secure_port=args.secure_port, bind_address=args.bind_address, cert_dir=args.cert_dir,
        tls_cert_file=args.tls_cert_file, tls_private_key_file=args.tls_private_key_file,
        client_ca_file=args.client_ca_file, authentication_kubeconfig=args.authentication_kubeconfig,
        authorization_kubeconfig=args.authorization_kubeconfig,
        token_cache_ttl=args.authentication_token_webhook_cache_ttl,
        authorized_cache_ttl=args.authorization_webhook_cache_authorized_ttl,
        unauthorized_cache_ttl=args.authorization_webhook_cache_unauthorized_ttl,
        always_allow_paths=args.authorization_always_allow_paths)


def _status(err: errors.APIError, details: bool = False) -> web.Response:
    body = err.status()
    if details:
        body.setdefault("details", {})  # upstream's NewForbidden always carries (empty) details
    return web.json_response(body, status=err.code)


def access_middleware(authn: DelegatedAuthenticator, authz: AccessAuthorizer) -> Middleware:
    """Authenticate, then authorize every request before its route (404 only for the authorized)."""
    @web.middleware
    async def access(request: web.Request, handler: Handler) -> web.StreamResponse:
        transport = request.transport
        peer = peer_certificate(transport.get_extra_info("ssl_object") if transport else None)
        try:
            user = await authn.authenticate(request.headers, peer)
        except Unauthenticated as exc:
            log.info("Unable to authenticate the request from %s: %s", request.remote, exc)
            return _status(errors.Unauthorized("Unauthorized"))
        # Every path here is a non-resource URL (the scheduler and controller-manager serve no API).
        attrs = AccessAttributes(user, request.method.lower(), False, path=request.path)
        try:
            decision = await authz.authorize(attrs)
        except AuthorizationError as exc:
            log.error("Authorization error for %s %s: %s", user.name, request.path, exc)
            return web.Response(status=500, text=f"Internal Server Error: {json.dumps(request.path_qs)}: {exc}\n")
        if not decision.allowed:
            message = f'forbidden: User "{user.name}" cannot {attrs.verb} path "{attrs.path}"'
            return _status(errors.Forbidden(message + (f": {decision.reason}" if decision.reason else "")),
                           details=True)
        return await handler(request)
    return access


@contextlib.asynccontextmanager
async def secure_serving(server: HealthServer, settings: SecureServingSettings, own: ClientConfig,
                         pair: str) -> AsyncIterator[HealthServer]:
    """Serve `server` on the secure port for the duration of the block. `own`: the component's
    client config, used for the reviews when no --authentication/authorization-kubeconfig is set.
    `pair`: the self-signed pair's file name (`kube-scheduler`, `kube-controller-manager`)."""
    if not settings.secure_port:
        yield server
        return
    server.ssl_context = server_context(settings.tls_cert_file, settings.tls_private_key_file,
                                        cert_dir=settings.cert_dir, pair=pair, hosts=SELF_SIGNED_HOSTS,
                                        client_ca_file=settings.client_ca_file)
    authn_config = load_kubeconfig(settings.authentication_kubeconfig) if settings.authentication_kubeconfig else own
    authz_config = load_kubeconfig(settings.authorization_kubeconfig) if settings.authorization_kubeconfig else own
    async with contextlib.AsyncExitStack() as stack:
        authn_client = await stack.enter_async_context(Client(authn_config))
        authz_client = authn_client if authz_config == authn_config else \
            await stack.enter_async_context(Client(authz_config))
        reviewer = APIReviewer(authn_client, authz_client)
        x509 = X509Verifier.from_file(settings.client_ca_file) if settings.client_ca_file else None
        authn = DelegatedAuthenticator(x509, reviewer, anonymous=True, success_ttl=settings.token_cache_ttl,
                                       failure_ttl=settings.token_cache_ttl)
        authz = DelegatedAuthorizer(reviewer, allow_ttl=settings.authorized_cache_ttl,
                                    deny_ttl=settings.unauthorized_cache_ttl,
                                    always_allow_paths=settings.always_allow_paths,
                                    always_allow_groups=ALWAYS_ALLOW_GROUPS)
        server.middlewares.append(access_middleware(authn, authz))
        async with server.serving(settings.bind_address, settings.secure_port):
            yield server
