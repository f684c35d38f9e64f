"""Leaf certificates signed by one of the lab's CAs: serving certificates (with SANs) and
client certificates whose subject carries the Kubernetes identity (CN = user, O = groups).
Valid one year, as kubeadm's; `is_current` decides whether one on disk still fits its spec.
"""

from __future__ import annotations

import datetime as dt
import ipaddress
from dataclasses import dataclass
from pathlib import Path

from cryptography import x509
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

from lab.pki.authority import Authority, key_pem, new_key
from lab.pki.files import write_private, write_public

LEAF_DAYS = 365


@dataclass(frozen=True)
class CertSpec:
    """What one leaf certificate says: who it is and where it may serve."""

    name: str
    """File stem: `<name>.crt` / `<name>.key`."""
    common_name: str
    organizations: tuple[str, ...] = ()
    sans: tuple[str, ...] = ()
    """DNS names and IP addresses (IPs are recognised by parsing)."""
    server: bool = False
    client: bool = True
    authority: str = "ca"
    """Stem of the CA that signs it (`ca`, `etcd/ca`, `front-proxy-ca`)."""

    @property
    def subject(self) -> x509.Name:
        attrs = [x509.NameAttribute(NameOID.ORGANIZATION_NAME, o) for o in self.organizations]
        attrs.append(x509.NameAttribute(NameOID.COMMON_NAME, self.common_name))
        return x509.Name(attrs)

    @property
    def usages(self) -> list[x509.ObjectIdentifier]:
        out = []
        if self.server:
            out.append(ExtendedKeyUsageOID.SERVER_AUTH)
        if self.client:
            out.append(ExtendedKeyUsageOID.CLIENT_AUTH)
        return out


def _san_entries(sans: tuple[str, ...]) -> list[x509.GeneralName]:
    entries: list[x509.GeneralName] = []
    for san in dict.fromkeys(sans):  # keep order, drop duplicates
        try:
            entries.append(x509.IPAddress(ipaddress.ip_address(san)))
        except ValueError:
            entries.append(x509.DNSName(san))
    return entries


def cert_sans(cert: x509.Certificate) -> set[str]:
    """The SANs of `cert` as strings (empty when it has none)."""
    try:
        ext = cert.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
    except x509.ExtensionNotFound:
        return set()
    return {str(v) for v in ext.get_values_for_type(x509.DNSName)} | {
        str(v) for v in ext.get_values_for_type(x509.IPAddress)
    }


def issue(ca: Authority, spec: CertSpec) -> tuple[bytes, bytes]:
    """A new key and certificate for `spec`, as (cert PEM, key PEM)."""
    key = new_key()
    now = dt.datetime.now(dt.UTC)
    builder = (
        x509.CertificateBuilder()
        .subject_name(spec.subject)
        .issuer_name(ca.cert.subject)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(minutes=5))
        .not_valid_after(now + dt.timedelta(days=LEAF_DAYS))
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .add_extension(
            x509.KeyUsage(
                digital_signature=True, key_encipherment=True, content_commitment=False,
                data_encipherment=False, key_agreement=False, key_cert_sign=False, crl_sign=False,
                encipher_only=False, decipher_only=False,
            ),
            critical=True,
        )
        .add_extension(x509.ExtendedKeyUsage(spec.usages), critical=False)
        .add_extension(
            x509.AuthorityKeyIdentifier.from_issuer_public_key(ca.key.public_key()), critical=False
        )
    )
    if spec.sans:
        builder = builder.add_extension(x509.SubjectAlternativeName(_san_entries(spec.sans)), critical=False)
    cert = builder.sign(ca.key, hashes.SHA256())
    return cert.public_bytes(serialization.Encoding.PEM), key_pem(key)


def signed_by(cert: x509.Certificate, ca: Authority) -> bool:
    """Whether `ca` issued `cert` (name and signature)."""
    if cert.issuer != ca.cert.subject:
        return False
    try:
        cert.verify_directly_issued_by(ca.cert)
    except (InvalidSignature, ValueError, TypeError):  # signed by another CA or key
        return False
    return True


def cert_usages(cert: x509.Certificate) -> set[x509.ObjectIdentifier]:
    try:
        return set(cert.extensions.get_extension_for_class(x509.ExtendedKeyUsage).value)
    except x509.ExtensionNotFound:
        return set()


def is_current(directory: Path, spec: CertSpec, ca: Authority) -> bool:
    """Whether `<name>.crt/.key` exist, were signed by this CA, say exactly what `spec` says
    (identity, usages, SANs: a removed machine's address goes too) and are not about to expire."""
    crt, key = directory / f"{spec.name}.crt", directory / f"{spec.name}.key"
    if not (crt.exists() and key.exists()):
        return False
    cert = x509.load_pem_x509_certificate(crt.read_bytes())
    if not signed_by(cert, ca) or cert.subject != spec.subject or cert_usages(cert) != set(spec.usages):
        return False
    if set(_san_values(spec.sans)) != cert_sans(cert):
        return False
    return cert.not_valid_after_utc > dt.datetime.now(dt.UTC) + dt.timedelta(days=30)


def spec_of(cert: x509.Certificate, name: str, authority: str) -> CertSpec:
    """The spec an existing certificate was issued from (what `renew` issues again)."""
    def attrs(oid: x509.ObjectIdentifier) -> list[str]:
        return [str(a.value) for a in cert.subject.get_attributes_for_oid(oid)]
    usages = cert_usages(cert)
    common_names = attrs(NameOID.COMMON_NAME)
    return CertSpec(name, common_names[0] if common_names else "", tuple(attrs(NameOID.ORGANIZATION_NAME)),
                    sans=tuple(sorted(cert_sans(cert))), server=ExtendedKeyUsageOID.SERVER_AUTH in usages,
                    client=ExtendedKeyUsageOID.CLIENT_AUTH in usages, authority=authority)


def _san_values(sans: tuple[str, ...]) -> list[str]:
    # normalise IPs the way cryptography prints them ("10.96.0.1", "::1")
    out = []
    for san in sans:
        try:
            out.append(str(ipaddress.ip_address(san)))
        except ValueError:
            out.append(san)
    return out


def ensure_cert(directory: Path, spec: CertSpec, ca: Authority) -> bool:
    """Issue `spec` into `directory` unless a current one is there; True when (re)issued."""
    if is_current(directory, spec, ca):
        return False
    write_cert(directory, spec, ca)
    return True


def write_cert(directory: Path, spec: CertSpec, ca: Authority) -> None:
    """Issue `spec` into `directory`, replacing what is there."""
    cert_pem, key = issue(ca, spec)
    write_private(directory / f"{spec.name}.key", key)
    write_public(directory / f"{spec.name}.crt", cert_pem)
