"""APIReviewer speaks upstream's TokenReview and SubjectAccessReview JSON to the API server
(a loopback stand-in here, answering as kube-apiserver does), and no answer is never a yes."""

from __future__ import annotations

import copy
from collections.abc import AsyncIterator
from typing import Any

import pytest
from aiohttp import web

from lab.kube.client import Client, ClientConfig
from lab.kube.component.reviews import AccessAttributes, APIReviewer, ReviewError
from lab.kube.machinery.user import UserInfo
from tests.support import free_port

Obj = dict[str, Any]


@pytest.fixture
async def api() -> AsyncIterator[tuple[str, list[Obj]]]:
    seen: list[Obj] = []

    async def token_review(request: web.Request) -> web.Response:
        review = await request.json()
        seen.append(copy.deepcopy(review))
        if review["spec"]["token"] == "good":
            review["status"] = {"authenticated": True, "user": {
                "username": "system:serviceaccount:ns:sa", "uid": "u-1",
                "groups": ["system:serviceaccounts", "system:serviceaccounts:ns", "system:authenticated"],
                "extra": {"authentication.kubernetes.io/pod-name": ["web"]}}, "audiences": ["https://kubernetes"]}
        else:
            review["status"] = {"authenticated": False, "user": {}, "error": "[invalid bearer token]"}
        return web.json_response(review, status=201)

    async def access_review(request: web.Request) -> web.Response:
        review = await request.json()
        seen.append(copy.deepcopy(review))
        allowed = review["spec"].get("resourceAttributes", {}).get("subresource") == "pods"
        review["status"] = {"allowed": allowed, "reason": "RBAC: allowed" if allowed else ""}
        return web.json_response(review, status=201)

    app = web.Application()
    app.router.add_post("/apis/authentication.k8s.io/v1/tokenreviews", token_review)
    app.router.add_post("/apis/authorization.k8s.io/v1/subjectaccessreviews", access_review)
    runner = web.AppRunner(app)
    await runner.setup()
    port = free_port()
    await web.TCPSite(runner, "127.0.0.1", port).start()
    yield f"http://127.0.0.1:{port}", seen
    await runner.cleanup()


async def test_token_reviews(api: tuple[str, list[Obj]]) -> None:
    url, seen = api
    async with Client(ClientConfig.in_memory(url)) as client:
        good = await APIReviewer(client).review_token("good")
        bad = await APIReviewer(client).review_token("bad")
    assert seen[0] == {"apiVersion": "authentication.k8s.io/v1", "kind": "TokenReview", "spec": {"token": "good"}}
    assert good.authenticated and good.user == UserInfo(
        "system:serviceaccount:ns:sa", uid="u-1",
        groups=("system:serviceaccounts", "system:serviceaccounts:ns", "system:authenticated"),
        extra={"authentication.kubernetes.io/pod-name": ("web",)})
    assert (bad.authenticated, bad.user, bad.error) == (False, None, "[invalid bearer token]")


async def test_subject_access_reviews(api: tuple[str, list[Obj]]) -> None:
    url, seen = api
    user = UserInfo("system:node:w1", groups=("system:nodes", "system:authenticated"))
    async with Client(ClientConfig.in_memory(url)) as client:
        reviewer = APIReviewer(client)
        pods = await reviewer.review_access(AccessAttributes(user, "get", True, path="/pods", api_version="v1",
                                                             resource="nodes", subresource="pods", name="w1"))
        metrics = await reviewer.review_access(AccessAttributes(user, "get", False, path="/metrics"))
    assert seen[0] == {"apiVersion": "authorization.k8s.io/v1", "kind": "SubjectAccessReview", "spec": {
        "user": "system:node:w1", "groups": ["system:nodes", "system:authenticated"],
        "resourceAttributes": {"verb": "get", "version": "v1", "resource": "nodes", "subresource": "pods",
                               "name": "w1"}}}
    assert seen[1]["spec"]["nonResourceAttributes"] == {"path": "/metrics", "verb": "get"}
    assert (pods.allowed, pods.reason, metrics.allowed) == (True, "RBAC: allowed", False)


async def test_no_answer_is_a_review_error() -> None:
    async with Client(ClientConfig.in_memory(f"http://127.0.0.1:{free_port()}", timeout=2)) as client:
        with pytest.raises(ReviewError):
            await APIReviewer(client).review_token("good")  # nobody listens
    app = web.Application()  # listens, but serves no review API (404)
    runner = web.AppRunner(app)
    await runner.setup()
    port = free_port()
    await web.TCPSite(runner, "127.0.0.1", port).start()
    try:
        async with Client(ClientConfig.in_memory(f"http://127.0.0.1:{port}")) as client:
            with pytest.raises(ReviewError):
                await APIReviewer(client).review_access(AccessAttributes(UserInfo("u"), "get", False, path="/x"))
    finally:
        await runner.cleanup()
