"""Hollow kubelets (upstream kubemark's hollow nodes): the real kubelet, over a FakeRuntime, many
in one process, so a scale test can register hundreds of nodes on one machine.

Each hollow node is `kubelet.run` with `hollow=True`: it registers its Node, keeps its Lease and
status, and runs its pods' whole sync (volumes, tokens, status, events) against a runtime that
only pretends. Node `i` reports InternalIP 10.255.<i/256>.<i%256> and gives its pods addresses
from 10.<64 + i/256>.<i%256>.0/24; nothing on the host is touched.
"""

from __future__ import annotations

import asyncio
import logging
from dataclasses import replace
from pathlib import Path

from lab.kube.client import ClientConfig, load_kubeconfig
from lab.kube.kubelet.cri.fake import FakeRuntime
from lab.kube.kubelet.kubelet import run
from lab.kube.kubelet.settings import MAX_HOLLOW_NODES, KubeletSettings

log = logging.getLogger(__name__)


def hollow_settings(base: KubeletSettings, index: int, workdir: Path) -> KubeletSettings:
    name = f"{base.node_name or 'hollow'}-{index}"
    return replace(base, node_name=name, node_ip=f"10.255.{index // 256}.{index % 256}", hollow=True,
                   hollow_nodes=0, root_dir=str(workdir / name), cni_conf_dir=str(workdir / name / "net.d"),
                   healthz_port=0, port=0, enable_server=False, pod_cidr_routes=False)


def hollow_runtime(index: int) -> FakeRuntime:
    return FakeRuntime(record_calls=False, pod_subnet=f"10.{64 + index // 256}.{index % 256}")


async def run_hollow(base: KubeletSettings, count: int, workdir: Path,
                     client_config: ClientConfig | None = None) -> None:
    """Run `count` hollow kubelets until cancelled; state goes under `workdir/<node>`."""
    if not 1 <= count <= MAX_HOLLOW_NODES:
        raise ValueError(f"--hollow-nodes must be between 1 and {MAX_HOLLOW_NODES}")
    config = client_config or load_kubeconfig(base.kubeconfig)
    log.info("Starting %d hollow kubelets (%s-0 ... %s-%d)", count, base.node_name or "hollow",
             base.node_name or "hollow", count - 1)
    async with asyncio.TaskGroup() as group:
        for i in range(count):
            settings = hollow_settings(base, i, workdir)
            group.create_task(run(settings, runtime=hollow_runtime(i), client_config=config), name=settings.node_name)
