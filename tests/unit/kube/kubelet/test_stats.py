"""The kubelet's resource usage: the Summary, /metrics/resource, /runningpods and the node's own reading."""

from __future__ import annotations

from pathlib import Path

from lab.kube.kubelet import stats
from lab.kube.kubelet.cri.fake import FakeRuntime
from lab.kube.kubelet.pod_sync import PodSyncer
from lab.kube.kubelet.stats import StatsProvider, Usage, read_node_usage

from .conftest import make_pod


class NodeReadings:
    def __init__(self) -> None:
        self.readings = [Usage(1_000_000_000, 5_000_000_000, 900), Usage(3_000_000_000, 6_000_000_000, 1000)]

    def __call__(self) -> Usage:
        return self.readings.pop(0)


async def test_the_summary_has_the_node_and_each_running_pod(syncer: PodSyncer, runtime: FakeRuntime) -> None:
    pod = make_pod()
    await syncer.sync(pod)
    provider = StatsProvider(runtime, "w1", lambda: [pod], node_usage=NodeReadings(), boot_time="2026-01-01T00:00:00Z")
    provider.node()  # the first reading: no rate yet
    summary = await provider.summary()
    node = summary["node"]
    assert node["nodeName"] == "w1" and node["startTime"] == "2026-01-01T00:00:00Z"
    assert node["cpu"]["usageCoreNanoSeconds"] == 6_000_000_000
    assert node["cpu"]["usageNanoCores"] == 500_000_000  # one core-second over two seconds
    assert node["memory"]["workingSetBytes"] == 1000
    [p] = summary["pods"]
    assert p["podRef"] == {"name": "web", "namespace": "default", "uid": "uid-web"}
    assert [c["name"] for c in p["containers"]] == ["app"]
    assert set(p["cpu"]) >= {"time", "usageCoreNanoSeconds"} and "workingSetBytes" in p["memory"]


async def test_resource_metrics_are_what_metrics_server_scrapes(syncer: PodSyncer, runtime: FakeRuntime) -> None:
    pod = make_pod()
    await syncer.sync(pod)
    text = await StatsProvider(runtime, "w1", lambda: [pod], node_usage=NodeReadings()).resource_metrics()
    names = {line.split("{")[0].split(" ")[0] for line in text.splitlines() if not line.startswith("#")}
    assert names == {"container_cpu_usage_seconds_total", "container_memory_working_set_bytes",
                     "container_start_time_seconds", "node_cpu_usage_seconds_total",
                     "node_memory_working_set_bytes", "pod_cpu_usage_seconds_total", "pod_memory_working_set_bytes",
                     "resource_scrape_error"}
    assert 'container_memory_working_set_bytes{container="app",namespace="default",pod="web"} 0 ' in text
    assert "node_cpu_usage_seconds_total 5.0 1000" in text


async def test_running_pods_and_the_kubelets_own_metrics(syncer: PodSyncer, runtime: FakeRuntime) -> None:
    await syncer.sync(make_pod())
    listed = await stats.running_pods(runtime)
    [p] = listed["items"]
    assert p["metadata"]["uid"] == "uid-web" and p["spec"]["containers"] == [
        {"name": "app", "image": "busybox:1.36", "resources": {}}]
    text = await stats.kubelet_metrics(runtime)
    assert "kubelet_running_pods 1" in text and 'kubelet_running_containers{container_state="running"} 1' in text


def test_the_node_reads_its_cgroup_else_proc(tmp_path: Path) -> None:
    proc, cgroup = tmp_path / "proc", tmp_path / "cgroup"
    proc.mkdir()
    (proc / "meminfo").write_text("MemTotal:       1000 kB\nMemFree:         200 kB\nMemAvailable:    600 kB\n")
    (proc / "stat").write_text("cpu  100 0 50 1000 10 5 5 0 0 0\ncpu0 1 2 3\n")
    from_proc = read_node_usage(cgroup, proc)
    assert from_proc.cpu_ns == 160 * 10_000_000  # user+nice+system+irq+softirq+steal ticks
    assert from_proc.working_set == 400 * 1024 and from_proc.available == 600 * 1024
    cgroup.mkdir()
    (cgroup / "cpu.stat").write_text("usage_usec 2500000\nuser_usec 2000000\n")
    (cgroup / "memory.current").write_text("409600\n")
    (cgroup / "memory.stat").write_text("anon 102400\ninactive_file 204800\n")
    from_cgroup = read_node_usage(cgroup, proc)
    assert from_cgroup.cpu_ns == 2_500_000_000
    assert (from_cgroup.working_set, from_cgroup.rss) == (204800, 102400)
