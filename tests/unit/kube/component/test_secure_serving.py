"""The scheduler's and controller-manager's secure port in process, over TLS on loopback:
health for anyone, /metrics only for callers a SubjectAccessReview allows, upstream's Status
bodies for the refusals, the flags and their defaults."""

from __future__ import annotations

import argparse
import ssl
from collections.abc import AsyncIterator
from pathlib import Path

import aiohttp
import pytest

from lab.kube.component import HealthServer, process_metrics, secure_serving
from lab.kube.component.client_certs import X509Verifier
from lab.kube.component.delegated_auth import ALWAYS_ALLOW_GROUPS, DelegatedAuthenticator, DelegatedAuthorizer
from lab.kube.component.reviews import FakeReviewer
from lab.kube.component.serving_certs import server_context
from lab.kube.machinery.user import UserInfo
from tests.support import free_port
from tests.unit.kube.component.pki import ClientPKI, client_context, make_pki

MONITOR = UserInfo("prometheus", groups=("monitoring",))


@pytest.fixture
def pki(tmp_path: Path) -> ClientPKI:
    return make_pki(tmp_path / "pki")


@pytest.fixture
async def secure_port(pki: ClientPKI, tmp_path: Path) -> AsyncIterator[tuple[int, FakeReviewer]]:
    reviewer = FakeReviewer(tokens={"monitor-token": MONITOR},
                            allow=lambda a: a.user.name in ("prometheus", "scraper") and a.path == "/metrics")
    authn = DelegatedAuthenticator(X509Verifier.from_file(pki.ca_file), reviewer, anonymous=True)
    authz = DelegatedAuthorizer(reviewer, always_allow_paths=secure_serving.ALWAYS_ALLOW_PATHS,
                                always_allow_groups=ALWAYS_ALLOW_GROUPS)
    tls = server_context(cert_dir=str(tmp_path / "certs"), pair="kube-scheduler",
                         hosts=secure_serving.SELF_SIGNED_HOSTS, client_ca_file=str(pki.ca_file))
    server = HealthServer(ssl_context=tls, middlewares=[secure_serving.access_middleware(authn, authz)])
    server.add_route("/metrics", process_metrics.handler)
    port = free_port()
    async with server.serving("127.0.0.1", port):
        yield port, reviewer


async def get(port: int, path: str, tls: ssl.SSLContext, headers: dict[str, str] | None = None,
              ) -> tuple[int, str, str]:
    async with aiohttp.ClientSession() as http, \
            http.get(f"https://127.0.0.1:{port}{path}", ssl=tls, headers=headers or {}) as resp:
        return resp.status, resp.content_type, await resp.text()


async def test_health_is_served_over_https_to_anonymous_callers(secure_port: tuple[int, FakeReviewer]) -> None:
    port, reviewer = secure_port
    for path in ("/healthz", "/readyz", "/livez"):
        assert await get(port, path, client_context()) == (200, "text/plain", "ok")
    assert reviewer.access_calls == []
    with pytest.raises(aiohttp.ClientError):  # no plain HTTP on the secure port
        async with aiohttp.ClientSession() as http, http.get(f"http://127.0.0.1:{port}/healthz") as resp:
            await resp.text()


async def test_anonymous_metrics_is_forbidden_with_upstreams_status(secure_port: tuple[int, FakeReviewer]) -> None:
    port, _ = secure_port
    status, content_type, body = await get(port, "/metrics", client_context())
    assert (status, content_type) == (403, "application/json")
    assert body == ('{"kind": "Status", "apiVersion": "v1", "metadata": {}, "status": "Failure", '
                    '"message": "forbidden: User \\"system:anonymous\\" cannot get path \\"/metrics\\"", '
                    '"reason": "Forbidden", "code": 403, "details": {}}')
    status, _, body = await get(port, "/healthz/ping", client_context())  # exact paths only
    assert status == 403 and 'cannot get path \\"/healthz/ping\\"' in body


