"""The generic registry (upstream `generic/registry.Store`): one class serves every resource.

It knows nothing about pods or services: object-specific behaviour comes from the strategy,
storage from the `Storage` seam. All writes go through compare-and-swap on the resourceVersion.
"""

from __future__ import annotations

import base64
import copy
import logging
from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Any

import orjson

from lab.kube.apiserver import storage as st
from lab.kube.apiserver.admission import Operation
from lab.kube.apiserver.registry.context import RegistryContext
from lab.kube.apiserver.registry.errors import api_errors, conflict, expired
from lab.kube.apiserver.registry.options import DeleteOptions, ListOptions
from lab.kube.apiserver.strategies.base import Strategy
from lab.kube.apiserver.strategies.validation import raise_invalid
from lab.kube.machinery import catalog, errors, meta, names
from lab.kube.machinery.objects import Obj
from lab.kube.machinery.selectors import FieldSelector, LabelSelector

log = logging.getLogger(__name__)
GENERATE_NAME_ATTEMPTS = 8
DELETE_ATTEMPTS = 5  # reads-then-deletes before a delete racing other writers gives up


class _Stale(Exception):
    """The object changed between the read a delete decided on and the delete itself."""

    def __init__(self, conflict: errors.Conflict) -> None:
        super().__init__(str(conflict))
        self.conflict = conflict


@dataclass(frozen=True)
class WatchEvent:
    type: str  # ADDED | MODIFIED | DELETED
    object: Obj
    revision: int


