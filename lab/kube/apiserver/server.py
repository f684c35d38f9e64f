"""APIServer: wires storage, registries and the HTTPS app; runs until asked to stop.

State lives only in etcd: a restarted server re-reads everything and re-reconciles the
bootstrap objects. While etcd is away requests fail fast and /readyz reports it.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging

from aiohttp import web

from lab.kube.apiserver import bootstrap, ipalloc, tls
from lab.kube.apiserver.registry import Registry, RegistryContext
from lab.kube.apiserver.rest.app import make_app
from lab.kube.apiserver.settings import Settings
from lab.kube.apiserver.storage import Storage
from lab.kube.apiserver.strategies import for_resource
from lab.kube.machinery import catalog

log = logging.getLogger(__name__)
READY_CHECK_TIMEOUT = 2.0


def make_storage(settings: Settings) -> Storage:
    if settings.storage_backend == "memory":
        from lab.kube.apiserver.storage.memory import MemoryStorage
        return MemoryStorage()
    from lab.kube.apiserver.storage.etcd import EtcdStorage
    return EtcdStorage(settings.etcd_servers)


class APIServer:
    def __init__(self, settings: Settings, storage: Storage | None = None) -> None:
        import ipaddress
        self.settings = settings
        self.storage = storage or make_storage(settings)
        self.ctx = RegistryContext(self.storage, settings.etcd_prefix,
                                   ipaddress.ip_network(settings.service_cluster_ip_range, strict=False))
        self.ctx.extras["service_ips"] = ipalloc.service_ip_allocator(
            self.storage, settings.etcd_prefix, settings.service_cluster_ip_range)
        self.ctx.extras["node_ports"] = ipalloc.node_port_allocator(
            self.storage, settings.etcd_prefix, settings.service_node_port_range)
        self.registries = {r: Registry(for_resource(r), self.ctx) for r in catalog.RESOURCES}
        self.bootstrapped = asyncio.Event()

    async def storage_problem(self) -> str | None:
        """None when ready: storage answers and the bootstrap objects exist."""
        try:
            await asyncio.wait_for(self.storage.revision(), READY_CHECK_TIMEOUT)
        except Exception as exc:  # any failure means "not ready"; the reason is shown
            return str(exc) or type(exc).__name__
        return None if self.bootstrapped.is_set() else "bootstrap objects not reconciled yet"

    async def _bootstrap_loop(self) -> None:
        delay = 0.5
        while True:
            try:
                await bootstrap.reconcile(self)
                await bootstrap.repair_service_ips(self)
                self.bootstrapped.set()
                log.info("bootstrap objects reconciled")
                return
            except Exception as exc:  # etcd not there yet: keep trying, readyz says why
                log.warning("bootstrap failed, retrying in %.1fs: %s", delay, exc)
                await asyncio.sleep(delay)
                delay = min(delay * 2, 10)

    def app(self) -> web.Application:
        return make_app(self)

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
        tasks = [asyncio.create_task(self._bootstrap_loop(), name="bootstrap")]
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
