"""Authentication: who a request is (an authenticator chain, one small module each)."""

from lab.kube.apiserver.authn.bearer import BearerTokenAuthenticator, InvalidToken, TokenValidator
from lab.kube.apiserver.authn.chain import ANONYMOUS_PATHS, AuthenticationChain, RequestAuthenticator
from lab.kube.apiserver.authn.x509 import ClientCertAuthenticator

__all__ = ["ANONYMOUS_PATHS", "AuthenticationChain", "BearerTokenAuthenticator", "ClientCertAuthenticator",
           "InvalidToken", "RequestAuthenticator", "TokenValidator"]
