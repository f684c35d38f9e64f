"""An informer mirrors the server into its cache and tells handlers what changed, even across outages."""

import asyncio

import pytest

from lab.kube.client import Informer
from lab.kube.machinery.catalog import PODS
from tests.support import eventually


def pod(name, node=None, **labels):
    spec = {"containers": [{"name": "app", "image": "nginx"}], **({"nodeName": node} if node else {})}
    return {"metadata": {"name": name, "namespace": "default", "labels": labels}, "spec": spec}


class Recorder:
    def __init__(self, informer):
        self.events = []
        informer.add_handler(
            on_add=lambda o: self.events.append(("add", o["metadata"]["name"])),
            on_update=lambda old, new: self.events.append(("update", new["metadata"]["name"])),
            on_delete=lambda o: self.events.append(("delete", o["metadata"]["name"])),
        )

    async def until(self, event, timeout=3.0):
        await eventually(lambda: event in self.events, timeout, f"{event} in {self.events}")


@pytest.fixture
async def running(client):
    tasks = []

    def start(informer):
        tasks.append(asyncio.create_task(informer.run()))
        return informer

    yield start
    for t in tasks:
        t.cancel()
    await asyncio.gather(*tasks, return_exceptions=True)


async def test_initial_list_fills_the_cache_and_announces_adds(api, client, running):
    await api.seed(PODS, pod("a"))
    await api.seed(PODS, pod("b"))
    informer = Informer(client, PODS)
    rec = Recorder(informer)
    running(informer)
    await informer.wait_synced(3)
    assert sorted(informer.store.keys()) == ["default/a", "default/b"]
    assert sorted(rec.events) == [("add", "a"), ("add", "b")]


async def test_watch_events_become_adds_updates_and_deletes(api, client, running):
    informer = running(Informer(client, PODS))
    rec = Recorder(informer)
    await informer.wait_synced(3)
    await client.create(PODS, pod("web"))
    await rec.until(("add", "web"))
    await client.patch(PODS, "web", {"metadata": {"labels": {"v": "2"}}}, "default")
    await rec.until(("update", "web"))
    assert informer.store.get("default/web")["metadata"]["labels"] == {"v": "2"}
    await client.delete(PODS, "web", "default")
    await rec.until(("delete", "web"))
    assert informer.store.get("default/web") is None


async def test_relist_after_expiry_reports_deletes_missed_while_disconnected(api, client, running):
    await api.seed(PODS, pod("keep"))
    await api.seed(PODS, pod("gone"))
    informer = running(Informer(client, PODS))
    rec = Recorder(informer)
    await informer.wait_synced(3)
    await eventually(lambda: api.open_watches == 1, what="the informer's watch")
    api.pause_watches()  # a partition: the informer's watch hears nothing of what follows
    await client.delete(PODS, "gone", "default")
    await client.create(PODS, pod("new"))
    api.compact()
    api.expire_watches()  # the server tells the watch it is too old: re-list and diff
    await rec.until(("delete", "gone"))
    await rec.until(("add", "new"))
    assert sorted(informer.store.keys()) == ["default/keep", "default/new"]
    assert ("update", "keep") not in rec.events, "unchanged objects are not re-announced"


async def test_unchanged_resource_version_is_not_an_update(api, client, running):
    informer = running(Informer(client, PODS))
    rec = Recorder(informer)
    await informer.wait_synced(3)
    stored = await api.seed(PODS, pod("a"))
    await rec.until(("add", "a"))
    informer._apply("MODIFIED", stored)  # a duplicate delivery of the same version
    assert rec.events == [("add", "a")]


async def test_bookmarks_only_advance_the_resource_version(client):
    informer = Informer(client, PODS)
    rec = Recorder(informer)
    informer._apply("BOOKMARK", {"kind": "Pod", "apiVersion": "v1", "metadata": {"resourceVersion": "42"}})
    assert informer.resource_version == "42" and rec.events == [] and len(informer.store) == 0


async def test_label_selector_limits_what_is_cached(api, client, running):
    await api.seed(PODS, pod("web", app="web"))
    await api.seed(PODS, pod("db", app="db"))
    informer = running(Informer(client, PODS, label_selector="app=web"))
    await informer.wait_synced(3)
    assert informer.store.keys() == ["default/web"]


async def test_a_late_handler_is_told_about_the_cache(api, client, running):
    await api.seed(PODS, pod("a"))
    informer = running(Informer(client, PODS))
    await informer.wait_synced(3)
    rec = Recorder(informer)
    assert rec.events == [("add", "a")]


async def test_a_failing_handler_does_not_stop_the_informer(api, client, running):
    informer = Informer(client, PODS)
    informer.add_handler(on_add=lambda o: 1 / 0)
    rec = Recorder(informer)
    running(informer)
    await informer.wait_synced(3)
    await client.create(PODS, pod("x"))
    await rec.until(("add", "x"))


async def test_informer_recovers_from_a_dropped_watch(api, client, running):
    informer = running(Informer(client, PODS))
    rec = Recorder(informer)
    await informer.wait_synced(3)
    await eventually(lambda: api.open_watches == 1, what="the informer's watch")
    api.drop_watches()
    assert api.open_watches == 0
    await client.create(PODS, pod("after"))  # lands while the informer is disconnected
    await rec.until(("add", "after"), timeout=5)
    await eventually(lambda: api.open_watches == 1, what="the informer watching again")


async def test_indexes_answer_by_value(api, client, running):
    await api.seed(PODS, pod("a", node="n1"))
    await api.seed(PODS, pod("b", node="n2"))
    informer = running(Informer(client, PODS))
    informer.store.add_index("node", lambda p: [p.get("spec", {}).get("nodeName", "")])
    await informer.wait_synced(3)
    assert [p["metadata"]["name"] for p in informer.store.by_index("node", "n1")] == ["a"]
