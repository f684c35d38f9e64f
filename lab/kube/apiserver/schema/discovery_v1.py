"""discovery.k8s.io/v1 EndpointSlice."""

from __future__ import annotations

from .core_v1 import OBJECT_REFERENCE
from .meta_v1 import OBJECT_META
from .types import I32, SMAP, Arr, B, Desc, Group, S

discovery = Group("io.k8s.api.discovery.v1")

ENDPOINT = discovery.define("Endpoint", {
    "addresses": Arr(S, list_type="set"),
    "conditions": discovery.define("EndpointConditions", {"ready": B, "serving": B, "terminating": B}),
    "deprecatedTopology": SMAP,
    "hints": discovery.define("EndpointHints", {
        "forNodes": Arr(discovery.define("ForNode", {"name": S}, required=("name",)), list_type="atomic"),
        "forZones": Arr(discovery.define("ForZone", {"name": S}, required=("name",)), list_type="atomic"),
    }),
    "hostname": S, "nodeName": S, "targetRef": OBJECT_REFERENCE, "zone": S,
}, required=("addresses",), desc="Endpoint represents a single logical \"backend\" implementing a service.")

discovery.define("EndpointSlice", {
    "addressType": Desc(S, "IPv4, IPv6 or FQDN."),
    "apiVersion": S,
    "endpoints": Arr(ENDPOINT, list_type="atomic"),
    "kind": S,
    "metadata": OBJECT_META,
    "ports": Arr(discovery.define("EndpointPort", {"appProtocol": S, "name": S, "port": I32, "protocol": S}),
                 list_type="atomic"),
}, required=("addressType", "endpoints"),
    desc="EndpointSlice represents a subset of the endpoints that implement a service.",
    gvk=("discovery.k8s.io", "v1", "EndpointSlice"))
