"""The lab PKI as the pki role uses it: one call lays out kubeadm's three CAs, the
certificates each signs, the ServiceAccount keys and the kubeconfigs; a second call changes
nothing; a lost or stale file is the only thing recreated."""

from __future__ import annotations

import base64
import json
import stat
from pathlib import Path

import pytest
import yaml
from cryptography import x509
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

from lab.pki import Bundle, NodeSpec, ensure
from lab.pki.__main__ import main
from lab.pki.authority import load_or_create_ca
from lab.pki.certs import CertSpec, cert_sans, ensure_cert

URL = "https://192.168.56.11:6443"


@pytest.fixture
def bundle() -> Bundle:
    return Bundle(apiserver_url=URL, apiserver_sans=("192.168.56.11", "cp1"),
                  nodes=(NodeSpec.parse("w1=192.168.56.12"), NodeSpec.parse("w2")),
                  etcd_members=(NodeSpec.parse("cp1=192.168.56.11"),))


def load(path: Path) -> x509.Certificate:
    return x509.load_pem_x509_certificate(path.read_bytes())


def subject(cert: x509.Certificate) -> tuple[str, list[str]]:
    cn = cert.subject.get_attributes_for_oid(NameOID.COMMON_NAME)[0].value
    orgs = [a.value for a in cert.subject.get_attributes_for_oid(NameOID.ORGANIZATION_NAME)]
    return str(cn), [str(o) for o in orgs]


CLUSTER_CA_LEAVES = {"apiserver", "apiserver-kubelet-client", "admin", "super-admin", "kube-scheduler",
                     "kube-controller-manager", "kube-proxy", "kubelet-w1", "kubelet-w1-serving", "kubelet-w2",
                     "kubelet-w2-serving"}
ETCD_CA_LEAVES = {"apiserver-etcd-client", "etcd/healthcheck-client", "etcd/server-cp1", "etcd/peer-cp1"}


def stems(directory: Path) -> set[str]:
    return {str(p.relative_to(directory).with_suffix("")) for p in directory.rglob("*.crt")}


def test_every_certificate_is_signed_by_its_own_ca(tmp_path: Path, bundle: Bundle) -> None:
    ensure(tmp_path, bundle)
    cas = {stem: load(tmp_path / f"{stem}.crt") for stem in ("ca", "etcd/ca", "front-proxy-ca")}
    assert [subject(c)[0] for c in cas.values()] == ["kubernetes", "etcd-ca", "front-proxy-ca"]
    for ca in cas.values():
        assert ca.extensions.get_extension_for_class(x509.BasicConstraints).value.ca
        assert (ca.not_valid_after_utc - ca.not_valid_before_utc).days >= 3650
    assert stems(tmp_path) == {*cas, *CLUSTER_CA_LEAVES, *ETCD_CA_LEAVES, "front-proxy-client"}
    for owner, leaves in (("ca", CLUSTER_CA_LEAVES), ("etcd/ca", ETCD_CA_LEAVES),
                          ("front-proxy-ca", {"front-proxy-client"})):
        for leaf in leaves:
            cert = load(tmp_path / f"{leaf}.crt")
            cert.verify_directly_issued_by(cas[owner])  # raises when not signed by that CA
            assert 364 <= (cert.not_valid_after_utc - cert.not_valid_before_utc).days <= 366
            for other in set(cas) - {owner}:
                assert cert.issuer != cas[other].subject, (leaf, other)


def test_an_etcd_client_certificate_is_not_trusted_by_the_cluster_ca(tmp_path: Path, bundle: Bundle) -> None:
    ensure(tmp_path, bundle)
    with pytest.raises(ValueError):  # issuer mismatch: the CAs are separate
        load(tmp_path / "apiserver-etcd-client.crt").verify_directly_issued_by(load(tmp_path / "ca.crt"))


def test_apiserver_certificate_names_every_address_clients_use(tmp_path: Path, bundle: Bundle) -> None:
    ensure(tmp_path, bundle)
    cert = load(tmp_path / "apiserver.crt")
    assert cert_sans(cert) == {"192.168.56.11", "10.96.0.1", "127.0.0.1", "localhost", "cp1", "kubernetes",
                               "kubernetes.default", "kubernetes.default.svc",
                               "kubernetes.default.svc.cluster.local"}
    eku = cert.extensions.get_extension_for_class(x509.ExtendedKeyUsage).value
    assert list(eku) == [ExtendedKeyUsageOID.SERVER_AUTH]


def test_etcd_members_serve_and_peer_on_their_address_and_loopback(tmp_path: Path, bundle: Bundle) -> None:
    ensure(tmp_path, bundle)
    for kind in ("server", "peer"):
        cert = load(tmp_path / "etcd" / f"{kind}-cp1.crt")
        assert subject(cert) == ("cp1", [])
        assert cert_sans(cert) == {"cp1", "192.168.56.11", "localhost", "127.0.0.1", "::1"}
        eku = cert.extensions.get_extension_for_class(x509.ExtendedKeyUsage).value
        assert set(eku) == {ExtendedKeyUsageOID.SERVER_AUTH, ExtendedKeyUsageOID.CLIENT_AUTH}


