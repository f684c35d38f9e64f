"""The generic strategy: what every resource shares, overridden per resource in small modules.

A strategy answers the registry's questions about one resource (as upstream's
`pkg/registry/<group>/<resource>/strategy.go`): defaults, validation, which fields are status,
selectable fields, table columns, and how deletion is graceful.
"""

from __future__ import annotations

import copy
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from lab.kube.apiserver.strategies import validation as v
from lab.kube.machinery import meta
from lab.kube.machinery.catalog import Resource
from lab.kube.machinery.errors import Cause
from lab.kube.machinery.objects import Obj, status_of

if TYPE_CHECKING:
    from lab.kube.apiserver.registry.context import RegistryContext

Column = dict[str, Any]


def column(name: str, type_: str = "string", description: str = "", *, priority: int = 0,
           format_: str = "") -> Column:
    return {"name": name, "type": type_, "format": format_, "description": description,
            "priority": priority}


NAME_COLUMN = column("Name", format_="name",
                     description="Name must be unique within a namespace.")
AGE_COLUMN = column("Age", description="CreationTimestamp is a timestamp representing the server time "
                                       "when this object was created.")


@dataclass
class Strategy:
    resource: Resource
    label_name: bool = False  # names are DNS-1123 labels (namespaces, services) not subdomains
    return_deleted_object: bool = False  # DELETE answers with the object rather than a Status
    allow_create_on_update: bool = False
    tracks_generation: bool = False  # metadata.generation bumps on spec changes
    extra_fields: tuple[str, ...] = field(default=())

    @property
    def has_status(self) -> bool:
        return "status" in self.resource.subresources

    # --- create / update -------------------------------------------------------------------
    def defaults(self, obj: Obj) -> None:
        """Fill defaulted fields in place (runs on create and update, like upstream defaulting)."""

    def prepare_for_create(self, obj: Obj) -> None:
        """Reset what a client may not set on create."""
        if self.has_status:
            obj["status"] = self.initial_status(obj)
        if self.tracks_generation:
            obj["metadata"]["generation"] = 1
        else:
            obj["metadata"].pop("generation", None)

    def initial_status(self, obj: Obj) -> Any:
        return {}

    def prepare_for_update(self, new: Obj, old: Obj) -> None:
        """The main resource ignores `status` changes; spec changes bump the generation."""
        if self.has_status:
            if "status" in old:
                new["status"] = copy.deepcopy(old["status"])
            else:
                new.pop("status", None)
        if not self.tracks_generation:
            new["metadata"].pop("generation", None)
            return
        gen = meta.generation(old) or 1
        if new.get("spec") != old.get("spec"):
            gen += 1
        new["metadata"]["generation"] = gen

    def prepare_for_status_update(self, new: Obj, old: Obj) -> Obj:
        """The status subresource changes only `status` (and labels/annotations)."""
        out = copy.deepcopy(old)
        out["status"] = copy.deepcopy(status_of(new))
        for k in ("labels", "annotations"):
            if k in new.get("metadata", {}):
                out["metadata"][k] = copy.deepcopy(new["metadata"][k])
        return out

    def validate(self, obj: Obj) -> list[Cause]:
        md = meta.metadata(obj)
        causes: list[Cause] = []
        if not md.get("name"):
            causes.append(v.required("metadata.name", "name or generateName is required"))
        else:
            causes += v.name_causes(md["name"], label=self.label_name)
        if md.get("generateName"):
            causes += v.generate_name_causes(md["generateName"], label=self.label_name)
        if md.get("labels") is not None:
            causes += v.labels_causes(md["labels"])
        if md.get("annotations") is not None:
            causes += v.annotations_causes(md["annotations"])
        if md.get("ownerReferences") is not None:
            causes += v.owner_references_causes(md["ownerReferences"])
        if md.get("finalizers") is not None:
            causes += v.finalizers_causes(md["finalizers"])
        return causes

    def validate_update(self, new: Obj, old: Obj) -> list[Cause]:
        return self.validate(new)

    # --- delete ------------------------------------------------------------------------------
    def grace_period(self, obj: Obj, requested: int | None) -> int:
        """Seconds of graceful deletion; 0 deletes at once (unless finalizers remain)."""
        return 0

    def pending_finalizers(self, obj: Obj) -> bool:
        """Whether something must still finish before the object may leave storage."""
        return bool(meta.finalizers(obj))

    def prepare_for_ephemeral_containers_update(self, new: Obj, old: Obj) -> Obj:
        """The `ephemeralcontainers` subresource (pods only)."""
        return copy.deepcopy(old)

    def validate_ephemeral_containers_update(self, new: Obj, old: Obj) -> list[Cause]:
        return self.validate_update(new, old)

    def prepare_for_finalize(self, new: Obj, old: Obj) -> Obj:
        """The `finalize` subresource (namespaces only)."""
        return copy.deepcopy(old)

    def mark_deleting(self, obj: Obj) -> None:
        """Extra changes when a deletion starts (a namespace turns Terminating)."""

    def should_delete_during_update(self, obj: Obj) -> bool:
        md = meta.metadata(obj)
        return (bool(md.get("deletionTimestamp")) and not md.get("finalizers")
                and md.get("deletionGracePeriodSeconds") in (0, None))

    # --- hooks needing the rest of the server (IP allocation, namespace checks) --------------
    async def before_create(self, obj: Obj, ctx: RegistryContext) -> None:
        """Async admission-like step with access to storage."""

    async def before_update(self, new: Obj, old: Obj, ctx: RegistryContext) -> None:
        """Async step on update with access to storage."""

    async def after_delete(self, obj: Obj, ctx: RegistryContext) -> None:
        """Release what `before_create` took (e.g. a Service's cluster IP)."""

    async def release_unused(self, kept: Obj, dropped: Obj, ctx: RegistryContext) -> None:
        """Release what `dropped` holds and `kept` does not: the old object's after an update,
        or a failed, retried or dry-run update's new allocations."""

    # --- reading -----------------------------------------------------------------------------
    def fields(self, obj: Obj) -> dict[str, str]:
        """Selectable fields (as upstream `GetAttrs`): metadata.name/namespace on every kind."""
        out = {"metadata.name": meta.name(obj)}
        if self.resource.namespaced:
            out["metadata.namespace"] = meta.namespace(obj)
        return out

    def columns(self) -> list[Column]:
        return [NAME_COLUMN, column("Created At", "date",
                                    "CreationTimestamp is a timestamp representing the server "
                                    "time when this object was created.")]

    def row(self, obj: Obj) -> list[Any]:
        return [meta.name(obj), obj.get("metadata", {}).get("creationTimestamp", "")]
