"""The kubelet API on 10250: HTTPS, every request authenticated and authorized (`auth`), then
`/healthz`, `/pods` and, with a runtime, `/containerLogs`, `/exec`, `/attach`, `/portForward`,
`/stats/summary`, `/metrics/resource`, `/metrics` and `/runningpods/`.

    server = KubeletServer.from_settings(settings, client, pods=workers.informer.store.list, runtime=rt)
    group.create_task(server.run(), name="kubelet-server")
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from pathlib import Path

from aiohttp import web

from lab.kube.client import Client
from lab.kube.component import (
    AccessAuthorizer,
    AlwaysAllow,
    APIReviewer,
    DelegatedAuthenticator,
    DelegatedAuthorizer,
    HealthServer,
    Reviewer,
    server_context,
)
from lab.kube.component.client_certs import X509Verifier
from lab.kube.kubelet import stats
from lab.kube.kubelet.cri.runtime import Runtime
from lab.kube.kubelet.metrics import KubeletMetrics
from lab.kube.kubelet.server.auth import auth_filter
from lab.kube.kubelet.server.logs import ContainerLogs
from lab.kube.kubelet.server.streaming import Streaming
from lab.kube.kubelet.settings import KubeletSettings, configz
from lab.kube.kubelet.stats import StatsProvider
from lab.kube.machinery import meta
from lab.kube.machinery.objects import Obj

log = logging.getLogger(__name__)
PodsFunc = Callable[[], list[Obj]]


def pod_list(pods: list[Obj]) -> Obj:
    """The /pods body: the kubelet's pods as a v1 PodList."""
    return {"kind": "PodList", "apiVersion": "v1", "metadata": {}, "items": pods}


def authenticator(settings: KubeletSettings, reviewer: Reviewer | None) -> DelegatedAuthenticator:
    """`authentication`: x509.clientCAFile, webhook (TokenReview, cacheTTL), anonymous."""
    x509 = X509Verifier.from_file(settings.client_ca_file) if settings.client_ca_file else None
    ttl = settings.authentication_webhook_cache_ttl
    return DelegatedAuthenticator(x509, reviewer if settings.authentication_webhook else None,
                                  anonymous=settings.anonymous_auth, success_ttl=ttl, failure_ttl=ttl)


def authorizer(settings: KubeletSettings, reviewer: Reviewer | None) -> AccessAuthorizer:
    """`authorization.mode`: Webhook (SubjectAccessReview, no always-allowed path) or AlwaysAllow."""
    if settings.authorization_mode == "AlwaysAllow":
        return AlwaysAllow()
    return DelegatedAuthorizer(reviewer, allow_ttl=settings.authorization_webhook_cache_authorized_ttl,
                               deny_ttl=settings.authorization_webhook_cache_unauthorized_ttl)


def serving_context(settings: KubeletSettings) -> tuple[str, str, str]:
    """(cert file, key file, cert dir): tlsCertFile/tlsPrivateKeyFile, else a self-signed
    `kubelet.crt` in --cert-dir (default <root-dir>/pki), as upstream."""
    if settings.tls_cert_file and settings.tls_private_key_file:
        return settings.tls_cert_file, settings.tls_private_key_file, ""
    return "", "", settings.cert_dir or str(Path(settings.root_dir) / "pki")


class KubeletServer:
    def __init__(self, health: HealthServer, address: str, port: int) -> None:
        self.health, self.address, self.port = health, address, port

    @classmethod
    def build(cls, settings: KubeletSettings, reviewer: Reviewer | None, pods: PodsFunc,
              runtime: Runtime | None = None, metrics: KubeletMetrics | None = None) -> KubeletServer:
        cert, key, cert_dir = serving_context(settings)
        tls = server_context(cert, key, cert_dir=cert_dir, pair="kubelet", hosts=(settings.node_name,),
                             client_ca_file=settings.client_ca_file)
        middleware = auth_filter(authenticator(settings, reviewer), authorizer(settings, reviewer),
                                 settings.node_name, settings.fine_grained_authz)
        health = HealthServer(paths=("/healthz",), ssl_context=tls, middlewares=[middleware])

        async def list_pods(_: web.Request) -> web.Response:
            return web.json_response(pod_list(pods()))
        health.add_route("/pods", list_pods)

        async def config(_: web.Request) -> web.Response:
            return web.json_response(configz(settings))
        health.add_route("/configz", config)
        if runtime is not None:
            def find_pod(namespace: str, name: str) -> Obj | None:
                return next((p for p in pods() if meta.namespace(p) == namespace and meta.name(p) == name), None)
            health.add_route("/containerLogs/{namespace}/{pod}/{container}", ContainerLogs(runtime, find_pod).handle)
            streams = Streaming(runtime, find_pod)  # SPDY upgrades come as POST, WebSocket ones as GET
            health.add_route("/exec/{namespace}/{pod}/{container}", streams.exec, post=True)
            health.add_route("/attach/{namespace}/{pod}/{container}", streams.attach, post=True)
            health.add_route("/portForward/{namespace}/{pod}", streams.port_forward, post=True)
            provider = StatsProvider(runtime, settings.node_name, pods)

            async def summary(_: web.Request) -> web.Response:
                return web.json_response(await provider.summary())

            async def resource_metrics(_: web.Request) -> web.Response:
                return web.Response(text=await provider.resource_metrics(), content_type="text/plain",
                                    charset="utf-8", headers={"X-Content-Type-Options": "nosniff"})

            async def own_metrics(_: web.Request) -> web.Response:
                own = "".join(line + "\n" for line in metrics.render()) if metrics is not None else ""
                return web.Response(text=await stats.kubelet_metrics(runtime) + own, content_type="text/plain",
                                    charset="utf-8")

            async def runtime_pods(_: web.Request) -> web.Response:
                return web.json_response(await stats.running_pods(runtime))
            health.add_route("/stats/summary", summary)
            health.add_route("/metrics/resource", resource_metrics)
            health.add_route("/metrics", own_metrics)
            health.add_route("/runningpods/", runtime_pods)
            health.add_route("/runningpods", runtime_pods)
        return cls(health, settings.address, settings.port)

    @classmethod
    def from_settings(cls, settings: KubeletSettings, client: Client, pods: PodsFunc,
                      runtime: Runtime | None = None, metrics: KubeletMetrics | None = None) -> KubeletServer:
        """Reviews go to the API server the kubelet talks to, with its own credentials."""
        return cls.build(settings, APIReviewer(client), pods, runtime, metrics)

    async def run(self) -> None:
        """Serve until cancelled."""
        async with self.health.serving(self.address, self.port):
            await asyncio.Event().wait()
