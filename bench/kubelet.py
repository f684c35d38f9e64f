"""The kubelet on a running lab, as JSON (issue 7's figures).

- `startup`: N pods (default 30) created at once on one worker, bound to it (the image is
  already there: a warm-up pod pulls it first); create -> Running p50/p99 from a watch, and
  the kubelet's own means over the burst (CRI operations, pod start, pod sync) from its /metrics,
  and the baseline: the same burst straight to containerd on the node (bench/cri_burst.py).
- `kubelet`: the worker's kubelet CPU (% of one core, over a window) and RSS with M pods
  (default 50) running there.
- `exec`: `kubectl exec <pod> -- true` round trips through the API server, p50/p99.
- `logs`: `kubectl logs` of a pod that wrote 3.8 MB (one log file), MB/s through the API server.

    .venv/bin/python bench/kubelet.py --node w1            # with `make lab` up
"""

from __future__ import annotations

import argparse
import asyncio
import json
import shlex
import shutil
import subprocess
import time
from pathlib import Path
from typing import Any

from lab.kube.client import Client, load_kubeconfig
from lab.kube.machinery import catalog, errors

REPO = Path(__file__).resolve().parents[1]
NS = "default"  # the bench's pods carry bench=kubelet and are removed after
LOG_LINES = 120_000  # 32-byte lines: 3.8 MB, one log file (below containerLogMaxSize in the CRI format)


def pod(name: str, node: str, image: str, command: list[str] | None = None) -> dict[str, Any]:
    container: dict[str, Any] = {"name": "web", "image": image, "imagePullPolicy": "IfNotPresent"}
    if command:
        container["command"] = command
    return {"apiVersion": "v1", "kind": "Pod", "metadata": {"name": name, "labels": {"bench": "kubelet"}},
            "spec": {"nodeName": node, "terminationGracePeriodSeconds": 0, "containers": [container]}}


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return round(ordered[min(len(ordered) - 1, int(q * len(ordered)))], 3)


async def wait_running(client: Client, names: set[str], timeout: float) -> dict[str, float]:
    """When each named pod was first seen Running (monotonic seconds)."""
    seen: dict[str, float] = {}
    deadline = time.monotonic() + timeout
    while names - seen.keys() and time.monotonic() < deadline:
        listed = await client.list(catalog.PODS, NS, label_selector="bench=kubelet")
        rv = listed["metadata"]["resourceVersion"]
        for p in listed["items"]:
            if p["metadata"]["name"] in names and (p.get("status") or {}).get("phase") == "Running":
                seen.setdefault(p["metadata"]["name"], time.monotonic())
        try:
            async for event in client.watch(catalog.PODS, NS, resource_version=rv, label_selector="bench=kubelet",
                                            timeout_seconds=max(1, int(deadline - time.monotonic()))):
                obj = event.object
                if obj["metadata"].get("name") in names and (obj.get("status") or {}).get("phase") == "Running":
                    seen.setdefault(obj["metadata"]["name"], time.monotonic())
                if not names - seen.keys():
                    break
        except errors.APIError:
            continue
    return seen


def kubelet_series(kubeconfig: Path, node: str) -> dict[str, float]:
    """The kubelet's histogram sums and counts from its /metrics (through nodes/proxy)."""
    out = kubectl(kubeconfig, "get", "--raw", f"/api/v1/nodes/{node}/proxy/metrics").stdout.decode()
    return {name: float(value) for line in out.splitlines() if not line.startswith("#")
            for name, _, value in [line.rpartition(" ")] if name.split("{")[0].endswith(("_sum", "_count"))}


def mean_seconds(before: dict[str, float], after: dict[str, float]) -> dict[str, float]:
    """Per series: the mean of what was observed between the two scrapes."""
    out = {}
    for key, total in after.items():
        if not key.split("{")[0].endswith("_sum"):
            continue
        count_key = key.replace("_sum", "_count", 1)
        n = after.get(count_key, 0) - before.get(count_key, 0)
        if n > 0:
            name = key.replace("kubelet_", "", 1).replace("_sum", "", 1)
            out[f"{name} (n={int(n)})"] = round((total - before.get(key, 0)) / n, 3)
    return out


async def startup(client: Client, node: str, image: str, count: int) -> dict[str, Any]:
    names = [f"start-{i}" for i in range(count)]
    created: dict[str, float] = {}

    async def create(name: str) -> None:
        created[name] = time.monotonic()
        await client.create(catalog.PODS, pod(name, node, image), NS)
    watcher = asyncio.create_task(wait_running(client, set(names), 300))
    await asyncio.sleep(0.5)  # the watch is open before the first create
    await asyncio.gather(*(create(n) for n in names))
    running = await watcher
    latencies = [running[n] - created[n] for n in names if n in running]
    return {"pods": count, "completed": len(latencies), "p50_seconds": percentile(latencies, 0.5),
            "p99_seconds": percentile(latencies, 0.99), "max_seconds": round(max(latencies), 3)}


def lab_ssh(node: str, command: str) -> str:
    # ssh joins its arguments into one remote command line: hand it one, quoted once
    return subprocess.run([str(REPO / ".venv" / "bin" / "lab"), "ssh", node, "--", f"sh -c {shlex.quote(command)}"],
                          capture_output=True, text=True, check=True, cwd=REPO, timeout=120).stdout


def runtime_baseline(node: str, image: str, count: int) -> dict[str, Any]:
    """The same burst straight to containerd on the node (bench/cri_burst.py): what the runtime alone takes."""
    script = (REPO / "bench" / "cri_burst.py").read_text()
    out = subprocess.run([str(REPO / ".venv" / "bin" / "lab"), "ssh", node, "--",
                          f"sudo /opt/kubelab/venv/bin/python - {count} {shlex.quote(image)}"],
                         input=script, capture_output=True, text=True, check=True, cwd=REPO, timeout=300).stdout
    result = json.loads(out.strip().splitlines()[-1])
    times = result["times"]
    return {"pods": count, "completed": len(times), "p50_seconds": percentile(times, 0.5),
            "p99_seconds": percentile(times, 0.99), "errors": result["errors"]}


