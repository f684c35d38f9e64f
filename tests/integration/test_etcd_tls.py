"""etcd as the lab runs it: client-certificate authentication on its client port, the API
server as its client with --etcd-cafile/--etcd-certfile/--etcd-keyfile, and every client
without a certificate of the etcd CA refused."""

from __future__ import annotations

import json
import shutil
import subprocess
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest

from lab.kube.apiserver.storage.etcd import EtcdStorage
from lab.kube.apiserver.storage.etcd_tls import EtcdTLS
from lab.kube.apiserver.storage.interface import Unavailable
from lab.pki.authority import load_or_create_ca
from lab.pki.certs import CertSpec, ensure_cert
from tests.integration.conftest import APIServerProcess, EtcdServer

pytestmark = pytest.mark.integration


@pytest.fixture(scope="module")
def tls_etcd(tmp_path_factory: pytest.TempPathFactory) -> Iterator[EtcdServer]:
    if shutil.which("etcd") is None:
        pytest.skip("etcd is not installed")
    root = tmp_path_factory.mktemp("etcd-tls")
    server = EtcdServer(root / "data", pki_dir=root / "pki")
    server.start()
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture(scope="module")
def tls_apiserver(tls_etcd: EtcdServer, tmp_path_factory: pytest.TempPathFactory) -> Iterator[APIServerProcess]:
    ca, cert, key = tls_etcd.client_credentials()
    server = APIServerProcess(tls_etcd.url, tmp_path_factory.mktemp("apiserver-etcd-tls"), extra_args=(
        "--etcd-cafile", str(ca), "--etcd-certfile", str(cert), "--etcd-keyfile", str(key)))
    server.start()
    try:
        yield server
    finally:
        server.stop()


def etcdctl(etcd: EtcdServer, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(["etcdctl", f"--endpoints={etcd.url}", "--dial-timeout=3s", "--command-timeout=5s", *args],
                          env={"ETCDCTL_API": "3", "PATH": "/usr/bin:/bin"}, capture_output=True, text=True,
                          timeout=30)


def test_the_apiserver_stores_through_client_certificate_auth(tls_etcd: EtcdServer,
                                                             tls_apiserver: APIServerProcess) -> None:
    body = json.dumps({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "over-tls"},
                       "data": {"k": "v"}}).encode()
    req = urllib.request.Request(f"{tls_apiserver.url}/api/v1/namespaces/default/configmaps", data=body,
                                 headers={"Content-Type": "application/json"}, method="POST")
    with urllib.request.urlopen(req, timeout=10, context=tls_apiserver.ssl_context()) as resp:
        assert resp.status == 201
    ca, cert, key = tls_etcd.client_credentials()
    got = etcdctl(tls_etcd, f"--cacert={ca}", f"--cert={cert}", f"--key={key}",
                  "get", "/registry/configmaps/default/over-tls", "--print-value-only")
    assert got.returncode == 0, got.stderr
    assert json.loads(got.stdout)["data"] == {"k": "v"}


def test_etcd_refuses_a_client_without_a_certificate(tls_etcd: EtcdServer) -> None:
    ca, _, _ = tls_etcd.client_credentials()
    refused = etcdctl(tls_etcd, f"--cacert={ca}", "get", "/registry", "--prefix", "--keys-only")
    assert refused.returncode != 0
    print(refused.stderr)
    assert "certificate" in refused.stderr or "deadline" in refused.stderr, refused.stderr


def test_etcd_refuses_a_certificate_of_another_ca(tls_etcd: EtcdServer, tmp_path: Path) -> None:
    # the cluster CA's certificates (the admin's, a kubelet's) are no etcd credentials
    other, _ = load_or_create_ca(tmp_path)
    ensure_cert(tmp_path, CertSpec("intruder", "kube-apiserver-etcd-client"), other)
    ca, _, _ = tls_etcd.client_credentials()
    refused = etcdctl(tls_etcd, f"--cacert={ca}", f"--cert={tmp_path / 'intruder.crt'}",
                      f"--key={tmp_path / 'intruder.key'}", "get", "/registry", "--prefix", "--keys-only")
    assert refused.returncode != 0


async def test_the_storage_without_a_client_certificate_is_unavailable(tls_etcd: EtcdServer) -> None:
    ca, cert, key = tls_etcd.client_credentials()
    without = EtcdStorage([tls_etcd.url], timeout=3, tls=EtcdTLS(ca_file=str(ca)))
    try:
        with pytest.raises(Unavailable):
            await without.revision()
    finally:
        await without.close()
    with_cert = EtcdStorage([tls_etcd.url], timeout=3, tls=EtcdTLS(str(ca), str(cert), str(key)))
    try:
        assert await with_cert.revision() > 0
    finally:
        await with_cert.close()


def test_a_plaintext_client_gets_nothing(tls_etcd: EtcdServer) -> None:
    plain = subprocess.run(["etcdctl", f"--endpoints={tls_etcd.url.replace('https://', 'http://')}",
                            "--dial-timeout=3s", "--command-timeout=5s", "get", "/registry", "--prefix"],
                           env={"ETCDCTL_API": "3", "PATH": "/usr/bin:/bin"}, capture_output=True, text=True,
                           timeout=30)
    assert plain.returncode != 0 and not plain.stdout
