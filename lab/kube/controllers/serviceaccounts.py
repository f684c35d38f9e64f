"""ServiceAccounts controller (`serviceaccount`, upstream `serviceaccounts_controller.go`): a
`default` ServiceAccount in every active namespace, recreated when someone deletes it.

The key is a namespace name; namespace adds and updates, and deletions of a `default`
account, enqueue it. Terminating namespaces are left alone.
"""

from __future__ import annotations

import logging

from lab.kube.client import Client, WorkQueue, run_controller
from lab.kube.controllers.informers import SharedInformers
from lab.kube.machinery import catalog, errors, meta
from lab.kube.machinery.objects import Obj, status_of

log = logging.getLogger(__name__)
DEFAULT = "default"


def is_active(namespace: Obj) -> bool:
    return status_of(namespace).get("phase") == "Active" and not meta.is_deleting(namespace)


class ServiceAccountsController:
    name = "serviceaccount"

    def __init__(self, client: Client, informers: SharedInformers) -> None:
        self.client = client
        self.namespaces = informers.get(catalog.NAMESPACES)
        self.accounts = informers.get(catalog.SERVICEACCOUNTS)
        self.queue = WorkQueue(self.name)

        def on_namespace(ns: Obj) -> None:
            self.queue.add(meta.name(ns))

        def on_account_delete(sa: Obj) -> None:
            if meta.name(sa) == DEFAULT:
                self.queue.add(meta.namespace(sa))

        self.namespaces.add_handler(on_namespace, lambda old, new: on_namespace(new))
        self.accounts.add_handler(on_delete=on_account_delete)

    async def run(self, workers: int = 5) -> None:
        await run_controller(self.queue, self.sync, workers)

    async def sync(self, namespace: str) -> None:
        ns = self.namespaces.store.get(namespace)
        if ns is None or not is_active(ns):
            return
        if self.accounts.store.get(f"{namespace}/{DEFAULT}") is not None:
            return
        try:
            await self.client.create(catalog.SERVICEACCOUNTS, {"metadata": {"name": DEFAULT}}, namespace)
            log.info("created ServiceAccount %s/%s", namespace, DEFAULT)
        except errors.AlreadyExists:  # our cache was behind: it is there, which is all we want
            pass
        except (errors.NotFound, errors.Forbidden) as exc:  # the namespace went away or is terminating
            log.info("not creating ServiceAccount %s/%s: %s", namespace, DEFAULT, exc)
