"""coordination.k8s.io/v1 Lease: node heartbeats and leader election."""

from __future__ import annotations

from .meta_v1 import MICRO_TIME, OBJECT_META
from .types import I32, Desc, Group, S

coordination = Group("io.k8s.api.coordination.v1")

coordination.define("Lease", {
    "apiVersion": S, "kind": S, "metadata": OBJECT_META,
    "spec": coordination.define("LeaseSpec", {
        "acquireTime": MICRO_TIME,
        "holderIdentity": Desc(S, "The identity of the holder of a current lease."),
        "leaseDurationSeconds": I32, "leaseTransitions": I32, "preferredHolder": S,
        "renewTime": MICRO_TIME, "strategy": S,
    }),
}, desc="Lease defines a lease concept.", gvk=("coordination.k8s.io", "v1", "Lease"))