def test_each_kubelet_serves_with_its_node_name_and_address(tmp_path: Path, bundle: Bundle) -> None:
    ensure(tmp_path, bundle)
    serving = load(tmp_path / "kubelet-w1-serving.crt")
    assert cert_sans(serving) == {"w1", "192.168.56.12"}
    assert cert_sans(load(tmp_path / "kubelet-w2-serving.crt")) == {"w2"}
    assert list(serving.extensions.get_extension_for_class(x509.ExtendedKeyUsage).value) == [
        ExtendedKeyUsageOID.SERVER_AUTH]
    client = load(tmp_path / "kubelet-w1.crt")  # the identity it reaches the API with serves nothing
    assert list(client.extensions.get_extension_for_class(x509.ExtendedKeyUsage).value) == [
        ExtendedKeyUsageOID.CLIENT_AUTH]


def test_client_certificates_carry_kubernetes_identities(tmp_path: Path, bundle: Bundle) -> None:
    ensure(tmp_path, bundle)
    assert subject(load(tmp_path / "admin.crt")) == ("kubernetes-admin", ["kubeadm:cluster-admins"])
    assert subject(load(tmp_path / "super-admin.crt")) == ("kubernetes-super-admin", ["system:masters"])
    assert subject(load(tmp_path / "kubelet-w1.crt")) == ("system:node:w1", ["system:nodes"])
    assert subject(load(tmp_path / "kubelet-w2.crt")) == ("system:node:w2", ["system:nodes"])
    assert subject(load(tmp_path / "kube-proxy.crt"))[0] == "system:kube-proxy"
    assert subject(load(tmp_path / "kube-scheduler.crt")) == ("system:kube-scheduler", [])
    assert subject(load(tmp_path / "kube-controller-manager.crt")) == ("system:kube-controller-manager", [])
    assert subject(load(tmp_path / "apiserver-kubelet-client.crt")) == ("kube-apiserver-kubelet-client",
                                                                        ["kubeadm:cluster-admins"])
    assert subject(load(tmp_path / "apiserver-etcd-client.crt")) == ("kube-apiserver-etcd-client", [])
    assert subject(load(tmp_path / "front-proxy-client.crt")) == ("front-proxy-client", [])


def test_the_service_account_key_pair_matches(tmp_path: Path, bundle: Bundle) -> None:
    ensure(tmp_path, bundle)
    key = serialization.load_pem_private_key((tmp_path / "sa.key").read_bytes(), password=None)
    pub = serialization.load_pem_public_key((tmp_path / "sa.pub").read_bytes())
    assert isinstance(key, rsa.RSAPrivateKey) and isinstance(pub, rsa.RSAPublicKey)
    assert (tmp_path / "sa.key").read_bytes().startswith(b"-----BEGIN RSA PRIVATE KEY-----")
    assert (tmp_path / "sa.pub").read_bytes().startswith(b"-----BEGIN PUBLIC KEY-----")
    assert key.public_key().public_numbers() == pub.public_numbers()
    (tmp_path / "sa.pub").unlink()  # a lost public half is derived again, the signing key kept
    assert ensure(tmp_path, bundle).written == ["sa.pub"]


def test_kubeconfig_loads_and_embeds_the_matching_credentials(tmp_path: Path, bundle: Bundle) -> None:
    admin_copy = tmp_path / "out" / "admin.kubeconfig"
    ensure(tmp_path / "pki", bundle, admin_kubeconfig=admin_copy)
    doc = yaml.safe_load((tmp_path / "pki" / "kubelet-w2.kubeconfig").read_text())
    cluster = doc["clusters"][0]["cluster"]
    assert cluster["server"] == URL
    assert base64.b64decode(cluster["certificate-authority-data"]) == (tmp_path / "pki" / "ca.crt").read_bytes()
    user = doc["users"][0]
    assert user["name"] == "system:node:w2"
    assert "insecure-skip-tls-verify" not in cluster  # every client verifies the server
    cert = (tmp_path / "pki" / "kubelet-w2.crt").read_bytes()
    assert base64.b64decode(user["user"]["client-certificate-data"]) == cert
    assert doc["current-context"] == doc["contexts"][0]["name"]
    assert admin_copy.read_bytes() == (tmp_path / "pki" / "admin.kubeconfig").read_bytes()


