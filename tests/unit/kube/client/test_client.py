"""The client speaks REST to an API server and turns its Status answers into typed errors."""

import asyncio

import aiohttp
import pytest

from lab.kube.apiserver.settings import Settings
from lab.kube.apiserver.testing import InMemoryAPI
from lab.kube.client import JSON_PATCH, STRATEGIC_MERGE_PATCH, Client, ClientConfig
from lab.kube.machinery import errors
from lab.kube.machinery.catalog import DEPLOYMENTS, LEASES, NAMESPACES, NODES, PODS
from tests.support import free_port

POD = {"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "web", "namespace": "default",
                                                     "labels": {"app": "web"}},
       "spec": {"containers": [{"name": "c", "image": "nginx"}]}}


async def test_create_get_list_and_server_fields(client):
    created = await client.create(PODS, POD)
    assert created["metadata"]["uid"] and created["metadata"]["resourceVersion"]
    got = await client.get(PODS, "web", "default")
    assert got == created
    listed = await client.list(PODS, "default", label_selector="app=web")
    assert [p["metadata"]["name"] for p in listed["items"]] == ["web"]
    assert listed["kind"] == "PodList" and listed["metadata"]["resourceVersion"]
    assert (await client.list(PODS, label_selector="app=db"))["items"] == []


async def test_missing_object_raises_not_found_with_upstream_message(client):
    with pytest.raises(errors.NotFound) as err:
        await client.get(DEPLOYMENTS, "nope", "default")
    assert str(err.value) == 'deployments.apps "nope" not found'
    assert err.value.name == "nope" and err.value.group == "apps"


async def test_generate_name_gives_a_unique_name(client):
    made = await client.create(PODS, {"metadata": {"generateName": "web-", "namespace": "default"},
                                      "spec": POD["spec"]})
    assert made["metadata"]["name"].startswith("web-") and len(made["metadata"]["name"]) == 9


async def test_creating_twice_is_already_exists(client):
    await client.create(PODS, POD)
    with pytest.raises(errors.AlreadyExists, match='pods "web" already exists'):
        await client.create(PODS, POD)


async def test_stale_update_is_a_conflict(client):
    first = await client.create(PODS, POD)
    fresh = {**first, "metadata": {**first["metadata"], "labels": {"app": "v2"}}}
    await client.update(PODS, fresh)
    with pytest.raises(errors.Conflict, match="the object has been modified"):
        await client.update(PODS, first)


async def test_merge_patch_and_status_subresource(client):
    await client.create(PODS, POD)
    patched = await client.patch(PODS, "web", {"metadata": {"labels": {"tier": "fe"}}}, "default")
    assert patched["metadata"]["labels"] == {"app": "web", "tier": "fe"}
    status = await client.patch(PODS, "web", {"status": {"phase": "Running"}}, "default", subresource="status")
    assert status["status"]["phase"] == "Running"
    # a PUT on the main resource cannot change status
    put = await client.update(PODS, {**status, "status": {"phase": "Failed"}})
    assert put["status"]["phase"] == "Running"


async def test_patches_by_content_type(client):
    await client.create(PODS, {**POD, "spec": {"containers": [{"name": "app", "image": "nginx"},
                                                              {"name": "side", "image": "busybox"}]}})
    out = await client.patch(PODS, "web", [{"op": "replace", "path": "/spec/containers/0/image", "value": "v2"}],
                             "default", content_type=JSON_PATCH)
    assert out["spec"]["containers"][0]["image"] == "v2"
    out = await client.patch(PODS, "web", {"spec": {"containers": [{"name": "side", "image": "v3"}]}},
                             "default", content_type=STRATEGIC_MERGE_PATCH)
    assert [(c["name"], c["image"]) for c in out["spec"]["containers"]] == [("app", "v2"), ("side", "v3")]
    with pytest.raises(errors.Invalid):  # a patch that does not apply is a 422, as upstream
        await client.patch(PODS, "web", [{"op": "test", "path": "/spec/nodeName", "value": "n1"}],
                           "default", content_type=JSON_PATCH)


async def test_a_patch_pinning_an_old_version_conflicts(client):
    await client.create(PODS, POD)
    with pytest.raises(errors.Conflict):
        await client.patch(PODS, "web", {"metadata": {"resourceVersion": "1", "labels": {"a": "b"}}}, "default")


