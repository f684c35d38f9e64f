"""Static pods (upstream pkg/kubelet/config/file.go) and their mirror pods (pkg/kubelet/pod/mirror_client.go).

Every `*.yaml`, `*.yml` or `*.json` file in `staticPodPath` holds one Pod; the kubelet runs it
as its own, whatever the API says. As upstream: its name gets `-<node name>`, its namespace
defaults to `default`, its UID is a hash of the manifest, the node and the file, and it carries
the `kubernetes.io/config.{source,hash,seen}` annotations and a toleration of every NoExecute
taint. The directory is read again every `fileCheckFrequency` (20 s); a file that does not parse
is logged and skipped, the others keep running.

Its mirror pod is the API's copy: same name and namespace, `kubernetes.io/config.mirror` set to
the static pod's hash, owned by the Node. It is created when missing, replaced when the manifest
changed or someone deleted it, and removed when the static pod is gone; the static pod's status
is written to it.
"""

from __future__ import annotations

import asyncio
import copy
import hashlib
import logging
from collections.abc import Callable
from pathlib import Path

import orjson
import yaml

from lab.kube.client import Client
from lab.kube.machinery import catalog, errors, meta
from lab.kube.machinery.objects import Obj, spec_of

log = logging.getLogger(__name__)
CONFIG_SOURCE = "kubernetes.io/config.source"
CONFIG_HASH = "kubernetes.io/config.hash"
CONFIG_SEEN = "kubernetes.io/config.seen"
CONFIG_MIRROR = "kubernetes.io/config.mirror"
SUFFIXES = (".yaml", ".yml", ".json")
FILE_CHECK_FREQUENCY = 20.0  # upstream fileCheckFrequency


class ManifestError(ValueError):
    """A static pod file that is not one valid Pod."""


def load_manifest(path: Path, node_name: str) -> Obj:
    """The static pod in `path`, with upstream's file-source defaults applied."""
    try:
        raw = path.read_bytes()
        pod = yaml.safe_load(raw) if path.suffix != ".json" else orjson.loads(raw)
    except (OSError, yaml.YAMLError, orjson.JSONDecodeError) as exc:
        raise ManifestError(f"{path}: {exc}") from exc
    if not isinstance(pod, dict) or pod.get("kind") != "Pod" or pod.get("apiVersion") != "v1":
        raise ManifestError(f"{path}: not a v1 Pod")
    md = pod.setdefault("metadata", {})
    if not md.get("name") or not (spec_of(pod).get("containers")):
        raise ManifestError(f"{path}: a static pod needs metadata.name and spec.containers")
    hasher = hashlib.md5(usedforsecurity=False)
    hasher.update(orjson.dumps(pod, option=orjson.OPT_SORT_KEYS))
    hasher.update(f"host:{node_name}file:{path}".encode())
    uid = md.get("uid") or hasher.hexdigest()
    md.update(name=f"{md['name']}-{node_name.lower()}", namespace=md.get("namespace") or "default", uid=uid)
    md["annotations"] = {**(md.get("annotations") or {}), CONFIG_SOURCE: "file", CONFIG_HASH: uid,
                         CONFIG_SEEN: meta.now()}
    spec = pod.setdefault("spec", {})
    spec["nodeName"] = node_name
    spec.setdefault("restartPolicy", "Always")
    spec.setdefault("dnsPolicy", "ClusterFirst")
    spec.setdefault("terminationGracePeriodSeconds", 30)
    spec.setdefault("enableServiceLinks", True)
    spec["tolerations"] = [*(spec.get("tolerations") or []), {"operator": "Exists", "effect": "NoExecute"}]
    for c in [*(spec.get("initContainers") or []), *spec["containers"]]:
        c.setdefault("terminationMessagePath", "/dev/termination-log")
        c.setdefault("terminationMessagePolicy", "File")
    pod["status"] = {"phase": "Pending"}
    return pod