def test_every_kubeconfig_carries_its_own_identity(tmp_path: Path, bundle: Bundle) -> None:
    ensure(tmp_path, bundle)
    users = {}
    for path in tmp_path.glob("*.kubeconfig"):
        doc = yaml.safe_load(path.read_text())
        cert = x509.load_pem_x509_certificate(base64.b64decode(doc["users"][0]["user"]["client-certificate-data"]))
        users[path.stem] = (doc["users"][0]["name"], subject(cert))
    assert users == {
        "admin": ("kubernetes-admin", ("kubernetes-admin", ["kubeadm:cluster-admins"])),
        "super-admin": ("kubernetes-super-admin", ("kubernetes-super-admin", ["system:masters"])),
        "scheduler": ("system:kube-scheduler", ("system:kube-scheduler", [])),
        "controller-manager": ("system:kube-controller-manager", ("system:kube-controller-manager", [])),
        "kube-proxy": ("system:kube-proxy", ("system:kube-proxy", ["system:node-proxier"])),
        "kubelet-w1": ("system:node:w1", ("system:node:w1", ["system:nodes"])),
        "kubelet-w2": ("system:node:w2", ("system:node:w2", ["system:nodes"])),
    }


def test_keys_and_kubeconfigs_are_private(tmp_path: Path, bundle: Bundle) -> None:
    ensure(tmp_path, bundle)
    for path in [*tmp_path.rglob("*.key"), *tmp_path.glob("*.kubeconfig")]:
        assert stat.S_IMODE(path.stat().st_mode) == 0o600, path


def test_second_run_changes_nothing_and_lost_files_are_recreated(tmp_path: Path, bundle: Bundle) -> None:
    assert ensure(tmp_path, bundle).changed
    before = {p.name: p.read_bytes() for p in tmp_path.iterdir() if p.is_file()}
    mtimes = {p: p.stat().st_mtime_ns for p in tmp_path.rglob("*") if p.is_file()}
    assert ensure(tmp_path, bundle).written == []
    assert {p: p.stat().st_mtime_ns for p in tmp_path.rglob("*") if p.is_file()} == mtimes
    (tmp_path / "kubelet-w2.key").unlink()
    report = ensure(tmp_path, bundle)
    assert set(report.written) == {"kubelet-w2.crt", "kubelet-w2.key", "kubelet-w2.kubeconfig"}
    assert (tmp_path / "ca.crt").read_bytes() == before["ca.crt"]
    assert (tmp_path / "admin.crt").read_bytes() == before["admin.crt"]


def test_a_lost_etcd_ca_reissues_exactly_what_it_signed(tmp_path: Path, bundle: Bundle) -> None:
    ensure(tmp_path, bundle)
    (tmp_path / "etcd" / "ca.key").unlink()
    written = set(ensure(tmp_path, bundle).written)
    assert written == {"etcd/ca.crt", "etcd/ca.key"} | {f"{s}.{ext}" for s in ETCD_CA_LEAVES for ext in ("crt", "key")}


def test_a_changed_identity_is_reissued(tmp_path: Path) -> None:
    # a lab deployed before kubeadm:cluster-admins had its admin in system:masters
    ca, _ = load_or_create_ca(tmp_path)
    ensure_cert(tmp_path, CertSpec("admin", "admin", ("system:masters",)), ca)
    assert "admin.crt" in ensure(tmp_path, Bundle(URL)).written
    assert subject(load(tmp_path / "admin.crt")) == ("kubernetes-admin", ["kubeadm:cluster-admins"])


def test_new_san_reissues_only_the_serving_certificate(tmp_path: Path, bundle: Bundle) -> None:
    ensure(tmp_path, bundle)
    wider = Bundle(URL, (*bundle.apiserver_sans, "192.168.56.21"), bundle.nodes, bundle.etcd_members)
    assert ensure(tmp_path, wider).written == ["apiserver.crt", "apiserver.key"]
    assert "192.168.56.21" in cert_sans(load(tmp_path / "apiserver.crt"))
    assert ensure(tmp_path, bundle).written == ["apiserver.crt", "apiserver.key"]  # and a removed one goes
    assert "192.168.56.21" not in cert_sans(load(tmp_path / "apiserver.crt"))


def test_moved_apiserver_rewrites_only_kubeconfigs(tmp_path: Path, bundle: Bundle) -> None:
    ensure(tmp_path, bundle)
    moved = Bundle("https://192.168.56.99:6443", bundle.apiserver_sans, bundle.nodes, bundle.etcd_members)
    written = ensure(tmp_path, moved).written
    assert written and all(name.endswith(".kubeconfig") for name in written)


def test_cli_prints_a_json_report(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    argv = ["--dir", str(tmp_path), "--apiserver-url", URL, "--sans", "10.0.0.1", "--nodes", "w1",
            "--etcd-members", "cp1=10.0.0.1"]
    assert main(argv) == 0
    assert json.loads(capsys.readouterr().out)["changed"] is True
    assert cert_sans(load(tmp_path / "etcd" / "server-cp1.crt")) >= {"cp1", "10.0.0.1"}
    main(argv)
    assert json.loads(capsys.readouterr().out) == {"changed": False, "written": []}
