"""`kube-scheduler`: flags (and KubeSchedulerConfiguration), leader election, informers, the loop.

    kube-scheduler --kubeconfig /etc/kubelab/scheduler.kubeconfig --config sched.yaml \
        --leader-elect=true --secure-port 10259 --client-ca-file ca.crt

The secure port serves /healthz, /readyz, /livez to anyone and /metrics to callers a
SubjectAccessReview allows (component `secure_serving`).
"""

from __future__ import annotations

import argparse
import asyncio
import logging
from dataclasses import dataclass

from lab.kube.client import Client, Informer, load_kubeconfig
from lab.kube.client.events import EventRecorder
from lab.kube.component import (
    HealthServer,
    identity,
    parse_bool,
    process_metrics,
    run_component,
    run_leading,
    secure_serving,
    setup_logging,
)
from lab.kube.machinery import catalog
from lab.kube.scheduler import config
from lab.kube.scheduler.scheduler import Scheduler

log = logging.getLogger("kube-scheduler")
SYNC_TIMEOUT = 60.0


@dataclass(frozen=True)
class Settings:
    """kube-scheduler settings from flags."""

    kubeconfig: str
    """Path to a kubeconfig; overrides clientConnection.kubeconfig of --config."""
    config: str
    """Path to a KubeSchedulerConfiguration file (optional)."""
    leader_elect: bool | None
    """None: take leaderElection.leaderElect from the config (default true)."""
    verbosity: int
    serving: secure_serving.SecureServingSettings
    """The secure port (10259; 0 disables it) and its delegated authn/authz."""


def parse_args(argv: list[str] | None = None) -> Settings:
    p = argparse.ArgumentParser(prog="kube-scheduler", description="The kubelab scheduler.")
    p.add_argument("--kubeconfig", default="")
    p.add_argument("--config", default="")
    p.add_argument("--leader-elect", type=parse_bool, nargs="?", const=True, default=None)
    secure_serving.add_flags(p, secure_port=10259)
    p.add_argument("-v", "--v", type=int, default=0, dest="verbosity")
    a = p.parse_args(argv)
    return Settings(a.kubeconfig, a.config, a.leader_elect, a.verbosity, secure_serving.settings_from_args(a))


async def schedule(client: Client, cfg: config.SchedulerConfig, identity: str) -> None:
    """Informers first, wait for their caches, then the scheduling loop (upstream start order)."""
    pods, nodes = Informer(client, catalog.PODS), Informer(client, catalog.NODES)
    scheduler = Scheduler(client, cfg, EventRecorder(client, "default-scheduler", identity))
    scheduler.attach(pods, nodes)
    async with asyncio.TaskGroup() as tg:
        tg.create_task(pods.run())
        tg.create_task(nodes.run())
        await pods.wait_synced(SYNC_TIMEOUT)
        await nodes.wait_synced(SYNC_TIMEOUT)
        log.info("caches synced: %d pods, %d nodes; scheduling", len(pods.store), len(nodes.store))
        tg.create_task(scheduler.run())


async def run(settings: Settings) -> None:
    cfg = config.load(settings.config)
    client_cfg = load_kubeconfig(settings.kubeconfig or cfg.kubeconfig or None)
    holder = identity()
    leader_elect = cfg.leader_elect if settings.leader_elect is None else settings.leader_elect
    health = HealthServer()
    health.add_route("/metrics", process_metrics.handler)
    async with secure_serving.secure_serving(health, settings.serving, client_cfg, pair="kube-scheduler"), \
            Client(client_cfg) as client:
        await run_leading(client, leader_elect, cfg.lease_namespace, cfg.lease_name, holder,
                          lambda: schedule(client, cfg, holder))


def main(argv: list[str] | None = None) -> None:
    settings = parse_args(argv)
    setup_logging(settings.verbosity)
    try:
        run_component(run(settings))
    except config.ConfigError as exc:
        log.error("invalid configuration: %s", exc)
        raise SystemExit(1) from exc


if __name__ == "__main__":
    main()
