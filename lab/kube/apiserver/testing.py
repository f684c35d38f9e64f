"""The real API server in memory, served on loopback for tests, with hooks to misbehave.

The app, registries, strategies and bootstrap objects are the server's own, on `MemoryStorage`
and over plain HTTP (test support, not a product mode), so the real `Client` and informers run
against the real semantics unchanged:

    async with InMemoryAPI() as api:
        await api.seed(PODS, pod)                 # a starting state, through the registry
        async with Client(api.config) as client:
            await client.get(PODS, "web", "default")
        api.pause_watches()                       # open watches miss what happens next...
        api.compact(); api.expire_watches()       # ...until a 410 makes informers re-list
        api.drop_watches()                        # cut every watch connection (a restart)
        api.fail_next(errors.InternalError("boom"))  # the next request answers 500
        api.requests                              # [("GET", "/api/v1/namespaces/default/pods/web"), ...]
"""

from __future__ import annotations

import asyncio
import dataclasses
import socket
from types import TracebackType

from aiohttp import web
from aiohttp.typedefs import Handler

from lab.kube.apiserver import bootstrap
from lab.kube.apiserver.registry import Registry
from lab.kube.apiserver.registry.options import DeleteOptions
from lab.kube.apiserver.rest.fieldcheck import check_fields, check_shape
from lab.kube.apiserver.server import APIServer
from lab.kube.apiserver.settings import Settings
from lab.kube.apiserver.storage.memory import MemoryStorage
from lab.kube.client.config import ClientConfig
from lab.kube.machinery import errors, meta
from lab.kube.machinery.catalog import Resource
from lab.kube.machinery.objects import Obj

HOST = "127.0.0.1"


def _is_watch(request: web.Request) -> bool:
    """The server's test for a watch (rest/resources.py): `?watch=` or the legacy /watch/ path."""
    return request.method == "GET" and (request.query.get("watch") in ("1", "true", "True")
                                        or "/watch/" in request.path)


