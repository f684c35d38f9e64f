"""Translate a Pod (plain dict) into CRI configs: the PodSandboxConfig and one ContainerConfig per container.

Pure functions: the sync loop calls them with the pod and node facts, the runtime gets the result.
Env `valueFrom.fieldRef` and `$(VAR)` expansion follow upstream (kubelet_pods.go, expansion.go).
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import PurePosixPath

import orjson

from lab.kube.kubelet import labels as lbl
from lab.kube.kubelet.cri import api_pb2 as pb
from lab.kube.kubelet.service_env import service_environment
from lab.kube.machinery import meta
from lab.kube.machinery.objects import Obj, spec_of
from lab.kube.machinery.quantity import cpu_millis, to_bytes

LOG_ROOT = "/var/log/pods"
PROTOCOLS = {"TCP": pb.TCP, "UDP": pb.UDP, "SCTP": pb.SCTP}
CPU_PERIOD = 100_000  # upstream quotaPeriod, microseconds
MIN_SHARES, SHARES_PER_CPU = 2, 1024


@dataclass(frozen=True)
class NodeFacts:
    """What a pod's configs need to know about the node it runs on."""

    node_name: str
    node_ip: str = ""
    cluster_dns: tuple[str, ...] = ()
    cluster_domain: str = "cluster.local"
    host_dns: pb.DNSConfig = field(default_factory=pb.DNSConfig)  # parsed from --resolv-conf


def spec(pod: Obj) -> Obj:
    return spec_of(pod)


def host_network(pod: Obj) -> bool:
    return bool(spec(pod).get("hostNetwork"))


def log_directory(pod: Obj) -> str:
    return f"{LOG_ROOT}/{meta.namespace(pod)}_{meta.name(pod)}_{meta.uid(pod)}"


def parse_resolv_conf(text: str) -> pb.DNSConfig:
    dns = pb.DNSConfig()
    for line in text.splitlines():
        words = line.split("#", 1)[0].split()
        if not words:
            continue
        if words[0] == "nameserver" and len(words) > 1:
            dns.servers.append(words[1])
        elif words[0] in ("search", "domain"):
            dns.searches[:] = words[1:]  # the last one wins, as in libc
        elif words[0] == "options":
            dns.options.extend(words[1:])
    return dns


def dns_config(pod: Obj, node: NodeFacts) -> pb.DNSConfig:
    """ClusterFirst uses the cluster DNS with the upstream search path; Default (or no cluster DNS) the node's."""
    policy = spec(pod).get("dnsPolicy") or "ClusterFirst"
    cluster_first = policy == "ClusterFirstWithHostNet" or (policy == "ClusterFirst" and not host_network(pod))
    if cluster_first and node.cluster_dns:
        d, ns = node.cluster_domain, meta.namespace(pod)
        searches = [f"{ns}.svc.{d}", f"svc.{d}", d, *node.host_dns.searches][:6]
        return pb.DNSConfig(servers=list(node.cluster_dns), searches=searches, options=["ndots:5"])
    if policy == "None":
        cfg = spec(pod).get("dnsConfig") or {}
        return pb.DNSConfig(servers=cfg.get("nameservers") or [], searches=cfg.get("searches") or [],
                            options=[o["name"] + (f":{o['value']}" if o.get("value") else "")
                                     for o in cfg.get("options") or []])
    return pb.DNSConfig(servers=node.host_dns.servers, searches=node.host_dns.searches,
                        options=node.host_dns.options)


def port_mappings(pod: Obj) -> list[pb.PortMapping]:
    out = []
    for c in spec(pod).get("containers") or []:
        for p in c.get("ports") or []:
            if p.get("hostPort"):
                out.append(pb.PortMapping(protocol=PROTOCOLS.get(p.get("protocol", "TCP"), pb.TCP),
                                          container_port=p["containerPort"], host_port=p["hostPort"],
                                          host_ip=p.get("hostIP", "")))
    return out


def sandbox_config(pod: Obj, node: NodeFacts, attempt: int = 0) -> pb.PodSandboxConfig:
    s = spec(pod)
    net = pb.NODE if host_network(pod) else pb.POD
    hostname = s.get("hostname") or meta.name(pod)
    return pb.PodSandboxConfig(
        metadata=pb.PodSandboxMetadata(name=meta.name(pod), uid=meta.uid(pod), namespace=meta.namespace(pod),
                                       attempt=attempt),
        hostname="" if host_network(pod) else hostname[:63],
        log_directory=log_directory(pod), dns_config=dns_config(pod, node), port_mappings=port_mappings(pod),
        labels=lbl.pod_labels(pod), annotations=meta.annotations(pod),
        linux=pb.LinuxPodSandboxConfig(security_context=pb.LinuxSandboxSecurityContext(
            namespace_options=pb.NamespaceOption(network=net, pid=pb.CONTAINER, ipc=pb.POD))))


