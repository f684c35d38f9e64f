"""Client-certificate authentication: the certificate the TLS handshake received
(`component.client_certs` asks for one without verifying it) checked against
`--client-ca-file`; CN is the user, O the groups."""

from __future__ import annotations

import logging

from aiohttp import web

from lab.kube.apiserver.authn.chain import unauthorized
from lab.kube.component.client_certs import CertificateError, X509Verifier, peer_certificate
from lab.kube.machinery.user import UserInfo

log = logging.getLogger(__name__)


class ClientCertAuthenticator:
    def __init__(self, verifier: X509Verifier) -> None:
        self.verifier = verifier

    async def authenticate(self, request: web.Request) -> UserInfo | None:
        transport = request.transport
        der = peer_certificate(transport.get_extra_info("ssl_object") if transport else None)
        if der is None:
            return None
        try:
            return self.verifier.verify(der)
        except CertificateError as exc:
            log.info("client certificate refused from %s: %s", request.remote, exc)
            raise unauthorized() from exc
