"""Client certificates on our TLS servers, checked the way Go servers check them.

Upstream servers (kube-apiserver, kubelet) set `tls.RequestClientCert`: the handshake asks
for a certificate but accepts any, and the x509 authenticator verifies it afterwards, so a
certificate from another CA, an expired one or a wrong one gets an HTTP 401 instead of a
TLS alert. Python's `ssl` can only ask-and-verify (the handshake fails), so
`request_client_certificates` installs an accept-all OpenSSL verify callback on the
context through ctypes, and `X509Verifier` does the verification in Python.
"""

from __future__ import annotations

import ctypes
import datetime
import hashlib
import ssl
from collections.abc import Sequence
from pathlib import Path

from cryptography import x509
from cryptography.exceptions import InvalidSignature
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

from lab.kube.machinery.user import UserInfo

_SSL_VERIFY_PEER = 0x01
_VerifyCallback = ctypes.CFUNCTYPE(ctypes.c_int, ctypes.c_int, ctypes.c_void_p)
# Kept at module level: OpenSSL holds a raw pointer to it for the life of the process.
_ACCEPT_ANY = _VerifyCallback(lambda _preverify_ok, _store: 1)


class CertificateError(Exception):
    """A presented client certificate is not one this server accepts (the request is 401)."""


def _libssl() -> ctypes.CDLL:
    # The same libssl the `_ssl` extension is linked against (one copy per process).
    for name in ("libssl.so.3", "libssl.so"):
        try:
            lib = ctypes.CDLL(name)
        except OSError:
            continue
        lib.SSL_CTX_set_verify.argtypes = [ctypes.c_void_p, ctypes.c_int, _VerifyCallback]
        lib.SSL_CTX_set_verify.restype = None
        return lib
    raise RuntimeError("libssl not found: client certificates cannot be requested")


def request_client_certificates(context: ssl.SSLContext) -> None:
    """Ask every client for a certificate, accept whatever it sends (or none) at the TLS
    layer; the caller verifies what arrives with `X509Verifier`. Call after the context's
    `verify_mode` is final: setting `verify_mode` again would drop the callback."""
    context.verify_mode = ssl.CERT_OPTIONAL  # sends the CertificateRequest with our CA names
    # CPython's SSLContext object starts with its SSL_CTX pointer right after PyObject_HEAD.
    ssl_ctx = ctypes.c_void_p.from_address(id(context) + object.__basicsize__).value
    if not ssl_ctx:
        raise RuntimeError("cannot reach the OpenSSL context of this ssl.SSLContext")
    _libssl().SSL_CTX_set_verify(ssl_ctx, _SSL_VERIFY_PEER, _ACCEPT_ANY)


def peer_certificate(ssl_object: ssl.SSLObject | ssl.SSLSocket | None) -> bytes | None:
    """The DER client certificate of a connection, or None when the client sent none."""
    if ssl_object is None:
        return None
    return ssl_object.getpeercert(binary_form=True) or None


class X509Verifier:
    """Verifies client certificates against the CA bundle in `--client-ca-file` and maps
    them to users: CN is the username, each O a group (upstream `CommonNameUserConversion`)."""

    def __init__(self, cas: Sequence[x509.Certificate]) -> None:
        self._cas = list(cas)

    @classmethod
    def from_file(cls, path: str | Path) -> X509Verifier:
        cas = x509.load_pem_x509_certificates(Path(path).read_bytes())
        return cls(cas)

    def verify(self, der: bytes, now: datetime.datetime | None = None) -> UserInfo:
        try:
            cert = x509.load_der_x509_certificate(der)
        except ValueError as exc:
            raise CertificateError(f"malformed certificate: {exc}") from exc
        now = now or datetime.datetime.now(datetime.UTC)
        if now < cert.not_valid_before_utc:
            raise CertificateError("x509: certificate has expired or is not yet valid")
        if now > cert.not_valid_after_utc:
            raise CertificateError("x509: certificate has expired or is not yet valid")
        if not any(self._issued_by(cert, ca, now) for ca in self._cas):
            raise CertificateError("x509: certificate signed by unknown authority")
        try:
            usage = cert.extensions.get_extension_for_class(x509.ExtendedKeyUsage).value
        except x509.ExtensionNotFound:
            usage = None
        if usage is not None and ExtendedKeyUsageOID.CLIENT_AUTH not in usage \
                and ExtendedKeyUsageOID.ANY_EXTENDED_KEY_USAGE not in usage:
            raise CertificateError("x509: certificate specifies an incompatible key usage")
        cn = [a.value for a in cert.subject.get_attributes_for_oid(NameOID.COMMON_NAME)]
        orgs = [a.value for a in cert.subject.get_attributes_for_oid(NameOID.ORGANIZATION_NAME)]
        if not cn or not cn[0]:
            raise CertificateError("x509: certificate has no common name")
        credential = "X509SHA256=" + hashlib.sha256(der).hexdigest()
        return UserInfo(str(cn[0]), groups=tuple(str(o) for o in orgs),
                        extra={"authentication.kubernetes.io/credential-id": (credential,)})

    @staticmethod
    def _issued_by(cert: x509.Certificate, ca: x509.Certificate, now: datetime.datetime) -> bool:
        if not (ca.not_valid_before_utc <= now <= ca.not_valid_after_utc):
            return False
        try:
            cert.verify_directly_issued_by(ca)
        except (ValueError, TypeError, InvalidSignature):
            return False
        return True
