"""What a request asks to do, as the authorizers see it (upstream `authorizer.Attributes`,
built by `RequestInfoFactory`): purely from the method and the path, before routing, so an
unknown resource is still authorized (403) before it is found missing (404)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from lab.kube.machinery.user import UserInfo

_READ = {"GET": "get", "HEAD": "get"}
_WRITE = {"POST": "create", "PUT": "update", "PATCH": "patch", "DELETE": "delete"}
_NAMESPACE_SUBRESOURCES = ("status", "finalize")


@dataclass(frozen=True)
class Attributes:
    user: UserInfo
    verb: str
    """get list watch create update patch delete deletecollection (resources);
    the lower-case HTTP method for non-resource paths."""
    resource_request: bool
    namespace: str = ""
    api_group: str = ""
    api_version: str = ""
    resource: str = ""
    subresource: str = ""
    name: str = ""
    path: str = ""
    field_selector: str = ""
    """A list's or watch's `fieldSelector` as sent (the Node authorizer scopes a kubelet's
    pod list to `spec.nodeName=<itself>`)."""

    @property
    def resource_and_sub(self) -> str:
        return f"{self.resource}/{self.subresource}" if self.subresource else self.resource


def _truthy(value: str | None) -> bool:
    return value is not None and value.lower() in ("1", "true")


def _exact_name(field_selector: str) -> str:
    """`metadata.name=<n>` in a list's field selector names the object (upstream uses it so
    a kubelet may list/watch its own Node by name)."""
    for term in field_selector.split(","):
        for op in ("==", "="):
            key, sep, value = term.partition(op)
            if sep and key.strip() == "metadata.name" and not value.startswith("="):
                value = value.strip()
                return value if value and "/" not in value and value not in (".", "..") else ""
    return ""


def from_request(user: UserInfo, method: str, path: str, query: Mapping[str, str]) -> Attributes:
    """Attributes for `method path?query` by `user` (upstream `RequestInfoFactory.NewRequestInfo`)."""
    parts = [p for p in path.split("/") if p]
    http_verb = method.upper()
    non_resource = Attributes(user, method.lower(), False, path=path)
    if len(parts) >= 1 and parts[0] == "api":
        group, version, rest = "", parts[1] if len(parts) > 1 else "", parts[2:]
    elif len(parts) >= 1 and parts[0] == "apis":
        group = parts[1] if len(parts) > 1 else ""
        version = parts[2] if len(parts) > 2 else ""
        rest = parts[3:]
    else:
        return non_resource
    if not version or not rest:
        return non_resource  # discovery (/api, /api/v1, /apis/<group>/<version>)
    watch = False
    if rest[0] == "watch":
        watch, rest = True, rest[1:]
    if not rest:
        return non_resource
    namespace = ""
    if rest[0] == "namespaces" and len(rest) > 1:
        namespace = rest[1]
        if len(rest) > 2 and rest[2] not in _NAMESPACE_SUBRESOURCES:
            rest = rest[2:]  # /namespaces/<ns>/<resource>...
        # else the namespace object itself, or its status/finalize (namespace = its name)
    resource = rest[0]
    name = rest[1] if len(rest) > 1 else ""
    subresource = rest[2] if len(rest) > 2 else ""
    if len(rest) > 3:
        subresource = rest[2]  # deeper paths (proxy) authorize on their subresource
    field_selector = query.get("fieldSelector", "") if http_verb in _READ else ""
    if http_verb in _READ:
        if watch:
            verb = "watch"
        elif name:
            verb = "get"
        else:
            verb = "watch" if _truthy(query.get("watch")) else "list"
            name = _exact_name(field_selector)
    elif http_verb in _WRITE:
        verb = _WRITE[http_verb]
        if verb == "delete" and not name:
            verb = "deletecollection"
    else:
        verb = method.lower()
    return Attributes(user, verb, True, namespace=namespace, api_group=group, api_version=version,
                      resource=resource, subresource=subresource, name=name, path=path,
                      field_selector=field_selector)
