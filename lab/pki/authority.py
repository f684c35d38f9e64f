"""Certificate authorities: self-signed CAs valid ten years (as kubeadm's), each kept as
`<name>.crt` / `<name>.key` in the PKI directory and reused on every later run. The lab has
three, as kubeadm does: the cluster CA (`ca`), etcd's (`etcd/ca`) and the front proxy's.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.x509.oid import NameOID

from lab.pki.files import write_private, write_public

CA_DAYS = 3653
KEY_SIZE = 2048
CLUSTER_CA = "kubernetes"
"""kubeadm's common name for the cluster CA (`ca.crt`)."""


@dataclass(frozen=True)
class Authority:
    """A loaded CA: what `certs.issue` signs with."""

    cert: x509.Certificate
    key: rsa.RSAPrivateKey

    @property
    def cert_pem(self) -> bytes:
        return self.cert.public_bytes(serialization.Encoding.PEM)


def new_key() -> rsa.RSAPrivateKey:
    # RSA 2048 is what kubeadm generates by default; every kubectl and TLS stack accepts it
    return rsa.generate_private_key(public_exponent=65537, key_size=KEY_SIZE)


def key_pem(key: rsa.RSAPrivateKey) -> bytes:
    return key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.TraditionalOpenSSL, serialization.NoEncryption()
    )


def create_ca(common_name: str = CLUSTER_CA) -> Authority:
    key = new_key()
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, common_name)])
    now = dt.datetime.now(dt.UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(minutes=5))
        .not_valid_after(now + dt.timedelta(days=CA_DAYS))
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .add_extension(
            x509.KeyUsage(
                digital_signature=True, key_cert_sign=True, crl_sign=True, content_commitment=False,
                key_encipherment=False, data_encipherment=False, key_agreement=False,
                encipher_only=False, decipher_only=False,
            ),
            critical=True,
        )
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()), critical=False)
        # kubeadm's CAs name themselves in a DNS SAN too
        .add_extension(x509.SubjectAlternativeName([x509.DNSName(common_name)]), critical=False)
        .sign(key, hashes.SHA256())
    )
    return Authority(cert=cert, key=key)


def load_ca(directory: Path, name: str = "ca") -> Authority:
    """The CA `<name>.crt` / `<name>.key` in `directory` (FileNotFoundError when absent)."""
    crt, key_file = directory / f"{name}.crt", directory / f"{name}.key"
    cert = x509.load_pem_x509_certificate(crt.read_bytes())
    key = serialization.load_pem_private_key(key_file.read_bytes(), password=None)
    if not isinstance(key, rsa.RSAPrivateKey):
        raise ValueError(f"{key_file}: expected an RSA key")
    return Authority(cert=cert, key=key)


def load_or_create_ca(directory: Path, name: str = "ca", common_name: str = CLUSTER_CA) -> tuple[Authority, bool]:
    """The CA `name` in `directory` (created when absent); the flag says whether it was created.
    An existing CA is never replaced: every certificate and kubeconfig out there trusts it."""
    crt, key_file = directory / f"{name}.crt", directory / f"{name}.key"
    if crt.exists() and key_file.exists():
        return load_ca(directory, name), False
    ca = create_ca(common_name)
    write_private(key_file, key_pem(ca.key))
    write_public(crt, ca.cert_pem)
    return ca, True
