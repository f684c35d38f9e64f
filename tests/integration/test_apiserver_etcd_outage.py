"""etcd goes away and comes back: the API server answers quickly with a Status meanwhile,
reports not-ready, ends open watches (clients re-list), and recovers on its own."""

from __future__ import annotations

import json
import ssl
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.integration.conftest import APIServerProcess, EtcdServer

pytestmark = pytest.mark.integration


@pytest.fixture
def private_cluster(tmp_path: Path) -> Iterator[tuple[EtcdServer, APIServerProcess]]:
    etcd = EtcdServer(tmp_path / "etcd")
    etcd.start()
    server = APIServerProcess(etcd.url, tmp_path / "apiserver")
    try:
        server.start()
        yield etcd, server
    finally:
        server.stop()
        etcd.stop()


def get(server: APIServerProcess, path: str, timeout: float = 15) -> tuple[int, bytes]:
    ctx: ssl.SSLContext = server.ssl_context()
    try:
        with urllib.request.urlopen(server.url + path, timeout=timeout, context=ctx) as resp:
            return resp.status, resp.read()
    except urllib.error.HTTPError as err:
        return err.code, err.read()


def test_requests_fail_fast_while_etcd_is_down_and_recover(
        private_cluster: tuple[EtcdServer, APIServerProcess]) -> None:
    etcd, server = private_cluster
    assert get(server, "/api/v1/namespaces/default")[0] == 200
    watch = urllib.request.urlopen(server.url + "/api/v1/namespaces?watch=1", timeout=30,
                                   context=server.ssl_context())
    assert json.loads(watch.readline())["type"] == "ADDED"

    etcd.stop()
    started = time.monotonic()
    code, body = get(server, "/api/v1/namespaces/default")
    assert code in (500, 503) and json.loads(body)["kind"] == "Status"
    assert time.monotonic() - started < 10
    assert get(server, "/readyz")[0] == 500
    rest = watch.read()  # the stream ends (possibly after an ERROR event)
    assert all(json.loads(line)["type"] in ("ERROR", "ADDED") for line in rest.splitlines() if line.strip())

    etcd.start()
    deadline = time.monotonic() + 30
    while get(server, "/readyz")[0] != 200:
        assert time.monotonic() < deadline, "apiserver did not recover after etcd came back"
        time.sleep(0.5)
    assert get(server, "/api/v1/namespaces/default")[0] == 200
