"""Resource usage as the kubelet reports it: `/stats/summary` (stats/v1alpha1 Summary) and
`/metrics/resource` (what metrics-server scrapes), from CRI ListContainerStats for containers
and the node's own cgroup (or /proc) for the node.

Containers come with cumulative CPU and the working set from the runtime (containerd also
computes usageNanoCores); a pod is the sum of its containers. The node's usageNanoCores is the
rate between two readings, so a reading is kept from one request to the next (upstream's
cAdvisor does the same with its housekeeping samples).
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from lab.kube.kubelet import labels as lbl
from lab.kube.kubelet.cri import api_pb2 as pb
from lab.kube.kubelet.cri.runtime import Runtime
from lab.kube.kubelet.pod_status import rfc3339
from lab.kube.machinery import meta
from lab.kube.machinery.objects import Obj, status_of

CLOCK_TICKS = 100  # USER_HZ: /proc/stat counts in 1/100 s on Linux


@dataclass(frozen=True)
class Usage:
    at_ns: int
    cpu_ns: int             # cumulative core-nanoseconds
    working_set: int        # bytes
    usage: int = 0          # bytes, page cache included
    rss: int = 0
    available: int | None = None
    nano_cores: int | None = None


def _stat_value(text: str, key: str) -> int | None:
    for line in text.splitlines():
        name, _, value = line.partition(" ")
        if name == key:
            return int(value)
    return None


def read_node_usage(cgroup: Path = Path("/sys/fs/cgroup"), proc: Path = Path("/proc")) -> Usage:
    """The node's CPU time and memory: its cgroup v2 files when it has them (a machine container
    sees its own cgroup as the root), else /proc/stat and /proc/meminfo."""
    now = time.time_ns()
    meminfo = {line.split(":")[0]: int(line.split()[1]) * 1024 for line in (proc / "meminfo").read_text().splitlines()
               if line.split()[1:2] and line.split()[1].isdigit()}
    total = meminfo.get("MemTotal", 0)
    try:
        usage_usec = _stat_value((cgroup / "cpu.stat").read_text(), "usage_usec")
        usage = int((cgroup / "memory.current").read_text())
        mstat = (cgroup / "memory.stat").read_text()
        inactive = _stat_value(mstat, "inactive_file") or 0
        rss = _stat_value(mstat, "anon") or 0
        if usage_usec is None:
            raise OSError("no usage_usec")
        working = max(0, usage - inactive)
        return Usage(now, usage_usec * 1000, working, usage, rss, max(0, total - working))
    except (OSError, ValueError):
        pass
    fields = (proc / "stat").read_text().splitlines()[0].split()[1:]
    busy = sum(int(v) for i, v in enumerate(fields[:8]) if i not in (3, 4))  # all but idle and iowait
    available = meminfo.get("MemAvailable", 0)
    working = total - available
    return Usage(now, busy * 1_000_000_000 // CLOCK_TICKS, working, total - meminfo.get("MemFree", 0),
                 working, available)


def _cpu(u: Usage) -> Obj:
    out: Obj = {"time": rfc3339(u.at_ns), "usageCoreNanoSeconds": u.cpu_ns}
    if u.nano_cores is not None:
        out["usageNanoCores"] = u.nano_cores
    return out


def _memory(u: Usage) -> Obj:
    out: Obj = {"time": rfc3339(u.at_ns), "usageBytes": u.usage or u.working_set, "workingSetBytes": u.working_set,
                "rssBytes": u.rss, "pageFaults": 0, "majorPageFaults": 0}
    if u.available is not None:
        out["availableBytes"] = u.available
    return out


def container_usage(s: pb.ContainerStats) -> Usage:
    mem = s.memory
    return Usage(at_ns=s.cpu.timestamp or mem.timestamp, cpu_ns=s.cpu.usage_core_nano_seconds.value,
                 working_set=mem.working_set_bytes.value, usage=mem.usage_bytes.value, rss=mem.rss_bytes.value,
                 nano_cores=s.cpu.usage_nano_cores.value if s.cpu.HasField("usage_nano_cores") else None)


@dataclass
class ContainerUsage:
    namespace: str
    pod: str
    uid: str
    name: str
    usage: Usage
    started_at: str | None


class StatsProvider:
    def __init__(self, runtime: Runtime, node_name: str, pods: Callable[[], list[Obj]],
                 node_usage: Callable[[], Usage] = read_node_usage, boot_time: str | None = None) -> None:
        self.runtime, self.node_name, self.pods, self.node_usage = runtime, node_name, pods, node_usage
        self.boot_time = boot_time or rfc3339(int((time.time() - time.monotonic()) * 1e9))
        self._last_node: Usage | None = None

    def node(self) -> Usage:
        """The node now, with its CPU rate since the previous reading."""
        now = self.node_usage()
        last, self._last_node = self._last_node, now
        if last is not None and now.at_ns > last.at_ns:
            rate = (now.cpu_ns - last.cpu_ns) * 1_000_000_000 // (now.at_ns - last.at_ns)
            now = Usage(now.at_ns, now.cpu_ns, now.working_set, now.usage, now.rss, now.available, max(0, rate))
        return now

    async def containers(self) -> list[ContainerUsage]:
        started = {}
        for c in await self.runtime.list_containers():
            if c.state == pb.CONTAINER_RUNNING:
                started[c.id] = rfc3339(c.created_at)
        out = []
        for s in await self.runtime.list_container_stats():
            labels = s.attributes.labels
            if s.attributes.id not in started or not labels.get(lbl.POD_UID):
                continue  # exited meanwhile, or not a pod's
            usage = container_usage(s)
            if not usage.at_ns:
                continue  # the runtime has no reading yet (a container just started): no numbers, not zeros
            out.append(ContainerUsage(labels.get(lbl.POD_NAMESPACE, ""), labels.get(lbl.POD_NAME, ""),
                                      labels[lbl.POD_UID], labels.get(lbl.CONTAINER_NAME, s.attributes.metadata.name),
                                      usage, started[s.attributes.id]))
        return out

    async def summary(self) -> Obj:
        """The stats/v1alpha1 Summary: the node, then each pod this kubelet runs with its containers."""
        node = self.node()
        by_uid: dict[str, list[ContainerUsage]] = {}
        for c in await self.containers():
            by_uid.setdefault(c.uid, []).append(c)
        pods = []
        for pod in self.pods():
            found = by_uid.get(meta.uid(pod))
            if not found:
                continue
            total = Usage(max(c.usage.at_ns for c in found), sum(c.usage.cpu_ns for c in found),
                          sum(c.usage.working_set for c in found), sum(c.usage.usage for c in found),
                          sum(c.usage.rss for c in found),
                          nano_cores=sum(c.usage.nano_cores or 0 for c in found))
            pods.append({"podRef": {"name": meta.name(pod), "namespace": meta.namespace(pod), "uid": meta.uid(pod)},
                         "startTime": status_of(pod).get("startTime") or meta.metadata(pod).get("creationTimestamp"),
                         "containers": [{"name": c.name, "startTime": c.started_at, "cpu": _cpu(c.usage),
                                         "memory": _memory(c.usage)} for c in sorted(found, key=lambda c: c.name)],
                         "cpu": _cpu(total), "memory": _memory(total)})
        return {"node": {"nodeName": self.node_name, "startTime": self.boot_time, "cpu": _cpu(node),
                         "memory": _memory(node)}, "pods": pods}

    async def resource_metrics(self) -> str:
        """`/metrics/resource` in the Prometheus text format, as upstream's resource metrics collector."""
        node = self.node()
        ms = node.at_ns // 1_000_000
        lines = [
            "# HELP container_cpu_usage_seconds_total [STABLE] Cumulative cpu time consumed by the container in "
            "core-seconds", "# TYPE container_cpu_usage_seconds_total counter"]
        containers = await self.containers()
        for c in containers:
            lines.append(f'container_cpu_usage_seconds_total{{{_labels(c)}}} {c.usage.cpu_ns / 1e9} '
                         f"{c.usage.at_ns // 1_000_000}")
        lines += ["# HELP container_memory_working_set_bytes [STABLE] Current working set of the container in bytes",
                  "# TYPE container_memory_working_set_bytes gauge"]
        lines += [f"container_memory_working_set_bytes{{{_labels(c)}}} {c.usage.working_set} "
                  f"{c.usage.at_ns // 1_000_000}" for c in containers]
        lines += ["# HELP container_start_time_seconds [STABLE] Start time of the container since unix epoch in "
                  "seconds", "# TYPE container_start_time_seconds gauge"]
        lines += [f"container_start_time_seconds{{{_labels(c)}}} {meta.parse_time(c.started_at).timestamp()}"
                  for c in containers if c.started_at]
        lines += ["# HELP node_cpu_usage_seconds_total [STABLE] Cumulative cpu time consumed by the node in "
                  "core-seconds", "# TYPE node_cpu_usage_seconds_total counter",
                  f"node_cpu_usage_seconds_total {node.cpu_ns / 1e9} {ms}",
                  "# HELP node_memory_working_set_bytes [STABLE] Current working set of the node in bytes",
                  "# TYPE node_memory_working_set_bytes gauge",
                  f"node_memory_working_set_bytes {node.working_set} {ms}"]
        pods: dict[tuple[str, str], list[ContainerUsage]] = {}
        for c in containers:
            pods.setdefault((c.namespace, c.pod), []).append(c)
        lines += ["# HELP pod_cpu_usage_seconds_total [STABLE] Cumulative cpu time consumed by the pod in "
                  "core-seconds", "# TYPE pod_cpu_usage_seconds_total counter"]
        lines += [f'pod_cpu_usage_seconds_total{{namespace="{ns}",pod="{name}"}} '
                  f"{sum(c.usage.cpu_ns for c in cs) / 1e9} {max(c.usage.at_ns for c in cs) // 1_000_000}"
                  for (ns, name), cs in sorted(pods.items())]
        lines += ["# HELP pod_memory_working_set_bytes [STABLE] Current working set of the pod in bytes",
                  "# TYPE pod_memory_working_set_bytes gauge"]
        lines += [f'pod_memory_working_set_bytes{{namespace="{ns}",pod="{name}"}} '
                  f"{sum(c.usage.working_set for c in cs)} {max(c.usage.at_ns for c in cs) // 1_000_000}"
                  for (ns, name), cs in sorted(pods.items())]
        lines += ["# HELP resource_scrape_error [STABLE] 1 if there was an error while getting container metrics, 0 "
                  "otherwise", "# TYPE resource_scrape_error gauge", "resource_scrape_error 0"]
        return "\n".join(lines) + "\n"


