"""The state behind FakeAPI: objects per resource, one resourceVersion counter, an event log.

Implements the API server's storage rules that clients depend on (CAS on resourceVersion,
finalizers, graceful pod deletion, status subresources, watch from a revision, 410 after compaction).
"""

from __future__ import annotations

import asyncio
import builtins
import copy
from dataclasses import dataclass, field
from typing import Any

from lab.kube.machinery import errors, meta, names
from lab.kube.machinery.catalog import Resource
from lab.kube.machinery.errors import Cause

Obj = dict[str, Any]


@dataclass(frozen=True)
class Event:
    rv: int
    type: str
    res: Resource
    object: Obj


@dataclass(eq=False)
class Watcher:
    res: Resource
    queue: asyncio.Queue[Event | errors.APIError | None] = field(default_factory=asyncio.Queue)


class FakeStore:
    """In-memory objects keyed by (resource, namespace, name)."""

    def __init__(self) -> None:
        self.rv = 1
        self.compacted = 0
        self.objects: dict[tuple[Resource, str, str], Obj] = {}
        self.log: list[Event] = []
        self.watchers: set[Watcher] = set()
        self.paused = False  # a partition: open watches stop hearing about changes

    # -- reading -------------------------------------------------------------------------------
    def get(self, res: Resource, namespace: str, name: str) -> Obj:
        obj = self.objects.get((res, namespace if res.namespaced else "", name))
        if obj is None:
            raise errors.NotFound(f'{res.group_resource} "{name}" not found', name=name, kind=res.plural,
                                  group=res.group)
        return copy.deepcopy(obj)

    def list(self, res: Resource, namespace: str | None) -> builtins.list[Obj]:
        return [copy.deepcopy(o) for (r, ns, _), o in sorted(self.objects.items(), key=lambda kv: kv[0][1:])
                if r == res and (not namespace or not res.namespaced or ns == namespace)]

    # -- writing -------------------------------------------------------------------------------
    def create(self, res: Resource, namespace: str, obj: Obj) -> Obj:
        obj = copy.deepcopy(obj)
        md = obj.setdefault("metadata", {})
        if not md.get("name") and md.get("generateName"):
            md["name"] = names.generate_name(md["generateName"])
        if not md.get("name"):
            raise errors.Invalid(
                f'{res.kind} "" is invalid: metadata.name: Required value: name or generateName is required',
                kind=res.plural, group=res.group,
                causes=[Cause("FieldValueRequired", "Required value: name or generateName is required",
                              "metadata.name")])
        if res.namespaced:
            if md.get("namespace") and md["namespace"] != namespace:
                raise errors.BadRequest("the namespace of the provided object does not match the namespace "
                                        "sent on the request")
            md["namespace"] = namespace
        else:
            md.pop("namespace", None)
        k = (res, md.get("namespace", ""), md["name"])
        if k in self.objects:
            raise errors.AlreadyExists(f'{res.group_resource} "{md["name"]}" already exists', name=md["name"],
                                       kind=res.plural, group=res.group)
        obj["apiVersion"], obj["kind"] = res.api_version, res.kind
        md.update(uid=meta.new_uid(), creationTimestamp=meta.now(), generation=1)
        md.pop("deletionTimestamp", None)
        return self._write(res, k, obj, "ADDED")

    def update(self, res: Resource, namespace: str, name: str, obj: Obj, subresource: str | None = None,
               check_rv: bool = True) -> Obj:
        current = self.get(res, namespace, name)
        new = copy.deepcopy(obj)
        md = new.setdefault("metadata", {})
        rv = md.get("resourceVersion")
        if check_rv and rv and rv != meta.resource_version(current):
            raise self.conflict(res, name)
        if subresource == "status":
            out = copy.deepcopy(current)
            out["status"] = new.get("status")
            new = out
        else:
            if "status" in res.subresources:
                new["status"] = current.get("status")  # the main resource ignores status changes
            for fixed in ("uid", "creationTimestamp", "namespace", "name", "generation", "deletionTimestamp"):
                if fixed in current["metadata"]:
                    md[fixed] = current["metadata"][fixed]
            if _spec(new) != _spec(current):
                md["generation"] = int(current["metadata"].get("generation") or 1) + 1
        new["apiVersion"], new["kind"] = res.api_version, res.kind
        k = (res, namespace if res.namespaced else "", name)
        if meta.is_deleting(new) and not meta.finalizers(new):
            return self._remove(res, k, new)  # the last finalizer is gone: now it really goes
        return self._write(res, k, new, "MODIFIED")

    def delete(self, res: Resource, namespace: str, name: str, options: Obj) -> Obj:
        current = self.get(res, namespace, name)
        pre = options.get("preconditions") or {}
        if pre.get("uid") and pre["uid"] != meta.uid(current):
            raise errors.Conflict(f'Operation cannot be fulfilled on {res.group_resource} "{name}": Precondition '
                                  f'failed: UID in precondition: {pre["uid"]}, UID in object meta: {meta.uid(current)}',
                                  name=name, kind=res.plural, group=res.group)
        if pre.get("resourceVersion") and pre["resourceVersion"] != meta.resource_version(current):
            raise self.conflict(res, name)
        k = (res, namespace if res.namespaced else "", name)
        grace = _pod_grace(res, current, options)
        if meta.finalizers(current) or grace:
            md = current["metadata"]
            if not md.get("deletionTimestamp"):
                md["deletionTimestamp"] = meta.now()
                md["deletionGracePeriodSeconds"] = grace
                return self._write(res, k, current, "MODIFIED")
            if meta.finalizers(current) or md.get("deletionGracePeriodSeconds"):
                return current  # already terminating: nothing changes until the kubelet or finalizers act
        return self._remove(res, k, current)

    def replace(self, res: Resource, obj: Obj) -> Obj:
        """Write `obj` as it is (for server-side operations such as pods/binding)."""
        md = obj["metadata"]
        return self._write(res, (res, md.get("namespace", "") if res.namespaced else "", md["name"]),
                           copy.deepcopy(obj), "MODIFIED")

    def conflict(self, res: Resource, name: str) -> errors.Conflict:
        return errors.Conflict(f'Operation cannot be fulfilled on {res.group_resource} "{name}": the object has '
                               "been modified; please apply your changes to the latest version and try again",
                               name=name, kind=res.plural, group=res.group)

    def _write(self, res: Resource, k: tuple[Resource, str, str], obj: Obj, kind: str) -> Obj:
        self.rv += 1
        obj["metadata"]["resourceVersion"] = str(self.rv)
        self.objects[k] = obj
        self._emit(Event(self.rv, kind, res, copy.deepcopy(obj)))
        return copy.deepcopy(obj)

    def _remove(self, res: Resource, k: tuple[Resource, str, str], obj: Obj) -> Obj:
        self.rv += 1
        self.objects.pop(k, None)
        obj["metadata"]["resourceVersion"] = str(self.rv)
        self._emit(Event(self.rv, "DELETED", res, copy.deepcopy(obj)))
        return obj

    # -- watching ------------------------------------------------------------------------------
    def _emit(self, event: Event) -> None:
        self.log.append(event)
        if self.paused:
            return
        for w in self.watchers:
            if w.res == event.res:
                w.queue.put_nowait(event)

    def since(self, res: Resource, rv: int) -> builtins.list[Event]:
        if rv < self.compacted:
            raise errors.Expired(f"too old resource version: {rv} ({self.compacted})")
        return [e for e in self.log if e.res == res and e.rv > rv]

    def compact(self) -> None:
        """Forget history: watches from an older resourceVersion now get 410 Expired."""
        self.compacted = self.rv
        self.log.clear()

    def expire_watches(self) -> None:
        self.paused = False
        for w in self.watchers:
            w.queue.put_nowait(errors.Expired(f"too old resource version: 0 ({self.rv})"))

    def drop_watches(self) -> None:
        for w in self.watchers:
            w.queue.put_nowait(None)


def _spec(obj: Obj) -> Obj:
    return {k: v for k, v in obj.items() if k not in ("metadata", "status", "apiVersion", "kind")}


def _pod_grace(res: Resource, pod: Obj, options: Obj) -> int:
    """Bound, running pods are deleted gracefully (the kubelet finishes with grace 0), as upstream."""
    if res.plural != "pods" or res.group:
        return 0
    spec, status = pod.get("spec") or {}, pod.get("status") or {}
    if not spec.get("nodeName") or status.get("phase") in ("Succeeded", "Failed"):
        return 0
    grace = options.get("gracePeriodSeconds")
    if grace is None:
        grace = spec.get("terminationGracePeriodSeconds", 30)
    return max(0, int(grace))
