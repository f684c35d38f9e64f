"""APIServer: storage and its context (registries, allocators, readiness) behind the HTTPS app;
runs until cancelled, its background loops owned by one TaskGroup.

State lives only in etcd: a restarted server re-reads everything and re-reconciles the
bootstrap objects. While etcd is away requests fail fast and /readyz reports it.
"""

from __future__ import annotations

import asyncio
import logging

from aiohttp import web

from lab.kube.apiserver import bootstrap
from lab.kube.apiserver.context import ServerContext, build_context
from lab.kube.apiserver.rest.app import make_app
from lab.kube.apiserver.settings import Settings
from lab.kube.apiserver.storage import Storage
from lab.kube.component import serving_certs

log = logging.getLogger(__name__)


def make_storage(settings: Settings) -> Storage:
    if settings.storage_backend == "memory":
        from lab.kube.apiserver.storage.memory import MemoryStorage
        return MemoryStorage()
    from lab.kube.apiserver.storage.encrypted import value_transformer
    from lab.kube.apiserver.storage.etcd import EtcdStorage
    from lab.kube.apiserver.storage.etcd_tls import EtcdTLS
    return EtcdStorage(settings.etcd_servers, transformer=value_transformer(settings),
                       tls=EtcdTLS(settings.etcd_cafile, settings.etcd_certfile, settings.etcd_keyfile))


class APIServer:
    def __init__(self, settings: Settings, storage: Storage | None = None) -> None:
        self.settings = settings
        self.storage = storage or make_storage(settings)
        self.context: ServerContext = build_context(settings, self.storage)

    def app(self) -> web.Application:
        return make_app(self.context)

    async def run(self) -> None:
        """Serve until cancelled (a stop signal), then drain and close; a failed background
        loop ends the run with its exception, so the process exits non-zero."""
        s = self.settings
        hosts = [s.advertise, "127.0.0.1", "localhost", s.first_service_ip, "kubernetes",
                 "kubernetes.default", "kubernetes.default.svc"]
        # upstream's --cert-dir default: apiserver.crt (cert + its self-signed CA) when no files given
        ssl_ctx = await asyncio.to_thread(
            serving_certs.server_context, s.tls_cert_file, s.tls_private_key_file, cert_dir=s.cert_dir,
            pair="apiserver", hosts=hosts, client_ca_file=s.client_ca_file)
        runner = web.AppRunner(self.app(), access_log=None, shutdown_timeout=2)
        await runner.setup()
        try:
            site = web.TCPSite(runner, s.bind_address, s.secure_port, ssl_context=ssl_ctx)
            await site.start()
            log.info("Serving securely on %s:%d", s.bind_address, s.secure_port)
            try:
                await self._background()
            except asyncio.CancelledError:  # a stop signal: drain, then let the cancel finish
                if s.shutdown_delay:  # keep answering while clients and load balancers move on
                    log.info("stopping: serving %.1fs more (--shutdown-delay-duration)",
                             s.shutdown_delay)
                    await asyncio.sleep(s.shutdown_delay)
                raise
        finally:
            await runner.cleanup()
            await self.storage.close()

    async def _background(self) -> None:
        """Run the server's own loops until cancelled; one that fails cancels the others and
        raises (in an ExceptionGroup). Transient storage failures are retried inside them."""
        async with asyncio.TaskGroup() as tg:
            tg.create_task(bootstrap.run(self.context), name="bootstrap")
            run_authorizers = getattr(self.context.authorizer, "run", None)  # caches (the Node graph)
            if run_authorizers is not None:
                tg.create_task(run_authorizers(), name="authorizers")
            compact = getattr(self.storage, "compact_loop", None)  # etcd only: memory keeps no history
            if compact is not None and self.settings.etcd_compaction_interval > 0:
                tg.create_task(compact(self.settings.etcd_compaction_interval), name="compaction")
            await asyncio.Event().wait()  # the loops end with the server: wait for the cancel
