"""DaemonSet controller (upstream `pkg/controller/daemon`, `--controllers` name `daemonset`):
one pod on every node the template fits, pinned by node affinity on `metadata.name` and given
upstream's automatic tolerations; revisions kept as ControllerRevisions.

sync(key): the current revision (a ControllerRevision whose data is the template, named
`<ds>-<hash>`; a template seen before gets its revision number back, which is what `kubectl
rollout undo` relies on); per node: create the missing pod, delete the pods of nodes it no longer
fits, failed pods and duplicates; RollingUpdate replaces old-revision pods at most
`maxUnavailable` unavailable at a time (OnDelete waits for the user); history beyond
`revisionHistoryLimit` is pruned; status as `kubectl rollout status` reads it.
"""

from __future__ import annotations

import asyncio
import copy
import logging
from typing import Any

from lab.kube.client import Client, WorkQueue, run_controller
from lab.kube.client.events import WARNING, EventRecorder
from lab.kube.controllers.deployment_util import compute_hash
from lab.kube.controllers.equality import semantically_equal
from lab.kube.controllers.expectations import Expectations
from lab.kube.controllers.informers import NAMESPACE_INDEX, SharedInformers
from lab.kube.controllers.podcontrol import create_pod, delete_pod
from lab.kube.controllers.podutil import is_available, is_ready
from lab.kube.controllers.refmanager import claim
from lab.kube.machinery import catalog, errors, meta
from lab.kube.machinery.intstr import scaled_value
from lab.kube.machinery.nodeaffinity import required_matches
from lab.kube.machinery.objects import Obj, spec_of, status_of
from lab.kube.machinery.selectors import LabelSelector
from lab.kube.machinery.taints import NO_EXECUTE, NO_SCHEDULE, NOT_READY, UNREACHABLE, tolerated

log = logging.getLogger(__name__)
HASH_LABEL = "controller-revision-hash"
GENERATION_LABEL = "pod-template-generation"
PREFIX = "node.kubernetes.io/"
# upstream `AddOrUpdateDaemonPodTolerations`: daemon pods survive what would evict other pods
AUTOMATIC_TOLERATIONS = [
    {"key": NOT_READY, "operator": "Exists", "effect": NO_EXECUTE},
    {"key": UNREACHABLE, "operator": "Exists", "effect": NO_EXECUTE},
    {"key": PREFIX + "disk-pressure", "operator": "Exists", "effect": NO_SCHEDULE},
    {"key": PREFIX + "memory-pressure", "operator": "Exists", "effect": NO_SCHEDULE},
    {"key": PREFIX + "pid-pressure", "operator": "Exists", "effect": NO_SCHEDULE},
    {"key": PREFIX + "unschedulable", "operator": "Exists", "effect": NO_SCHEDULE},
]
HOST_NETWORK_TOLERATION = {"key": PREFIX + "network-unavailable", "operator": "Exists", "effect": NO_SCHEDULE}


def daemon_pod_spec(ds: Obj) -> Obj:
    """The template's pod spec with the automatic tolerations added (none replaced)."""
    spec = copy.deepcopy(spec_of(spec_of(ds).get("template") or {}))
    tolerations = list(spec.get("tolerations") or [])
    extra = AUTOMATIC_TOLERATIONS + ([HOST_NETWORK_TOLERATION] if spec.get("hostNetwork") else [])
    for t in extra:
        if not any(x.get("key") == t["key"] and x.get("effect") == t["effect"] for x in tolerations):
            tolerations.append(dict(t))
    spec["tolerations"] = tolerations
    return spec


def fit(ds: Obj, node: Obj) -> tuple[bool, bool]:
    """Upstream `NodeShouldRunDaemonPod`: (should run a new pod, may keep a running one). The
    node selector and required affinity decide both; an untolerated NoSchedule taint only keeps
    new pods away, an untolerated NoExecute one also removes the running pod."""
    pod = {"metadata": {}, "spec": daemon_pod_spec(ds)}
    if not required_matches(pod, node):
        return False, False
    tolerations = spec_of(pod).get("tolerations") or []
    untolerated = {t.get("effect") for t in spec_of(node).get("taints") or []
                   if t.get("effect") in (NO_SCHEDULE, NO_EXECUTE) and not tolerated(tolerations, t)}
    return not untolerated, NO_EXECUTE not in untolerated


