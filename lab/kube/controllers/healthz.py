"""The component's health endpoint: /healthz, /livez, /readyz answer `ok`.

Plain HTTP for now (upstream serves HTTPS on the secure port with delegated authn);
bind it to 127.0.0.1 unless something else must probe it.
"""

from __future__ import annotations

from aiohttp import web


async def _ok(request: web.Request) -> web.Response:
    return web.Response(text="ok")


async def start(host: str, port: int) -> web.AppRunner:
    """Serve the health paths until `await runner.cleanup()`."""
    app = web.Application()
    for path in ("/healthz", "/livez", "/readyz"):
        app.router.add_get(path, _ok)
    runner = web.AppRunner(app, handle_signals=False, access_log=None)
    await runner.setup()
    await web.TCPSite(runner, host, port).start()
    return runner