def static_hash(pod: Obj) -> str:
    return meta.annotations(pod).get(CONFIG_HASH, "")


def is_mirror(pod: Obj) -> bool:
    return CONFIG_MIRROR in meta.annotations(pod)


class StaticPodSource:
    """The static pods of one directory, by `namespace/name`; `on_change(key)` hears of each change."""

    def __init__(self, path: str, node_name: str, on_change: Callable[[str], None],
                 period: float = FILE_CHECK_FREQUENCY) -> None:
        self.path, self.node_name, self.on_change, self.period = Path(path), node_name, on_change, period
        self.pods: dict[str, Obj] = {}
        self._failed: set[Path] = set()

    def scan(self) -> None:
        found: dict[str, Obj] = {}
        files = sorted(p for p in self.path.iterdir() if p.suffix in SUFFIXES) if self.path.is_dir() else []
        for file in files:
            try:
                pod = load_manifest(file, self.node_name)
            except ManifestError as exc:
                if file not in self._failed:  # said once, not every 20 s
                    log.error("Could not process static pod manifest: %s", exc)
                self._failed.add(file)
                continue
            self._failed.discard(file)
            key = meta.key(pod)
            old = self.pods.get(key)
            if old is not None and static_hash(old) == static_hash(pod):
                pod = old  # unchanged: keep its first config.seen
            found[key] = pod
        changed = {k for k in found.keys() | self.pods.keys()
                   if static_hash(found.get(k) or {}) != static_hash(self.pods.get(k) or {})}
        self.pods = found
        for key in changed:
            self.on_change(key)

    async def run(self) -> None:
        while True:
            await asyncio.to_thread(self.scan)
            await asyncio.sleep(self.period)


class MirrorPods:
    """The API's copies of this node's static pods."""

    def __init__(self, client: Client, node_name: str, node_uid: Callable[[], str]) -> None:
        self.client, self.node_name, self.node_uid = client, node_name, node_uid

    def mirror_of(self, static: Obj) -> Obj:
        md = meta.metadata(static)
        body = {"apiVersion": "v1", "kind": "Pod",
                "metadata": {"name": md["name"], "namespace": md["namespace"], "labels": md.get("labels") or {},
                             "annotations": {**meta.annotations(static), CONFIG_MIRROR: static_hash(static)},
                             "ownerReferences": [{"apiVersion": "v1", "kind": "Node", "name": self.node_name,
                                                  "uid": self.node_uid(), "controller": True}]},
                "spec": copy.deepcopy(spec_of(static))}
        return body

    async def ensure(self, static: Obj, current: Obj | None) -> Obj | None:
        """The up-to-date mirror pod of `static`, creating (or replacing) it; None while that is under way."""
        if current is not None and not is_mirror(current):
            log.warning("Pod %s exists in the API and is no mirror pod; static pod %s has none",
                        meta.key(current), meta.key(static))
            return None
        if current is not None and (meta.is_deleting(current)
                                    or meta.annotations(current).get(CONFIG_MIRROR) != static_hash(static)):
            await self.delete(current)
            return None  # the next sync (on the deletion event) creates the new one
        if current is not None:
            return current
        try:
            created = await self.client.create(catalog.PODS, self.mirror_of(static), meta.namespace(static))
            log.info("Created mirror pod %s", meta.key(static))
            return created
        except errors.AlreadyExists:
            return None  # the informer has not seen it yet
        except errors.APIError as exc:
            log.warning("Creating mirror pod %s failed: %s", meta.key(static), exc)
            return None

    async def delete(self, mirror: Obj) -> None:
        try:
            await self.client.delete(catalog.PODS, meta.name(mirror), meta.namespace(mirror), grace_period_seconds=0,
                                     preconditions={"uid": meta.uid(mirror)})
            log.info("Deleted mirror pod %s", meta.key(mirror))
        except (errors.NotFound, errors.Conflict):
            pass
