"""`kube-controller-manager`: flags, leader election, shared informers, the enabled controllers.

    kube-controller-manager --kubeconfig cm.kubeconfig --allocate-node-cidrs=true \
        --cluster-cidr 10.244.0.0/16 --node-cidr-mask-size 24 --controllers='*' --leader-elect=true \
        --client-ca-file ca.crt

The secure port (10257) serves /healthz, /readyz, /livez to anyone and /metrics to callers a
SubjectAccessReview allows (component `secure_serving`).
"""

from __future__ import annotations

import argparse
import asyncio
import ipaddress
import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

from aiohttp import web

from lab.kube.client import Client, load_kubeconfig
from lab.kube.client.workqueue import set_metrics as set_queue_metrics
from lab.kube.component import (
    HealthServer,
    identity,
    parse_bool,
    parse_duration,
    process_metrics,
    run_component,
    run_leading,
    secure_serving,
    setup_logging,
)
from lab.kube.component.workqueue_metrics import WorkqueueMetrics
from lab.kube.controllers.clusterroleaggregation import ClusterRoleAggregationController
from lab.kube.controllers.cronjob import CronJobController
from lab.kube.controllers.daemonset import DaemonSetController
from lab.kube.controllers.deployment import DeploymentController
from lab.kube.controllers.disruption import DisruptionController
from lab.kube.controllers.endpoints import EndpointsController
from lab.kube.controllers.endpointslice import EndpointSliceController
from lab.kube.controllers.garbagecollector import GarbageCollector
from lab.kube.controllers.informers import SharedInformers
from lab.kube.controllers.job import JobController
from lab.kube.controllers.namespace import NamespaceController
from lab.kube.controllers.node_health import NodeLifecycleSettings
from lab.kube.controllers.node_taints import NodeTaintController
from lab.kube.controllers.nodeipam import NodeIpamController
from lab.kube.controllers.noexecute_taints import EvictionRates
from lab.kube.controllers.podgc import PodGarbageCollector
from lab.kube.controllers.replicaset import ReplicaSetController
from lab.kube.controllers.rootcacert import RootCACertPublisher
from lab.kube.controllers.serviceaccounts import ServiceAccountsController
from lab.kube.controllers.taint_eviction import TaintEvictionController
from lab.kube.controllers.ttl_after_finished import TTLAfterFinishedController

log = logging.getLogger("kube-controller-manager")
KNOWN = ("deployment", "replicaset", "daemonset", "job", "cronjob", "disruption", "ttl-after-finished-controller",
         "endpoint", "endpointslice", "garbagecollector", "namespace", "nodeipam", "nodelifecycle",
         "taint-eviction-controller", "serviceaccount", "root-ca-cert-publisher", "clusterrole-aggregation", "podgc")
SYNC_TIMEOUT = 60.0


@dataclass(frozen=True)
class Settings:
    """kube-controller-manager settings from flags."""

    kubeconfig: str
    cluster_cidr: str
    """Pod network, carved into node CIDRs when allocate_node_cidrs is set."""
    service_cluster_ip_range: str
    """Accepted for parity; node CIDRs must not overlap it."""
    allocate_node_cidrs: bool
    node_cidr_mask_size: int
    controllers: tuple[str, ...]
    """Upstream syntax: `*` (all), `name` (enable), `-name` (disable)."""
    leader_elect: bool
    concurrent_syncs: int
    verbosity: int
    serving: secure_serving.SecureServingSettings
    """The secure port (10257; 0 disables it) and its delegated authn/authz."""
    root_ca_file: str = ""
    """CA bundle published as `kube-root-ca.crt` in every namespace; empty: not published."""
    node_lifecycle: NodeLifecycleSettings = field(default_factory=NodeLifecycleSettings)
    """--node-monitor-period, --node-monitor-grace-period, --node-startup-grace-period, the eviction rates."""
    terminated_pod_gc_threshold: int = 12500
    """Terminated pods kept before the pod GC deletes the oldest; 0 keeps them all."""


