"""Run controllers against the real API server in memory: shared informers and workers."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any

from lab.kube.apiserver.testing import InMemoryAPI
from lab.kube.client import Client
from lab.kube.controllers.informers import SharedInformers


@contextlib.asynccontextmanager
async def running(*factories: Callable[[Client, SharedInformers], Any],
                  seed: Callable[[InMemoryAPI], Awaitable[None]] | None = None,
                  ) -> AsyncIterator[tuple[InMemoryAPI, list[Any]]]:
    """`seed` writes the cluster's state before the controllers start (as after a restart)."""
    async with InMemoryAPI() as api, Client(api.config) as client:
        if seed is not None:
            await seed(api)
        informers = SharedInformers(client)
        controllers = [f(client, informers) for f in factories]
        async with asyncio.TaskGroup() as tg:
            tasks = [tg.create_task(i.run()) for _, i in informers]
            await informers.wait_synced(5)
            tasks += [tg.create_task(c.run(2)) for c in controllers]
            try:
                yield api, controllers
            finally:
                for c in controllers:
                    c.queue.shutdown()
                for t in tasks:
                    t.cancel()


def template(labels: dict[str, str], image: str = "nginx:1.25") -> dict[str, Any]:
    return {"metadata": {"labels": labels},
            "spec": {"containers": [{"name": "app", "image": image,
                                     "ports": [{"name": "http", "containerPort": 8080}]}]}}


def ready(pod: dict[str, Any], ip: str) -> dict[str, Any]:
    """What the kubelet would report for a running, ready pod."""
    status = {"phase": "Running", "podIP": ip, "podIPs": [{"ip": ip}],
              "conditions": [{"type": "Ready", "status": "True", "lastTransitionTime": "2024-01-01T00:00:00Z"}]}
    return {**pod, "status": status}
