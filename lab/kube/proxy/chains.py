"""Chain names and fixed marks of kube-proxy's iptables mode, hashed exactly as upstream.

Upstream names per-service chains by a hash of the service port name, so the same Service
gets the same chain on every node and across restarts (pkg/proxy/iptables/proxier.go).
"""

from __future__ import annotations

import base64
import hashlib

KUBE_SERVICES = "KUBE-SERVICES"
KUBE_EXTERNAL_SERVICES = "KUBE-EXTERNAL-SERVICES"
KUBE_NODEPORTS = "KUBE-NODEPORTS"
KUBE_POSTROUTING = "KUBE-POSTROUTING"
KUBE_MARK_MASQ = "KUBE-MARK-MASQ"
KUBE_FORWARD = "KUBE-FORWARD"
KUBE_PROXY_CANARY = "KUBE-PROXY-CANARY"

SVC_PREFIX = "KUBE-SVC-"
SEP_PREFIX = "KUBE-SEP-"
# per-service chain prefixes a sync may delete when their service is gone (upstream list)
STALE_PREFIXES = ("KUBE-SVC-", "KUBE-SEP-", "KUBE-FW-", "KUBE-XLB-", "KUBE-EXT-", "KUBE-SVL-")

MASQUERADE_BIT = 14  # KubeProxyConfiguration iptables.masqueradeBit default


def masquerade_mark(bit: int = MASQUERADE_BIT) -> str:
    """`0x4000` for the default bit 14: the fwmark that asks KUBE-POSTROUTING to SNAT."""
    return f"{1 << bit:#x}"


def service_port_name(namespace: str, name: str, port_name: str) -> str:
    """`ns/name:port`, or `ns/name` for an unnamed port (upstream ServicePortName.String())."""
    base = f"{namespace}/{name}"
    return f"{base}:{port_name}" if port_name else base


def _hash16(text: str) -> str:
    digest = hashlib.sha256(text.encode()).digest()
    return base64.b32encode(digest).decode()[:16]


def service_chain(port_name: str, protocol: str) -> str:
    """KUBE-SVC-<16 chars>: base32(sha256(servicePortName + lower(protocol)))."""
    return SVC_PREFIX + _hash16(port_name + protocol.lower())


def endpoint_chain(port_name: str, protocol: str, endpoint: str) -> str:
    """KUBE-SEP-<16 chars> over servicePortName + lower(protocol) + "ip:port"."""
    return SEP_PREFIX + _hash16(port_name + protocol.lower() + endpoint)
