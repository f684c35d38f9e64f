"""All definitions by upstream name, the `<Kind>List` of each served resource, and lookups.

The catalog decides what is served; this module maps a resource to its definitions.
"""

from __future__ import annotations

from functools import cache

from lab.kube.machinery import catalog

from . import (  # noqa: F401  (they add to core_v1.core)
    apps_v1,
    autoscaling_v1,
    batch_v1,
    coordination_v1,
    core_v1,
    core_v1_pod,
    core_v1_serviceaccount,
    core_v1_volume,
    discovery_v1,
    meta_v1,
    networking_v1,
    policy_v1,
    rbac_v1,
    reviews,
    scheduling_v1,
)
from .types import Arr, Definition, MapOf, Ref, S, Type, field_type

_PACKAGES = {
    "": "io.k8s.api.core.v1",
    "apps": "io.k8s.api.apps.v1",
    "autoscaling": "io.k8s.api.autoscaling.v1",
    "batch": "io.k8s.api.batch.v1",
    "discovery.k8s.io": "io.k8s.api.discovery.v1",
    "coordination.k8s.io": "io.k8s.api.coordination.v1",
    "scheduling.k8s.io": "io.k8s.api.scheduling.v1",
    "policy": "io.k8s.api.policy.v1",
    "networking.k8s.io": "io.k8s.api.networking.v1",
}


def _package(group: str, version: str) -> str:
    return _PACKAGES.get(group, f"io.k8s.api.{group.split('.')[0]}.{version}")


def _list_definition(res: catalog.Resource) -> Definition:
    kind = res.list_kind_name
    return Definition(
        f"{_package(res.group, res.version)}.{kind}",
        {"apiVersion": S, "items": Arr(Ref(kind_name(res))), "kind": S, "metadata": meta_v1.LIST_META},
        required=("items",),
        description=f"{kind} is a list of {res.kind} objects.",
        gvk=((res.group, res.version, kind),),
    )


@cache
def definitions() -> dict[str, Definition]:
    """Every definition, keyed by upstream name (`io.k8s.api.core.v1.Pod`)."""
    out: dict[str, Definition] = {}
    for group in (core_v1.core, apps_v1.apps, autoscaling_v1.autoscaling, batch_v1.batch, discovery_v1.discovery,
                  coordination_v1.coordination, networking_v1.networking, policy_v1.policy, rbac_v1.rbac,
                  scheduling_v1.scheduling, reviews.authn, reviews.authn_beta, reviews.authz):
        out.update(group.defs)
    out.update(meta_v1.DEFINITIONS)
    out.update(core_v1_serviceaccount.authentication.defs)
    for res in catalog.RESOURCES:
        lst = _list_definition(res)
        out[lst.name] = lst
    return out


def kind_name(res: catalog.Resource) -> str:
    return f"{_package(res.group, res.version)}.{res.kind}"


def list_name(res: catalog.Resource) -> str:
    return f"{_package(res.group, res.version)}.{res.list_kind_name}"


def subresource_kind(res: catalog.Resource, sub: str) -> str:
    """The definition a subresource reads and writes (`scale` → autoscaling/v1 Scale)."""
    if sub == "scale":
        return "io.k8s.api.autoscaling.v1.Scale"
    if sub == "binding":
        return "io.k8s.api.core.v1.Binding"
    if sub == "token":
        return "io.k8s.api.authentication.v1.TokenRequest"
    return kind_name(res)


def _refs(t: Type) -> list[str]:
    if isinstance(t, Ref):
        return [t.name]
    if isinstance(t, Arr):
        return _refs(t.items)
    if isinstance(t, MapOf):
        return _refs(t.values)
    return []


def reachable(roots: list[str]) -> list[str]:
    """The named definitions plus everything they reference, sorted."""
    defs = definitions()
    seen: set[str] = set()
    todo = list(roots)
    while todo:
        name = todo.pop()
        if name in seen:
            continue
        seen.add(name)
        for spec in defs[name].props.values():
            todo.extend(_refs(field_type(spec)))
    return sorted(seen)
