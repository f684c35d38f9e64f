"""The kubelet's /healthz on 127.0.0.1:10248 (upstream --healthz-port), for systemd and Ansible checks."""

from __future__ import annotations

from aiohttp import web


def healthz_app() -> web.Application:
    async def healthz(_: web.Request) -> web.Response:
        return web.Response(text="ok")

    app = web.Application()
    app.router.add_get("/healthz", healthz)
    return app


async def serve(app: web.Application, host: str, port: int) -> web.AppRunner:
    runner = web.AppRunner(app, handle_signals=False, access_log=None)
    await runner.setup()
    await web.TCPSite(runner, host, port).start()
    return runner
