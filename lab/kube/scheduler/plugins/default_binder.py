"""DefaultBinder (Bind): `POST /api/v1/namespaces/<ns>/pods/<name>/binding` with a v1 Binding."""

from __future__ import annotations

from typing import Any

from lab.kube.machinery import catalog, errors, meta
from lab.kube.scheduler.framework import SUCCESS, CycleState, Status, error

NAME = "DefaultBinder"


def binding_for(pod: dict[str, Any], node_name: str) -> dict[str, Any]:
    return {
        "apiVersion": "v1",
        "kind": "Binding",
        "metadata": {"name": meta.name(pod), "namespace": meta.namespace(pod), "uid": meta.uid(pod)},
        "target": {"apiVersion": "v1", "kind": "Node", "name": node_name},
    }


class DefaultBinder:
    name = NAME

    def __init__(self, args: dict[str, Any] | None = None, handle: Any = None) -> None:
        self.handle = handle

    async def bind(self, state: CycleState, pod: dict[str, Any], node_name: str) -> Status:
        try:
            await self.handle.client.post_subresource(
                catalog.PODS, meta.name(pod), "binding", binding_for(pod, node_name), meta.namespace(pod))
        except errors.APIError as exc:
            return error(f"binding rejected: {exc}")
        return SUCCESS