def _labels(c: ContainerUsage) -> str:
    return f'container="{c.name}",namespace="{c.namespace}",pod="{c.pod}"'


async def running_pods(runtime: Runtime) -> Obj:
    """`/runningpods`: the pods as the runtime knows them (upstream GetRunningPods), a v1 PodList."""
    pods: dict[str, Obj] = {}
    for s in await runtime.list_pod_sandbox():
        if s.state != pb.SANDBOX_READY or not s.labels.get(lbl.POD_UID):
            continue
        pods[s.labels[lbl.POD_UID]] = {"metadata": {"name": s.labels.get(lbl.POD_NAME, ""),
                                                    "namespace": s.labels.get(lbl.POD_NAMESPACE, ""),
                                                    "uid": s.labels[lbl.POD_UID], "creationTimestamp": None},
                                       "spec": {"containers": []}, "status": {}}
    for c in await runtime.list_containers():
        pod = pods.get(c.labels.get(lbl.POD_UID, ""))
        if pod is not None and c.state == pb.CONTAINER_RUNNING:
            pod["spec"]["containers"].append({"name": c.labels.get(lbl.CONTAINER_NAME, c.metadata.name),
                                              "image": c.image.image, "resources": {}})
    return {"kind": "PodList", "apiVersion": "v1", "metadata": {}, "items": list(pods.values())}


async def kubelet_metrics(runtime: Runtime) -> str:
    """`/metrics`: the kubelet's own gauges (upstream kubelet_running_pods and kubelet_running_containers)."""
    sandboxes = [s for s in await runtime.list_pod_sandbox() if s.state == pb.SANDBOX_READY]
    states = {pb.CONTAINER_CREATED: "created", pb.CONTAINER_RUNNING: "running", pb.CONTAINER_EXITED: "exited",
              pb.CONTAINER_UNKNOWN: "unknown"}
    counts = dict.fromkeys(states.values(), 0)
    for c in await runtime.list_containers():
        counts[states.get(c.state, "unknown")] += 1
    lines = ["# HELP kubelet_running_pods [ALPHA] Number of pods that have a running pod sandbox",
             "# TYPE kubelet_running_pods gauge", f"kubelet_running_pods {len(sandboxes)}",
             "# HELP kubelet_running_containers [ALPHA] Number of containers currently running",
             "# TYPE kubelet_running_containers gauge"]
    lines += [f'kubelet_running_containers{{container_state="{state}"}} {n}' for state, n in sorted(counts.items())]
    return "\n".join(lines) + "\n"
