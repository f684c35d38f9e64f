"""Discovery documents: /version, /api, /apis and one APIResourceList per group-version.

Built from the catalog, so kubectl's RESTMapper (short names, categories, subresources)
sees exactly what the server routes.
"""

from __future__ import annotations

import hashlib
from typing import Any

from lab.kube.machinery import catalog
from lab.kube.machinery.catalog import Resource

GIT_VERSION = "v1.30.0-kubelab"

SUBRESOURCE_KINDS = {
    "status": (None, ["get", "patch", "update"]),
    "binding": ("Binding", ["create"]),
    "eviction": ("Eviction", ["create"]),
    "scale": ("Scale", ["get", "patch", "update"]),
    "token": ("TokenRequest", ["create"]),
    "log": ("Pod", ["get"]),
    "exec": ("PodExecOptions", ["create", "get"]),
    "attach": ("PodAttachOptions", ["create", "get"]),
    "portforward": ("PodPortForwardOptions", ["create", "get"]),
    "ephemeralcontainers": ("Pod", ["get", "patch", "update"]),
}


def version() -> dict[str, str]:
    return {"major": "1", "minor": "30", "gitVersion": GIT_VERSION, "gitCommit": "kubelab",
            "gitTreeState": "clean", "buildDate": "2026-01-01T00:00:00Z", "goVersion": "python",
            "compiler": "cpython", "platform": "linux/amd64"}


def api_versions(server_address: str) -> dict[str, Any]:
    return {"kind": "APIVersions", "versions": ["v1"],
            "serverAddressByClientCIDRs": [{"clientCIDR": "0.0.0.0/0", "serverAddress": server_address}]}


def api_group_list() -> dict[str, Any]:
    groups = []
    for group, versions in catalog.groups().items():
        if not group:
            continue
        gvs = [{"groupVersion": f"{group}/{v}", "version": v} for v in versions]
        groups.append({"name": group, "versions": gvs, "preferredVersion": gvs[0]})
    return {"kind": "APIGroupList", "apiVersion": "v1", "groups": groups}


def api_group(group: str) -> dict[str, Any] | None:
    versions = catalog.groups().get(group)
    if not group or not versions:
        return None
    gvs = [{"groupVersion": f"{group}/{v}", "version": v} for v in versions]
    return {"kind": "APIGroup", "apiVersion": "v1", "name": group, "versions": gvs,
            "preferredVersion": gvs[0]}


def _storage_hash(r: Resource) -> str:
    return hashlib.sha256(f"{r.group_version}/{r.kind}".encode()).digest()[:8].hex()


def _entries(r: Resource) -> list[dict[str, Any]]:
    main: dict[str, Any] = {"name": r.plural, "singularName": r.singular, "namespaced": r.namespaced,
                            "kind": r.kind, "verbs": list(r.verbs),
                            "storageVersionHash": _storage_hash(r)}
    if r.short_names:
        main["shortNames"] = list(r.short_names)
    if r.categories:
        main["categories"] = list(r.categories)
    out = [main]
    subs = list(r.subresources) + (["finalize"] if r is catalog.NAMESPACES else [])
    for sub in subs:
        kind, verbs = SUBRESOURCE_KINDS.get(sub, (None, ["update"]))
        entry: dict[str, Any] = {"name": f"{r.plural}/{sub}", "singularName": "",
                                 "namespaced": r.namespaced, "kind": kind or r.kind, "verbs": verbs}
        if sub == "scale":
            entry.update(group="autoscaling", version="v1")
        if sub == "token":
            entry.update(group="authentication.k8s.io", version="v1")
        if sub == "eviction":
            entry.update(group="policy", version="v1")
        out.append(entry)
    return out


def resource_list(group: str, version: str) -> dict[str, Any] | None:
    resources = [r for r in catalog.RESOURCES if r.group == group and r.version == version]
    if not resources:
        return None
    gv = f"{group}/{version}" if group else version
    return {"kind": "APIResourceList", "apiVersion": "v1", "groupVersion": gv,
            "resources": [e for r in resources for e in _entries(r)]}
