"""Service environment variables (upstream kubelet getServiceEnvVarMap + pkg/kubelet/envvars).

Every Service with a cluster IP in the pod's namespace (when `enableServiceLinks`, the default)
and always the master service `kubernetes` of `default` give `{NAME}_SERVICE_HOST`,
`{NAME}_SERVICE_PORT`, `{NAME}_SERVICE_PORT_{PORT_NAME}` and the Docker-link variables
`{NAME}_PORT`, `{NAME}_PORT_{port}_{PROTO}` with `_PROTO`, `_PORT` and `_ADDR`. This is how
an in-cluster client finds the API server (KUBERNETES_SERVICE_HOST/PORT).
"""

from __future__ import annotations

from collections.abc import Iterable

from lab.kube.machinery import meta
from lab.kube.machinery.objects import Obj, spec_of

MASTER_SERVICES = ("kubernetes",)


def env_name(service_name: str) -> str:
    return service_name.upper().replace("-", "_")


def _ip_set(service: Obj) -> bool:
    ip = spec_of(service).get("clusterIP") or ""
    return ip not in ("", "None")


def services_for(services: Iterable[Obj], namespace: str, enable_links: bool) -> list[Obj]:
    """The Services a pod in `namespace` gets variables for; the pod's own namespace wins a name clash."""
    chosen: dict[str, Obj] = {}
    for svc in services:
        if not _ip_set(svc):
            continue
        name = meta.name(svc)
        if meta.namespace(svc) == "default" and name in MASTER_SERVICES:
            chosen.setdefault(name, svc)
        elif meta.namespace(svc) == namespace and enable_links:
            chosen[name] = svc
    return list(chosen.values())


def _host_port(ip: str, port: int) -> str:
    return f"[{ip}]:{port}" if ":" in ip else f"{ip}:{port}"


def variables(service: Obj) -> dict[str, str]:
    spec = spec_of(service)
    ports = spec.get("ports") or []
    if not ports:
        return {}
    ip, prefix = str(spec["clusterIP"]), env_name(meta.name(service))
    out = {f"{prefix}_SERVICE_HOST": ip, f"{prefix}_SERVICE_PORT": str(ports[0].get("port", ""))}
    for p in ports:
        if p.get("name"):
            out[f"{prefix}_SERVICE_PORT_{env_name(p['name'])}"] = str(p.get("port", ""))
    for i, p in enumerate(ports):
        proto = (p.get("protocol") or "TCP").lower()
        address = f"{proto}://{_host_port(ip, int(p.get('port', 0)))}"
        if i == 0:  # Docker special-cases the first port
            out[f"{prefix}_PORT"] = address
        port_prefix = f"{prefix}_PORT_{p.get('port')}_{proto.upper()}"
        out.update({port_prefix: address, f"{port_prefix}_PROTO": proto,
                    f"{port_prefix}_PORT": str(p.get("port", "")), f"{port_prefix}_ADDR": ip})
    return out


def service_environment(pod: Obj, services: Iterable[Obj]) -> dict[str, str]:
    enable = spec_of(pod).get("enableServiceLinks")
    env: dict[str, str] = {}
    for svc in services_for(services, meta.namespace(pod), enable is None or bool(enable)):
        env.update(variables(svc))
    return env
