"""The authenticator chain the flags ask for, in upstream order: x509, then bearer tokens
(ServiceAccount JWTs when `--service-account-key-file` or a signing key gives keys)."""

from __future__ import annotations

from collections.abc import Mapping

from lab.kube.apiserver.authn.bearer import BearerTokenAuthenticator, TokenValidator
from lab.kube.apiserver.authn.chain import AuthenticationChain, RequestAuthenticator
from lab.kube.apiserver.authn.serviceaccount import ServiceAccountTokenValidator
from lab.kube.apiserver.authn.x509 import ClientCertAuthenticator
from lab.kube.apiserver.registry import Registry
from lab.kube.apiserver.serviceaccount import from_settings as token_config
from lab.kube.apiserver.settings import Settings
from lab.kube.component.client_certs import X509Verifier
from lab.kube.machinery.catalog import Resource


def build_authenticator(settings: Settings, registries: Mapping[Resource, Registry]) -> AuthenticationChain:
    authenticators: list[RequestAuthenticator] = []
    if settings.client_ca_file:
        authenticators.append(ClientCertAuthenticator(X509Verifier.from_file(settings.client_ca_file)))
    validators: list[TokenValidator] = []
    tokens = token_config(settings)
    if tokens.verification_keys:
        validators.append(ServiceAccountTokenValidator(tokens, registries))
    authenticators.append(BearerTokenAuthenticator(validators))
    return AuthenticationChain(authenticators, anonymous=settings.anonymous_auth,
                               insecure_anonymous_admin=settings.insecure_anonymous_admin)
