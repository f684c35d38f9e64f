"""Root CA publisher (`root-ca-cert-publisher`, upstream `rootcacertpublisher/publisher.go`):
the ConfigMap `kube-root-ca.crt` with the cluster CA (`--root-ca-file`) in every active
namespace, so pods can verify the API server; drift is corrected, a deleted one recreated.
"""

from __future__ import annotations

import asyncio
import copy
import logging
from pathlib import Path

from lab.kube.client import Client, WorkQueue, run_controller
from lab.kube.controllers.informers import SharedInformers
from lab.kube.controllers.serviceaccounts import is_active
from lab.kube.machinery import catalog, errors, meta
from lab.kube.machinery.objects import Obj

log = logging.getLogger(__name__)
CONFIGMAP = "kube-root-ca.crt"
DATA_KEY = "ca.crt"
DESCRIPTION = "kubernetes.io/description"
DESCRIPTION_TEXT = (
    "Contains a CA bundle that can be used to verify the kube-apiserver when using internal endpoints "
    "such as the internal service IP or kubernetes.default.svc. No other usage is guaranteed across "
    "distributions of Kubernetes clusters.")


class RootCACertPublisher:
    name = "root-ca-cert-publisher"

    def __init__(self, client: Client, informers: SharedInformers, root_ca_file: str) -> None:
        self.client = client
        self.root_ca_file = root_ca_file
        self.root_ca = ""  # read in run(), off the event loop
        self.namespaces = informers.get(catalog.NAMESPACES)
        self.configmaps = informers.get(catalog.CONFIGMAPS)
        self.queue = WorkQueue(self.name)

        def on_namespace(ns: Obj) -> None:
            self.queue.add(meta.name(ns))

        def on_configmap(cm: Obj) -> None:
            if meta.name(cm) == CONFIGMAP:
                self.queue.add(meta.namespace(cm))

        self.namespaces.add_handler(on_namespace, lambda old, new: on_namespace(new))
        self.configmaps.add_handler(on_update=lambda old, new: on_configmap(new), on_delete=on_configmap)

    async def run(self, workers: int = 5) -> None:
        self.root_ca = await asyncio.to_thread(Path(self.root_ca_file).read_text)
        await run_controller(self.queue, self.sync, workers)

    async def sync(self, namespace: str) -> None:
        ns = self.namespaces.store.get(namespace)
        if ns is None or not is_active(ns):
            return
        data = {DATA_KEY: self.root_ca}
        current = self.configmaps.store.get(f"{namespace}/{CONFIGMAP}")
        try:
            if current is None:
                await self.client.create(catalog.CONFIGMAPS, {
                    "metadata": {"name": CONFIGMAP, "annotations": {DESCRIPTION: DESCRIPTION_TEXT}},
                    "data": data}, namespace)
                return
            if current.get("data") == data and meta.annotations(current).get(DESCRIPTION):
                return
            wanted = copy.deepcopy(current)  # never change the cache's object in place
            wanted["data"] = data
            wanted["metadata"].setdefault("annotations", {})[DESCRIPTION] = DESCRIPTION_TEXT
            await self.client.update(catalog.CONFIGMAPS, wanted)
        except (errors.NotFound, errors.Forbidden) as exc:  # the namespace went away or is terminating
            log.info("not publishing %s/%s: %s", namespace, CONFIGMAP, exc)