def parse_args(argv: list[str] | None = None) -> Settings:
    p = argparse.ArgumentParser(prog="kube-controller-manager", description="The kubelab controller manager.")
    p.add_argument("--kubeconfig", default="")
    p.add_argument("--cluster-cidr", default="")
    p.add_argument("--service-cluster-ip-range", default="")
    p.add_argument("--allocate-node-cidrs", type=parse_bool, nargs="?", const=True, default=False)
    p.add_argument("--node-cidr-mask-size", type=int, default=24)
    p.add_argument("--controllers", default="*")
    p.add_argument("--leader-elect", type=parse_bool, nargs="?", const=True, default=True)
    secure_serving.add_flags(p, secure_port=10257)
    p.add_argument("--concurrent-syncs", type=int, default=5, help="workers per controller")
    p.add_argument("-v", "--v", type=int, default=0, dest="verbosity")
    p.add_argument("--root-ca-file", default="", help="CA bundle published to every namespace")
    p.add_argument("--node-monitor-period", type=parse_duration, default=5.0)
    p.add_argument("--node-monitor-grace-period", type=parse_duration, default=40.0)
    p.add_argument("--node-startup-grace-period", type=parse_duration, default=60.0)
    p.add_argument("--node-eviction-rate", type=float, default=0.1, help="nodes per second tainted NoExecute")
    p.add_argument("--secondary-node-eviction-rate", type=float, default=0.01)
    p.add_argument("--unhealthy-zone-threshold", type=float, default=0.55)
    p.add_argument("--large-cluster-size-threshold", type=int, default=50)
    p.add_argument("--terminated-pod-gc-threshold", type=int, default=12500)
    a = p.parse_args(argv)
    if a.node_monitor_period <= 0 or a.node_monitor_grace_period <= 0 or a.node_startup_grace_period <= 0:
        p.error("--node-monitor-period, --node-monitor-grace-period and --node-startup-grace-period must be positive")
    if a.node_eviction_rate < 0 or a.secondary_node_eviction_rate < 0 or not 0 < a.unhealthy_zone_threshold <= 1:
        p.error("--node-eviction-rate and --secondary-node-eviction-rate must not be negative, "
                "--unhealthy-zone-threshold must be in (0, 1]")
    lifecycle = NodeLifecycleSettings(a.node_monitor_period, a.node_monitor_grace_period, a.node_startup_grace_period,
                                      EvictionRates(a.node_eviction_rate, a.secondary_node_eviction_rate,
                                                    a.unhealthy_zone_threshold, a.large_cluster_size_threshold))
    if a.allocate_node_cidrs and not a.cluster_cidr:
        p.error("--allocate-node-cidrs requires --cluster-cidr")
    if a.cluster_cidr and a.service_cluster_ip_range and ipaddress.ip_network(a.cluster_cidr).overlaps(
            ipaddress.ip_network(a.service_cluster_ip_range)):
        p.error("--cluster-cidr and --service-cluster-ip-range overlap")
    return Settings(a.kubeconfig, a.cluster_cidr, a.service_cluster_ip_range, a.allocate_node_cidrs,
                    a.node_cidr_mask_size, tuple(c.strip() for c in a.controllers.split(",") if c.strip()),
                    a.leader_elect, a.concurrent_syncs, a.verbosity, secure_serving.settings_from_args(a),
                    root_ca_file=a.root_ca_file, node_lifecycle=lifecycle,
                    terminated_pod_gc_threshold=a.terminated_pod_gc_threshold)


def enabled(name: str, wanted: tuple[str, ...]) -> bool:
    if f"-{name}" in wanted:
        return False
    return name in wanted or "*" in wanted


def build(client: Client, informers: SharedInformers, settings: Settings) -> list[Any]:
    factories: dict[str, Callable[[], Any]] = {
        "deployment": lambda: DeploymentController(client, informers),
        "replicaset": lambda: ReplicaSetController(client, informers),
        "job": lambda: JobController(client, informers),
        "daemonset": lambda: DaemonSetController(client, informers),
        "cronjob": lambda: CronJobController(client, informers),
        "disruption": lambda: DisruptionController(client, informers),
        "ttl-after-finished-controller": lambda: TTLAfterFinishedController(client, informers),
        "endpoint": lambda: EndpointsController(client, informers),
        "endpointslice": lambda: EndpointSliceController(client, informers),
        "garbagecollector": lambda: GarbageCollector(client, informers),
        "namespace": lambda: NamespaceController(client, informers),
        "nodelifecycle": lambda: NodeTaintController(client, informers, settings.node_lifecycle),
        "taint-eviction-controller": lambda: TaintEvictionController(client, informers),
        "nodeipam": lambda: NodeIpamController(client, informers, settings.cluster_cidr, settings.node_cidr_mask_size),
        "serviceaccount": lambda: ServiceAccountsController(client, informers),
        "root-ca-cert-publisher": lambda: RootCACertPublisher(client, informers, settings.root_ca_file),
        "clusterrole-aggregation": lambda: ClusterRoleAggregationController(client, informers),
        "podgc": lambda: PodGarbageCollector(client, informers, settings.terminated_pod_gc_threshold),
    }
    out = []
    for name in KNOWN:
        if name == "nodeipam" and not settings.allocate_node_cidrs:
            continue
        if name == "root-ca-cert-publisher" and not settings.root_ca_file:
            continue
        if enabled(name, settings.controllers):
            out.append(factories[name]())
    return out


async def run_controllers(client: Client, settings: Settings) -> None:
    """Informers, wait for their caches, then every controller's workers (upstream start order)."""
    informers = SharedInformers(client)
    controllers = build(client, informers, settings)
    async with asyncio.TaskGroup() as tg:
        informers.start(tg)
        await informers.wait_synced(SYNC_TIMEOUT)
        for c in controllers:
            log.info("Started controller %s", c.name)
            tg.create_task(c.run(settings.concurrent_syncs), name=f"controller-{c.name}")


def metrics_handler(queues: WorkqueueMetrics) -> Callable[[web.Request], Awaitable[web.Response]]:
    """/metrics: the process series and every controller's work queue series."""
    async def metrics(_: web.Request) -> web.Response:
        return web.Response(text=process_metrics.render() + queues.render(), content_type="text/plain",
                            charset="utf-8")
    return metrics


async def run(settings: Settings) -> None:
    client_cfg = load_kubeconfig(settings.kubeconfig or None)
    holder = identity()
    health = HealthServer()
    queues = WorkqueueMetrics()
    set_queue_metrics(queues)  # before the controllers make their queues
    health.add_route("/metrics", metrics_handler(queues))
    async with secure_serving.secure_serving(health, settings.serving, client_cfg, pair="kube-controller-manager"), \
            Client(client_cfg) as client:
        await run_leading(client, settings.leader_elect, "kube-system", "kube-controller-manager", holder,
                          lambda: run_controllers(client, settings))


def main(argv: list[str] | None = None) -> None:
    settings = parse_args(argv)
    setup_logging(settings.verbosity)
    run_component(run(settings))


if __name__ == "__main__":
    main()
