"""Namespace controller (`namespace`, upstream `pkg/controller/namespace`): a deleted namespace
loses all its content, then its `kubernetes` finalizer, and the API server lets it go.

The key is a namespace name, queued when a namespace is being deleted. `sync` discovers every
namespaced resource the API serves (so resources added later are covered too), deletes each
collection (or each item where deletecollection is not served), lists what is left, and keeps
upstream's five deletion conditions on the namespace's status. Content still terminating
(pods in their grace period, objects with finalizers) requeues the namespace after half the
estimate; once nothing is left the namespace is finalized (`PUT .../finalize`).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field

from lab.kube.client import Client, WorkQueue, run_controller
from lab.kube.controllers.informers import SharedInformers
from lab.kube.machinery import catalog, errors, meta
from lab.kube.machinery.objects import Obj, spec_of, status_of

log = logging.getLogger(__name__)
FINALIZER = "kubernetes"
FINALIZER_ESTIMATE = 15  # upstream finalizerEstimateSeconds: objects with finalizers get this long
DEFAULT_GRACE = 30  # a pod's terminationGracePeriodSeconds when unset
CONDITION_TYPES = ("NamespaceDeletionDiscoveryFailure", "NamespaceDeletionGroupVersionParsingFailure",
                   "NamespaceDeletionContentFailure", "NamespaceContentRemaining", "NamespaceFinalizersRemaining")
OK = {"NamespaceDeletionDiscoveryFailure": ("ResourcesDiscovered", "All resources successfully discovered"),
      "NamespaceDeletionGroupVersionParsingFailure": ("ParsedGroupVersions",
                                                      "All legacy kube types successfully parsed"),
      "NamespaceDeletionContentFailure": ("ContentDeleted",
                                          "All content successfully deleted, may be waiting on finalization"),
      "NamespaceContentRemaining": ("ContentRemoved", "All content successfully removed"),
      "NamespaceFinalizersRemaining": ("ContentRemoved", "All content successfully removed")}


@dataclass(frozen=True)
class APIResource:
    """A namespaced resource from discovery: `group/version` and the plural name."""

    group_version: str
    name: str
    verbs: frozenset[str]

    @property
    def group(self) -> str:
        return self.group_version.rpartition("/")[0]

    def path(self, namespace: str, item: str = "") -> str:
        base = "/api/v1" if self.group_version == "v1" else f"/apis/{self.group_version}"
        return f"{base}/namespaces/{namespace}/{self.name}" + (f"/{item}" if item else "")


@dataclass
class Deletion:
    """What one pass over a namespace's content found."""

    estimate: int = 0
    remaining: dict[str, int] = field(default_factory=dict)  # "<resource>.<group>" -> items left
    finalizers: dict[str, int] = field(default_factory=dict)  # finalizer -> items holding it
    failures: list[str] = field(default_factory=list)
    discovery_failure: str = ""


def conditions(old: list[Obj], found: Deletion, now: str) -> list[Obj]:
    """Upstream's namespaceConditionUpdater: a failure where one was seen, the "ok" text otherwise."""
    bad: dict[str, tuple[str, str]] = {}
    if found.discovery_failure:
        bad["NamespaceDeletionDiscoveryFailure"] = ("DiscoveryFailed", found.discovery_failure)
    if found.failures:
        errs = sorted(found.failures)
        bad["NamespaceDeletionContentFailure"] = (
            "ContentDeletionFailed", f"Failed to delete all resource types, {len(errs)} remaining: {', '.join(errs)}")
    if left := sorted(f"{r} has {n} resource instances" for r, n in found.remaining.items() if n):
        bad["NamespaceContentRemaining"] = ("SomeResourcesRemain", f"Some resources are remaining: {', '.join(left)}")
    if held := sorted(f"{f} in {n} resource instances" for f, n in found.finalizers.items() if n):
        bad["NamespaceFinalizersRemaining"] = ("SomeFinalizerRemain",
                                               f"Some finalizers are remaining: {', '.join(held)}")
    previous = {c.get("type"): c for c in old}
    out = [c for c in old if c.get("type") not in CONDITION_TYPES]
    for kind in CONDITION_TYPES:
        status = "True" if kind in bad else "False"
        reason, message = bad.get(kind) or OK[kind]
        prev = previous.get(kind) or {}
        moved = prev.get("status") != status or not prev.get("lastTransitionTime")
        out.append({"type": kind, "status": status, "lastTransitionTime": now if moved else prev["lastTransitionTime"],
                    "reason": reason, "message": message})
    return out


def pod_estimate(pods: list[Obj]) -> int:
    """Upstream estimateGracefulTerminationForPods: the longest grace any unfinished pod may take."""
    longest = 0
    for pod in pods:
        if status_of(pod).get("phase") in ("Succeeded", "Failed"):
            continue
        grace = meta.metadata(pod).get("deletionGracePeriodSeconds")
        if grace is None:
            grace = spec_of(pod).get("terminationGracePeriodSeconds", DEFAULT_GRACE)
        longest = max(longest, int(grace or 0))
    return longest


