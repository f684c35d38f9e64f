"""APIServer: storage and its context (registries, allocators, readiness) behind the HTTPS app;
runs until asked to stop.

State lives only in etcd: a restarted server re-reads everything and re-reconciles the
bootstrap objects. While etcd is away requests fail fast and /readyz reports it.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging

from aiohttp import web

from lab.kube.apiserver import bootstrap, tls
from lab.kube.apiserver.context import ServerContext, build_context
from lab.kube.apiserver.rest.app import make_app
from lab.kube.apiserver.settings import Settings
from lab.kube.apiserver.storage import Storage

log = logging.getLogger(__name__)


def make_storage(settings: Settings) -> Storage:
    if settings.storage_backend == "memory":
        from lab.kube.apiserver.storage.memory import MemoryStorage
        return MemoryStorage()
    from lab.kube.apiserver.storage.etcd import EtcdStorage
    return EtcdStorage(settings.etcd_servers)


class APIServer:
    def __init__(self, settings: Settings, storage: Storage | None = None) -> None:
        self.settings = settings
        self.storage = storage or make_storage(settings)
        self.context: ServerContext = build_context(settings, self.storage)

    def app(self) -> web.Application:
        return make_app(self.context)

    async def run(self, stop: asyncio.Event) -> None:
        s = self.settings
        hosts = [s.advertise, "127.0.0.1", "localhost", s.first_service_ip, "kubernetes",
                 "kubernetes.default", "kubernetes.default.svc"]
        ssl_ctx = await asyncio.to_thread(tls.server_context, s.tls_cert_file,
                                          s.tls_private_key_file, s.cert_dir, hosts)
        runner = web.AppRunner(self.app(), access_log=None, shutdown_timeout=2)
        await runner.setup()
        site = web.TCPSite(runner, s.bind_address, s.secure_port, ssl_context=ssl_ctx)
        await site.start()
        log.info("Serving securely on %s:%d", s.bind_address, s.secure_port)
        tasks = [asyncio.create_task(bootstrap.run(self.context), name="bootstrap")]
        compact = getattr(self.storage, "compact_loop", None)
        if compact is not None and s.etcd_compaction_interval > 0:
            tasks.append(asyncio.create_task(compact(s.etcd_compaction_interval), name="compaction"))
        try:
            await stop.wait()
            log.info("shutting down")
            if s.shutdown_delay:
                await asyncio.sleep(s.shutdown_delay)
        finally:
            for t in tasks:
                t.cancel()
            for t in tasks:
                with contextlib.suppress(asyncio.CancelledError, Exception):
                    await t
            await runner.cleanup()
            await self.storage.close()
