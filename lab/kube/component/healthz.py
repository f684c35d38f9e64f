"""One small health server for every component: /healthz, /livez, /readyz with named checks.

Like upstream's `healthz` package: `ok` while every check passes, HTTP 500 naming the failed
checks otherwise, `?verbose` lists each. Components that serve more on the same port (kube-proxy's
/metrics and /proxyMode) add routes; a route may also replace a health path with its own body.
Plain HTTP by default (kube-proxy's 10256 and 10249, the kubelet's 10248, as upstream); with an
SSL context and an access middleware it is a secure port (`secure_serving`: the scheduler's
10259, the controller-manager's 10257).
"""

from __future__ import annotations

import contextlib
import logging
import ssl
from collections.abc import AsyncIterator, Awaitable, Callable, Sequence

from aiohttp import web
from aiohttp.typedefs import Middleware

log = logging.getLogger(__name__)
Check = Callable[[], bool]
Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]
HEALTH_PATHS = ("/healthz", "/livez", "/readyz")


class HealthServer:
    """Build it, add checks and routes, then `async with server.serving(host, port):`."""

    def __init__(self, paths: tuple[str, ...] = HEALTH_PATHS, *, ssl_context: ssl.SSLContext | None = None,
                 middlewares: Sequence[Middleware] = ()) -> None:
        """`ssl_context` serves HTTPS; `middlewares` run before every route (authn/authz)."""
        self.ssl_context = ssl_context
        self.middlewares = list(middlewares)
        self._checks: dict[str, tuple[Check, tuple[str, ...]]] = {"ping": (lambda: True, paths)}
        self._routes: dict[str, Handler] = {path: self._health_handler(path) for path in paths}
        self._posts: dict[str, Handler] = {}
        self._runner: web.AppRunner | None = None

    def add_check(self, name: str, check: Check, paths: tuple[str, ...] = HEALTH_PATHS) -> None:
        """`check()` is True while healthy; `paths` limits it (e.g. readiness only: ("/readyz",))."""
        self._checks[name] = (check, paths)

    def add_route(self, path: str, handler: Handler, *, post: bool = False) -> None:
        """Serve `handler` on GET `path` (and POST with `post`), replacing a default handler there."""
        self._routes[path] = handler
        if post:
            self._posts[path] = handler

    def failed(self, path: str) -> list[str]:
        """Names of the checks on `path` that fail now."""
        return [name for name, (check, paths) in self._checks.items() if path in paths and not check()]

    def _health_handler(self, path: str) -> Handler:
        async def handle(request: web.Request) -> web.Response:
            failed = self.failed(path)
            if not failed and "verbose" not in request.query:
                return web.Response(text="ok")
            lines = [f"[-]{name} failed: reason withheld" if name in failed else f"[+]{name} ok"
                     for name, (_, paths) in self._checks.items() if path in paths]
            verdict = f"{path.strip('/')} check {'failed' if failed else 'passed'}"
            return web.Response(text="\n".join([*lines, verdict]) + "\n", status=500 if failed else 200)
        return handle

    async def start(self, host: str, port: int) -> None:
        app = web.Application(middlewares=self.middlewares)
        for path, handler in self._routes.items():
            app.router.add_get(path, handler)
        for path, handler in self._posts.items():
            app.router.add_post(path, handler)
        self._runner = web.AppRunner(app, handle_signals=False, access_log=None)
        await self._runner.setup()
        await web.TCPSite(self._runner, host, port, ssl_context=self.ssl_context).start()
        scheme = "https" if self.ssl_context else "http"
        log.info("serving %s on %s://%s:%d", ", ".join(self._routes), scheme, host, port)

    async def stop(self) -> None:
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None

    @contextlib.asynccontextmanager
    async def serving(self, host: str, port: int) -> AsyncIterator[HealthServer]:
        """Serve for the duration of the block; port 0 serves nothing (upstream `--secure-port=0`)."""
        if port:
            await self.start(host, port)
        try:
            yield self
        finally:
            await self.stop()
