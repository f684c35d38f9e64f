"""lab.yml: the lab definition (machines, their roles and addresses, provider, image).

Loaded into frozen dataclasses and validated up front, so a mistake in the file is one
clear line (`lab.yml: machines[2] (w2): ip ... is already used by w1`) before anything runs.
"""

from __future__ import annotations

import ipaddress
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

PROVIDERS = ("docker", "libvirt", "virtualbox")
ROLES = ("etcd", "control_plane", "worker", "registry")
_NAME = re.compile(r"^[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?$")


class LabFileError(ValueError):
    """lab.yml is missing, malformed or inconsistent; the message is one line."""


@dataclass(frozen=True)
class Machine:
    name: str
    ip: str
    roles: tuple[str, ...]
    memory: int
    cpus: int

    def has(self, role: str) -> bool:
        return role in self.roles


@dataclass(frozen=True)
class Lab:
    name: str
    provider: str
    network: str
    image: str
    box: str
    machines: tuple[Machine, ...]
    path: Path

    def with_role(self, role: str) -> list[Machine]:
        return [m for m in self.machines if m.has(role)]

    def machine(self, name: str) -> Machine:
        for m in self.machines:
            if m.name == name:
                return m
        raise LabFileError(f"{self.path.name}: no machine named {name!r} (have {', '.join(self.names())})")

    def names(self) -> list[str]:
        return [m.name for m in self.machines]

    def volume(self, machine: str) -> str:
        """The docker volume holding a machine's /var/lib/containerd (docker provider)."""
        return f"{self.name}-{machine}-containerd"


def load(path: Path) -> Lab:
    try:
        raw = yaml.safe_load(path.read_text())
    except FileNotFoundError as exc:
        raise LabFileError(f"{path}: no such lab file") from exc
    except yaml.YAMLError as exc:
        raise LabFileError(f"{path.name}: not valid YAML: {str(exc).splitlines()[0]}") from exc
    return parse(raw, path)


def parse(raw: Any, path: Path = Path("lab.yml")) -> Lab:
    where = path.name
    if not isinstance(raw, dict):
        raise LabFileError(f"{where}: expected a mapping at the top level")
    provider = str(raw.get("provider", "docker"))
    if provider not in PROVIDERS:
        raise LabFileError(f"{where}: provider {provider!r} is not one of {', '.join(PROVIDERS)}")
    name = str(raw.get("name", "kubelab"))
    if not _NAME.match(name):
        raise LabFileError(f"{where}: name {name!r} is not a DNS label")
    try:
        network = ipaddress.ip_network(str(raw.get("network", "")), strict=True)
    except ValueError as exc:
        raise LabFileError(f"{where}: network: {exc}") from exc
    defaults = {"memory": _positive(raw, "memory", 2048, where), "cpus": _positive(raw, "cpus", 2, where)}
    entries = raw.get("machines")
    if not isinstance(entries, list) or not entries:
        raise LabFileError(f"{where}: machines must be a non-empty list")
    machines = tuple(_machine(e, i, network, defaults, where) for i, e in enumerate(entries))
    lab = Lab(name=name, provider=provider, network=str(network), image=str(raw.get("image", "kubelab/node")),
              box=str(raw.get("box", "debian/bookworm64")), machines=machines, path=path)
    _check_lab(lab, where)
    return lab


def _positive(raw: dict[str, Any], key: str, default: int, where: str) -> int:
    value = raw.get(key, default)
    if not isinstance(value, int) or isinstance(value, bool) or value <= 0:
        raise LabFileError(f"{where}: {key} must be a positive integer, got {value!r}")
    return value


def _machine(entry: Any, index: int, network: ipaddress.IPv4Network | ipaddress.IPv6Network,
             defaults: dict[str, int], where: str) -> Machine:
    if not isinstance(entry, dict):
        raise LabFileError(f"{where}: machines[{index}] must be a mapping")
    name = str(entry.get("name", ""))
    label = f"{where}: machines[{index}] ({name or '?'})"
    if not _NAME.match(name):
        raise LabFileError(f"{label}: name {name!r} is not a DNS label")
    try:
        ip = ipaddress.ip_address(str(entry.get("ip", "")))
    except ValueError as exc:
        raise LabFileError(f"{label}: {exc}") from exc
    if ip not in network:
        raise LabFileError(f"{label}: ip {ip} is outside network {network}")
    # .0 and broadcast are not hosts; the first address is the gateway Docker/Vagrant take.
    if ip in (network.network_address, network.broadcast_address, network.network_address + 1):
        raise LabFileError(f"{label}: ip {ip} is reserved in {network} (network, gateway or broadcast)")
    roles = entry.get("roles")
    if not isinstance(roles, list) or not roles:
        raise LabFileError(f"{label}: roles must be a non-empty list")
    for role in roles:
        if role not in ROLES:
            raise LabFileError(f"{label}: unknown role {role!r} (known: {', '.join(ROLES)})")
    return Machine(name=name, ip=str(ip), roles=tuple(dict.fromkeys(roles)),
                   memory=_positive(entry, "memory", defaults["memory"], label),
                   cpus=_positive(entry, "cpus", defaults["cpus"], label))


def _check_lab(lab: Lab, where: str) -> None:
    seen_names: set[str] = set()
    seen_ips: dict[str, str] = {}
    for m in lab.machines:
        if m.name in seen_names:
            raise LabFileError(f"{where}: machine name {m.name!r} is used twice")
        seen_names.add(m.name)
        if m.ip in seen_ips:
            raise LabFileError(f"{where}: {m.name}: ip {m.ip} is already used by {seen_ips[m.ip]}")
        seen_ips[m.ip] = m.name
    etcd = len(lab.with_role("etcd"))
    if etcd == 0 or etcd % 2 == 0:
        raise LabFileError(f"{where}: etcd needs an odd number of members, got {etcd}")
    if not lab.with_role("control_plane"):
        raise LabFileError(f"{where}: no machine has the control_plane role")
    if len(lab.with_role("registry")) > 1:
        raise LabFileError(f"{where}: only one machine may have the registry role")
