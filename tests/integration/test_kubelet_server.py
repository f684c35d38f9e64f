"""The kubelet API against the real API server: its reviews go over the wire with the kubelet's
client. Anonymous callers and a foreign CA's certificate get the plain 401 before any review;
a certificate from the cluster CA is authorized by a SubjectAccessReview on nodes/<subresource>.
"""

from __future__ import annotations

import asyncio
import json
from pathlib import Path

import aiohttp
import pytest

from lab.kube.client import Client, load_kubeconfig
from lab.kube.kubelet.server import KubeletServer
from lab.kube.kubelet.settings import KubeletSettings
from lab.kube.machinery import errors
from tests.integration.conftest import APIServerProcess
from tests.support import eventually, free_port
from tests.unit.kube.component.pki import ClientPKI, client_context

pytestmark = pytest.mark.integration
POD = {"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "web", "namespace": "default"}}


async def _get(port: int, path: str, cert: tuple[Path, Path] | None = None) -> tuple[int, str] | None:
    try:
        async with aiohttp.ClientSession() as http, \
                http.get(f"https://127.0.0.1:{port}{path}", ssl=client_context(cert)) as resp:
            return resp.status, await resp.text()
    except aiohttp.ClientConnectionError:
        return None  # not listening yet


async def _serves_access_reviews(client: Client) -> bool:
    try:
        await client.request("POST", "/apis/authorization.k8s.io/v1/subjectaccessreviews", body={
            "apiVersion": "authorization.k8s.io/v1", "kind": "SubjectAccessReview",
            "spec": {"user": "u", "nonResourceAttributes": {"path": "/", "verb": "get"}}})
    except errors.NotFound:
        return False
    return True


async def test_the_kubelet_api_reviews_through_the_api_server(apiserver: APIServerProcess, tmp_path: Path) -> None:
    pki = ClientPKI(apiserver.pki_dir)
    port = free_port()
    settings = KubeletSettings(node_name="kt-w1", root_dir=str(tmp_path), address="127.0.0.1", port=port,
                               client_ca_file=str(pki.ca_file))
    async with Client(load_kubeconfig(apiserver.kubeconfig)) as client:
        server = KubeletServer.from_settings(settings, client, pods=lambda: [POD])
        task = asyncio.create_task(server.run())
        try:
            assert await eventually(lambda: _get(port, "/healthz"), timeout=10, what="kubelet API") == (
                401, "Unauthorized")
            assert await _get(port, "/pods", pki.stranger()) == (401, "Unauthorized")

            admin = apiserver.admin_credentials()  # O=system:masters: the API server allows it
            answer = await _get(port, "/pods", admin)
            if await _serves_access_reviews(client):
                assert answer is not None and answer[0] == 200, answer
                assert json.loads(answer[1])["items"] == [POD]
            else:  # no SubjectAccessReview API yet: no answer is never a yes
                assert answer == (500, "Authorization error (user=kubelab-admin, verb=get, resource=nodes, "
                                       "subresource=pods)")
        finally:
            task.cancel()
            await asyncio.gather(task, return_exceptions=True)
