"""The lab PKI as the pki role uses it: one call lays out a CA, certificates and
kubeconfigs; a second call changes nothing; a lost file is the only thing recreated."""

from __future__ import annotations

import base64
import json
import stat
from pathlib import Path

import pytest
import yaml
from cryptography import x509
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

from lab.pki import Bundle, NodeSpec, ensure
from lab.pki.__main__ import main
from lab.pki.certs import cert_sans

URL = "https://192.168.56.11:6443"


@pytest.fixture
def bundle() -> Bundle:
    return Bundle(apiserver_url=URL, apiserver_sans=("192.168.56.11", "cp1"),
                  nodes=(NodeSpec.parse("w1=192.168.56.12"), NodeSpec.parse("w2")))


def load(path: Path) -> x509.Certificate:
    return x509.load_pem_x509_certificate(path.read_bytes())


def subject(cert: x509.Certificate) -> tuple[str, list[str]]:
    cn = cert.subject.get_attributes_for_oid(NameOID.COMMON_NAME)[0].value
    orgs = [a.value for a in cert.subject.get_attributes_for_oid(NameOID.ORGANIZATION_NAME)]
    return str(cn), [str(o) for o in orgs]


def test_every_certificate_is_signed_by_the_ca(tmp_path: Path, bundle: Bundle) -> None:
    ensure(tmp_path, bundle)
    ca = load(tmp_path / "ca.crt")
    assert ca.extensions.get_extension_for_class(x509.BasicConstraints).value.ca
    leaves = [p for p in tmp_path.glob("*.crt") if p.name != "ca.crt"]
    assert len(leaves) == 7
    for leaf in leaves:
        load(leaf).verify_directly_issued_by(ca)  # raises when not signed by the CA


def test_apiserver_certificate_names_every_address_clients_use(tmp_path: Path, bundle: Bundle) -> None:
    ensure(tmp_path, bundle)
    cert = load(tmp_path / "apiserver.crt")
    assert {"192.168.56.11", "10.96.0.1", "127.0.0.1", "localhost", "cp1", "kubernetes",
            "kubernetes.default.svc.cluster.local"} <= cert_sans(cert)
    eku = cert.extensions.get_extension_for_class(x509.ExtendedKeyUsage).value
    assert ExtendedKeyUsageOID.SERVER_AUTH in eku


def test_client_certificates_carry_kubernetes_identities(tmp_path: Path, bundle: Bundle) -> None:
    ensure(tmp_path, bundle)
    assert subject(load(tmp_path / "admin.crt")) == ("admin", ["system:masters"])
    assert subject(load(tmp_path / "kubelet-w1.crt")) == ("system:node:w1", ["system:nodes"])
    assert subject(load(tmp_path / "kube-proxy.crt"))[0] == "system:kube-proxy"
    assert subject(load(tmp_path / "kube-scheduler.crt"))[0] == "system:kube-scheduler"
    assert subject(load(tmp_path / "kube-controller-manager.crt"))[0] == "system:kube-controller-manager"
    assert "192.168.56.12" in cert_sans(load(tmp_path / "kubelet-w1.crt"))


def test_kubeconfig_loads_and_embeds_the_matching_credentials(tmp_path: Path, bundle: Bundle) -> None:
    admin_copy = tmp_path / "out" / "admin.kubeconfig"
    ensure(tmp_path / "pki", bundle, admin_kubeconfig=admin_copy)
    doc = yaml.safe_load((tmp_path / "pki" / "kubelet-w2.kubeconfig").read_text())
    cluster = doc["clusters"][0]["cluster"]
    assert cluster["server"] == URL
    assert base64.b64decode(cluster["certificate-authority-data"]) == (tmp_path / "pki" / "ca.crt").read_bytes()
    user = doc["users"][0]
    assert user["name"] == "system:node:w2"
    cert = (tmp_path / "pki" / "kubelet-w2.crt").read_bytes()
    assert base64.b64decode(user["user"]["client-certificate-data"]) == cert
    assert doc["current-context"] == doc["contexts"][0]["name"]
    assert admin_copy.read_bytes() == (tmp_path / "pki" / "admin.kubeconfig").read_bytes()


def test_keys_and_kubeconfigs_are_private(tmp_path: Path, bundle: Bundle) -> None:
    ensure(tmp_path, bundle)
    for path in [*tmp_path.glob("*.key"), *tmp_path.glob("*.kubeconfig")]:
        assert stat.S_IMODE(path.stat().st_mode) == 0o600, path


def test_second_run_changes_nothing_and_lost_files_are_recreated(tmp_path: Path, bundle: Bundle) -> None:
    assert ensure(tmp_path, bundle).changed
    before = {p.name: p.read_bytes() for p in tmp_path.iterdir()}
    assert ensure(tmp_path, bundle).written == []
    (tmp_path / "kubelet-w2.key").unlink()
    report = ensure(tmp_path, bundle)
    assert set(report.written) == {"kubelet-w2.crt", "kubelet-w2.key", "kubelet-w2.kubeconfig"}
    assert (tmp_path / "ca.crt").read_bytes() == before["ca.crt"]
    assert (tmp_path / "admin.crt").read_bytes() == before["admin.crt"]


def test_new_san_reissues_only_the_serving_certificate(tmp_path: Path, bundle: Bundle) -> None:
    ensure(tmp_path, bundle)
    wider = Bundle(URL, (*bundle.apiserver_sans, "192.168.56.21"), bundle.nodes)
    assert ensure(tmp_path, wider).written == ["apiserver.crt", "apiserver.key"]
    assert "192.168.56.21" in cert_sans(load(tmp_path / "apiserver.crt"))


def test_moved_apiserver_rewrites_only_kubeconfigs(tmp_path: Path, bundle: Bundle) -> None:
    ensure(tmp_path, bundle)
    moved = Bundle("https://192.168.56.99:6443", bundle.apiserver_sans, bundle.nodes)
    written = ensure(tmp_path, moved).written
    assert written and all(name.endswith(".kubeconfig") for name in written)


def test_cli_prints_a_json_report(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    argv = ["--dir", str(tmp_path), "--apiserver-url", URL, "--sans", "10.0.0.1", "--nodes", "w1"]
    assert main(argv) == 0
    assert json.loads(capsys.readouterr().out)["changed"] is True
    main(argv)
    assert json.loads(capsys.readouterr().out) == {"changed": False, "written": []}