def should_run(ds: Obj, node: Obj) -> bool:
    return fit(ds, node)[0]


def revision_data(ds: Obj) -> Obj:
    """What the ControllerRevision stores: upstream's template patch, which `kubectl rollout undo`
    applies to the DaemonSet."""
    template = copy.deepcopy(spec_of(ds).get("template") or {})
    template["$patch"] = "replace"
    return {"spec": {"template": template}}


def pinned(spec: Obj, node_name: str) -> Obj:
    """Upstream `ReplaceDaemonSetPodNodeNameNodeAffinity`: the scheduler may place it on `node_name` only."""
    affinity = spec.setdefault("affinity", {})
    node_affinity = affinity.setdefault("nodeAffinity", {})
    node_affinity["requiredDuringSchedulingIgnoredDuringExecution"] = {"nodeSelectorTerms": [{"matchFields": [
        {"key": "metadata.name", "operator": "In", "values": [node_name]}]}]}
    return spec


class DaemonSetController:
    name = "daemonset"

    def __init__(self, client: Client, informers: SharedInformers) -> None:
        self.client = client
        self.recorder = EventRecorder(client, "daemonset-controller")
        self.daemonsets = informers.get(catalog.DAEMONSETS)
        self.pods = informers.get(catalog.PODS)
        self.nodes = informers.get(catalog.NODES)
        self.revisions = informers.get(catalog.CONTROLLER_REVISIONS)
        self.queue = WorkQueue(self.name)
        self.expectations = Expectations()
        self.daemonsets.add_handler(self._enqueue, lambda _old, new: self._enqueue(new), self._enqueue)
        self.pods.add_handler(self._pod_changed, lambda _old, new: self._pod_changed(new), self._pod_deleted)
        self.nodes.add_handler(self._all, lambda _old, _new: self._all(None), self._all)

    def _enqueue(self, ds: Obj) -> None:
        self.queue.add(meta.key(ds))

    def _all(self, _node: Obj | None) -> None:
        for ds in self.daemonsets.store.list():
            self.queue.add(meta.key(ds))

    def _owner(self, pod: Obj) -> str | None:
        ref = meta.controller_ref(pod)
        return f"{meta.namespace(pod)}/{ref.get('name')}" if ref and ref.get("kind") == "DaemonSet" else None

    def _pod_changed(self, pod: Obj) -> None:
        if (key := self._owner(pod)) is not None:
            if not meta.is_deleting(pod):
                self.expectations.creation_observed(key)
            else:
                self.expectations.deletion_observed(key, meta.key(pod))
            self.queue.add(key)

    def _pod_deleted(self, pod: Obj) -> None:
        if (key := self._owner(pod)) is not None:
            self.expectations.deletion_observed(key, meta.key(pod))
            self.queue.add(key)

    async def run(self, workers: int = 5) -> None:
        await run_controller(self.queue, self.sync, workers)

    async def sync(self, key: str) -> None:
        ds = self.daemonsets.store.get(key)
        if ds is None:
            self.expectations.delete(key)
            return
        if meta.is_deleting(ds):
            return
        selector = LabelSelector.from_object(spec_of(ds).get("selector"))
        candidates = self.pods.store.by_index(NAMESPACE_INDEX, meta.namespace(ds))
        pods = await claim(self.client, catalog.PODS, ds, selector, candidates)
        current_hash = await self._current_revision(ds)
        by_node: dict[str, list[Obj]] = {}
        for pod in pods:
            by_node.setdefault(str(spec_of(pod).get("nodeName") or _pinned_node(pod)), []).append(pod)
        nodes = self.nodes.store.list()
        if self.expectations.satisfied(key):
            await self._manage(key, ds, nodes, by_node, current_hash)
        await self._prune_history(ds, pods, current_hash)
        await self._update_status(ds, nodes, by_node, current_hash)

    async def _current_revision(self, ds: Obj) -> str:
        """The hash of the template's ControllerRevision, made or renumbered as needed."""
        data = revision_data(ds)
        collision = int(status_of(ds).get("collisionCount") or 0)
        current_hash = compute_hash(spec_of(ds).get("template") or {}, collision)
        owned = self._owned_revisions(ds)
        latest = max((int(r.get("revision") or 0) for r in owned), default=0)
        name = f"{meta.name(ds)}-{current_hash}"
        existing = next((r for r in owned if meta.name(r) == name), None)
        if existing is None:
            labels = {**meta.labels(spec_of(ds).get("template") or {}), HASH_LABEL: current_hash}
            body = {"apiVersion": "apps/v1", "kind": "ControllerRevision",
                    "metadata": {"name": name, "namespace": meta.namespace(ds), "labels": labels,
                                 "ownerReferences": [meta.new_controller_ref(ds)]},
                    "data": data, "revision": latest + 1}
            try:
                await self.client.create(catalog.CONTROLLER_REVISIONS, body, meta.namespace(ds))
            except errors.AlreadyExists:
                pass  # made by an earlier sync, not in the cache yet
        elif int(existing.get("revision") or 0) < latest:  # a rollback to an older template
            await self.client.patch(catalog.CONTROLLER_REVISIONS, name, {"revision": latest + 1}, meta.namespace(ds))
        return current_hash

    def _owned_revisions(self, ds: Obj) -> list[Obj]:
        return [r for r in self.revisions.store.by_index(NAMESPACE_INDEX, meta.namespace(ds))
                if (meta.controller_ref(r) or {}).get("uid") == meta.uid(ds)]

    async def _manage(self, key: str, ds: Obj, nodes: list[Obj], by_node: dict[str, list[Obj]],
                      current_hash: str) -> None:
        create: list[str] = []
        delete: list[Obj] = []
        for node in nodes:
            name = meta.name(node)
            here = [p for p in by_node.get(name, []) if not meta.is_deleting(p)]
            failed = [p for p in here if status_of(p).get("phase") == "Failed"]
            for pod in failed:
                self.recorder.event(ds, WARNING, "FailedDaemonPod", f"Found failed daemon pod "
                                    f"{meta.key(pod)} on node {name}, will try to kill it")
            delete += failed
            here = [p for p in here if p not in failed]
            run, keep = fit(ds, node)
            if run and not here and not failed:
                create.append(name)
            if run or (keep and here):
                delete += sorted(here, key=lambda p: meta.metadata(p).get("creationTimestamp") or "")[1:]
            else:
                delete += here
        known = {meta.name(n) for n in nodes}
        delete += [p for n, ps in by_node.items() if n not in known for p in ps if not meta.is_deleting(p)]
        delete += self._rolling_victims(ds, nodes, by_node, current_hash, delete)
        if delete:
            self.expectations.expect_deletions(key, [meta.key(p) for p in delete])
            await asyncio.gather(*(self._delete(ds, p) for p in delete))
        if create:
            self.expectations.expect_creations(key, len(create))
            results = await asyncio.gather(*(self._create(ds, n, current_hash) for n in create),
                                           return_exceptions=True)
            failures = [r for r in results if isinstance(r, BaseException)]
            for _ in failures:
                self.expectations.creation_observed(key)
            if failures:
                raise failures[0]

    def _rolling_victims(self, ds: Obj, nodes: list[Obj], by_node: dict[str, list[Obj]], current_hash: str,
                         doomed: list[Obj]) -> list[Obj]:
        """RollingUpdate (maxSurge 0): old pods to delete now, unavailable ones first, keeping at
        most maxUnavailable of the desired nodes without an available pod."""
        strategy = spec_of(ds).get("updateStrategy") or {}
        if strategy.get("type", "RollingUpdate") != "RollingUpdate":
            return []
        desired = [n for n in nodes if should_run(ds, n)]
        budget = scaled_value((strategy.get("rollingUpdate") or {}).get("maxUnavailable", 1), len(desired),
                              round_up=True) or 1
        min_ready = int(spec_of(ds).get("minReadySeconds") or 0)
        gone = {meta.uid(p) for p in doomed}
        unavailable = 0
        old_available: list[Obj] = []
        old_unavailable: list[Obj] = []
        for node in desired:
            here = [p for p in by_node.get(meta.name(node), []) if not meta.is_deleting(p) and meta.uid(p) not in gone]
            if not here:
                unavailable += 1
                continue
            pod = here[0]
            ok = is_available(pod, min_ready)
            if not ok:
                unavailable += 1
            if meta.labels(pod).get(HASH_LABEL) != current_hash:
                (old_available if ok else old_unavailable).append(pod)
        victims = list(old_unavailable)  # already down: replacing them costs nothing
        room = budget - unavailable
        victims += old_available[:max(0, room)]
        return victims

    async def _create(self, ds: Obj, node_name: str, current_hash: str) -> None:
        template = spec_of(ds).get("template") or {}
        tmeta = meta.metadata(template)
        labels = {**(tmeta.get("labels") or {}), HASH_LABEL: current_hash,
                  GENERATION_LABEL: str(meta.generation(ds))}
        md: Obj = {"generateName": f"{meta.name(ds)}-", "namespace": meta.namespace(ds), "labels": labels,
                   "ownerReferences": [meta.new_controller_ref(ds)]}
        if tmeta.get("annotations"):
            md["annotations"] = dict(tmeta["annotations"])
        body = {"apiVersion": "v1", "kind": "Pod", "metadata": md, "spec": pinned(daemon_pod_spec(ds), node_name)}
        await create_pod(self.client, self.recorder, ds, body)

    async def _delete(self, ds: Obj, pod: Obj) -> None:
        if not await delete_pod(self.client, self.recorder, ds, pod):  # already gone: nothing to wait for
            self.expectations.deletion_observed(meta.key(ds), meta.key(pod))

    async def _prune_history(self, ds: Obj, pods: list[Obj], current_hash: str) -> None:
        limit = int(spec_of(ds).get("revisionHistoryLimit", 10))
        live = {meta.labels(p).get(HASH_LABEL) for p in pods} | {current_hash}
        old = sorted((r for r in self._owned_revisions(ds) if meta.labels(r).get(HASH_LABEL) not in live),
                     key=lambda r: int(r.get("revision") or 0))
        for revision in old[:max(0, len(old) - limit)]:
            try:
                await self.client.delete(catalog.CONTROLLER_REVISIONS, meta.name(revision), meta.namespace(revision))
            except errors.NotFound:
                continue

    async def _update_status(self, ds: Obj, nodes: list[Obj], by_node: dict[str, list[Obj]], current_hash: str) -> None:
        min_ready = int(spec_of(ds).get("minReadySeconds") or 0)
        desired = current = misscheduled = ready = updated = available = 0
        for node in nodes:
            here = [p for p in by_node.get(meta.name(node), []) if not meta.is_deleting(p)]
            if should_run(ds, node):
                desired += 1
                if here:
                    current += 1
                    pod = here[0]
                    ready += 1 if is_ready(pod) else 0
                    available += 1 if is_available(pod, min_ready) else 0
                    updated += 1 if meta.labels(pod).get(HASH_LABEL) == current_hash else 0
            elif here:
                misscheduled += 1
        status: dict[str, Any] = {**status_of(ds), "desiredNumberScheduled": desired,
                                  "currentNumberScheduled": current, "numberMisscheduled": misscheduled,
                                  "numberReady": ready, "updatedNumberScheduled": updated,
                                  "numberAvailable": available, "observedGeneration": meta.generation(ds)}
        if desired - available:
            status["numberUnavailable"] = desired - available
        else:
            status.pop("numberUnavailable", None)
        if not semantically_equal(status, status_of(ds)):
            await self.client.update(catalog.DAEMONSETS, {**ds, "status": status}, subresource="status")
        if min_ready and ready != available:
            self.queue.add_after(meta.key(ds), min_ready)


def _pinned_node(pod: Obj) -> str:
    """The node a not-yet-scheduled daemon pod is pinned to."""
    terms = ((((spec_of(pod).get("affinity") or {}).get("nodeAffinity") or {})
              .get("requiredDuringSchedulingIgnoredDuringExecution") or {}).get("nodeSelectorTerms") or [])
    for term in terms:
        for field in term.get("matchFields") or []:
            if field.get("key") == "metadata.name" and field.get("values"):
                return str(field["values"][0])
    return ""