def container_hash(container: Obj) -> str:
    """A stable hash of the container spec (upstream HashContainer): a changed spec restarts it."""
    return hashlib.sha256(orjson.dumps(container, option=orjson.OPT_SORT_KEYS)).hexdigest()[:8]


def _field_value(pod: Obj, path: str, pod_ip: str, node: NodeFacts) -> str:
    m = re.fullmatch(r"metadata\.(labels|annotations)\['(.+)'\]", path)
    if m:
        return str((pod.get("metadata", {}).get(m.group(1)) or {}).get(m.group(2), ""))
    values: dict[str, str] = {"metadata.name": meta.name(pod), "metadata.namespace": meta.namespace(pod),
              "metadata.uid": meta.uid(pod), "spec.nodeName": s if (s := spec(pod).get("nodeName")) else node.node_name,
              "spec.serviceAccountName": spec(pod).get("serviceAccountName", ""),
              "status.hostIP": node.node_ip, "status.hostIPs": node.node_ip,
              "status.podIP": pod_ip, "status.podIPs": pod_ip}
    return values.get(path, "")


def expand(text: str, env: dict[str, str]) -> str:
    """Upstream `$(VAR)` expansion: known names are replaced, `$$` escapes, unknown refs stay as written."""
    def sub(m: re.Match[str]) -> str:
        if m.group(0) == "$$":
            return "$"
        return env.get(m.group(1), m.group(0))
    return re.sub(r"\$\$|\$\(([A-Za-z_][A-Za-z0-9_.-]*)\)", sub, text)


def environment(pod: Obj, container: Obj, pod_ip: str, node: NodeFacts,
                services: Sequence[Obj] = ()) -> dict[str, str]:
    """The container's own variables, then the Service variables it does not set itself (upstream
    makeEnvironmentVariables); `$(VAR)` sees both."""
    service_env = service_environment(pod, services)
    env: dict[str, str] = {}
    for var in container.get("env") or []:
        ref = ((var.get("valueFrom") or {}).get("fieldRef") or {}).get("fieldPath")
        if var.get("value"):
            env[var["name"]] = expand(var["value"], {**service_env, **env})
        else:
            env[var["name"]] = _field_value(pod, ref, pod_ip, node) if ref else ""
    return {**env, **{k: v for k, v in service_env.items() if k not in env}}


def resources(container: Obj) -> pb.LinuxContainerResources:
    res = container.get("resources") or {}
    requests, limits = res.get("requests") or {}, res.get("limits") or {}
    out = pb.LinuxContainerResources()
    cpu_req = requests.get("cpu", limits.get("cpu"))  # a limit alone implies the same request
    out.cpu_shares = max(MIN_SHARES, cpu_millis(cpu_req) * SHARES_PER_CPU // 1000) if cpu_req else MIN_SHARES
    if "cpu" in limits:
        out.cpu_period, out.cpu_quota = CPU_PERIOD, max(1000, cpu_millis(limits["cpu"]) * CPU_PERIOD // 1000)
    if "memory" in limits:
        out.memory_limit_in_bytes = to_bytes(limits["memory"])
    return out


def container_config(pod: Obj, container: Obj, node: NodeFacts, restart_count: int,
                     pod_ip: str = "", mounts: Sequence[pb.Mount] = (),
                     services: Sequence[Obj] = ()) -> pb.ContainerConfig:
    """`mounts` are the container's volumes as the volume manager laid them out on the node;
    `services` the cluster's Services, for the Service environment variables."""
    name = container["name"]
    env = environment(pod, container, pod_ip, node, services)
    sc = container.get("securityContext") or {}
    security = pb.LinuxContainerSecurityContext(
        privileged=bool(sc.get("privileged")), readonly_rootfs=bool(sc.get("readOnlyRootFilesystem")),
        namespace_options=pb.NamespaceOption(network=pb.NODE if host_network(pod) else pb.POD,
                                             pid=pb.CONTAINER, ipc=pb.POD))
    if sc.get("runAsUser") is not None:
        security.run_as_user.value = int(sc["runAsUser"])
    if sc.get("runAsGroup") is not None:
        security.run_as_group.value = int(sc["runAsGroup"])
    return pb.ContainerConfig(
        metadata=pb.ContainerMetadata(name=name, attempt=restart_count),
        image=pb.ImageSpec(image=container.get("image", "")),
        command=[expand(a, env) for a in container.get("command") or []],
        args=[expand(a, env) for a in container.get("args") or []],
        working_dir=container.get("workingDir", ""),
        envs=[pb.KeyValue(key=k, value=v) for k, v in env.items()],
        mounts=list(mounts),
        labels=lbl.container_labels(pod, name),
        annotations=lbl.container_annotations(pod, restart_count, container_hash(container)),
        log_path=str(PurePosixPath(name) / f"{restart_count}.log"),
        stdin=bool(container.get("stdin")), stdin_once=bool(container.get("stdinOnce")),
        tty=bool(container.get("tty")),
        linux=pb.LinuxContainerConfig(resources=resources(container), security_context=security))
