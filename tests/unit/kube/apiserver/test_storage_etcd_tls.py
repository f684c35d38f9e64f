"""How the API server's etcd storage picks its transport: the URL's scheme decides, as
upstream; a half-given client identity or an unreadable file fails at startup, not per request.
(The real handshake with a client-cert-auth etcd: tests/integration/test_etcd_tls.py.)"""

from __future__ import annotations

from pathlib import Path

import pytest

from lab.kube.apiserver.settings import from_args
from lab.kube.apiserver.storage.etcd import EtcdStorage
from lab.kube.apiserver.storage.etcd_tls import EtcdTLS, TLSClient
from lab.pki.authority import load_or_create_ca
from lab.pki.certs import CertSpec, ensure_cert


@pytest.fixture
def client_cert(tmp_path: Path) -> tuple[str, str, str]:
    ca, _ = load_or_create_ca(tmp_path, "etcd/ca", "etcd-ca")
    ensure_cert(tmp_path, CertSpec("client", "kube-apiserver-etcd-client", authority="etcd/ca"), ca)
    return str(tmp_path / "etcd/ca.crt"), str(tmp_path / "client.crt"), str(tmp_path / "client.key")


def test_the_etcd_flags_reach_the_settings() -> None:
    s = from_args(["--etcd-servers", "https://127.0.0.1:2379", "--etcd-cafile", "/pki/etcd/ca.crt",
                   "--etcd-certfile", "/pki/c.crt", "--etcd-keyfile", "/pki/c.key"])
    assert (s.etcd_servers, s.etcd_cafile, s.etcd_certfile, s.etcd_keyfile) == (
        ["https://127.0.0.1:2379"], "/pki/etcd/ca.crt", "/pki/c.crt", "/pki/c.key")
    assert (from_args([]).etcd_cafile, from_args([]).etcd_certfile) == ("", "")


def test_an_https_server_gets_a_tls_client_and_http_a_plain_one(client_cert: tuple[str, str, str]) -> None:
    tls = EtcdTLS(*client_cert)
    assert EtcdStorage(["https://127.0.0.1:2379"], tls=tls)._tls == tls
    assert EtcdStorage(["http://127.0.0.1:2379"], tls=tls)._tls is None
    assert isinstance(TLSClient("127.0.0.1", 2379, tls), TLSClient)


def test_a_certificate_without_its_key_fails_at_startup(client_cert: tuple[str, str, str]) -> None:
    ca, cert, _ = client_cert
    with pytest.raises(ValueError, match="go together"):
        EtcdStorage(["https://127.0.0.1:2379"], tls=EtcdTLS(ca, cert, ""))


def test_an_unreadable_ca_fails_at_startup(tmp_path: Path) -> None:
    with pytest.raises(FileNotFoundError):
        EtcdStorage(["https://127.0.0.1:2379"], tls=EtcdTLS(str(tmp_path / "missing.crt")))