async def test_cluster_scoped_objects_and_namespace_mismatch(client):
    ns = await client.create(NAMESPACES, {"metadata": {"name": "team-a"}})
    assert "namespace" not in ns["metadata"]
    with pytest.raises(errors.BadRequest, match="does not match the namespace"):
        await client.create(PODS, {**POD, "metadata": {"name": "web", "namespace": "team-a"}}, namespace="default")


async def test_delete_preconditions(client):
    await client.create(PODS, POD)
    with pytest.raises(errors.Conflict, match="Precondition failed"):
        await client.delete(PODS, "web", "default", preconditions={"uid": "not-it"})


async def test_binding_assigns_the_node_once(client):
    await client.create(PODS, POD)
    binding = {"apiVersion": "v1", "kind": "Binding", "metadata": {"name": "web"},
               "target": {"apiVersion": "v1", "kind": "Node", "name": "node1"}}
    status = await client.post_subresource(PODS, "web", "binding", binding, "default")
    assert status["status"] == "Success"
    assert (await client.get(PODS, "web", "default"))["spec"]["nodeName"] == "node1"
    with pytest.raises(errors.Conflict, match='already assigned to node "node1"'):
        await client.post_subresource(PODS, "web", "binding", binding, "default")


async def test_delete_honours_finalizers(client):
    await client.create(NODES, {"metadata": {"name": "n1", "finalizers": ["lab/x"]}})
    terminating = await client.delete(NODES, "n1")
    assert terminating["metadata"]["deletionTimestamp"]
    await client.patch(NODES, "n1", {"metadata": {"finalizers": None}})
    with pytest.raises(errors.NotFound):
        await client.get(NODES, "n1")


async def test_server_errors_without_a_status_body_still_get_types(api, client):
    api.fail_next(errors.TooManyRequests("slow down", retry_after=3))
    with pytest.raises(errors.TooManyRequests) as err:
        await client.list(PODS)
    assert err.value.retry_after == 3


async def test_invalid_object_carries_field_causes(client):
    with pytest.raises(errors.Invalid) as err:
        await client.create(LEASES, {"metadata": {"namespace": "default"}})
    assert err.value.causes[0].field == "metadata.name"


async def test_namespaced_verbs_need_a_namespace(client):
    with pytest.raises(ValueError, match="namespaced"):
        await client.get(PODS, "web")


async def test_watch_streams_changes_after_a_resource_version(client):
    listed = await client.list(PODS)
    events = []

    async def collect():
        async for ev in client.watch(PODS, "default", listed["metadata"]["resourceVersion"], timeout_seconds=2):
            events.append((ev.type, ev.object["metadata"].get("name")))
            if ev.type == "DELETED":
                return

    task = asyncio.create_task(collect())  # from the listed version: it misses nothing, however late it starts
    await client.create(PODS, POD)
    await client.patch(PODS, "web", {"metadata": {"labels": {"x": "1"}}}, "default")
    await client.delete(PODS, "web", "default")
    await asyncio.wait_for(task, 2)
    assert events == [("ADDED", "web"), ("MODIFIED", "web"), ("DELETED", "web")]


async def test_watch_from_a_compacted_version_raises_expired(api, client):
    await client.create(PODS, POD)
    api.compact()
    with pytest.raises(errors.Expired, match="too old resource version"):
        async for _ in client.watch(PODS, resource_version="1", timeout_seconds=1):
            pass


async def test_watch_without_a_version_starts_with_synthetic_adds_in_the_namespace(client):
    await client.create(NAMESPACES, {"metadata": {"name": "other"}})
    await client.create(PODS, POD)
    await client.create(PODS, {**POD, "metadata": {"name": "b", "namespace": "other"}})
    events = [(ev.type, ev.object["metadata"]["name"]) async for ev in client.watch(PODS, "default", timeout_seconds=1)]
    assert events == [("ADDED", "web")]


async def test_bookmarks_reach_the_caller_with_their_resource_version():
    settings = Settings(watch_bookmark_interval=0.2, insecure_anonymous_admin=True)
    async with InMemoryAPI(settings) as api, Client(api.config) as client:
        rv = (await client.list(PODS))["metadata"]["resourceVersion"]
        events = [ev async for ev in client.watch(PODS, resource_version=rv, timeout_seconds=1)]
    assert events and {ev.type for ev in events} == {"BOOKMARK"}
    assert events[-1].object["metadata"]["resourceVersion"] == rv


async def test_connection_errors_propagate_for_callers_to_retry():
    async with Client(ClientConfig.in_memory(f"http://127.0.0.1:{free_port()}", timeout=2)) as client:
        with pytest.raises((OSError, aiohttp.ClientError)):
            await client.list(PODS)
