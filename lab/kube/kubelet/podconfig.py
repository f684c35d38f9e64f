"""Translate a Pod (plain dict) into CRI configs: the PodSandboxConfig and one ContainerConfig per container.

Pure functions: the sync loop calls them with the pod and node facts, the runtime gets the result.
The environment comes from container_env (it reads ConfigMaps and Secrets); command and args
expand `$(VAR)` over it as upstream (expansion.go).
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import PurePosixPath
from typing import Any

import orjson

from lab.kube.kubelet import labels as lbl
from lab.kube.kubelet.container_env import expand
from lab.kube.kubelet.cri import api_pb2 as pb
from lab.kube.kubelet.events import pod_ref
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
    allocatable: dict[str, str] = field(default_factory=dict)  # limits of containers that set none


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


def namespace_options(pod: Obj, target_id: str = "") -> pb.NamespaceOption:
    """hostNetwork/hostPID/hostIPC share the node's; shareProcessNamespace one PID namespace per pod;
    an ephemeral container with a target joins that container's (`target_id`)."""
    s = spec(pod)
    pid = pb.NODE if s.get("hostPID") else pb.POD if s.get("shareProcessNamespace") else pb.CONTAINER
    if target_id and pid == pb.CONTAINER:
        pid = pb.TARGET
    return pb.NamespaceOption(network=pb.NODE if host_network(pod) else pb.POD, pid=pid,
                              ipc=pb.NODE if s.get("hostIPC") else pb.POD,
                              target_id=target_id if pid == pb.TARGET else "")


def sandbox_config(pod: Obj, node: NodeFacts, attempt: int = 0) -> pb.PodSandboxConfig:
    s = spec(pod)
    hostname = s.get("hostname") or meta.name(pod)
    return pb.PodSandboxConfig(
        metadata=pb.PodSandboxMetadata(name=meta.name(pod), uid=meta.uid(pod), namespace=meta.namespace(pod),
                                       attempt=attempt),
        hostname="" if host_network(pod) else hostname[:63],
        log_directory=log_directory(pod), dns_config=dns_config(pod, node), port_mappings=port_mappings(pod),
        labels=lbl.pod_labels(pod), annotations=meta.annotations(pod),
        linux=pb.LinuxPodSandboxConfig(security_context=pb.LinuxSandboxSecurityContext(
            namespace_options=namespace_options(pod))))


def container_hash(container: Obj) -> str:
    """A stable hash of the container spec (upstream HashContainer): a changed spec restarts it."""
    return hashlib.sha256(orjson.dumps(container, option=orjson.OPT_SORT_KEYS)).hexdigest()[:8]


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


def security_context(pod: Obj, container: Obj, target_id: str = "") -> pb.LinuxContainerSecurityContext:
    """The container's securityContext over the pod's (upstream determineEffectiveSecurityContext):
    user and group from the container else the pod, the pod's fsGroup and supplementalGroups as
    supplemental groups, capabilities as written (the runtime adds `CAP_`), no_new_privs when
    allowPrivilegeEscalation is false on an unprivileged container."""
    pod_sc, sc = spec(pod).get("securityContext") or {}, container.get("securityContext") or {}
    privileged = bool(sc.get("privileged"))
    caps = sc.get("capabilities") or {}
    out = pb.LinuxContainerSecurityContext(
        privileged=privileged, readonly_rootfs=bool(sc.get("readOnlyRootFilesystem")),
        no_new_privs=not privileged and sc.get("allowPrivilegeEscalation") is False,
        capabilities=pb.Capability(add_capabilities=[str(c) for c in caps.get("add") or []],
                                   drop_capabilities=[str(c) for c in caps.get("drop") or []]),
        namespace_options=namespace_options(pod, target_id))
    user, group = effective(pod, container, "runAsUser"), effective(pod, container, "runAsGroup")
    if user is not None:
        out.run_as_user.value = int(user)
    if group is not None:
        out.run_as_group.value = int(group)
    groups = [int(g) for g in pod_sc.get("supplementalGroups") or []]
    if pod_sc.get("fsGroup") is not None:
        groups.insert(0, int(pod_sc["fsGroup"]))
    out.supplemental_groups.extend(dict.fromkeys(groups))
    return out


def effective(pod: Obj, container: Obj, key: str) -> Any:
    """A securityContext field as the container sees it: its own, else the pod's."""
    sc = container.get("securityContext") or {}
    if sc.get(key) is not None:
        return sc[key]
    return (spec(pod).get("securityContext") or {}).get(key)


def non_root_violation(pod: Obj, container: Obj, image: pb.Image | None) -> str:
    """Why runAsNonRoot refuses the container (upstream verifyRunAsNonRoot), or "" when it may run."""
    if effective(pod, container, "runAsNonRoot") is not True:
        return ""
    where = f'(pod: "{pod_ref(pod)}", container: {container["name"]})'
    user = effective(pod, container, "runAsUser")
    if user is not None:
        return f"container's runAsUser breaks non-root policy {where}" if int(user) == 0 else ""
    if image is not None and image.HasField("uid") and image.uid.value == 0:
        return f"container has runAsNonRoot and image will run as root {where}"
    if image is not None and not image.HasField("uid") and image.username:
        return (f"container has runAsNonRoot and image has non-numeric user ({image.username}), "
                f"cannot verify user is non-root {where}")
    return ""


def container_config(pod: Obj, container: Obj, node: NodeFacts, restart_count: int,
                     pod_ip: str = "", mounts: Sequence[pb.Mount] = (),
                     env: Mapping[str, str] | None = None, target_id: str = "") -> pb.ContainerConfig:
    """`mounts` are the container's volumes as the volume manager laid them out on the node;
    `env` its environment as container_env made it (command and args expand `$(VAR)` over it);
    `target_id` the running container an ephemeral container shares processes with."""
    name = container["name"]
    env = dict(env or {})
    return pb.ContainerConfig(
        metadata=pb.ContainerMetadata(name=name, attempt=restart_count),
        image=pb.ImageSpec(image=container.get("image", "")),
        command=[expand(a, env) for a in container.get("command") or []],
        args=[expand(a, env) for a in container.get("args") or []],
        working_dir=container.get("workingDir", ""),
        envs=[pb.KeyValue(key=k, value=v) for k, v in env.items()],
        mounts=list(mounts),
        labels=lbl.container_labels(pod, name),
        annotations=lbl.container_annotations(pod, container, restart_count, container_hash(container)),
        log_path=str(PurePosixPath(name) / f"{restart_count}.log"),
        stdin=bool(container.get("stdin")), stdin_once=bool(container.get("stdinOnce")),
        tty=bool(container.get("tty")),
        linux=pb.LinuxContainerConfig(resources=resources(container),
                                      security_context=security_context(pod, container, target_id)))
