"""The controller-manager's reaction and throughput, as JSON (issue 9's figures).

Starts a throwaway kube-apiserver (memory storage, `--insecure-anonymous-admin`) and our
kube-controller-manager against it, both on loopback, then:
- `deployment`: a Deployment of N replicas (default 1,000; no scheduler, so pods stay Pending):
  seconds from its create until the N-th pod exists, and pods/s.
- `job`: a Job of C completions (default 1,000), P at a time (default 100); the bench plays the
  kubelet and marks each pod Succeeded as it appears: seconds to the Complete condition.
- `namespace_deletion`: a namespace with N objects (default 5,000: ConfigMaps, Secrets and headless
  Services): seconds from its DELETE until it is gone.
- `nodes`: M nodes (default 20) whose Leases the bench renews every second; one at a time a node
  goes silent. The reaction is the time from its last Lease renewal until the controller
  wrote Ready=Unknown and until the `node.kubernetes.io/unreachable:NoExecute` taint is on,
  against the configured grace: upstream's target is within one monitor period of the grace.
  The KCM runs with `--node-monitor-grace-period` G (default 5 s) and `--node-monitor-period` P
  (default 1 s), and `--node-eviction-rate=10` so one silent node after another is not held
  back by the 0.1 nodes/s default (the rate limit is unit tested, not timed here).

    .venv/bin/python bench/controllers.py --replicas 1000 --completions 1000 --nodes 20 --samples 3
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import os
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

from lab.kube.client import Client, load_kubeconfig
from lab.kube.machinery import catalog, errors, meta

REPO = Path(__file__).resolve().parents[1]
LEASES = "kube-node-lease"
UNREACHABLE_NO_EXECUTE = ("node.kubernetes.io/unreachable", "NoExecute")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def start(workdir: Path, name: str, module: str, args: list[str]) -> subprocess.Popen[bytes]:
    log = open(workdir / f"{name}.log", "wb")  # the child writes it until it exits
    return subprocess.Popen([sys.executable, "-m", module, "-v=0", *args], stdout=log, stderr=subprocess.STDOUT,
                            cwd=REPO, env=dict(os.environ, PYTHONPATH=str(REPO)))


def write_kubeconfig(workdir: Path, port: int) -> Path:
    path = workdir / "kubeconfig"
    path.write_text(json.dumps({
        "apiVersion": "v1", "kind": "Config", "current-context": "bench",
        "clusters": [{"name": "bench", "cluster": {"server": f"https://127.0.0.1:{port}",
                                                    "certificate-authority": str(workdir / "apiserver.crt")}}],
        "contexts": [{"name": "bench", "context": {"cluster": "bench", "user": "bench"}}],
        "users": [{"name": "bench", "user": {}}]}))
    return path


async def wait_ready(client: Client, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            await client.get(catalog.NAMESPACES, LEASES)
            return
        except (errors.APIError, OSError):
            await asyncio.sleep(0.2)
    raise SystemExit("bench: the API server did not come up (see its log)")


@contextlib.asynccontextmanager
async def control_plane(workdir: Path, kcm_args: list[str]) -> AsyncIterator[Client]:
    port = free_port()
    procs = [start(workdir, "apiserver", "lab.kube.apiserver.main", [
        "--storage-backend=memory", "--bind-address=127.0.0.1", f"--secure-port={port}", f"--cert-dir={workdir}",
        "--insecure-anonymous-admin=true", "--service-cluster-ip-range=10.96.0.0/12"])]
    try:
        for _ in range(600):  # its self-signed certificate, written at start: at most 60 s
            if (workdir / "apiserver.crt").exists():
                break
            if procs[0].poll() is not None:
                raise SystemExit(f"bench: the API server exited: {(workdir / 'apiserver.log').read_text()[-2000:]}")
            await asyncio.sleep(0.1)
        kubeconfig = write_kubeconfig(workdir, port)
        async with Client(load_kubeconfig(str(kubeconfig))) as client:
            await wait_ready(client)
            procs.append(start(workdir, "kcm", "lab.kube.controllers.main", [
                f"--kubeconfig={kubeconfig}", "--leader-elect=false", "--secure-port=0",
                "--cluster-cidr=10.244.0.0/16", *kcm_args]))
            yield client
    finally:
        for proc in reversed(procs):
            proc.terminate()
            with contextlib.suppress(subprocess.TimeoutExpired):
                proc.wait(15)
            if proc.poll() is None:
                proc.kill()


async def deployment(client: Client, replicas: int) -> dict[str, Any]:
    labels = {"bench": "deployment"}
    body = {"apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"name": "bench"},
            "spec": {"replicas": replicas, "selector": {"matchLabels": labels}, "template": {
                "metadata": {"labels": labels}, "spec": {"containers": [{"name": "c", "image": "bench:1"}]}}}}
    started = time.monotonic()
    await client.create(catalog.DEPLOYMENTS, body, "default")
    count, deadline = 0, started + 600
    while count < replicas and time.monotonic() < deadline:
        listed = await client.list(catalog.PODS, "default", label_selector="bench=deployment")
        count = len(listed["items"])
        if count < replicas:
            await asyncio.sleep(0.05)
    elapsed = time.monotonic() - started
    return {"replicas": replicas, "pods": count, "seconds": round(elapsed, 3),
            "pods_per_second": round(count / elapsed, 1)}


async def job(client: Client, completions: int, parallelism: int) -> dict[str, Any]:
    """A Job of `completions` run `parallelism` at a time; the bench plays the kubelet, finishing
    each pod as it appears. Seconds from create to the Complete condition."""
    body = {"apiVersion": "batch/v1", "kind": "Job", "metadata": {"name": "bench"},
            "spec": {"completions": completions, "parallelism": parallelism, "template": {"spec": {
                "restartPolicy": "Never", "containers": [{"name": "c", "image": "bench:1"}]}}}}
    started = time.monotonic()
    await client.create(catalog.JOBS, body, "default")
    finished: set[str] = set()
    deadline = started + 900
    while time.monotonic() < deadline:
        current = await client.get(catalog.JOBS, "bench", "default")
        if any(c.get("type") == "Complete" and c.get("status") == "True"
               for c in (current.get("status") or {}).get("conditions") or []):
            break
        listed = await client.list(catalog.PODS, "default", label_selector="job-name=bench")
        todo = [p for p in listed["items"] if p["metadata"]["name"] not in finished
                and (p.get("status") or {}).get("phase") != "Succeeded"]
        await asyncio.gather(*(client.patch(catalog.PODS, p["metadata"]["name"], {"status": {"phase": "Succeeded"}},
                                            "default", subresource="status") for p in todo))
        finished.update(p["metadata"]["name"] for p in todo)
        if not todo:
            await asyncio.sleep(0.05)
    elapsed = time.monotonic() - started
    return {"completions": completions, "parallelism": parallelism, "pods_finished": len(finished),
            "seconds": round(elapsed, 3), "completions_per_second": round(completions / elapsed, 1)}


async def namespace_deletion(client: Client, objects: int) -> dict[str, Any]:
    """A namespace holding `objects` ConfigMaps, Secrets and Services (a third each): seconds from
    its DELETE until it is gone (the namespace controller empties it, then finalizes)."""
    ns = "bench-ns"
    await client.create(catalog.NAMESPACES, {"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": ns}})
    kinds = [(catalog.CONFIGMAPS, lambda n: {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": n},
                                             "data": {"k": "v"}}),
             (catalog.SECRETS, lambda n: {"apiVersion": "v1", "kind": "Secret", "metadata": {"name": n},
                                          "stringData": {"k": "v"}}),
             (catalog.SERVICES, lambda n: {"apiVersion": "v1", "kind": "Service", "metadata": {"name": n},
                                           "spec": {"clusterIP": "None", "ports": [{"port": 80}]}})]
    for start in range(0, objects, 100):
        await asyncio.gather(*(client.create(kinds[i % 3][0], kinds[i % 3][1](f"o-{i}"), ns)
                               for i in range(start, min(objects, start + 100))))
    started = time.monotonic()
    await client.delete(catalog.NAMESPACES, ns)
    deadline = started + 900
    while time.monotonic() < deadline:
        try:
            await client.get(catalog.NAMESPACES, ns)
        except errors.NotFound:
            break
        await asyncio.sleep(0.1)
    elapsed = time.monotonic() - started
    return {"objects": objects, "seconds": round(elapsed, 3), "objects_per_second": round(objects / elapsed, 1)}


def lease(name: str) -> dict[str, Any]:
    return {"apiVersion": "coordination.k8s.io/v1", "kind": "Lease", "metadata": {"name": name, "namespace": LEASES},
            "spec": {"holderIdentity": name, "leaseDurationSeconds": 40, "renewTime": meta.now_micro()}}


def ready_node(name: str) -> dict[str, Any]:
    return {"apiVersion": "v1", "kind": "Node", "metadata": {"name": name, "labels": {"kubernetes.io/hostname": name}}}


async def report_ready(client: Client, name: str) -> None:
    node = await client.get(catalog.NODES, name)
    stamp = meta.now()
    conditions = [{"type": "Ready", "status": "True", "reason": "KubeletReady", "message": "bench",
                   "lastHeartbeatTime": stamp, "lastTransitionTime": stamp}]
    await client.update(catalog.NODES, {**node, "status": {"conditions": conditions}}, subresource="status")


class Renewer:
    """Renews every live node's Lease each second, bounded by `max_seconds`; records when."""

    def __init__(self, client: Client, names: list[str], max_seconds: float) -> None:
        self.client, self.live, self.max_seconds = client, set(names), max_seconds
        self.last: dict[str, float] = {}

    async def run(self) -> None:
        deadline = time.monotonic() + self.max_seconds
        while time.monotonic() < deadline:
            for name in sorted(self.live):
                current = await self.client.get(catalog.LEASES, name, LEASES)
                current["spec"]["renewTime"] = meta.now_micro()
                with contextlib.suppress(errors.Conflict):
                    await self.client.update(catalog.LEASES, current)
                    self.last[name] = time.monotonic()
            await asyncio.sleep(1.0)


