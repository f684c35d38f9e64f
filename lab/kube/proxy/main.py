"""`kube-proxy`: watch Services and EndpointSlices, program them into iptables.

Start order as upstream: informers, wait for both caches (a sync from an empty cache would
delete every service's rules), then the sync runner and the health and metrics servers.
SIGTERM stops cleanly and leaves the rules in place, so traffic keeps flowing across restarts.
"""

from __future__ import annotations

import asyncio
import logging
import sys
from pathlib import Path

from lab.kube.client import Client, ClientConfig, Informer, load_kubeconfig
from lab.kube.component import run_component, setup_logging
from lab.kube.machinery.catalog import ENDPOINTSLICES, SERVICES
from lab.kube.proxy.config import ProxySettings, settings_from_args
from lab.kube.proxy.proxier import Proxier, ProxierOptions
from lab.kube.proxy.server import healthz_server, metrics_server, split_address
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
    """Run until cancelled; tests pass a RecordingApplier and an InMemoryAPI config."""
    config = client_config or load_kubeconfig(settings.kubeconfig)
    log.info("Using iptables Proxier, node %r, cluster CIDR %r", settings.node_name, settings.cluster_cidr or "<none>")
    if not settings.cluster_cidr and not settings.masquerade_all:
        log.warning("clusterCIDR not specified, unable to distinguish between internal and external traffic")
    async with Client(config) as client:
        svc_informer = Informer(client, SERVICES, label_selector=PROXY_SELECTOR)
        eps_informer = Informer(client, ENDPOINTSLICES, label_selector=PROXY_SELECTOR)
        proxier = Proxier(applier or IptablesApplier(), options(settings), svc_informer.store.list,
                          eps_informer.store.list)
        async with asyncio.TaskGroup() as tg:
            for inf in (svc_informer, eps_informer):
                inf.add_handler(proxier.on_change, proxier.on_change, proxier.on_change)
                tg.create_task(inf.run())
            async with (healthz_server(proxier).serving(*split_address(settings.healthz_bind_address)),
                        metrics_server(proxier).serving(*split_address(settings.metrics_bind_address))):
                await svc_informer.wait_synced(CACHE_SYNC_TIMEOUT)
                await eps_informer.wait_synced(CACHE_SYNC_TIMEOUT)
                log.info("Caches are synced for service config and endpoint slice config")
                await proxier.run()


def main(argv: list[str] | None = None) -> None:
    try:
        settings, verbosity = settings_from_args(argv)
    except (ValueError, OSError) as exc:
        print(f"kube-proxy: {exc}", file=sys.stderr)
        sys.exit(2)
    setup_logging(verbosity)
    enable_bridge_netfilter()
    run_component(run(settings), stopped="kube-proxy stopped; iptables rules are left in place")


if __name__ == "__main__":
    main()
