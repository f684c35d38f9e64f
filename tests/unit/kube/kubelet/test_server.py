"""The kubelet API in process, over TLS on loopback, with a fake TokenReview/SubjectAccessReview
API: anonymous callers are refused in plain text, a client certificate from the CA or a
reviewed token is authorized per nodes/<subresource>, and /pods lists the kubelet's pods."""

from __future__ import annotations

import asyncio
import json
import ssl
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import replace
from pathlib import Path

import aiohttp
import pytest

from lab.kube.component import AccessAttributes, FakeReviewer
from lab.kube.kubelet.server import KubeletServer
from lab.kube.kubelet.settings import KubeletSettings
from lab.kube.machinery.user import UserInfo
from tests.support import eventually, free_port
from tests.unit.kube.component.pki import ClientPKI, client_context, make_pki

POD = {"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "web", "namespace": "default"},
       "spec": {"nodeName": "w1", "containers": [{"name": "app", "image": "busybox:1.36"}]}}
APISERVER = "kube-apiserver-kubelet-client"
SA = UserInfo("system:serviceaccount:monitoring:scraper",
              groups=("system:serviceaccounts", "system:serviceaccounts:monitoring", "system:authenticated"))


def grants(table: dict[str, set[str]]) -> Callable[[AccessAttributes], bool]:
    """An allow rule from user -> the nodes subresources they may get."""
    return lambda a: a.resource == "nodes" and a.name == "w1" and a.verb == "get" \
        and a.subresource in table.get(a.user.name, set())


@pytest.fixture
def pki(tmp_path: Path) -> ClientPKI:
    return make_pki(tmp_path / "pki")


@pytest.fixture
def settings(tmp_path: Path, pki: ClientPKI) -> KubeletSettings:
    return KubeletSettings(node_name="w1", root_dir=str(tmp_path / "kubelet"), address="127.0.0.1", port=free_port(),
                           client_ca_file=str(pki.ca_file))


Start = Callable[..., Awaitable[int]]
"""`await serve(reviewer, **settings_changes)` starts a kubelet API and returns its port."""


@pytest.fixture
async def serve(settings: KubeletSettings) -> AsyncIterator[Start]:
    tasks: list[asyncio.Task[None]] = []

    async def start(reviewer: FakeReviewer, **changes: object) -> int:
        s = replace(settings, **changes)  # type: ignore[arg-type]
        task = asyncio.create_task(KubeletServer.build(s, reviewer, lambda: [POD]).run())
        tasks.append(task)
        await eventually(lambda: _port_open(s.port), timeout=10, what="kubelet API up")
        return s.port
    yield start
    for task in tasks:
        task.cancel()
    await asyncio.gather(*tasks, return_exceptions=True)


async def _port_open(port: int) -> bool:
    try:
        _, writer = await asyncio.open_connection("127.0.0.1", port)
    except OSError:
        return False
    writer.close()
    await writer.wait_closed()
    return True


async def get(port: int, path: str, tls: ssl.SSLContext, token: str = "", method: str = "GET",
              ) -> tuple[int, str, str]:
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    async with aiohttp.ClientSession() as http, \
            http.request(method, f"https://127.0.0.1:{port}{path}", ssl=tls, headers=headers) as resp:
        return resp.status, resp.content_type, await resp.text()


async def test_anonymous_requests_are_401_in_plain_text(serve: Start, pki: ClientPKI) -> None:
    reviewer = FakeReviewer(allow=lambda _a: True)
    port = await serve(reviewer)
    for path in ("/healthz", "/pods", "/exec/default/web/app", "/nothing"):
        assert await get(port, path, client_context()) == (401, "text/plain", "Unauthorized")
    assert await get(port, "/pods", client_context(pki.stranger())) == (401, "text/plain", "Unauthorized")
    assert await get(port, "/pods", client_context(), token="forged") == (401, "text/plain", "Unauthorized")
    assert reviewer.access_calls == []  # refused before any authorization


async def test_a_client_certificate_from_the_ca_is_authorized_by_review(serve: Start, pki: ClientPKI) -> None:
    reviewer = FakeReviewer(allow=grants({APISERVER: {"proxy"}}))
    port = await serve(reviewer)
    apiserver = client_context(pki.identity("apiserver-kubelet-client", APISERVER, "kubeadm:cluster-admins"))
    status, content_type, body = await get(port, "/pods", apiserver)
    assert (status, content_type) == (200, "application/json")
    assert json.loads(body) == {"kind": "PodList", "apiVersion": "v1", "metadata": {}, "items": [POD]}
    assert await get(port, "/healthz", apiserver) == (200, "text/plain", "ok")
    # nodes/pods was asked first (fine-grained), then nodes/proxy allowed it
    assert [(a.user.name, a.subresource) for a in reviewer.access_calls[:2]] == [(APISERVER, "pods"),
                                                                                (APISERVER, "proxy")]
    assert reviewer.access_calls[0].user.groups == ("kubeadm:cluster-admins", "system:authenticated")


