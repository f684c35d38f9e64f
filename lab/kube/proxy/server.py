"""kube-proxy's HTTP endpoints: /healthz on :10256, /metrics and /proxyMode on :10249.

Both are the shared component HealthServer. The :10256 /healthz body has upstream's shape
(proxier_health.go) so load balancer health checks and scripts written for real kube-proxy
read it unchanged; the metrics port also answers the plain /healthz, as upstream's does.
"""

from __future__ import annotations

from datetime import UTC, datetime

from aiohttp import web

from lab.kube.component import HealthServer
from lab.kube.proxy.proxier import Proxier

NOSNIFF = {"X-Content-Type-Options": "nosniff"}


def go_time(ts: float | None) -> str:
    """A Go `time.Time.String()` in UTC; the zero time when never set."""
    if ts is None:
        return "0001-01-01 00:00:00 +0000 UTC"
    return f"{datetime.fromtimestamp(ts, UTC):%Y-%m-%d %H:%M:%S.%f} +0000 UTC"


def split_address(address: str) -> tuple[str, int]:
    """`host:port` to (host, port); an empty address is port 0, which serves nothing."""
    if not address:
        return "", 0
    host, _, port = address.rpartition(":")
    return host.strip("[]") or "0.0.0.0", int(port)


def healthz_server(proxier: Proxier) -> HealthServer:
    async def healthz(_: web.Request) -> web.Response:
        now = go_time(datetime.now(UTC).timestamp())
        body = f'{{"lastUpdated": "{go_time(proxier.last_synced)}","currentTime": "{now}"}}'
        return web.Response(text=body, status=200 if proxier.healthy() else 503, content_type="application/json",
                            headers=NOSNIFF)

    server = HealthServer(paths=())
    server.add_route("/healthz", healthz)
    return server


def metrics_server(proxier: Proxier) -> HealthServer:
    async def metrics(_: web.Request) -> web.Response:
        return web.Response(text=proxier.metrics.render(), content_type="text/plain", headers=NOSNIFF)

    async def proxy_mode(_: web.Request) -> web.Response:
        return web.Response(text="iptables", content_type="text/plain")

    server = HealthServer()
    server.add_route("/metrics", metrics)
    server.add_route("/proxyMode", proxy_mode)
    return server