async def test_authorized_callers_read_metrics(secure_port: tuple[int, FakeReviewer], pki: ClientPKI) -> None:
    port, reviewer = secure_port
    status, _, body = await get(port, "/metrics", client_context(), {"Authorization": "Bearer monitor-token"})
    assert status == 200 and "process_start_time_seconds" in body
    scraper = client_context(pki.identity("scraper", "scraper", "monitoring"))
    assert (await get(port, "/metrics", scraper))[0] == 200
    assert [(a.user.name, a.user.groups) for a in reviewer.access_calls] == [
        ("prometheus", ("monitoring", "system:authenticated")), ("scraper", ("monitoring", "system:authenticated"))]
    admin = client_context(pki.identity("admin", "admin", "system:masters"))
    assert (await get(port, "/metrics", admin))[0] == 200  # system:masters: no review needed
    assert len(reviewer.access_calls) == 2
    assert (await get(port, "/nothing-here", admin))[0] == 404  # authorized first, then routed


async def test_bad_credentials_are_401_not_anonymous(secure_port: tuple[int, FakeReviewer], pki: ClientPKI) -> None:
    port, _ = secure_port
    unauthorized = ('{"kind": "Status", "apiVersion": "v1", "metadata": {}, "status": "Failure", '
                    '"message": "Unauthorized", "reason": "Unauthorized", "code": 401}')
    assert await get(port, "/healthz", client_context(pki.stranger())) == (401, "application/json", unauthorized)
    assert (await get(port, "/healthz", client_context(), {"Authorization": "Bearer forged"}))[0] == 401


async def test_a_review_that_cannot_be_had_is_a_500(secure_port: tuple[int, FakeReviewer]) -> None:
    port, reviewer = secure_port
    reviewer.fail = True
    status, content_type, body = await get(port, "/metrics?x=1", client_context())
    assert (status, content_type) == (500, "text/plain")
    assert body.startswith('Internal Server Error: "/metrics?x=1": ')


def test_flags_and_defaults() -> None:
    p = argparse.ArgumentParser()
    secure_serving.add_flags(p, secure_port=10259)
    s = secure_serving.settings_from_args(p.parse_args([]))
    assert (s.secure_port, s.bind_address, s.cert_dir, s.always_allow_paths) == (
        10259, "127.0.0.1", "", ("/healthz", "/readyz", "/livez"))
    assert (s.token_cache_ttl, s.authorized_cache_ttl, s.unauthorized_cache_ttl) == (10.0, 10.0, 10.0)
    s = secure_serving.settings_from_args(p.parse_args([
        "--secure-port=0", "--client-ca-file=/pki/ca.crt", "--authentication-kubeconfig=/a",
        "--authorization-kubeconfig=/b",
        "--authorization-always-allow-paths=/healthz,/metrics", "--authentication-token-webhook-cache-ttl=1m",
        "--tls-cert-file=/c.crt", "--tls-private-key-file=/c.key", "--cert-dir=/d"]))
    assert (s.secure_port, s.client_ca_file, s.authentication_kubeconfig, s.authorization_kubeconfig) == (
        0, "/pki/ca.crt", "/a", "/b")
    assert (s.always_allow_paths, s.token_cache_ttl, s.tls_cert_file, s.cert_dir) == (
        ("/healthz", "/metrics"), 60.0, "/c.crt", "/d")


def test_the_self_signed_pair_is_kept_in_the_cert_dir(tmp_path: Path) -> None:
    server_context(cert_dir=str(tmp_path), pair="kube-controller-manager", hosts=("localhost", "127.0.0.1"))
    crt = tmp_path / "kube-controller-manager.crt"
    first = crt.read_bytes()
    assert first.count(b"BEGIN CERTIFICATE") == 2  # the serving cert, then its CA
    assert (tmp_path / "kube-controller-manager.key").stat().st_mode & 0o077 == 0
    server_context(cert_dir=str(tmp_path), pair="kube-controller-manager", hosts=("localhost",))
    assert crt.read_bytes() == first  # reused, not regenerated
    assert isinstance(server_context(pair="kube-scheduler", hosts=("localhost",)), ssl.SSLContext)  # in memory
