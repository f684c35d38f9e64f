"""autoscaling/v1 Scale: the body of the /scale subresource of deployments and replicasets."""

from __future__ import annotations

from .meta_v1 import OBJECT_META
from .types import I32, Desc, Group, S

autoscaling = Group("io.k8s.api.autoscaling.v1")

autoscaling.define("Scale", {
    "apiVersion": S, "kind": S, "metadata": OBJECT_META,
    "spec": autoscaling.define("ScaleSpec", {"replicas": Desc(I32, "desired number of instances")}),
    "status": autoscaling.define("ScaleStatus", {"replicas": I32, "selector": S}, required=("replicas",)),
}, desc="Scale represents a scaling request for a resource.", gvk=("autoscaling", "v1", "Scale"))
