"""The admission request, the plugin interface and the chain that runs them in order."""

from __future__ import annotations

import contextvars
import enum
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Protocol

from lab.kube.apiserver.authz.attributes import Attributes
from lab.kube.machinery import errors, meta
from lab.kube.machinery.catalog import Resource
from lab.kube.machinery.objects import Obj
from lab.kube.machinery.user import UserInfo

# The attributes of the request being served (set by the access edge for its handler's task).
current_request: contextvars.ContextVar[Attributes | None] = contextvars.ContextVar(
    "kubelab_current_request", default=None)


class Operation(enum.Enum):
    CREATE = "CREATE"
    UPDATE = "UPDATE"
    DELETE = "DELETE"


@dataclass(frozen=True)
class AdmissionRequest:
    operation: Operation
    resource: Resource
    namespace: str
    name: str
    subresource: str
    user: UserInfo
    obj: Obj | None
    """The object as it will be stored (CREATE, UPDATE); None for DELETE."""
    old: Obj | None
    """The stored object (UPDATE, DELETE); None for CREATE."""
    dry_run: bool = False


class AdmissionPlugin(Protocol):
    name: str

    async def admit(self, request: AdmissionRequest) -> None:
        """Raise an APIError to refuse; may change `request.obj` in place (mutating plugins)."""


class AdmissionChain:
    def __init__(self, plugins: Sequence[AdmissionPlugin] = ()) -> None:
        self.plugins = list(plugins)

    async def admit(self, operation: Operation, resource: Resource, namespace: str, name: str,
                    subresource: str | None, obj: Obj | None, old: Obj | None, dry_run: bool = False) -> None:
        attrs = current_request.get()
        if attrs is None or not self.plugins:
            return
        request = AdmissionRequest(operation, resource, namespace, name, subresource or "", attrs.user,
                                   obj, old, dry_run)
        for plugin in self.plugins:
            await plugin.admit(request)


def refuse(request: AdmissionRequest, why: str) -> errors.Forbidden:
    """Upstream `admission.NewForbidden`: `pods "<name>" is forbidden: <why>`."""
    name = request.name or (meta.name(request.obj) if request.obj else "")
    subject = f'{request.resource.group_resource} "{name}"' if name else request.resource.group_resource
    return errors.Forbidden(f"{subject} is forbidden: {why}", name=name, kind=request.resource.plural,
                            group=request.resource.group)
