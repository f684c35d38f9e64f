"""Pod create -> Running latency on a running lab, as JSON.

Creates N bare pods of the lab's `web` image (spread by the scheduler), watches them
until each reports phase Running with a pod IP, and prints the latency distribution.
Run on demand: `.venv/bin/python bench/pod_startup.py --pods 6` with a lab up.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import statistics
import time
from pathlib import Path

from lab.kube.client import Client, load_kubeconfig
from lab.kube.machinery import catalog

REPO = Path(__file__).resolve().parents[1]


def pod(name: str, image: str) -> dict:
    return {
        "apiVersion": "v1", "kind": "Pod",
        "metadata": {"name": name, "labels": {"bench": "pod-startup"}},
        "spec": {"containers": [{"name": "web", "image": image}]},
    }


async def measure(kubeconfig: Path, image: str, count: int, timeout: float) -> dict:
    async with Client(load_kubeconfig(kubeconfig)) as client:
        listed = await client.list(catalog.PODS, "default", label_selector="bench=pod-startup")
        started: dict[str, float] = {}
        running: dict[str, float] = {}
        names = [f"bench-{int(time.time())}-{i}" for i in range(count)]

        async def watch() -> None:
            rv = listed["metadata"]["resourceVersion"]
            while len(running) < count:
                async for event in client.watch(catalog.PODS, "default", resource_version=rv,
                                                label_selector="bench=pod-startup", timeout_seconds=60):
                    obj = event.object
                    rv = obj["metadata"].get("resourceVersion", rv)
                    name = obj["metadata"].get("name", "")
                    status = obj.get("status", {})
                    if name in started and name not in running and status.get("phase") == "Running" \
                            and status.get("podIP"):
                        running[name] = time.monotonic()
                    if len(running) == count:
                        return

        watcher = asyncio.create_task(watch())
        for name in names:
            started[name] = time.monotonic()
            await client.create(catalog.PODS, pod(name, image), "default")
        try:
            await asyncio.wait_for(watcher, timeout)
        finally:
            watcher.cancel()
            for name in names:
                await client.delete(catalog.PODS, name, "default")
        latencies = sorted(running[n] - started[n] for n in names if n in running)
        return {
            "benchmark": "pod_create_to_running",
            "pods": count,
            "completed": len(latencies),
            "p50_seconds": round(statistics.median(latencies), 3) if latencies else None,
            "max_seconds": round(latencies[-1], 3) if latencies else None,
            "min_seconds": round(latencies[0], 3) if latencies else None,
        }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--kubeconfig", type=Path, default=REPO / ".lab" / "admin.kubeconfig")
    parser.add_argument("--image", default="192.168.56.11:5000/kubelab/web:1")
    parser.add_argument("--pods", type=int, default=6)
    parser.add_argument("--timeout", type=float, default=300)
    args = parser.parse_args()
    print(json.dumps(asyncio.run(measure(args.kubeconfig, args.image, args.pods, args.timeout))))


if __name__ == "__main__":
    main()
