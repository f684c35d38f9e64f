"""kube-proxy settings: upstream flags layered over a KubeProxyConfiguration file.

The file is `kubeproxy.config.k8s.io/v1alpha1` YAML; a flag given on the command line wins
over the file, the file over upstream defaults.
"""

from __future__ import annotations

import argparse
import socket
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from lab.kube.component import parse_duration

API_VERSION = "kubeproxy.config.k8s.io/v1alpha1"


@dataclass(frozen=True)
class ProxySettings:
    kubeconfig: str = ""
    """Path to the kubeconfig kube-proxy talks to the API server with."""
    hostname_override: str = ""
    """The node name; defaults to the lower-cased hostname."""
    cluster_cidr: str = ""
    """Pod network; ClusterIP traffic from outside it is masqueraded."""
    mode: str = "iptables"
    """Only `iptables` is implemented."""
    sync_period: float = 30.0
    """iptables.syncPeriod: the longest time between full syncs."""
    min_sync_period: float = 1.0
    """iptables.minSyncPeriod: the shortest time between syncs."""
    masquerade_all: bool = False
    """iptables.masqueradeAll: SNAT every ClusterIP connection."""
    masquerade_bit: int = 14
    """iptables.masqueradeBit: the fwmark bit that asks for SNAT (0x4000)."""
    healthz_bind_address: str = "0.0.0.0:10256"
    """host:port of /healthz; empty disables it."""
    metrics_bind_address: str = "127.0.0.1:10249"
    """host:port of /metrics; empty disables it."""

    @property
    def node_name(self) -> str:
        return (self.hostname_override or socket.gethostname()).strip().lower()


def _from_file(path: str) -> dict[str, Any]:
    doc = yaml.safe_load(Path(path).read_text()) or {}
    if doc.get("kind", "KubeProxyConfiguration") != "KubeProxyConfiguration":
        raise ValueError(f"{path}: expected kind KubeProxyConfiguration, got {doc.get('kind')!r}")
    if doc.get("apiVersion", API_VERSION) != API_VERSION:
        raise ValueError(f"{path}: unsupported apiVersion {doc.get('apiVersion')!r}")
    ipt = doc.get("iptables") or {}
    conn = doc.get("clientConnection") or {}
    raw = {
        "kubeconfig": conn.get("kubeconfig"), "hostname_override": doc.get("hostnameOverride"),
        "cluster_cidr": doc.get("clusterCIDR"), "mode": doc.get("mode"),
        "sync_period": ipt.get("syncPeriod"), "min_sync_period": ipt.get("minSyncPeriod"),
        "masquerade_all": ipt.get("masqueradeAll"), "masquerade_bit": ipt.get("masqueradeBit"),
        "healthz_bind_address": doc.get("healthzBindAddress"),
        "metrics_bind_address": doc.get("metricsBindAddress"),
    }
    return {k: v for k, v in raw.items() if v not in (None, "")}


def parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="kube-proxy", description="kubelab kube-proxy (iptables mode)")
    add = p.add_argument
    add("--config", help="KubeProxyConfiguration file (kubeproxy.config.k8s.io/v1alpha1)")
    add("--kubeconfig", help="path to a kubeconfig file")
    add("--hostname-override", dest="hostname_override", help="the node name to use instead of the hostname")
    add("--cluster-cidr", dest="cluster_cidr", help="the pod network CIDR")
    add("--proxy-mode", dest="mode", choices=["iptables"], help="which proxy mode to use")
    add("--iptables-sync-period", dest="sync_period", help="the longest time between full syncs (e.g. 30s)")
    add("--iptables-min-sync-period", dest="min_sync_period", help="the shortest time between syncs (e.g. 1s)")
    add("--masquerade-all", dest="masquerade_all", action="store_const", const=True, help="SNAT all service traffic")
    add("--iptables-masquerade-bit", dest="masquerade_bit", type=int, help="fwmark bit for SNAT (0-31)")
    add("--healthz-bind-address", dest="healthz_bind_address", help="host:port for /healthz (empty: off)")
    add("--metrics-bind-address", dest="metrics_bind_address", help="host:port for /metrics (empty: off)")
    add("-v", "--v", dest="verbosity", type=int, default=0, help="log verbosity")
    return p


def settings_from_args(argv: list[str] | None = None) -> tuple[ProxySettings, int]:
    """Settings and the -v level from the command line (and the --config file it names)."""
    args = parser().parse_args(argv)
    values: dict[str, Any] = _from_file(args.config) if args.config else {}
    for key in ProxySettings.__dataclass_fields__:
        flag = getattr(args, key, None)
        if flag is not None:
            values[key] = flag
    for key in ("sync_period", "min_sync_period"):
        if key in values:
            values[key] = parse_duration(values[key])
    settings = ProxySettings(**values)
    if settings.mode != "iptables":
        raise ValueError(f"unsupported proxy mode {settings.mode!r}: only iptables is implemented")
    if not settings.kubeconfig:
        raise ValueError("--kubeconfig (or clientConnection.kubeconfig) is required")
    return settings, args.verbosity