class NamespaceController:
    name = "namespace"

    def __init__(self, client: Client, informers: SharedInformers) -> None:
        self.client = client
        self.namespaces = informers.get(catalog.NAMESPACES)
        self.queue = WorkQueue(self.name)

        def on_namespace(ns: Obj) -> None:
            if meta.is_deleting(ns):
                self.queue.add(meta.name(ns))

        self.namespaces.add_handler(on_namespace, lambda old, new: on_namespace(new))

    async def run(self, workers: int = 10) -> None:  # upstream --concurrent-namespace-syncs
        await run_controller(self.queue, self.sync, workers)

    async def sync(self, name: str) -> None:
        try:
            ns = await self.client.get(catalog.NAMESPACES, name)  # the latest: others edit it while it goes
        except errors.NotFound:
            return
        if not meta.is_deleting(ns) or FINALIZER not in (spec_of(ns).get("finalizers") or []):
            return
        found = await self.delete_content(name)
        ns = await self._write_conditions(ns, found)
        if found.failures or found.discovery_failure:
            raise RuntimeError(f"namespace {name}: " + "; ".join(found.failures or [found.discovery_failure]))
        if found.estimate > 0 or any(found.remaining.values()):
            log.info("namespace %s: some content remains, estimate %d seconds before it is removed",
                     name, found.estimate)
            self.queue.add_after(name, found.estimate // 2 + 1)
            return
        await self._finalize(ns)

    async def discover(self) -> tuple[list[APIResource], str]:
        """Every namespaced resource that can be deleted, and what discovery could not answer."""
        lists: list[Obj] = []
        failed: list[str] = []
        try:
            lists.append(await self.client.request("GET", "/api/v1"))
            groups = await self.client.request("GET", "/apis")
        except (errors.APIError, OSError, TimeoutError) as exc:
            return [], f"Discovery failed for some groups, 1 failing: {exc}"
        for g in groups.get("groups") or []:
            gv = (g.get("preferredVersion") or {}).get("groupVersion") or ""
            try:
                lists.append(await self.client.request("GET", f"/apis/{gv}"))
            except (errors.APIError, OSError, TimeoutError) as exc:
                failed.append(f"{gv}: {exc}")
        out = [APIResource(lst.get("groupVersion", "v1"), r["name"], frozenset(r.get("verbs") or []))
               for lst in lists for r in lst.get("resources") or []
               if r.get("namespaced") and "/" not in r["name"] and "delete" in (r.get("verbs") or [])]
        failure = (f"Discovery failed for some groups, {len(failed)} failing: unable to retrieve the complete list "
                   f"of server APIs: {', '.join(sorted(failed))}") if failed else ""
        return out, failure

    async def delete_content(self, namespace: str) -> Deletion:
        resources, failure = await self.discover()
        found = Deletion(discovery_failure=failure)
        for res in resources:
            key = f"{res.name}.{res.group}"
            try:
                if res.name == "pods":
                    found.estimate = max(found.estimate, pod_estimate(await self._items(res, namespace)))
                await self._delete_all(res, namespace)
                items = await self._items(res, namespace)
            except (errors.APIError, OSError, TimeoutError) as exc:
                found.failures.append(f"{key}: {exc}")
                continue
            if not items:
                continue
            found.remaining[key] = len(items)
            for item in items:
                for f in meta.finalizers(item):
                    found.finalizers[f] = found.finalizers.get(f, 0) + 1
            if any(meta.finalizers(i) for i in items):
                found.estimate = max(found.estimate, FINALIZER_ESTIMATE)
            elif res.name != "pods" and found.estimate == 0:
                found.failures.append(f"unexpected items still remain in namespace: {namespace} for gvr: {key}")
        return found

    async def _items(self, res: APIResource, namespace: str) -> list[Obj]:
        if "list" not in res.verbs:
            return []
        listed = await self.client.request("GET", res.path(namespace))
        return list(listed.get("items") or [])

    async def _delete_all(self, res: APIResource, namespace: str) -> None:
        # no orphaning: what the namespace held goes with it, dependents included
        options = {"kind": "DeleteOptions", "apiVersion": "v1", "propagationPolicy": "Background"}
        if "deletecollection" in res.verbs:
            await self.client.request("DELETE", res.path(namespace), body=options)
            return
        for item in await self._items(res, namespace):
            try:
                await self.client.request("DELETE", res.path(namespace, meta.name(item)), body=options)
            except (errors.NotFound, errors.MethodNotAllowed):
                pass

    async def _write_conditions(self, ns: Obj, found: Deletion) -> Obj:
        """The namespace as it is after its conditions say what `found` says."""
        old = status_of(ns).get("conditions") or []
        new = conditions(old, found, meta.now())
        if [(c["type"], c["status"], c["reason"], c["message"]) for c in new] == [
                (c.get("type"), c.get("status"), c.get("reason"), c.get("message")) for c in old]:
            return ns
        updated = {**ns, "status": {**status_of(ns), "conditions": new}}
        try:  # a Conflict (someone else wrote it) retries the whole sync
            written: Obj = await self.client.update(catalog.NAMESPACES, updated, subresource="status")
            return written
        except errors.NotFound:
            return ns

    async def _finalize(self, ns: Obj) -> None:
        body = {"apiVersion": "v1", "kind": "Namespace",
                "metadata": {"name": meta.name(ns), "uid": meta.uid(ns),
                             "resourceVersion": meta.resource_version(ns)},
                "spec": {"finalizers": [f for f in spec_of(ns).get("finalizers") or [] if f != FINALIZER]}}
        try:
            await self.client.update(catalog.NAMESPACES, body, subresource="finalize")
            log.info("namespace %s: all content removed, finalized", meta.name(ns))
        except errors.NotFound:
            pass  # gone already
        except errors.Conflict:
            self.queue.add(meta.name(ns))  # changed meanwhile: look again
