"""`lab certs check` and `lab certs renew` on a laid-out PKI directory: the expiry table in
kubeadm's format, and renewal that keeps the CA, the identity and the SANs, and puts the new
certificate into the kubeconfigs that carried the old one."""

from __future__ import annotations

import base64
import datetime as dt
import shutil
from pathlib import Path

import pytest
import yaml
from cryptography import x509

from lab.pki import Bundle, NodeSpec, UnknownCertificate, ensure, renew
from lab.pki.certs import cert_sans
from lab.pki.expiry import report, residual

URL = "https://192.168.56.11:6443"
BUNDLE = Bundle(URL, ("192.168.56.11", "cp1"), (NodeSpec.parse("w1=192.168.56.21"),),
                (NodeSpec.parse("cp1=192.168.56.11"),))


@pytest.fixture(scope="module")
def laid_out(tmp_path_factory: pytest.TempPathFactory) -> Path:
    directory = tmp_path_factory.mktemp("pki")
    ensure(directory, BUNDLE)
    return directory


@pytest.fixture
def pki(laid_out: Path, tmp_path: Path) -> Path:
    """A private copy per test (RSA keys are slow to make, copies are not)."""
    shutil.copytree(laid_out, tmp_path / "pki")
    return tmp_path / "pki"


def load(path: Path) -> x509.Certificate:
    return x509.load_pem_x509_certificate(path.read_bytes())


def test_check_lists_every_certificate_with_its_ca_as_kubeadm_does(laid_out: Path) -> None:
    issued = load(laid_out / "apiserver.crt").not_valid_after_utc
    lines = report(laid_out, now=issued - dt.timedelta(days=100, hours=1)).splitlines()
    assert lines[0].split("   ")[0] == "CERTIFICATE"
    assert [c.strip() for c in lines[0].split("  ") if c.strip()] == [
        "CERTIFICATE", "EXPIRES", "RESIDUAL TIME", "CERTIFICATE AUTHORITY"]
    rows = {line.split()[0]: line.split() for line in lines[1:lines.index("")]}
    assert sorted(rows) == list(rows)  # sorted by name
    assert set(rows) == {"admin", "apiserver", "apiserver-etcd-client", "apiserver-kubelet-client",
                         "etcd/healthcheck-client", "etcd/peer-cp1", "etcd/server-cp1", "front-proxy-client",
                         "kube-controller-manager", "kube-proxy", "kube-scheduler", "kubelet-w1",
                         "kubelet-w1-serving", "super-admin"}
    assert rows["apiserver"][1:] == [issued.strftime("%b"), issued.strftime("%d,"), issued.strftime("%Y"),
                                     issued.strftime("%H:%M"), "UTC", "100d", "ca"]
    assert rows["apiserver-etcd-client"][-1] == rows["etcd/server-cp1"][-1] == "etcd-ca"
    assert rows["front-proxy-client"][-1] == "front-proxy-ca"
    cas = [line.split() for line in lines[lines.index("") + 2:]]
    assert lines[lines.index("") + 1].split()[:2] == ["CERTIFICATE", "AUTHORITY"]
    assert [(r[0], r[-1]) for r in cas] == [("ca", "9y"), ("etcd-ca", "9y"), ("front-proxy-ca", "9y")]  # 10y less 265d


@pytest.mark.parametrize(("left", "shown"), [(dt.timedelta(days=364, hours=23), "364d"),
                                             (dt.timedelta(days=3652), "10y"), (dt.timedelta(hours=5), "0d"),
                                             (dt.timedelta(seconds=-1), "<invalid>")])
def test_residual_time_is_days_under_a_year_and_years_after(left: dt.timedelta, shown: str) -> None:
    now = dt.datetime(2026, 1, 1, tzinfo=dt.UTC)
    assert residual(now + left, now) == shown


def test_renew_all_keeps_cas_identities_and_sans(pki: Path) -> None:
    before = {p: p.read_bytes() for p in pki.rglob("*") if p.is_file()}
    old = {p: load(p) for p in pki.rglob("*.crt")}
    written = renew(pki, ["all"])
    for ca in ("ca", "etcd/ca", "front-proxy-ca"):
        assert (pki / f"{ca}.crt").read_bytes() == before[pki / f"{ca}.crt"]
        assert (pki / f"{ca}.key").read_bytes() == before[pki / f"{ca}.key"]
        assert f"{ca}.crt" not in written
    assert (pki / "sa.key").read_bytes() == before[pki / "sa.key"]  # a key pair, nothing to renew
    for path, cert in old.items():
        if path.stem == "ca" or path.stem == "front-proxy-ca":
            continue
        new = load(path)
        assert new.serial_number != cert.serial_number, path
        assert (new.subject, new.issuer, cert_sans(new)) == (cert.subject, cert.issuer, cert_sans(cert)), path
        assert (pki / path.with_suffix(".key")).read_bytes() != before[path.with_suffix(".key")]
    # and the inventory-driven ensure agrees that nothing is stale
    assert ensure(pki, BUNDLE).written == []


def test_renew_one_rewrites_only_it_and_its_kubeconfig(pki: Path) -> None:
    before = {p: p.read_bytes() for p in pki.rglob("*") if p.is_file()}
    assert renew(pki, ["kube-scheduler"]) == ["kube-scheduler.crt", "kube-scheduler.key", "scheduler.kubeconfig"]
    changed = {p for p in pki.rglob("*") if p.is_file() and p.read_bytes() != before[p]}
    assert changed == {pki / "kube-scheduler.crt", pki / "kube-scheduler.key", pki / "scheduler.kubeconfig"}
    user = yaml.safe_load((pki / "scheduler.kubeconfig").read_text())["users"][0]["user"]
    assert base64.b64decode(user["client-certificate-data"]) == (pki / "kube-scheduler.crt").read_bytes()
    assert base64.b64decode(user["client-key-data"]) == (pki / "kube-scheduler.key").read_bytes()
    load(pki / "kube-scheduler.crt").verify_directly_issued_by(load(pki / "ca.crt"))


def test_renew_an_etcd_certificate_signs_with_the_etcd_ca(pki: Path) -> None:
    renew(pki, ["etcd/server-cp1"])
    load(pki / "etcd" / "server-cp1.crt").verify_directly_issued_by(load(pki / "etcd" / "ca.crt"))


def test_renew_an_unknown_name_says_which_exist(pki: Path) -> None:
    with pytest.raises(UnknownCertificate, match=r"no such certificate: nope .*apiserver"):
        renew(pki, ["nope"])
    with pytest.raises(UnknownCertificate):
        renew(pki, ["ca"])  # CAs are not renewed