def reacted(node: dict[str, Any]) -> tuple[bool, bool]:
    ready = {c["type"]: c["status"] for c in (node.get("status") or {}).get("conditions") or []}.get("Ready")
    taints = {(t["key"], t["effect"]) for t in (node.get("spec") or {}).get("taints") or []}
    return ready == "Unknown", UNREACHABLE_NO_EXECUTE in taints


async def nodes(client: Client, count: int, samples: int, grace: float, period: float) -> dict[str, Any]:
    names = [f"bench-{i:03d}" for i in range(count)]
    for name in names:
        await client.create(catalog.NODES, ready_node(name))
        await report_ready(client, name)
        await client.create(catalog.LEASES, lease(name), LEASES)
    renewer = Renewer(client, names, max_seconds=samples * (grace * 4 + 10) + 30)
    task = asyncio.create_task(renewer.run())
    await asyncio.sleep(grace + 2 * period)  # every node seen alive
    unknown_after, tainted_after = [], []
    try:
        for name in names[:samples]:
            renewer.live.discard(name)
            await asyncio.sleep(0.01)  # a renewal in flight lands first
            last = renewer.last[name]
            seen: dict[str, float] = {}
            deadline = time.monotonic() + grace * 4 + 10
            while len(seen) < 2 and time.monotonic() < deadline:
                is_unknown, is_tainted = reacted(await client.get(catalog.NODES, name))
                now = time.monotonic()
                if is_unknown:
                    seen.setdefault("unknown", now)
                if is_tainted:
                    seen.setdefault("tainted", now)
                await asyncio.sleep(0.05)
            if len(seen) < 2:
                raise SystemExit(f"bench: {name} not Unknown and tainted within {grace * 4 + 10:.0f}s: {seen}")
            unknown_after.append(seen["unknown"] - last)
            tainted_after.append(seen["tainted"] - last)
            await report_ready(client, name)  # back, so the zone stays healthy for the next sample
            renewer.live.add(name)
    finally:
        task.cancel()

    def summary(values: list[float]) -> dict[str, float]:
        return {"median_seconds": round(statistics.median(values), 3), "max_seconds": round(max(values), 3),
                "median_over_grace": round(statistics.median(values) / grace, 3)}
    worst = max(tainted_after)
    return {"nodes": count, "samples": samples, "grace_seconds": grace, "monitor_period_seconds": period,
            "to_unknown": summary(unknown_after), "to_noexecute_taint": summary(tainted_after),
            "within_one_period_of_grace": worst <= grace + period}


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--replicas", type=int, default=1000)
    parser.add_argument("--completions", type=int, default=1000)
    parser.add_argument("--parallelism", type=int, default=100)
    parser.add_argument("--namespace-objects", type=int, default=5000)
    parser.add_argument("--nodes", type=int, default=20)
    parser.add_argument("--samples", type=int, default=3)
    parser.add_argument("--grace", type=float, default=5.0)
    parser.add_argument("--period", type=float, default=1.0)
    args = parser.parse_args()
    kcm_args = [f"--node-monitor-grace-period={args.grace}s", f"--node-monitor-period={args.period}s",
                "--node-eviction-rate=10"]
    with tempfile.TemporaryDirectory(prefix="bench-controllers-") as tmp:
        async with control_plane(Path(tmp), kcm_args) as client:
            result = {"deployment": await deployment(client, args.replicas),
                      "job": await job(client, args.completions, args.parallelism),
                      "namespace_deletion": await namespace_deletion(client, args.namespace_objects),
                      "nodes": await nodes(client, args.nodes, args.samples, args.grace, args.period)}
    print(json.dumps(result, indent=2))


if __name__ == "__main__":
    asyncio.run(main())
