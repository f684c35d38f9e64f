"""`kube-proxy`: watch Services and EndpointSlices, program them into iptables.

Start order as upstream: informers, wait for both caches (a sync from an empty cache would
delete every service's rules), then the sync runner and the health and metrics servers.
SIGTERM stops cleanly and leaves the rules in place, so traffic keeps flowing across restarts.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import signal
import sys
from pathlib import Path

from aiohttp import web

from lab.kube.client import Client, ClientConfig, Informer, load_kubeconfig
from lab.kube.machinery.catalog import ENDPOINTSLICES, SERVICES
from lab.kube.proxy import klog
from lab.kube.proxy.config import ProxySettings, settings_from_args
from lab.kube.proxy.proxier import Proxier, ProxierOptions
from lab.kube.proxy.server import healthz_app, metrics_app, serve
from lab.kube.proxy.syncer import Applier, IptablesApplier

log = logging.getLogger(__name__)

BRIDGE_NF_CALL = Path("/proc/sys/net/bridge/bridge-nf-call-iptables")
CACHE_SYNC_TIMEOUT = 300.0
# as upstream: objects owned by another proxy implementation, and headless services, are not ours
PROXY_SELECTOR = "!service.kubernetes.io/service-proxy-name,!service.kubernetes.io/headless"


def enable_bridge_netfilter(path: Path = BRIDGE_NF_CALL) -> None:
    """Bridged pod-to-pod service traffic must pass iptables, or replies skip the un-DNAT."""
    if path.exists():
        try:
            path.write_text("1\n")
        except OSError as exc:  # read-only /proc in some containers: say so, keep going
            log.warning("Could not set %s: %s", path, exc)


def options(settings: ProxySettings) -> ProxierOptions:
    return ProxierOptions(node_name=settings.node_name, cluster_cidr=settings.cluster_cidr,
                          masquerade_all=settings.masquerade_all, masquerade_bit=settings.masquerade_bit,
                          sync_period=settings.sync_period, min_sync_period=settings.min_sync_period)


async def run(settings: ProxySettings, applier: Applier | None = None,
              client_config: ClientConfig | None = None) -> None:
    """Run until cancelled; tests pass a RecordingApplier and a FakeAPI config."""
    config = client_config or load_kubeconfig(settings.kubeconfig)
    log.info("Using iptables Proxier, node %r, cluster CIDR %r", settings.node_name, settings.cluster_cidr or "<none>")
    if not settings.cluster_cidr and not settings.masquerade_all:
        log.warning("clusterCIDR not specified, unable to distinguish between internal and external traffic")
    async with Client(config) as client:
        svc_informer = Informer(client, SERVICES, label_selector=PROXY_SELECTOR)
        eps_informer = Informer(client, ENDPOINTSLICES, label_selector=PROXY_SELECTOR)
        proxier = Proxier(applier or IptablesApplier(), options(settings), svc_informer.store.list,
                          eps_informer.store.list)
        runners: list[web.AppRunner] = []
        async with asyncio.TaskGroup() as tg:
            try:
                for inf in (svc_informer, eps_informer):
                    inf.add_handler(proxier.on_change, proxier.on_change, proxier.on_change)
                    tg.create_task(inf.run())
                if settings.healthz_bind_address:
                    runners.append(await serve(healthz_app(proxier), settings.healthz_bind_address))
                if settings.metrics_bind_address:
                    runners.append(await serve(metrics_app(proxier), settings.metrics_bind_address))
                await svc_informer.wait_synced(CACHE_SYNC_TIMEOUT)
                await eps_informer.wait_synced(CACHE_SYNC_TIMEOUT)
                log.info("Caches are synced for service config and endpoint slice config")
                await proxier.run()
            finally:
                for runner in runners:
                    await runner.cleanup()


def main(argv: list[str] | None = None) -> None:
    try:
        settings, verbosity = settings_from_args(argv)
    except (ValueError, OSError) as exc:
        print(f"kube-proxy: {exc}", file=sys.stderr)
        sys.exit(2)
    klog.setup(verbosity)
    enable_bridge_netfilter()

    async def _main() -> None:
        task = asyncio.current_task()
        assert task is not None
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGTERM, signal.SIGINT):
            loop.add_signal_handler(sig, task.cancel)
        with contextlib.suppress(asyncio.CancelledError):
            await run(settings)
        log.info("kube-proxy stopped; iptables rules are left in place")

    asyncio.run(_main())


if __name__ == "__main__":
    main()
