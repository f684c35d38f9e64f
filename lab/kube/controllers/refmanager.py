"""Claiming dependents (upstream `ControllerRefManager`): adopt orphans, release mismatches.

An owner keeps the objects whose controller ref names its uid and whose labels still
match its selector; orphans that match are adopted, and owned objects that stopped
matching are released, each by patching `metadata.ownerReferences`.
"""

from __future__ import annotations

import logging

from lab.kube.client import Client
from lab.kube.machinery import errors, meta
from lab.kube.machinery.catalog import Resource
from lab.kube.machinery.objects import Obj
from lab.kube.machinery.selectors import LabelSelector

log = logging.getLogger(__name__)

async def _set_owner_refs(client: Client, res: Resource, obj: Obj, refs: list[Obj]) -> None:
    # uid in the patch: the server refuses it if the name now belongs to another object
    body = {"metadata": {"ownerReferences": refs, "uid": meta.uid(obj)}}
    await client.patch(res, meta.name(obj), body, meta.namespace(obj) or None)


async def claim(client: Client, res: Resource, owner: Obj, selector: LabelSelector, candidates: list[Obj]) -> list[Obj]:
    """The candidates `owner` controls after adopting and releasing as needed."""
    owned: list[Obj] = []
    owner_uid = meta.uid(owner)
    for obj in candidates:
        ref = meta.controller_ref(obj)
        matches = selector.matches(meta.labels(obj))
        if ref is not None:
            if ref.get("uid") != owner_uid:
                continue  # someone else's
            if matches:
                owned.append(obj)
            elif not meta.is_deleting(owner):
                refs = [r for r in meta.owner_references(obj) if r.get("uid") != owner_uid]
                try:
                    await _set_owner_refs(client, res, obj, refs)
                    log.info("released %s %s from %s", res.kind, meta.key(obj), meta.key(owner))
                except errors.NotFound:
                    pass
            continue
        if not matches or meta.is_deleting(owner) or meta.is_deleting(obj):
            continue
        refs = [*meta.owner_references(obj), meta.new_controller_ref(owner)]
        try:
            await _set_owner_refs(client, res, obj, refs)
        except errors.NotFound:
            continue  # gone meanwhile: nothing to adopt
        log.info("adopted %s %s into %s", res.kind, meta.key(obj), meta.key(owner))
        adopted = dict(obj)
        adopted["metadata"] = {**meta.metadata(obj), "ownerReferences": refs}
        owned.append(adopted)
    return owned