async def test_a_reviewed_token_gets_exactly_its_subresources(serve: Start) -> None:
    reviewer = FakeReviewer(tokens={"sa-token": SA}, allow=grants({SA.name: {"pods", "metrics"}}))
    port = await serve(reviewer)
    assert (await get(port, "/pods", client_context(), token="sa-token"))[0] == 200
    assert (await get(port, "/metrics", client_context(), token="sa-token"))[0] == 404  # allowed; not served yet
    assert await get(port, "/exec/default/web/app", client_context(), token="sa-token") == (
        403, "text/plain",
        f"Forbidden (user={SA.name}, verb=get, resource=nodes, subresource(s)=[proxy])\n")
    assert await get(port, "/healthz", client_context(), token="sa-token", method="POST") == (
        403, "text/plain",
        f"Forbidden (user={SA.name}, verb=create, resource=nodes, subresource(s)=[healthz proxy])\n")
    assert reviewer.token_calls == ["sa-token"]  # cached for authentication.webhook.cacheTTL


async def test_without_fine_grained_authz_the_message_is_the_older_one(serve: Start) -> None:
    reviewer = FakeReviewer(tokens={"sa-token": SA}, allow=grants({SA.name: {"pods"}}))
    port = await serve(reviewer, fine_grained_authz=False)
    assert await get(port, "/pods", client_context(), token="sa-token") == (
        403, "text/plain", f"Forbidden (user={SA.name}, verb=get, resource=nodes, subresource=proxy)")


async def test_anonymous_when_enabled_is_authorized_like_anyone(serve: Start) -> None:
    reviewer = FakeReviewer(allow=grants({"system:anonymous": {"healthz"}}))
    port = await serve(reviewer, anonymous_auth=True)
    assert await get(port, "/healthz", client_context()) == (200, "text/plain", "ok")
    assert await get(port, "/pods", client_context()) == (
        403, "text/plain",
        "Forbidden (user=system:anonymous, verb=get, resource=nodes, subresource(s)=[pods proxy])\n")


async def test_a_failed_review_is_a_500_and_always_allow_needs_none(serve: Start, pki: ClientPKI) -> None:
    admin = client_context(pki.identity("admin", "admin", "system:masters"))
    port = await serve(FakeReviewer(fail=True))
    assert await get(port, "/pods", admin) == (
        500, "text/plain", "Authorization error (user=admin, verb=get, resource=nodes, subresource=pods)")
    reviewer = FakeReviewer(fail=True)
    port = await serve(reviewer, port=free_port(), authorization_mode="AlwaysAllow", authentication_webhook=False)
    assert (await get(port, "/pods", admin))[0] == 200
    assert await get(port, "/pods", client_context(), token="anything") == (401, "text/plain", "Unauthorized")
    assert reviewer.token_calls == reviewer.access_calls == []


async def test_the_serving_certificate_is_self_signed_in_the_cert_dir_unless_given(
        serve: Start, settings: KubeletSettings, tmp_path: Path) -> None:
    await serve(FakeReviewer())
    crt = Path(settings.root_dir) / "pki/kubelet.crt"
    assert crt.exists() and (Path(settings.root_dir) / "pki/kubelet.key").exists()
    port = await serve(FakeReviewer(), port=free_port(), tls_cert_file=str(crt),
                       tls_private_key_file=str(Path(settings.root_dir) / "pki/kubelet.key"), cert_dir="/nonexistent")
    trusting = ssl.create_default_context(cafile=str(crt))  # kubelet.crt carries its CA after the cert
    trusting.check_hostname = False
    assert (await get(port, "/healthz", trusting))[0] == 401  # the TLS handshake verified the given cert


async def test_configz_serves_the_running_configuration_to_those_allowed_it(serve: Start) -> None:
    reviewer = FakeReviewer(tokens={"sa-token": SA}, allow=grants({SA.name: {"configz"}}))
    port = await serve(reviewer)
    status, content_type, body = await get(port, "/configz", client_context(), token="sa-token")
    assert (status, content_type) == (200, "application/json")
    config = json.loads(body)["kubeletconfig"]
    assert (config["kind"], config["apiVersion"]) == ("KubeletConfiguration", "kubelet.config.k8s.io/v1beta1")
    assert config["syncFrequency"] == "1m0s" and config["shutdownGracePeriod"] == "0s"
    assert config["authentication"]["webhook"]["cacheTTL"] == "2m0s" and config["maxPods"] == 110
    assert config["evictionHard"]["memory.available"] == "100Mi"
    assert (await get(port, "/pods", client_context(), token="sa-token"))[0] == 403