class Registry:
    def __init__(self, strategy: Strategy, ctx: RegistryContext) -> None:
        self.strategy = strategy
        self.resource = strategy.resource
        self.ctx = ctx
        self.storage = ctx.storage

    def _key(self, namespace: str, name: str) -> str:
        return self.ctx.key(self.resource, namespace, name)

    def _ns(self, namespace: str | None) -> str:
        return (namespace or "") if self.resource.namespaced else ""

    # --- reads -------------------------------------------------------------------------------
    async def get(self, namespace: str | None, name: str) -> Obj:
        with api_errors(self.resource, name):
            return await self.storage.get(self._key(self._ns(namespace), name))

    def check_fields(self, selector: FieldSelector) -> None:
        """400 for a field selector naming a field this resource cannot select on."""
        supported = set(self.strategy.fields({"metadata": {}}))
        for req in getattr(selector, "requirements", ()):
            if req.field not in supported:
                raise errors.BadRequest(f'field label not supported: {req.field}')

    def matches(self, obj: Obj, labels: LabelSelector, fields: FieldSelector) -> bool:
        return labels.matches(meta.labels(obj)) and fields.matches(self.strategy.fields(obj))

    async def list(self, namespace: str | None, opts: ListOptions | None = None) -> Obj:
        opts = opts or ListOptions()
        self.check_fields(opts.field_selector)
        prefix = self.ctx.collection_prefix(self.resource, self._ns(namespace))
        with api_errors(self.resource):
            items, rev = await self.storage.list(prefix)
        items = [o for o in items if self.matches(o, opts.label_selector, opts.field_selector)]
        list_meta: dict[str, Any] = {"resourceVersion": str(rev)}
        if opts.continue_token:
            start, rev = _decode_continue(opts.continue_token)
            list_meta["resourceVersion"] = str(rev)
            items = [o for o in items if _sort_key(o) > start]
        if opts.limit and len(items) > opts.limit:
            rest = len(items) - opts.limit
            items = items[: opts.limit]
            list_meta["continue"] = _encode_continue(_sort_key(items[-1]), rev)
            list_meta["remainingItemCount"] = rest
        return {"kind": self.resource.list_kind_name, "apiVersion": self.resource.api_version,
                "metadata": list_meta, "items": items}

    # --- create ------------------------------------------------------------------------------
    async def _check_namespace(self, namespace: str) -> None:
        if not self.resource.namespaced:
            return
        ns_key = self.ctx.key(catalog.NAMESPACES, "", namespace)
        try:
            with api_errors(catalog.NAMESPACES, namespace):
                ns = await self.storage.get(ns_key)
        except errors.NotFound:
            raise errors.NotFound(f'namespaces "{namespace}" not found', name=namespace,
                                  kind="namespaces") from None
        if meta.is_deleting(ns):
            raise errors.Forbidden(
                f'{self.resource.plural} "{meta.name(ns)}" is forbidden: unable to create new '
                f"content in namespace {namespace} because it is being terminated")

    def _prepare_new(self, namespace: str, obj: Obj) -> Obj:
        obj = copy.deepcopy(obj)
        obj["kind"], obj["apiVersion"] = self.resource.kind, self.resource.api_version
        md = obj.setdefault("metadata", {})
        if not isinstance(md, dict):
            raise errors.BadRequest("metadata must be an object")
        if self.resource.namespaced:
            if md.get("namespace") and md["namespace"] != namespace:
                raise errors.BadRequest("the namespace of the provided object does not match "
                                        "the namespace sent on the request")
            md["namespace"] = namespace
        else:
            md.pop("namespace", None)
        for k in ("resourceVersion", "deletionTimestamp", "deletionGracePeriodSeconds", "selfLink"):
            md.pop(k, None)
        md["uid"] = meta.new_uid()
        md["creationTimestamp"] = meta.now()
        self.strategy.defaults(obj)
        self.strategy.prepare_for_create(obj)
        return obj

    async def create(self, namespace: str | None, obj: Obj, *, dry_run: bool = False) -> Obj:
        ns = self._ns(namespace)
        await self._check_namespace(ns)
        new = self._prepare_new(ns, obj)
        md = new["metadata"]
        generate = md.get("generateName") and not md.get("name")
        for _ in range(GENERATE_NAME_ATTEMPTS if generate else 1):
            if generate:
                md["name"] = names.generate_name(md["generateName"])
            await self.ctx.admission.admit(Operation.CREATE, self.resource, ns, meta.name(new), None,
                                           new, None, dry_run)
            raise_invalid(self.resource, meta.name(new), self.strategy.validate(new))
            await self.strategy.before_create(new, self.ctx)
            if dry_run:  # show what would be allocated, but keep nothing
                await self.strategy.after_delete(new, self.ctx)
                return new
            try:
                with api_errors(self.resource, meta.name(new)):
                    return await self.storage.create(self._key(ns, meta.name(new)), new)
            except errors.AlreadyExists:
                await self.strategy.after_delete(new, self.ctx)  # give back allocations
                if not generate:
                    raise
            except Exception:
                await self.strategy.after_delete(new, self.ctx)
                raise
        raise errors.AlreadyExists(f'{self.resource.group_resource} "{md["name"]}" already exists',
                                   name=md["name"], kind=self.resource.plural)

    # --- update ------------------------------------------------------------------------------
    def _merge_update(self, new: Obj, old: Obj, subresource: str | None) -> Obj:
        new = copy.deepcopy(new)
        new["kind"], new["apiVersion"] = self.resource.kind, self.resource.api_version
        md, old_md = new.setdefault("metadata", {}), old["metadata"]
        for k in ("name", "namespace", "uid", "creationTimestamp", "deletionTimestamp",
                  "deletionGracePeriodSeconds"):
            if k in old_md:
                md[k] = old_md[k]
            else:
                md.pop(k, None)
        if subresource == "status":
            merged = self.strategy.prepare_for_status_update(new, old)
        elif subresource == "finalize":
            merged = self.strategy.prepare_for_finalize(new, old)
        elif subresource == "ephemeralcontainers":
            merged = self.strategy.prepare_for_ephemeral_containers_update(new, old)
        else:
            self.strategy.defaults(new)
            self.strategy.prepare_for_update(new, old)
            merged = new
        merged["metadata"]["resourceVersion"] = old_md.get("resourceVersion")
        return merged

    def check_identity(self, obj: Obj, namespace: str | None, name: str) -> None:
        """upstream checkName: a PUT body or patched object names the object on the URL."""
        md = meta.metadata(obj)
        body_name = md.get("name") or ""
        if body_name and body_name != name:
            raise errors.BadRequest(f"the name of the object ({body_name}) does not match the name "
                                    f"on the URL ({name})")
        body_ns, url_ns = md.get("namespace") or "", self._ns(namespace)
        if url_ns and body_ns and body_ns != url_ns:
            raise errors.BadRequest(f"the namespace of the object ({body_ns}) does not match the "
                                    f"namespace on the request ({url_ns})")

    async def update(self, namespace: str | None, name: str, obj: Obj, *,
                     subresource: str | None = None, dry_run: bool = False) -> Obj:
        """PUT: CAS on the body's resourceVersion when set, unconditional when empty."""
        updated, _ = await self.put(namespace, name, obj, subresource=subresource, dry_run=dry_run)
        return updated

    async def put(self, namespace: str | None, name: str, obj: Obj, *,
                  subresource: str | None = None, dry_run: bool = False) -> tuple[Obj, bool]:
        """`update`, also saying whether the object was created (201) by a create-on-update."""
        self.check_identity(obj, namespace, name)
        want_rv = meta.resource_version(obj)
        ns = self._ns(namespace)
        if self.strategy.allow_create_on_update and subresource is None:
            try:
                await self.get(ns, name)
            except errors.NotFound:
                obj = copy.deepcopy(obj)
                obj.setdefault("metadata", {})["name"] = name
                return await self.create(ns, obj, dry_run=dry_run), True

        async def apply(old: Obj) -> Obj:
            if want_rv and want_rv != meta.resource_version(old):
                raise conflict(self.resource, name)
            return obj
        return await self.guaranteed_update(ns, name, apply, subresource=subresource,
                                            dry_run=dry_run), False

    async def guaranteed_update(self, namespace: str | None, name: str, fn: Any, *,
                                subresource: str | None = None, dry_run: bool = False) -> Obj:
        """Read-modify-write with retries; `fn(current) -> desired` (PUT body, patched object)."""
        ns = self._ns(namespace)
        key = self._key(ns, name)
        attempt: list[tuple[Obj, Obj]] = []  # (merged, current) of the latest step

        async def undo_attempt() -> None:
            """Give back what the latest step allocated (it was retried, failed or dry-run)."""
            if attempt:
                merged, current = attempt.pop()
                await self.strategy.release_unused(current, merged, self.ctx)

        async def step(current: Obj) -> Obj:
            await undo_attempt()  # a retry after a CAS conflict starts from scratch
            desired = fn(copy.deepcopy(current))  # fn may edit in place; `current` stays the old
            if hasattr(desired, "__await__"):
                desired = await desired
            merged = self._merge_update(desired, current, subresource)
            await self.ctx.admission.admit(Operation.UPDATE, self.resource, ns, name, subresource,
                                           merged, current, dry_run)
            validate = (self.strategy.validate_ephemeral_containers_update if subresource == "ephemeralcontainers"
                        else self.strategy.validate_update)
            raise_invalid(self.resource, name, validate(merged, current))
            await self.strategy.before_update(merged, current, self.ctx)
            attempt.append((merged, current))
            return current if dry_run else merged

        try:
            with api_errors(self.resource, name):
                updated = await self.storage.guaranteed_update(key, step)
        except BaseException:
            await undo_attempt()
            raise
        if not attempt:  # the storage answered without running the step
            return updated
        merged, current = attempt[-1]
        if dry_run:
            await undo_attempt()
            return merged
        await self.strategy.release_unused(updated, current, self.ctx)  # e.g. NodePort -> ClusterIP
        if self.strategy.should_delete_during_update(updated):
            return await self._remove(ns, name, updated)
        return updated

    async def raw_update(self, namespace: str | None, name: str, fn: Any) -> Obj:
        """CAS update without the strategy's update rules (pods/binding changes spec.nodeName)."""
        with api_errors(self.resource, name):
            return await self.storage.guaranteed_update(self._key(self._ns(namespace), name), fn)

    # --- delete ------------------------------------------------------------------------------
    async def _remove(self, ns: str, name: str, obj: Obj) -> Obj:
        with api_errors(self.resource, name):
            try:
                gone = await self.storage.delete(self._key(ns, name),
                                                 int(meta.resource_version(obj)))
            except st.KeyNotFound:
                return obj  # someone else finished the deletion: same outcome
        await self.strategy.after_delete(gone, self.ctx)
        return gone

    def _check_preconditions(self, obj: Obj, opts: DeleteOptions) -> None:
        if opts.uid and opts.uid != meta.uid(obj):
            raise errors.Conflict(f"Precondition failed: UID in precondition: {opts.uid}, UID in "
                                  f"object meta: {meta.uid(obj)}", name=meta.name(obj),
                                  kind=self.resource.plural, group=self.resource.group)
        if opts.resource_version and opts.resource_version != meta.resource_version(obj):
            raise errors.Conflict(
                f"Precondition failed: ResourceVersion in precondition: {opts.resource_version}, "
                f"ResourceVersion in object meta: {meta.resource_version(obj)}",
                name=meta.name(obj), kind=self.resource.plural, group=self.resource.group)

    async def delete(self, namespace: str | None, name: str,
                     opts: DeleteOptions | None = None) -> tuple[Obj, bool]:
        """Delete or start a graceful/finalized deletion. Returns (object, removed_now).
        An object written between our read and the delete is decided on again, as upstream's
        conditional delete does: a plain delete never fails for a concurrent status update."""
        opts = opts or DeleteOptions()
        for _ in range(DELETE_ATTEMPTS - 1):
            try:
                return await self._delete_once(namespace, name, opts)
            except _Stale:
                continue
        try:
            return await self._delete_once(namespace, name, opts)
        except _Stale as exc:
            raise exc.conflict from None

    async def _remove_unchanged(self, ns: str, name: str, obj: Obj) -> Obj:
        try:
            return await self._remove(ns, name, obj)
        except errors.Conflict as exc:
            raise _Stale(exc) from exc

    async def _delete_once(self, namespace: str | None, name: str, opts: DeleteOptions) -> tuple[Obj, bool]:
        ns = self._ns(namespace)
        obj = await self.get(ns, name)
        self._check_preconditions(obj, opts)
        await self.ctx.admission.admit(Operation.DELETE, self.resource, ns, name, None, None, obj,
                                       opts.dry_run)
        grace = self.strategy.grace_period(obj, opts.grace_period_seconds)
        extra = {"Foreground": "foregroundDeletion", "Orphan": "orphan"}.get(
            opts.propagation_policy or "")
        if opts.dry_run:
            return obj, False
        if grace == 0 and not self.strategy.pending_finalizers(obj) and not extra:
            return await self._remove_unchanged(ns, name, obj), True

        def mark(current: Obj) -> Obj:
            self._check_preconditions(current, opts)
            md = current["metadata"]
            fins = list(md.get("finalizers") or [])
            if extra and extra not in fins:
                fins = [f for f in fins if f not in ("foregroundDeletion", "orphan")] + [extra]
            if fins:
                md["finalizers"] = fins
            old_grace = md.get("deletionGracePeriodSeconds")
            if not md.get("deletionTimestamp") or (old_grace is not None and grace < old_grace):
                md["deletionTimestamp"] = meta.now()  # graceful deletions start (or shorten) now
                md["deletionGracePeriodSeconds"] = grace
            self.strategy.mark_deleting(current)
            return current

        with api_errors(self.resource, name):
            updated = await self.storage.guaranteed_update(self._key(ns, name), mark)
        if self.strategy.should_delete_during_update(updated):
            return await self._remove_unchanged(ns, name, updated), True
        return updated, False

    async def delete_collection(self, namespace: str | None, lopts: ListOptions,
                                dopts: DeleteOptions) -> Obj:
        listed = await self.list(namespace, ListOptions(lopts.label_selector, lopts.field_selector))
        deleted = []
        for item in listed["items"]:
            try:
                obj, _ = await self.delete(meta.namespace(item) or None, meta.name(item), dopts)
                deleted.append(obj)
            except errors.NotFound:
                continue  # deleted meanwhile
        return {**listed, "items": deleted}

    # --- watch -------------------------------------------------------------------------------
    async def watch(self, namespace: str | None, opts: ListOptions) -> AsyncIterator[WatchEvent]:
        """Initial ADDED events when RV is unset/"0", then filtered changes after the RV."""
        self.check_fields(opts.field_selector)
        ns = self._ns(namespace)
        prefix = self.ctx.collection_prefix(self.resource, ns)
        labels, fields = opts.label_selector, opts.field_selector
        if opts.resource_version in ("", "0"):
            with api_errors(self.resource):
                items, start = await self.storage.list(prefix)
            for item in items:
                if self.matches(item, labels, fields):
                    yield WatchEvent("ADDED", item, start)
        else:
            try:
                start = int(opts.resource_version)
            except ValueError as exc:
                raise errors.BadRequest(f"invalid resource version {opts.resource_version!r}") from exc
        try:
            async for ev in self.storage.watch(prefix, start):
                out = self._filter(ev, labels, fields)
                if out is not None:
                    yield out
        except st.Compacted as exc:
            raise expired(exc) from exc
        except st.Unavailable as exc:
            raise errors.ServiceUnavailable(str(exc)) from exc

    def _filter(self, ev: st.Event, labels: LabelSelector, fields: FieldSelector) -> WatchEvent | None:
        """Selectors apply to old and new: an object that stops matching is DELETED for the watcher."""
        new_ok = ev.obj is not None and self.matches(ev.obj, labels, fields)
        old_ok = ev.prev is not None and self.matches(ev.prev, labels, fields)
        if ev.type == "DELETED":
            if not old_ok or ev.prev is None:
                return None
            gone = copy.deepcopy(ev.prev)
            gone["metadata"]["resourceVersion"] = str(ev.revision)
            return WatchEvent("DELETED", gone, ev.revision)
        assert ev.obj is not None
        if new_ok and old_ok:
            return WatchEvent("MODIFIED", ev.obj, ev.revision)
        if new_ok:
            return WatchEvent("ADDED", ev.obj, ev.revision)
        if old_ok:
            return WatchEvent("DELETED", ev.obj, ev.revision)
        return None


def _sort_key(obj: Obj) -> str:
    return meta.key(obj)


def _encode_continue(start: str, rev: int) -> str:
    raw = orjson.dumps({"v": "meta.k8s.io/v1", "rv": rev, "start": start})
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def _decode_continue(token: str) -> tuple[str, int]:
    try:
        data = orjson.loads(base64.urlsafe_b64decode(token + "=" * (-len(token) % 4)))
        return str(data["start"]), int(data["rv"])
    except Exception as exc:
        raise errors.BadRequest("continue key is not valid: incorrect encoded start "
                                "resourceVersion (version meta.k8s.io/v1)") from exc
