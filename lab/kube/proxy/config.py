"""kube-proxy settings: upstream flags and a KubeProxyConfiguration file.

The file is `kubeproxy.config.k8s.io/v1alpha1`, read by the component config loader (an
unknown field is warned about and dropped, as upstream's lenient v1alpha1 decoding). As
upstream, with --config the file wins over the flags except --hostname-override and -v;
without it the flags win over upstream defaults.
"""

from __future__ import annotations

import argparse
import socket
from dataclasses import dataclass
from typing import Any

from lab.kube.component import config as component_config
from lab.kube.component import parse_duration
from lab.kube.component.config import (
    BOOL,
    CLIENT_CONNECTION,
    DURATION,
    INT,
    LOGGING,
    STR,
    ConfigType,
    ListOf,
    MapOf,
)

API_VERSION = "kubeproxy.config.k8s.io/v1alpha1"
# KubeProxyConfiguration v1alpha1 (k8s.io/kube-proxy/config/v1alpha1), every field with its type
CONFIG_TYPE = ConfigType(API_VERSION, "KubeProxyConfiguration", {
    "featureGates": MapOf(BOOL), "clientConnection": CLIENT_CONNECTION, "logging": LOGGING,
    "hostnameOverride": STR, "bindAddress": STR, "healthzBindAddress": STR, "metricsBindAddress": STR,
    "bindAddressHardFail": BOOL, "enableProfiling": BOOL, "showHiddenMetricsForVersion": STR, "mode": STR,
    "iptables": {"masqueradeBit": INT, "masqueradeAll": BOOL, "localhostNodePorts": BOOL, "snatNodeInternalIP": BOOL,
                 "syncPeriod": DURATION, "minSyncPeriod": DURATION},
    "ipvs": {"syncPeriod": DURATION, "minSyncPeriod": DURATION, "scheduler": STR, "excludeCIDRs": ListOf(STR),
             "strictARP": BOOL, "tcpTimeout": DURATION, "tcpFinTimeout": DURATION, "udpTimeout": DURATION},
    "nftables": {"masqueradeBit": INT, "masqueradeAll": BOOL, "syncPeriod": DURATION, "minSyncPeriod": DURATION},
    "winkernel": {"networkName": STR, "sourceVip": STR, "enableDSR": BOOL, "rootHnsEndpointName": STR,
                  "forwardHealthCheckVip": BOOL},
    "detectLocalMode": STR, "detectLocal": {"bridgeInterface": STR, "interfaceNamePrefix": STR},
    "clusterCIDR": STR, "nodePortAddresses": ListOf(STR), "oomScoreAdj": INT,
    "conntrack": {"maxPerCore": INT, "min": INT, "tcpEstablishedTimeout": DURATION,
                  "tcpCloseWaitTimeout": DURATION, "tcpBeLiberal": BOOL, "udpTimeout": DURATION,
                  "udpStreamTimeout": DURATION},
    "configSyncPeriod": DURATION, "portRange": STR, "windowsRunAsService": BOOL,
}, strict=False)
# settings field -> the KubeProxyConfiguration field it comes from
CONFIG_FIELDS = {
    "kubeconfig": "clientConnection.kubeconfig", "hostname_override": "hostnameOverride",
    "cluster_cidr": "clusterCIDR", "mode": "mode", "sync_period": "iptables.syncPeriod",
    "min_sync_period": "iptables.minSyncPeriod", "masquerade_all": "iptables.masqueradeAll",
    "masquerade_bit": "iptables.masqueradeBit", "healthz_bind_address": "healthzBindAddress",
    "metrics_bind_address": "metricsBindAddress",
}
# upstream Complete(): with --config the file replaces what the flags set, except these (and -v)
FLAGS_OVER_FILE = ("hostname_override",)


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


def from_config_file(path: str) -> dict[str, Any]:
    """Settings values from the KubeProxyConfiguration file at `path`; an empty string is unset,
    as upstream's defaulting treats it."""
    values = component_config.pick(component_config.load(path, CONFIG_TYPE), CONFIG_FIELDS)
    return {k: v for k, v in values.items() if v != ""}


def parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="kube-proxy", description="kubelab kube-proxy (iptables mode)")
    add = p.add_argument
    add("--config", help="KubeProxyConfiguration file (kubeproxy.config.k8s.io/v1alpha1)")
    add("--kubeconfig", help="path to a kubeconfig file")
    add("--hostname-override", dest="hostname_override", help="the node name to use instead of the hostname")
    add("--cluster-cidr", dest="cluster_cidr", help="the pod network CIDR")
    add("--proxy-mode", dest="mode", choices=["iptables"], help="which proxy mode to use")
    add("--iptables-sync-period", dest="sync_period", type=parse_duration,
        help="the longest time between full syncs (e.g. 30s)")
    add("--iptables-min-sync-period", dest="min_sync_period", type=parse_duration,
        help="the shortest time between syncs (e.g. 1s)")
    add("--masquerade-all", dest="masquerade_all", action="store_const", const=True, help="SNAT all service traffic")
    add("--iptables-masquerade-bit", dest="masquerade_bit", type=int, help="fwmark bit for SNAT (0-31)")
    add("--healthz-bind-address", dest="healthz_bind_address", help="host:port for /healthz (empty: off)")
    add("--metrics-bind-address", dest="metrics_bind_address", help="host:port for /metrics (empty: off)")
    add("-v", "--v", dest="verbosity", type=int, default=0, help="log verbosity")
    return p


def settings_from_args(argv: list[str] | None = None) -> tuple[ProxySettings, int]:
    """Settings and the -v level from the command line (and the --config file it names)."""
    args = parser().parse_args(argv)
    flags = {key: getattr(args, key, None) for key in ProxySettings.__dataclass_fields__}
    if args.config:
        values = component_config.layer(from_config_file(args.config), flags, over_file=FLAGS_OVER_FILE)
    else:
        values = component_config.layer({}, flags)
    settings = ProxySettings(**values)
    if settings.mode != "iptables":
        raise ValueError(f"unsupported proxy mode {settings.mode!r}: only iptables is implemented")
    if not settings.kubeconfig:
        raise ValueError("--kubeconfig (or clientConnection.kubeconfig) is required")
    return settings, args.verbosity
