"""Authentication over real TLS on loopback: the server asks for a client certificate,
accepts any at the handshake, and the chain decides: 401 for bad or missing credentials,
anonymous only on the anonymous paths."""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import ssl
from collections.abc import AsyncIterator
from pathlib import Path

import aiohttp
import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.x509.oid import NameOID

from lab.kube.apiserver.server import APIServer
from lab.kube.apiserver.settings import Settings
from lab.kube.apiserver.storage.memory import MemoryStorage
from lab.kube.machinery.user import MASTERS
from lab.pki.authority import create_ca, key_pem, load_or_create_ca, new_key
from lab.pki.certs import CertSpec, ensure_cert, issue
from lab.pki.files import write_private, write_public
from tests.support import eventually, free_port

UNAUTHORIZED = {"kind": "Status", "apiVersion": "v1", "metadata": {}, "status": "Failure",
                "message": "Unauthorized", "reason": "Unauthorized", "code": 401}


@pytest.fixture(scope="module")
def pki(tmp_path_factory: pytest.TempPathFactory) -> Path:
    d = tmp_path_factory.mktemp("pki")
    ca, _ = load_or_create_ca(d)
    ensure_cert(d, CertSpec("admin", "kubelab-admin", (MASTERS,)), ca)
    ensure_cert(d, CertSpec("alice", "alice", ("devs",)), ca)
    other = create_ca("another-ca")
    cert, key = issue(other, CertSpec("eve", "kubelab-admin", (MASTERS,)))
    write_public(d / "eve.crt", cert)
    write_private(d / "eve.key", key)
    return d


@pytest.fixture
async def server(pki: Path, tmp_path: Path) -> AsyncIterator[Settings]:
    s = Settings(storage_backend="memory", bind_address="127.0.0.1", secure_port=free_port(),
                 cert_dir=str(tmp_path), client_ca_file=str(pki / "ca.crt"))
    run = asyncio.create_task(APIServer(s, MemoryStorage()).run())
    await eventually(lambda: (tmp_path / "apiserver.crt").exists(), 10, "the serving certificate")
    try:
        yield s
    finally:
        run.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await run


def _ctx(cert_dir: str, pki: Path, who: str | None) -> ssl.SSLContext:
    ctx = ssl.create_default_context(cafile=str(Path(cert_dir) / "apiserver.crt"))
    if who:
        ctx.load_cert_chain(str(pki / f"{who}.crt"), str(pki / f"{who}.key"))
    return ctx


async def _get(s: Settings, pki: Path, who: str | None, path: str,
               headers: dict[str, str] | None = None) -> tuple[int, object]:
    url = f"https://127.0.0.1:{s.secure_port}{path}"
    async with aiohttp.ClientSession() as session, session.get(
            url, ssl=_ctx(s.cert_dir, pki, who), headers=headers or {}) as resp:
        body = await resp.json() if resp.content_type == "application/json" else await resp.text()
        return resp.status, body


async def test_a_certificate_from_the_client_ca_authenticates(server: Settings, pki: Path) -> None:
    async def ready() -> bool:
        return (await _get(server, pki, "admin", "/readyz"))[0] == 200
    await eventually(ready, 10, "ready")
    status, body = await _get(server, pki, "admin", "/api/v1/namespaces/default/secrets")
    assert status == 200 and isinstance(body, dict) and body["kind"] == "SecretList"


@pytest.mark.parametrize("who", [None, "eve"])
async def test_no_credentials_or_a_foreign_certificate_is_401(server: Settings, pki: Path, who: str | None) -> None:
    status, body = await _get(server, pki, who, "/api/v1/secrets")
    assert (status, body) == (401, UNAUTHORIZED)
    # and the request never reaches routing: an unknown path is 401 too, not 404
    assert await _get(server, pki, who, "/apis/nope/v1/things") == (401, UNAUTHORIZED)


@pytest.mark.parametrize("header", ["Bearer not-a-token", "Bearer ", "Bearer a b"])
async def test_a_bad_bearer_token_is_401_even_on_anonymous_paths(server: Settings, pki: Path, header: str) -> None:
    assert await _get(server, pki, None, "/api/v1/pods", {"Authorization": header}) == (401, UNAUTHORIZED)
    assert await _get(server, pki, None, "/healthz", {"Authorization": header}) == (401, UNAUTHORIZED)


@pytest.mark.parametrize("path", ["/healthz", "/livez", "/version"])
async def test_anonymous_may_read_health_and_version(server: Settings, pki: Path, path: str) -> None:
    status, _ = await _get(server, pki, None, path)
    assert status == 200


async def test_an_expired_certificate_is_401(server: Settings, pki: Path) -> None:
    ca, _ = load_or_create_ca(pki)
    key = new_key()
    now = dt.datetime.now(dt.UTC)
    cert = (x509.CertificateBuilder()
            .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "kubelab-admin"),
                                     x509.NameAttribute(NameOID.ORGANIZATION_NAME, MASTERS)]))
            .issuer_name(ca.cert.subject).public_key(key.public_key())
            .serial_number(x509.random_serial_number())
            .not_valid_before(now - dt.timedelta(days=2)).not_valid_after(now - dt.timedelta(days=1))
            .sign(ca.key, hashes.SHA256()))
    write_public(pki / "old.crt", cert.public_bytes(serialization.Encoding.PEM))
    write_private(pki / "old.key", key_pem(key))
    assert await _get(server, pki, "old", "/api/v1/pods") == (401, UNAUTHORIZED)
