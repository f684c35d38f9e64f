"""Kubelet.run: wire the parts together in upstream's order and run them until cancelled.

Host sysctls, CRI Version (the runtime must answer first), Node registration, then the node
informer (CNI config + routes), the Lease, node status and the pod workers. Cancelling stops
the loops but leaves pods running, as upstream does on its own shutdown.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable
from pathlib import Path

from lab.kube.client import Client, ClientConfig, Informer, load_kubeconfig
from lab.kube.client.events import EventRecorder
from lab.kube.component import HealthServer
from lab.kube.component.process import Runner, SubprocessRunner
from lab.kube.kubelet import eviction, podconfig
from lab.kube.kubelet.cri.client import RemoteRuntime
from lab.kube.kubelet.cri.runtime import CRIError, Runtime
from lab.kube.kubelet.events import PodEvents
from lab.kube.kubelet.host import prepare_host
from lab.kube.kubelet.lease import NodeLease
from lab.kube.kubelet.log_rotation import ContainerLogManager
from lab.kube.kubelet.logind import DBusLogind
from lab.kube.kubelet.metrics import KubeletMetrics
from lab.kube.kubelet.node_network import NodeNetwork
from lab.kube.kubelet.node_shutdown import NodeShutdownManager, PriorityGrace, plan
from lab.kube.kubelet.node_status import NodeFactsProvider, NodeStatusManager, allocatable, capacity, memory_bytes
from lab.kube.kubelet.pod_masquerade import PodMasquerade
from lab.kube.kubelet.pod_sync import PodSyncer
from lab.kube.kubelet.pod_workers import PodWorkers
from lab.kube.kubelet.routes import RouteManager
from lab.kube.kubelet.server import KubeletServer
from lab.kube.kubelet.settings import KubeletSettings
from lab.kube.kubelet.stats import StatsProvider
from lab.kube.kubelet.volumes import manager as volumes
from lab.kube.kubelet.volumes.objects import CachedObjects
from lab.kube.machinery import catalog, meta

log = logging.getLogger(__name__)


async def runtime_version(runtime: Runtime, retry: float = 2.0) -> tuple[str, str]:
    """(runtime name, version) from CRI Version; waits for the runtime like upstream does at start."""
    while True:
        try:
            v = await runtime.version()
            return v.runtime_name, v.runtime_version.removeprefix("v")
        except CRIError as exc:
            log.warning("Container runtime %s not ready, retrying: %s", getattr(runtime, "endpoint", ""), exc)
            await asyncio.sleep(retry)


def node_facts(settings: KubeletSettings, allocatable: dict[str, str]) -> podconfig.NodeFacts:
    try:
        resolv = Path(settings.resolv_conf).read_text()
    except OSError as exc:
        log.warning("Could not read %s, pods get no host DNS: %s", settings.resolv_conf, exc)
        resolv = ""
    return podconfig.NodeFacts(node_name=settings.node_name, node_ip=settings.node_ip,
                               cluster_dns=settings.cluster_dns, cluster_domain=settings.cluster_domain,
                               host_dns=podconfig.parse_resolv_conf(resolv), allocatable=allocatable)


async def _after(first: Awaitable[object], then: Awaitable[None]) -> None:
    await first
    await then


async def run(settings: KubeletSettings, runtime: Runtime | None = None, client_config: ClientConfig | None = None,
              runner: Runner | None = None, proc_sys: Path = Path("/proc/sys")) -> None:
    """Run until cancelled; tests pass a FakeRuntime, an InMemoryAPI config, a RecordingRunner and a fake /proc/sys."""
    runner = runner or SubprocessRunner()
    if not settings.hollow:  # a hollow node leaves the host alone
        await prepare_host(runner, proc_sys)
    own_runtime = runtime is None
    metrics = KubeletMetrics()
    rt: Runtime = runtime or RemoteRuntime(settings.container_runtime_endpoint, observe=metrics.runtime_call)
    config = client_config or load_kubeconfig(settings.kubeconfig)
    healthz = HealthServer()
    try:
        name, version = await runtime_version(rt)
        log.info("Container runtime %s %s; node %s, node IP %s", name, version, settings.node_name,
                 settings.node_ip or "<none>")
        async with Client(config) as client:
            nodes = Informer(client, catalog.NODES)
            with_routes = settings.pod_cidr_routes and not settings.hollow
            routes = RouteManager(runner, settings.node_name) if with_routes else None
            network = NodeNetwork(nodes, settings.node_name, settings.cni_conf_dir, routes,
                                  PodMasquerade(runner) if with_routes else None)
            network_ready = (lambda: True) if settings.hollow else (lambda: network.ready)
            hard = eviction.parse_thresholds(eviction.DEFAULT_HARD if settings.eviction_hard is None
                                             else settings.eviction_hard)
            facts = NodeFactsProvider(name=settings.node_name, node_ip=settings.node_ip,
                                      hostname=settings.node_name, root_dir=settings.root_dir,
                                      max_pods=settings.max_pods, runtime_version=f"{name}://{version}",
                                      kubelet_port=settings.port or 10250,
                                      extra_labels=settings.node_labels,
                                      reserved=[settings.system_reserved, settings.kube_reserved], hard_eviction=hard)
            services = Informer(client, catalog.SERVICES)  # all namespaces, as upstream: Service env vars
            recorder = EventRecorder(client, "kubelet", host=settings.node_name)
            # ConfigMaps and Secrets, for volumes and environment variables: fetched at most once per sync period
            objects = CachedObjects(client, ttl=settings.sync_frequency)
            node_allocatable = allocatable(capacity(settings.root_dir, settings.max_pods), facts.reserved, hard)
            syncer = PodSyncer(rt, node_facts(settings, node_allocatable),
                               volumes=volumes.from_api(client, settings.root_dir, objects, settings.sync_frequency),
                               services=services.store.list, events=PodEvents(recorder), objects=objects)
            periods = [] if settings.hollow else plan(
                settings.shutdown_grace_period, settings.shutdown_grace_period_critical_pods,
                [PriorityGrace(p, s) for p, s in settings.shutdown_grace_period_by_pod_priority])
            def node_shutting_down() -> bool:
                return shutdown is not None and shutdown.shutting_down
            workers = PodWorkers(client, syncer, settings.node_name, name, network_ready=network_ready,
                                 static_pod_path=settings.static_pod_path, node_uid=lambda: meta.uid(status.node),
                                 file_check_frequency=settings.file_check_frequency,
                                 shutting_down=node_shutting_down,
                                 metrics=metrics)
            usage = StatsProvider(rt, settings.node_name, workers.informer.store.list)

            async def signals() -> eviction.Signals:
                return await asyncio.to_thread(eviction.observe, settings.root_dir, memory_bytes(),
                                               usage.node().working_set)
            evictions = eviction.EvictionManager(hard, signals, workers.informer.store.list, usage.containers,
                                                 workers.evict, settings.eviction_pressure_transition_period)
            status = NodeStatusManager(client, facts, network_ready, settings.node_status_update_frequency,
                                       pressure=evictions.pressure, images=rt.list_images,
                                       shutting_down=node_shutting_down)
            shutdown = NodeShutdownManager(
                periods, DBusLogind, workers.active_pods, workers.shutdown_pod,
                lambda message: recorder.event(status.node, "Normal", "NodeShutdown", message),
                status.update) if periods else None
            await status.register()
            if settings.healthz_port:
                await healthz.start(settings.healthz_bind_address, settings.healthz_port)
            async with asyncio.TaskGroup() as group:
                if not settings.hollow:  # its CNI config and routes; a hollow node's network is the fake runtime's
                    group.create_task(nodes.run(), name="node-informer")
                    group.create_task(network.run(), name="node-network")
                group.create_task(NodeLease(client, settings.node_name).run(), name="node-lease")
                group.create_task(status.run(), name="node-status")
                group.create_task(services.run(), name="service-informer")
                # upstream starts no container before the Services are known: their env vars are fixed at start
                group.create_task(_after(services.wait_synced(), workers.run()), name="pod-workers")
                if not settings.hollow:  # no log files to rotate, no host whose pressure would count
                    group.create_task(ContainerLogManager.from_settings(rt, settings).run(), name="log-rotation")
                    group.create_task(_after(workers.informer.wait_synced(), evictions.run()),
                                      name="eviction-manager")
                if shutdown is not None:  # graceful node shutdown: a logind inhibitor lock
                    group.create_task(shutdown.run(), name="node-shutdown")
                if settings.enable_server and settings.port:  # the kubelet API on 10250
                    server = KubeletServer.from_settings(settings, client, pods=workers.informer.store.list, runtime=rt,
                                                         metrics=metrics)
                    group.create_task(server.run(), name="kubelet-server")
    finally:
        await healthz.stop()
        if own_runtime and isinstance(rt, RemoteRuntime):
            await rt.close()
