"""Certificates for tests of TLS servers that take client certificates: a client CA, identities
it issued, and one from another CA (which must be refused)."""

from __future__ import annotations

import ssl
from dataclasses import dataclass
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives.serialization import Encoding

from lab.pki.authority import create_ca, load_or_create_ca
from lab.pki.certs import CertSpec, ensure_cert, issue


@dataclass(frozen=True)
class ClientPKI:
    directory: Path

    @property
    def ca_file(self) -> Path:
        return self.directory / "ca.crt"

    def identity(self, name: str, common_name: str, *groups: str) -> tuple[Path, Path]:
        """(cert, key) files of a client certificate from the test CA."""
        ca, _ = load_or_create_ca(self.directory)
        ensure_cert(self.directory, CertSpec(name, common_name, tuple(groups)), ca)
        return self.directory / f"{name}.crt", self.directory / f"{name}.key"

    def der(self, name: str, common_name: str, *groups: str) -> bytes:
        return der_of(self.identity(name, common_name, *groups)[0])

    def stranger(self, common_name: str = "mallory") -> tuple[Path, Path]:
        """(cert, key) of a client certificate from a CA nobody trusts."""
        cert, key = issue(create_ca("other-ca"), CertSpec("stranger", common_name, ("system:masters",)))
        (self.directory / "stranger.crt").write_bytes(cert)
        (self.directory / "stranger.key").write_bytes(key)
        return self.directory / "stranger.crt", self.directory / "stranger.key"


def der_of(cert_file: Path) -> bytes:
    return x509.load_pem_x509_certificate(cert_file.read_bytes()).public_bytes(Encoding.DER)


def make_pki(directory: Path) -> ClientPKI:
    load_or_create_ca(directory)
    return ClientPKI(directory)


def client_context(cert: tuple[Path, Path] | None = None) -> ssl.SSLContext:
    """A client that does not check the (self-signed) server and presents `cert` if given."""
    ctx = ssl.create_default_context()
    ctx.check_hostname = False
    ctx.verify_mode = ssl.CERT_NONE
    if cert is not None:
        ctx.load_cert_chain(str(cert[0]), str(cert[1]))
    return ctx
