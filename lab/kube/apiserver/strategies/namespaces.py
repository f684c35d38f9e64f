"""Namespaces: the `kubernetes` finalizer, phase Active/Terminating, and the `finalize`
subresource through which the namespace controller lets a namespace go."""

from __future__ import annotations

import copy
from dataclasses import dataclass
from typing import Any

from lab.kube.apiserver.printers import age
from lab.kube.apiserver.strategies.base import (
    AGE_COLUMN,
    NAME_COLUMN,
    Strategy,
    column,
)
from lab.kube.machinery import catalog, meta
from lab.kube.machinery.objects import Obj, spec_of, status_of

NAME_LABEL = "kubernetes.io/metadata.name"


@dataclass
class NamespaceStrategy(Strategy):
    label_name: bool = True

    def defaults(self, obj: Obj) -> None:
        spec = obj.setdefault("spec", {})
        if isinstance(spec, dict) and "finalizers" not in spec:
            spec["finalizers"] = ["kubernetes"]
        md = obj.setdefault("metadata", {})
        if md.get("name"):
            md.setdefault("labels", {})[NAME_LABEL] = md["name"]

    def initial_status(self, obj: Obj) -> Any:
        return {"phase": "Active"}

    def prepare_for_update(self, new: Obj, old: Obj) -> None:
        super().prepare_for_update(new, old)
        # spec.finalizers change only through /finalize
        new["spec"] = copy.deepcopy(spec_of(old))

    def prepare_for_finalize(self, new: Obj, old: Obj) -> Obj:
        out = copy.deepcopy(old)
        out.setdefault("spec", {})["finalizers"] = list(spec_of(new).get("finalizers") or [])
        return out

    def pending_finalizers(self, obj: Obj) -> bool:
        return bool(meta.finalizers(obj) or spec_of(obj).get("finalizers"))

    def mark_deleting(self, obj: Obj) -> None:
        obj.setdefault("status", {})["phase"] = "Terminating"

    def should_delete_during_update(self, obj: Obj) -> bool:
        return meta.is_deleting(obj) and not self.pending_finalizers(obj)

    def fields(self, obj: Obj) -> dict[str, str]:
        return {**super().fields(obj), "status.phase": str(status_of(obj).get("phase") or "")}

    def columns(self) -> list[dict[str, Any]]:
        return [NAME_COLUMN,
                column("Status", description="The status of the namespace"),
                AGE_COLUMN]

    def row(self, obj: Obj) -> list[Any]:
        return [meta.name(obj), status_of(obj).get("phase", ""), age(obj)]


STRATEGY = NamespaceStrategy(catalog.NAMESPACES)
