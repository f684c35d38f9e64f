"""A set of equal-size pod CIDRs carved from the cluster CIDR (upstream `cidrset.CidrSet`).

10.244.0.0/16 with mask 24 gives 256 node CIDRs; allocation walks round-robin from the
last one handed out, so a released CIDR is not reused at once.
"""

from __future__ import annotations

import ipaddress
from ipaddress import IPv4Network, IPv6Network

Network = IPv4Network | IPv6Network


class CIDRRangeFull(Exception):
    """Every node CIDR of the cluster CIDR is in use."""


class CidrSet:
    def __init__(self, cluster_cidr: str, mask_size: int) -> None:
        self.cluster = ipaddress.ip_network(cluster_cidr, strict=True)
        if mask_size < self.cluster.prefixlen:
            raise ValueError(f"node CIDR mask size {mask_size} is larger than the cluster CIDR {cluster_cidr}")
        if mask_size - self.cluster.prefixlen > 24:
            raise ValueError("too many node CIDRs (the mask is more than 24 bits longer than the cluster CIDR)")
        self.mask_size = mask_size
        self.max = 1 << (mask_size - self.cluster.prefixlen)
        self._used: set[int] = set()
        self._next = 0

    def _index(self, cidr: Network) -> int:
        if cidr.prefixlen != self.mask_size or not cidr.subnet_of(self.cluster):  # type: ignore[arg-type]  # typeshed wants one IP version; a v4/v6 mix raises TypeError
            raise ValueError(f"{cidr} is not a /{self.mask_size} inside {self.cluster}")
        return (int(cidr.network_address) - int(self.cluster.network_address)) >> (
            self.cluster.max_prefixlen - self.mask_size)

    def _cidr(self, index: int) -> Network:
        step = 1 << (self.cluster.max_prefixlen - self.mask_size)
        base = ipaddress.ip_address(int(self.cluster.network_address) + index * step)
        return ipaddress.ip_network(f"{base}/{self.mask_size}")

    def allocate_next(self) -> str:
        for i in range(self.max):
            index = (self._next + i) % self.max
            if index not in self._used:
                self._used.add(index)
                self._next = (index + 1) % self.max
                return str(self._cidr(index))
        raise CIDRRangeFull(f"CIDR allocation failed; there are no remaining CIDRs left to allocate in {self.cluster}")

    def occupy(self, cidr: str) -> None:
        """Mark a CIDR a node already has (rebuilding state after a restart)."""
        self._used.add(self._index(ipaddress.ip_network(cidr, strict=True)))

    def release(self, cidr: str) -> None:
        self._used.discard(self._index(ipaddress.ip_network(cidr, strict=True)))

    def in_use(self, cidr: str) -> bool:
        return self._index(ipaddress.ip_network(cidr, strict=True)) in self._used

    def contains(self, cidr: str) -> bool:
        try:
            self._index(ipaddress.ip_network(cidr, strict=True))
        except ValueError:
            return False
        return True
