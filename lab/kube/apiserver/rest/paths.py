"""Parse resource URLs into a `RequestInfo` (as apiserver `RequestInfoFactory`).

/api/v1[/watch][/namespaces/<ns>]/<plural>[/<name>[/<sub>]] and the same under
/apis/<group>/<version>. `namespaces/<name>` is the namespace itself, not a scope.
"""

from __future__ import annotations

from dataclasses import dataclass

from lab.kube.machinery import catalog
from lab.kube.machinery.catalog import Resource
from lab.kube.machinery.errors import NotFound


@dataclass(frozen=True)
class RequestInfo:
    resource: Resource
    namespace: str | None
    name: str | None
    subresource: str | None
    watch_path: bool  # the legacy /watch/ prefix


def not_found_path() -> NotFound:
    return NotFound("the server could not find the requested resource")


def parse(path: str) -> RequestInfo | None:
    """None when the path is not a resource path (discovery, health...)."""
    parts = [p for p in path.split("/") if p]
    if len(parts) >= 2 and parts[0] == "api":
        group, version, rest = "", parts[1], parts[2:]
    elif len(parts) >= 3 and parts[0] == "apis":
        group, version, rest = parts[1], parts[2], parts[3:]
    else:
        return None
    if not rest:
        return None
    watch = rest[0] == "watch"
    if watch:
        rest = rest[1:]
    namespace: str | None = None
    if len(rest) >= 3 and rest[0] == "namespaces":
        inner = catalog.lookup(group, version, rest[2])
        if inner is not None and inner.namespaced:
            namespace, rest = rest[1], rest[2:]
    if not rest or len(rest) > 3:
        raise not_found_path()
    resource = catalog.lookup(group, version, rest[0])
    if resource is None:
        raise not_found_path()
    name = rest[1] if len(rest) > 1 else None
    sub = rest[2] if len(rest) > 2 else None
    if sub is not None and sub not in resource.subresources and not (
            resource is catalog.NAMESPACES and sub == "finalize"):
        raise not_found_path()
    return RequestInfo(resource, namespace, name, sub, watch)
