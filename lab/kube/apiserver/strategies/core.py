"""The small core kinds: ConfigMaps, Secrets, Events, Endpoints, EndpointSlices, Leases.

Each only adds a few columns, selectable fields or defaults to the generic strategy.
"""

from __future__ import annotations

import base64
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from lab.kube.apiserver.printers import age, human_duration
from lab.kube.apiserver.strategies.base import (
    AGE_COLUMN,
    NAME_COLUMN,
    Strategy,
    column,
)
from lab.kube.apiserver.strategies.datakeys import payload_causes
from lab.kube.machinery import catalog, meta
from lab.kube.machinery.errors import Cause
from lab.kube.machinery.objects import Obj, spec_of


@dataclass
class ConfigMapStrategy(Strategy):
    def validate(self, obj: Obj) -> list[Cause]:
        return super().validate(obj) + payload_causes(obj, (("data", False), ("binaryData", True)))

    def columns(self) -> list[dict[str, Any]]:
        return [NAME_COLUMN, column("Data", "integer", "Number of data entries"), AGE_COLUMN]

    def row(self, obj: Obj) -> list[Any]:
        return [meta.name(obj), len(obj.get("data") or {}) + len(obj.get("binaryData") or {}), age(obj)]


@dataclass
class SecretStrategy(Strategy):
    def defaults(self, obj: Obj) -> None:
        obj.setdefault("type", "Opaque")
        # stringData is write-only: folded into data (base64), as upstream does on write
        string_data = obj.pop("stringData", None)
        if isinstance(string_data, dict) and string_data:
            data = obj.setdefault("data", {})
            for k, val in string_data.items():
                data[k] = base64.b64encode(str(val).encode()).decode()

    def validate(self, obj: Obj) -> list[Cause]:
        return super().validate(obj) + payload_causes(obj, (("data", True),))

    def fields(self, obj: Obj) -> dict[str, str]:
        return {**super().fields(obj), "type": str(obj.get("type") or "")}

    def columns(self) -> list[dict[str, Any]]:
        return [NAME_COLUMN, column("Type", description="The type of the secret"),
                column("Data", "integer", "Number of data entries"), AGE_COLUMN]

    def row(self, obj: Obj) -> list[Any]:
        return [meta.name(obj), obj.get("type", ""), len(obj.get("data") or {}), age(obj)]


@dataclass
class EventStrategy(Strategy):
    allow_create_on_update: bool = True  # as upstream: PUT of a missing one creates it
    def fields(self, obj: Obj) -> dict[str, str]:
        inv, src = obj.get("involvedObject") or {}, obj.get("source") or {}
        out = {**super().fields(obj), "reason": str(obj.get("reason") or ""),
               "type": str(obj.get("type") or ""),
               "reportingComponent": str(obj.get("reportingComponent") or ""),
               "source": str(src.get("component") or "")}
        for k in ("kind", "namespace", "name", "uid", "apiVersion", "resourceVersion", "fieldPath"):
            out[f"involvedObject.{k}"] = str(inv.get(k) or "")
        return out

    def columns(self) -> list[dict[str, Any]]:
        return [column("Last Seen", description="Time when last event occurred"),
                column("Type", description="Type of this event (Normal, Warning), new types could be added in the "
                       "future."),
                column("Reason", description="Reason is why the action was taken. It is human-readable."),
                column("Object", description="The object this Event is about"),
                column("Message", description="A human-readable description of the status of this operation."),
                {**NAME_COLUMN, "priority": 1}]

    def row(self, obj: Obj) -> list[Any]:
        inv = obj.get("involvedObject") or {}
        last = obj.get("lastTimestamp") or obj.get("eventTime") or meta.metadata(obj).get("creationTimestamp")
        seen = (human_duration((datetime.now(UTC) - meta.parse_time(last)).total_seconds())
                if last else "<unknown>")
        return [seen, obj.get("type", ""), obj.get("reason", ""),
                f"{str(inv.get('kind', '')).lower()}/{inv.get('name', '')}", obj.get("message", ""),
                meta.name(obj)]


def endpoints_text(obj: Obj, limit: int = 3) -> str:
    """`10.244.1.5:8080,10.244.2.3:8080 + 1 more...` as kubectl prints ENDPOINTS."""
    pairs = []
    for subset in obj.get("subsets") or []:
        ports = subset.get("ports") or [{}]
        for addr in subset.get("addresses") or []:
            for p in ports:
                pairs.append(f"{addr.get('ip')}:{p['port']}" if p.get("port") else str(addr.get("ip")))
    if not pairs:
        return "<none>"
    text = ",".join(pairs[:limit])
    return text + (f" + {len(pairs) - limit} more..." if len(pairs) > limit else "")


@dataclass
class EndpointsStrategy(Strategy):
    label_name: bool = True
    allow_create_on_update: bool = True

    def columns(self) -> list[dict[str, Any]]:
        return [NAME_COLUMN, column("Endpoints", description="Endpoints of the service"), AGE_COLUMN]

    def row(self, obj: Obj) -> list[Any]:
        return [meta.name(obj), endpoints_text(obj), age(obj)]


@dataclass
class EndpointSliceStrategy(Strategy):
    def columns(self) -> list[dict[str, Any]]:
        return [NAME_COLUMN, column("AddressType", description="Type of address carried by this EndpointSlice"),
                column("Ports", description="Ports served by this EndpointSlice"),
                column("Endpoints", description="Endpoints of this EndpointSlice"), AGE_COLUMN]

    def row(self, obj: Obj) -> list[Any]:
        ports = ",".join(str(p.get("port")) for p in obj.get("ports") or []) or "<unset>"
        addrs = [a for e in obj.get("endpoints") or [] for a in e.get("addresses") or []]
        text = ",".join(addrs[:3]) + (f" + {len(addrs) - 3} more..." if len(addrs) > 3 else "")
        return [meta.name(obj), obj.get("addressType", ""), ports, text or "<unset>", age(obj)]


@dataclass
class LeaseStrategy(Strategy):
    allow_create_on_update: bool = True  # as upstream: PUT of a missing one creates it
    def columns(self) -> list[dict[str, Any]]:
        return [NAME_COLUMN, column("Holder", description="The holder of the lease"), AGE_COLUMN]

    def row(self, obj: Obj) -> list[Any]:
        return [meta.name(obj), spec_of(obj).get("holderIdentity", ""), age(obj)]


CONFIGMAPS = ConfigMapStrategy(catalog.CONFIGMAPS)
SECRETS = SecretStrategy(catalog.SECRETS)
EVENTS = EventStrategy(catalog.EVENTS)
ENDPOINTS = EndpointsStrategy(catalog.ENDPOINTS)
ENDPOINTSLICES = EndpointSliceStrategy(catalog.ENDPOINTSLICES)
LEASES = LeaseStrategy(catalog.LEASES)
