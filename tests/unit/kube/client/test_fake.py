"""FakeAPI behaves like the real API server where controllers and kubelets depend on it."""

import asyncio

import pytest

from lab.kube.client import JSON_PATCH, STRATEGIC_MERGE_PATCH
from lab.kube.machinery import errors
from lab.kube.machinery.catalog import DEPLOYMENTS, NAMESPACES, PODS


def pod(name, ns="default", node=None):
    spec = {"containers": [{"name": "app", "image": "nginx"}, {"name": "side", "image": "busybox"}]}
    if node:
        spec["nodeName"] = node
    return {"metadata": {"name": name, "namespace": ns}, "spec": spec}


async def test_generate_name_gives_a_unique_name(client):
    made = await client.create(PODS, {"metadata": {"generateName": "web-", "namespace": "default"}})
    assert made["metadata"]["name"].startswith("web-") and len(made["metadata"]["name"]) == 9


async def test_field_selectors_on_any_field(api, client):
    api.seed(PODS, pod("on-n1", node="n1"))
    api.seed(PODS, pod("pending"))
    unbound = await client.list(PODS, field_selector="spec.nodeName=")
    assert [p["metadata"]["name"] for p in unbound["items"]] == ["pending"]
    by_name = await client.list(PODS, field_selector="metadata.name=on-n1")
    assert [p["metadata"]["name"] for p in by_name["items"]] == ["on-n1"]


async def test_watch_without_a_version_starts_with_synthetic_adds_in_the_namespace(api, client):
    api.seed(PODS, pod("a"))
    api.seed(PODS, pod("b", ns="other"))
    events = []
    async for ev in client.watch(PODS, "default", timeout_seconds=1):
        events.append((ev.type, ev.object["metadata"].get("name")))
    assert events[0] == ("ADDED", "a") and ("ADDED", "b") not in events


async def test_bound_pods_are_deleted_gracefully_then_finally(api, client):
    api.seed(PODS, pod("web", node="n1"))
    terminating = await client.delete(PODS, "web", "default")
    assert terminating["metadata"]["deletionTimestamp"]
    assert terminating["metadata"]["deletionGracePeriodSeconds"] == 30
    await client.delete(PODS, "web", "default", grace_period_seconds=0)  # what the kubelet does
    assert api.object(PODS, "web", "default") is None


async def test_unbound_pods_go_at_once(api, client):
    api.seed(PODS, pod("web"))
    await client.delete(PODS, "web", "default")
    assert api.object(PODS, "web", "default") is None


async def test_delete_preconditions(api, client):
    api.seed(PODS, pod("web"))
    with pytest.raises(errors.Conflict, match="Precondition failed"):
        await client.delete(PODS, "web", "default", preconditions={"uid": "not-it"})


async def test_json_patch_and_strategic_merge_by_name(api, client):
    api.seed(PODS, pod("web"))
    out = await client.patch(PODS, "web", [{"op": "replace", "path": "/spec/containers/0/image", "value": "v2"}],
                             "default", content_type=JSON_PATCH)
    assert out["spec"]["containers"][0]["image"] == "v2"
    out = await client.patch(PODS, "web", {"spec": {"containers": [{"name": "side", "image": "v3"}]}},
                             "default", content_type=STRATEGIC_MERGE_PATCH)
    assert [(c["name"], c["image"]) for c in out["spec"]["containers"]] == [("app", "v2"), ("side", "v3")]


async def test_patches_follow_the_servers_rules(api, client):
    """The fake applies patches with the API server's own module: directives and merge keys included."""
    api.seed(PODS, pod("web"))
    out = await client.patch(PODS, "web", {"spec": {"containers": [{"name": "side", "$patch": "delete"}]}},
                             "default", content_type=STRATEGIC_MERGE_PATCH)
    assert [c["name"] for c in out["spec"]["containers"]] == ["app"]
    with pytest.raises(errors.Invalid):  # a patch that does not apply is a 422, as upstream
        await client.patch(PODS, "web", [{"op": "test", "path": "/spec/nodeName", "value": "n1"}],
                           "default", content_type=JSON_PATCH)


async def test_a_patch_pinning_an_old_version_conflicts(api, client):
    api.seed(PODS, pod("web"))
    with pytest.raises(errors.Conflict):
        await client.patch(PODS, "web", {"metadata": {"resourceVersion": "1", "labels": {"a": "b"}}}, "default")


async def test_spec_changes_bump_generation_but_status_does_not(api, client):
    dep = api.seed(DEPLOYMENTS, {"metadata": {"name": "web", "namespace": "default"}, "spec": {"replicas": 1}})
    assert dep["metadata"]["generation"] == 1
    dep = await client.patch(DEPLOYMENTS, "web", {"spec": {"replicas": 3}}, "default")
    assert dep["metadata"]["generation"] == 2
    dep = await client.patch(DEPLOYMENTS, "web", {"status": {"replicas": 3}}, "default", subresource="status")
    assert dep["metadata"]["generation"] == 2 and dep["status"]["replicas"] == 3


async def test_cluster_scoped_objects_and_namespace_mismatch(api, client):
    ns = await client.create(NAMESPACES, {"metadata": {"name": "team-a"}})
    assert "namespace" not in ns["metadata"]
    with pytest.raises(errors.BadRequest, match="does not match the namespace"):
        await client.create(PODS, pod("web", ns="team-a"), namespace="default")


async def test_requests_are_recorded_for_assertions(api, client):
    await asyncio.gather(client.list(PODS), client.list(NAMESPACES))
    assert ("GET", "/api/v1/pods") in api.requests and ("GET", "/api/v1/namespaces") in api.requests


async def test_unknown_paths_are_not_found(client):
    with pytest.raises(errors.NotFound, match="could not find the requested resource"):
        await client.request("GET", "/apis/batch/v1/jobs")
