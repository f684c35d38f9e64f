"""Serving certificate: the given files, or a self-signed CA plus serving cert in --cert-dir.

Like upstream, `apiserver.crt` holds the serving cert followed by its CA, so a client that
trusts that file (kubeconfig `certificate-authority-data`) verifies the server.
"""

from __future__ import annotations

import datetime
import ipaddress
import ssl
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

from lab.kube.component.client_certs import request_client_certificates

VALIDITY = datetime.timedelta(days=365)


def _name(cn: str) -> x509.Name:
    return x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, cn)])


def generate(cert_dir: Path, hosts: list[str]) -> tuple[Path, Path]:
    """Write `apiserver.crt` (cert + CA) and `apiserver.key` for `hosts` (IPs or DNS names)."""
    cert_dir.mkdir(parents=True, exist_ok=True)
    now = datetime.datetime.now(datetime.UTC)
    ca_key = ec.generate_private_key(ec.SECP256R1())
    ca_name = _name(f"{hosts[0]}-ca@{int(now.timestamp())}")
    ca = (x509.CertificateBuilder().subject_name(ca_name).issuer_name(ca_name)
          .public_key(ca_key.public_key()).serial_number(x509.random_serial_number())
          .not_valid_before(now - datetime.timedelta(hours=1)).not_valid_after(now + VALIDITY)
          .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
          .add_extension(x509.KeyUsage(digital_signature=True, content_commitment=False,
                                       key_encipherment=False, data_encipherment=False,
                                       key_agreement=False, key_cert_sign=True, crl_sign=False,
                                       encipher_only=False, decipher_only=False), critical=True)
          .sign(ca_key, hashes.SHA256()))
    key = ec.generate_private_key(ec.SECP256R1())
    sans: list[x509.GeneralName] = []
    for h in dict.fromkeys(hosts):
        try:
            sans.append(x509.IPAddress(ipaddress.ip_address(h)))
        except ValueError:
            sans.append(x509.DNSName(h))
    cert = (x509.CertificateBuilder().subject_name(_name(f"{hosts[0]}@{int(now.timestamp())}"))
            .issuer_name(ca_name).public_key(key.public_key())
            .serial_number(x509.random_serial_number())
            .not_valid_before(now - datetime.timedelta(hours=1)).not_valid_after(now + VALIDITY)
            .add_extension(x509.SubjectAlternativeName(sans), critical=False)
            .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
            .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.SERVER_AUTH]), critical=False)
            .sign(ca_key, hashes.SHA256()))
    crt_path, key_path = cert_dir / "apiserver.crt", cert_dir / "apiserver.key"
    crt_path.write_bytes(cert.public_bytes(serialization.Encoding.PEM)
                         + ca.public_bytes(serialization.Encoding.PEM))
    key_path.write_bytes(key.private_bytes(serialization.Encoding.PEM,
                                           serialization.PrivateFormat.TraditionalOpenSSL,
                                           serialization.NoEncryption()))
    key_path.chmod(0o600)
    return crt_path, key_path


def server_context(cert_file: str, key_file: str, cert_dir: str, hosts: list[str],
                   client_ca_file: str = "") -> ssl.SSLContext:
    """TLS context for the listener, generating a self-signed pair once if none is given.
    With a client CA, clients are asked for a certificate, verified by x509 authentication."""
    if cert_file and key_file:
        crt, key = Path(cert_file), Path(key_file)
    else:
        crt, key = Path(cert_dir) / "apiserver.crt", Path(cert_dir) / "apiserver.key"
        if not (crt.exists() and key.exists()):
            crt, key = generate(Path(cert_dir), hosts)
    ctx = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    ctx.load_cert_chain(str(crt), str(key))
    if client_ca_file:
        ctx.load_verify_locations(client_ca_file)  # its names go into the CertificateRequest
        request_client_certificates(ctx)
    return ctx