def kubelet_usage(node: str, window: float) -> dict[str, Any]:
    """CPU over `window` seconds (utime+stime ticks of the kubelet's process) and its RSS."""
    probe = ("pid=$(pgrep -o -f 'bin/kubelet'); t1=$(cut -d' ' -f14,15 /proc/$pid/stat); "
             f"sleep {window}; t2=$(cut -d' ' -f14,15 /proc/$pid/stat); "
             "echo $t1 $t2 $(getconf CLK_TCK) $(grep VmRSS /proc/$pid/status | tr -s ' ' | cut -d' ' -f2)")
    u1, s1, u2, s2, ticks, rss_kib = (int(v) for v in lab_ssh(node, probe).split())
    cpu = (u2 + s2 - u1 - s1) / ticks / window * 100
    return {"cpu_percent_of_one_core": round(cpu, 1), "rss_mib": round(rss_kib / 1024, 1), "window_seconds": window}


def kubectl(kubeconfig: Path, *args: str) -> subprocess.CompletedProcess[bytes]:
    base = shutil.which("kubectl") or "kubectl"
    return subprocess.run([base, "--kubeconfig", str(kubeconfig), "-n", NS, *args], capture_output=True,
                          check=True, timeout=120)


def exec_round_trips(kubeconfig: Path, target: str, count: int) -> dict[str, Any]:
    times = []
    for _ in range(count):
        started = time.monotonic()
        kubectl(kubeconfig, "exec", target, "--", "true")
        times.append(time.monotonic() - started)
    return {"round_trips": count, "p50_seconds": percentile(times, 0.5), "p99_seconds": percentile(times, 0.99)}


def logs_throughput(kubeconfig: Path, target: str) -> dict[str, Any]:
    for _ in range(60):  # until the logger has written everything
        if b"logger-done" in kubectl(kubeconfig, "logs", "--tail=1", target).stdout:
            break
        time.sleep(1)
    started = time.monotonic()
    out = kubectl(kubeconfig, "logs", target).stdout
    took = time.monotonic() - started
    return {"bytes": len(out), "seconds": round(took, 3), "mb_per_second": round(len(out) / took / 1e6, 1)}


async def remove_pods(client: Client) -> None:
    listed = await client.list(catalog.PODS, NS, label_selector="bench=kubelet")
    for p in listed["items"]:
        try:
            await client.delete(catalog.PODS, p["metadata"]["name"], NS, grace_period_seconds=0)
        except errors.NotFound:
            pass


async def run(args: argparse.Namespace) -> dict[str, Any]:
    async with Client(load_kubeconfig(args.kubeconfig)) as client:
        await remove_pods(client)  # an earlier, interrupted run's
        try:
            await client.create(catalog.PODS, pod("warmup", args.node, args.image), NS)
            logger = ["sh", "-c", f"yes kubelab-log-line-0123456789abc | head -n {LOG_LINES}; echo logger-done; "
                      "sleep 3600"]
            await client.create(catalog.PODS, pod("logger", args.node, args.image, logger), NS)
            await wait_running(client, {"warmup", "logger"}, 300)
            result: dict[str, Any] = {"benchmark": "kubelet", "node": args.node}
            before = await asyncio.to_thread(kubelet_series, args.kubeconfig, args.node)
            result["startup"] = await startup(client, args.node, args.image, args.pods)
            after = await asyncio.to_thread(kubelet_series, args.kubeconfig, args.node)
            # where a start's time goes: the kubelet's own histograms over the burst, mean seconds each
            result["startup"]["kubelet_mean_seconds"] = mean_seconds(before, after)
            await asyncio.sleep(5)  # the burst's status writes settle before the baseline's
            baseline = await asyncio.to_thread(runtime_baseline, args.node, args.image, args.pods)
            result["startup"]["runtime_only"] = baseline
            result["startup"]["p99_ratio_to_runtime_only"] = round(
                result["startup"]["p99_seconds"] / baseline["p99_seconds"], 2) if baseline["p99_seconds"] else None
            extra = [f"steady-{i}" for i in range(max(0, args.running - args.pods - 2))]
            for name in extra:
                await client.create(catalog.PODS, pod(name, args.node, args.image), NS)
            await wait_running(client, set(extra), 300)
            await asyncio.sleep(5)  # let the burst of status writes settle
            result["kubelet"] = {"running_pods": args.pods + 2 + len(extra),
                                 **await asyncio.to_thread(kubelet_usage, args.node, args.window)}
            result["exec"] = await asyncio.to_thread(exec_round_trips, args.kubeconfig, "warmup", args.execs)
            result["logs"] = await asyncio.to_thread(logs_throughput, args.kubeconfig, "logger")
            return result
        finally:
            await remove_pods(client)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--kubeconfig", type=Path, default=REPO / ".lab" / "admin.kubeconfig")
    parser.add_argument("--image", default="192.168.56.11:5000/kubelab/web:1")
    parser.add_argument("--node", default="w1")
    parser.add_argument("--pods", type=int, default=30, help="pods created at once")
    parser.add_argument("--running", type=int, default=50, help="pods running when the kubelet is measured")
    parser.add_argument("--window", type=float, default=20.0, help="seconds the kubelet's CPU is measured over")
    parser.add_argument("--execs", type=int, default=20)
    args = parser.parse_args()
    print(json.dumps(asyncio.run(run(args)), indent=2))


if __name__ == "__main__":
    main()
