"""Serving certificates for component TLS ports: the given files, or a self-signed pair.

As client-go's `certutil.GenerateSelfSignedCertKey`: a throwaway CA `<host>-ca@<unix time>`
signs a serving cert `<host>@<unix time>`, and `<pair>.crt` holds the cert followed by that
CA, so a client that trusts the file verifies the server. The kubelet writes
`kubelet.crt`/`kubelet.key` into its cert dir; kube-scheduler and kube-controller-manager
use `--cert-dir` when given and otherwise keep the pair in memory (here: a private temp dir).
"""

from __future__ import annotations

import datetime
import ipaddress
import ssl
import tempfile
from collections.abc import Sequence
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

from lab.kube.component.client_certs import request_client_certificates

VALIDITY = datetime.timedelta(days=365)


def _name(cn: str) -> x509.Name:
    return x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, cn)])


def _sans(hosts: Sequence[str]) -> list[x509.GeneralName]:
    out: list[x509.GeneralName] = []
    for h in dict.fromkeys(hosts):
        try:
            out.append(x509.IPAddress(ipaddress.ip_address(h)))
        except ValueError:
            out.append(x509.DNSName(h))
    return out


def generate_self_signed(cert_dir: Path, pair: str, hosts: Sequence[str]) -> tuple[Path, Path]:
    """Write `<pair>.crt` (cert + its CA) and `<pair>.key` for `hosts` (IPs or DNS names; the
    first names the certificate)."""
    cert_dir.mkdir(parents=True, exist_ok=True)
    now = datetime.datetime.now(datetime.UTC)
    stamp = int(now.timestamp())
    ca_key = ec.generate_private_key(ec.SECP256R1())
    ca_name = _name(f"{hosts[0]}-ca@{stamp}")
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
    cert = (x509.CertificateBuilder().subject_name(_name(f"{hosts[0]}@{stamp}"))
            .issuer_name(ca_name).public_key(key.public_key())
            .serial_number(x509.random_serial_number())
            .not_valid_before(now - datetime.timedelta(hours=1)).not_valid_after(now + VALIDITY)
            .add_extension(x509.SubjectAlternativeName(_sans(hosts)), critical=False)
            .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
            .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.SERVER_AUTH]), critical=False)
            .sign(ca_key, hashes.SHA256()))
    crt_path, key_path = cert_dir / f"{pair}.crt", cert_dir / f"{pair}.key"
    key_path.touch(mode=0o600)
    key_path.write_bytes(key.private_bytes(serialization.Encoding.PEM,
                                           serialization.PrivateFormat.TraditionalOpenSSL,
                                           serialization.NoEncryption()))
    crt_path.write_bytes(cert.public_bytes(serialization.Encoding.PEM)
                         + ca.public_bytes(serialization.Encoding.PEM))
    return crt_path, key_path


def server_context(cert_file: str = "", key_file: str = "", *, cert_dir: str = "", pair: str,
                   hosts: Sequence[str], client_ca_file: str = "") -> ssl.SSLContext:
    """The listener's TLS context: `cert_file`/`key_file` when both are given, else the pair
    in `cert_dir` (generated once), else a fresh pair that lives only as long as this process.
    With `client_ca_file`, clients are asked for a certificate (checked later by X509Verifier)."""
    ctx = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    if cert_file and key_file:
        ctx.load_cert_chain(cert_file, key_file)
    elif cert_dir:
        crt, key = Path(cert_dir) / f"{pair}.crt", Path(cert_dir) / f"{pair}.key"
        if not (crt.exists() and key.exists()):
            crt, key = generate_self_signed(Path(cert_dir), pair, hosts)
        ctx.load_cert_chain(str(crt), str(key))
    else:
        with tempfile.TemporaryDirectory(prefix=f"{pair}-") as scratch:  # ssl loads from files only
            crt, key = generate_self_signed(Path(scratch), pair, hosts)
            ctx.load_cert_chain(str(crt), str(key))
    if client_ca_file:
        ctx.load_verify_locations(client_ca_file)  # its names go into the CertificateRequest
        request_client_certificates(ctx)
    return ctx
