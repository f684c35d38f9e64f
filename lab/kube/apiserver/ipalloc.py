"""Crash-safe allocation of Service cluster IPs and node ports, one etcd key per value.

Each allocated value is a key created with CAS (`/registry/ranges/serviceips/<ip>`), so two
API servers never hand out the same IP and a restart loses nothing. `repair` frees values
whose Service is gone (a crash between allocating and creating the Service).
"""

from __future__ import annotations

import ipaddress
import logging
import random
from dataclasses import dataclass

from lab.kube.apiserver.storage import KeyExists, KeyNotFound, Storage

log = logging.getLogger(__name__)
RANDOM_TRIES = 64


class RangeFull(Exception):
    pass


class AlreadyAllocated(Exception):
    pass


class OutOfRange(Exception):
    pass


@dataclass
class KeyAllocator:
    """Values `first..last` (ints) stored as keys `<prefix>/<render(value)>`."""

    storage: Storage
    prefix: str
    first: int
    last: int
    kind: str  # "ip" or "port"

    def render(self, value: int) -> str:
        return str(ipaddress.ip_address(value)) if self.kind == "ip" else str(value)

    def parse(self, text: str) -> int:
        return int(ipaddress.ip_address(text)) if self.kind == "ip" else int(text)

    def _key(self, value: int) -> str:
        return f"{self.prefix}/{self.render(value)}"

    def contains(self, text: str) -> bool:
        try:
            return self.first <= self.parse(text) <= self.last
        except ValueError:
            return False

    async def allocate(self, owner: str, wanted: str | None = None) -> str:
        """Take `wanted` (or a free random value) for `owner` (`ns/name`)."""
        if wanted:
            if not self.contains(wanted):
                raise OutOfRange(wanted)
            try:
                await self.storage.create(self._key(self.parse(wanted)),
                                          {"owner": owner, "value": self.render(self.parse(wanted))})
            except KeyExists as exc:
                raise AlreadyAllocated(wanted) from exc
            return self.render(self.parse(wanted))
        taken, _ = await self.storage.list(self.prefix + "/")
        used = {self.parse(str(o.get("value") or "")) for o in taken if o.get("value")}
        for _ in range(RANDOM_TRIES):
            cand = random.randint(self.first, self.last)
            if cand in used:
                continue
            try:
                await self.storage.create(self._key(cand), {"owner": owner, "value": self.render(cand)})
                return self.render(cand)
            except KeyExists:
                used.add(cand)
        for cand in range(self.first, self.last + 1):  # nearly full: scan in order
            if cand not in used:
                try:
                    await self.storage.create(self._key(cand), {"owner": owner, "value": self.render(cand)})
                    return self.render(cand)
                except KeyExists:
                    continue
        raise RangeFull(self.prefix)

    async def release(self, text: str) -> None:
        try:
            await self.storage.delete(self._key(self.parse(text)))
        except (KeyNotFound, ValueError):
            pass  # already free

    async def allocated(self) -> dict[str, str]:
        """value -> owner, for repair."""
        items, _ = await self.storage.list(self.prefix + "/")
        return {str(o.get("value") or ""): str(o.get("owner") or "") for o in items}


def service_ip_allocator(storage: Storage, prefix: str, cidr: str) -> KeyAllocator:
    net = ipaddress.ip_network(cidr, strict=False)
    # network address and (v4) broadcast are never handed out
    last = int(net.broadcast_address) - (1 if net.version == 4 else 0)
    return KeyAllocator(storage, f"{prefix}/ranges/serviceips", int(net.network_address) + 1, last, "ip")


def node_port_allocator(storage: Storage, prefix: str, ports: str = "30000-32767") -> KeyAllocator:
    lo, _, hi = ports.partition("-")
    return KeyAllocator(storage, f"{prefix}/ranges/servicenodeports", int(lo), int(hi or lo), "port")
