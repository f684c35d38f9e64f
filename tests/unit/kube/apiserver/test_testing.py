"""The in-memory API server harness: the real server's objects and rules on loopback, plus the
hooks tests use to make it misbehave (failed requests, paused, expired and cut watches)."""

from __future__ import annotations

import asyncio
from typing import Any

import aiohttp
import pytest

from lab.kube.client import Client
from lab.kube.machinery import errors, meta
from lab.kube.machinery.catalog import CONFIGMAPS, ENDPOINTS, NAMESPACES, PODS
from tests.support import eventually, holds_for

POD = {"metadata": {"name": "web", "namespace": "default"},
       "spec": {"containers": [{"name": "app", "image": "nginx"}]}}


def cm(name: str) -> dict[str, Any]:
    return {"metadata": {"name": name, "namespace": "default"}, "data": {"k": "v"}}



async def test_it_starts_with_the_objects_every_cluster_has(api, client):
    names = [n["metadata"]["name"] for n in (await client.list(NAMESPACES))["items"]]
    assert names == ["default", "kube-node-lease", "kube-public", "kube-system"]
    endpoints = await client.get(ENDPOINTS, "kubernetes", "default")
    port = int(api.config.server.rsplit(":", 1)[1])
    assert endpoints["subsets"][0]["ports"][0]["port"] == port  # the port it really serves on


async def test_seed_goes_through_the_servers_rules_and_keeps_the_status(api):
    pod = await api.seed(PODS, {**POD, "status": {"phase": "Running", "podIP": "10.244.0.5"}})
    assert pod["spec"]["restartPolicy"] == "Always"  # defaulted by the pod strategy
    assert pod["status"]["phase"] == "Running" and pod["status"]["podIP"] == "10.244.0.5"
    assert await api.object(PODS, "web", "default") == pod
    with pytest.raises(errors.Invalid, match=r"spec\.containers"):
        await api.seed(PODS, {"metadata": {"name": "bare", "namespace": "default"}})
    with pytest.raises(errors.BadRequest, match="unknown field"):
        await api.seed(CONFIGMAPS, {**cm("c"), "spec": {}})
    with pytest.raises(errors.NotFound, match='namespaces "nope" not found'):
        await api.seed(CONFIGMAPS, {**cm("c"), "metadata": {"name": "c", "namespace": "nope"}})


async def test_update_and_delete_follow_the_registry(api):
    created = await api.seed(CONFIGMAPS, cm("c"))
    await api.update(CONFIGMAPS, {**created, "data": {"k": "2"}})
    with pytest.raises(errors.Conflict):
        await api.update(CONFIGMAPS, {**created, "data": {"k": "3"}})  # a stale resourceVersion
    bound = await api.seed(PODS, {**POD, "spec": {**POD["spec"], "nodeName": "n1"}})
    terminating = await api.delete(PODS, "web", "default")
    assert terminating["metadata"]["deletionTimestamp"] and meta.uid(terminating) == meta.uid(bound)
    await api.delete(PODS, "web", "default", grace_period_seconds=0)
    assert await api.object(PODS, "web", "default") is None
    assert [meta.name(o) for o in await api.objects(CONFIGMAPS, "default")] == ["c"]


async def test_fail_next_answers_the_next_requests_with_a_status(api, client):
    api.fail_next(errors.TooManyRequests("slow down", retry_after=3), times=2)
    for _ in range(2):
        with pytest.raises(errors.TooManyRequests) as err:
            await client.list(PODS)
        assert err.value.retry_after == 3
    assert (await client.list(PODS))["items"] == []


async def test_requests_are_recorded_for_assertions(api, client):
    await asyncio.gather(client.list(PODS), client.list(NAMESPACES))
    assert ("GET", "/api/v1/pods") in api.requests and ("GET", "/api/v1/namespaces") in api.requests


async def _watch(client: Client, rv: str, seen: list[str]) -> None:
    async for ev in client.watch(CONFIGMAPS, "default", rv, timeout_seconds=10):
        seen.append(meta.name(ev.object))


async def test_paused_watches_hear_nothing_until_expired_with_a_410(api, client):
    rv = (await client.list(CONFIGMAPS, "default"))["metadata"]["resourceVersion"]
    seen: list[str] = []
    watch = asyncio.create_task(_watch(client, rv, seen))
    await eventually(lambda: api.open_watches == 1, what="the watch")
    await api.seed(CONFIGMAPS, cm("before"))
    await eventually(lambda: seen == ["before"], what="the first event")
    api.pause_watches()
    await api.seed(CONFIGMAPS, cm("during"))
    await holds_for(lambda: seen == ["before"] and not watch.done(), 0.3, "a paused watch")
    api.expire_watches()
    with pytest.raises(errors.Expired, match="too old resource version"):
        await asyncio.wait_for(watch, 2)
    assert seen == ["before"], "what a paused watch missed is never delivered to it"


async def test_compaction_expires_watches_from_older_versions(api, client):
    old = (await client.list(CONFIGMAPS, "default"))["metadata"]["resourceVersion"]
    await api.seed(CONFIGMAPS, cm("a"))
    api.compact()
    with pytest.raises(errors.Expired, match="too old resource version"):
        await _watch(client, old, [])
    current = (await client.list(CONFIGMAPS, "default"))["metadata"]["resourceVersion"]
    seen: list[str] = []
    watch = asyncio.create_task(_watch(client, current, seen))
    await api.seed(CONFIGMAPS, cm("b"))
    await eventually(lambda: seen == ["b"], what="an event after the compaction")
    watch.cancel()
    await asyncio.gather(watch, return_exceptions=True)


async def test_dropped_watches_end_without_a_clean_end_of_stream(api, client):
    watch = asyncio.create_task(_watch(client, "", []))
    await eventually(lambda: api.open_watches == 1, what="the watch")
    api.drop_watches()
    with pytest.raises(aiohttp.ClientPayloadError):
        await asyncio.wait_for(watch, 2)
    assert api.open_watches == 0