class InMemoryAPI:
    """Start with `async with InMemoryAPI() as api:`; connect with `Client(api.config)`.

    `settings` tune the server (e.g. `Settings(watch_bookmark_interval=0.2)`); where it listens
    and its storage are the harness's: a free loopback port and a fresh `MemoryStorage`."""

    def __init__(self, settings: Settings | None = None) -> None:
        self.storage = MemoryStorage()
        self.requests: list[tuple[str, str]] = []
        # no credentials in unit tests: the server's explicit insecure mode (tests of
        # authentication pass settings of their own)
        self._settings = settings or Settings(insecure_anonymous_admin=True)
        self._failures: list[errors.APIError] = []
        self._watches: set[asyncio.BaseTransport] = set()
        self._runner: web.AppRunner | None = None
        self.server: APIServer | None = None
        self.config = ClientConfig.in_memory(f"http://{HOST}:0")

    async def __aenter__(self) -> InMemoryAPI:
        await self.start()
        return self

    async def __aexit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                        tb: TracebackType | None) -> None:
        await self.stop()

    async def start(self) -> None:
        # bind first so the server's settings (the `kubernetes` Endpoints) name the real port
        sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        try:
            sock.bind((HOST, 0))
            port = int(sock.getsockname()[1])
            settings = dataclasses.replace(self._settings, storage_backend="memory", bind_address=HOST,
                                           secure_port=port)
            self.server = APIServer(settings, storage=self.storage)
            await bootstrap.run(self.server.context)  # as the server's start: objects, then ready
            app = self.server.app()
            app.middlewares.append(self._hooks)  # inside the server's Status edge: errors become Status
            # handler_cancellation: a cut connection also ends its handler (and its storage watch)
            self._runner = web.AppRunner(app, access_log=None, handle_signals=False, shutdown_timeout=0.1,
                                         handler_cancellation=True)
            await self._runner.setup()
            await web.SockSite(self._runner, sock).start()
        except BaseException:
            sock.close()
            raise
        self.config = ClientConfig.in_memory(f"http://{HOST}:{port}")

    async def stop(self) -> None:
        self.drop_watches()
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None
        await self.storage.close()

    # -- state -----------------------------------------------------------------------------------
    def registry(self, res: Resource) -> Registry:
        """The server's registry for `res`: direct access to the real create/update/delete rules."""
        assert self.server is not None, "start() first"
        return self.server.context.registries[res]

    async def seed(self, res: Resource, obj: Obj, namespace: str | None = None) -> Obj:
        """Create `obj` as a test's starting state: checked strictly against the schema, then
        created through the registry (validated, defaulted); its `status`, if any, is written
        next through the status subresource, as the controller or kubelet would have."""
        check_shape(res, obj)
        check_fields(res, obj, "Strict")
        ns = namespace or meta.metadata(obj).get("namespace") or ("default" if res.namespaced else None)
        created = await self.registry(res).create(ns, obj)
        if obj.get("status") and "status" in res.subresources:
            return await self.update(res, {**created, "status": obj["status"]}, subresource="status")
        return created

    async def update(self, res: Resource, obj: Obj, subresource: str | None = None) -> Obj:
        """PUT `obj` through the registry: compare-and-swap when it carries a resourceVersion."""
        md = meta.metadata(obj)
        return await self.registry(res).update(md.get("namespace"), md.get("name", ""), obj,
                                               subresource=subresource)

    async def delete(self, res: Resource, name: str, namespace: str | None = None, *,
                     grace_period_seconds: int | None = None, propagation_policy: str | None = None) -> Obj:
        """DELETE through the registry (graceful, finalizers, propagation as the server does);
        returns the object as left: marked for deletion, or as it was when removed."""
        obj, _ = await self.registry(res).delete(namespace, name, DeleteOptions(
            grace_period_seconds=grace_period_seconds, propagation_policy=propagation_policy))
        return obj

    async def object(self, res: Resource, name: str, namespace: str | None = None) -> Obj | None:
        """The stored object, or None when there is none."""
        try:
            return await self.registry(res).get(namespace, name)
        except errors.NotFound:
            return None

    async def objects(self, res: Resource, namespace: str | None = None) -> list[Obj]:
        """Every stored object of `res` (in `namespace`, when given), in key order."""
        items: list[Obj] = (await self.registry(res).list(namespace))["items"]
        return items

    # -- misbehaviour ----------------------------------------------------------------------------
    def fail_next(self, error: errors.APIError, times: int = 1) -> None:
        """Answer the next `times` requests with `error`'s Status."""
        self._failures.extend([error] * times)

    def compact(self) -> None:
        """Forget all history: watches from an older resourceVersion now get 410 Expired."""
        self.storage.compact()

    def pause_watches(self) -> None:
        """Open watches stop hearing about changes (a partition), until `expire_watches`."""
        self.storage.pause_watches()

    def expire_watches(self) -> None:
        """Send every open watch a 410 Expired ERROR event, as after an etcd compaction."""
        self.storage.expire_watches()

    @property
    def open_watches(self) -> int:
        """How many watch requests are being served: a test waits for one before cutting it."""
        return len(self._watches)

    def drop_watches(self) -> None:
        """Cut every open watch connection, with no clean end of stream (a server restart)."""
        for transport in list(self._watches):
            transport.close()  # handler_cancellation then ends its handler
        self._watches.clear()

    @web.middleware
    async def _hooks(self, request: web.Request, handler: Handler) -> web.StreamResponse:
        self.requests.append((request.method, request.path))
        if self._failures:
            raise self._failures.pop(0)
        transport = request.transport
        if not _is_watch(request) or transport is None:
            return await handler(request)
        self._watches.add(transport)
        try:
            return await handler(request)
        finally:
            self._watches.discard(transport)
