"""kube-proxy's HTTP endpoints: /healthz on :10256, /metrics and /proxyMode on :10249.

The /healthz body has upstream's shape (proxier_health.go) so load balancer health checks
and scripts written for real kube-proxy read it unchanged.
"""

from __future__ import annotations

from datetime import UTC, datetime

from aiohttp import web

from lab.kube.proxy.proxier import Proxier


def go_time(ts: float | None) -> str:
    """A Go `time.Time.String()` in UTC; the zero time when never set."""
    if ts is None:
        return "0001-01-01 00:00:00 +0000 UTC"
    return f"{datetime.fromtimestamp(ts, UTC):%Y-%m-%d %H:%M:%S.%f} +0000 UTC"


def split_address(address: str) -> tuple[str, int]:
    host, _, port = address.rpartition(":")
    return host.strip("[]") or "0.0.0.0", int(port)


def healthz_app(proxier: Proxier) -> web.Application:
    async def healthz(_: web.Request) -> web.Response:
        now = go_time(datetime.now(UTC).timestamp())
        body = f'{{"lastUpdated": "{go_time(proxier.last_synced)}","currentTime": "{now}"}}'
        return web.Response(text=body, status=200 if proxier.healthy() else 503, content_type="application/json",
                            headers={"X-Content-Type-Options": "nosniff"})

    app = web.Application()
    app.router.add_get("/healthz", healthz)
    return app


def metrics_app(proxier: Proxier) -> web.Application:
    async def metrics(_: web.Request) -> web.Response:
        return web.Response(text=proxier.metrics.render(), content_type="text/plain",
                            headers={"X-Content-Type-Options": "nosniff"})

    async def proxy_mode(_: web.Request) -> web.Response:
        return web.Response(text="iptables", content_type="text/plain")

    app = web.Application()
    app.router.add_get("/metrics", metrics)
    app.router.add_get("/proxyMode", proxy_mode)
    return app


async def serve(app: web.Application, address: str) -> web.AppRunner:
    """Start `app` on `host:port`; the caller cleans the returned runner up."""
    runner = web.AppRunner(app, handle_signals=False, access_log=None)
    await runner.setup()
    host, port = split_address(address)
    await web.TCPSite(runner, host, port).start()
    return runner
