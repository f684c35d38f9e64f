"""ServiceAccount tokens: keys, JWS signing and verification, bound-token claims, the
server's token configuration and OIDC discovery. The TokenRequest handler
(`rest/tokenrequest.py`) issues tokens with it; `authn/serviceaccount.py` checks them."""

from lab.kube.apiserver.serviceaccount.config import TokenConfig, from_settings
from lab.kube.apiserver.serviceaccount.keys import KeyFileError, SigningKey, VerificationKey

__all__ = ["KeyFileError", "SigningKey", "TokenConfig", "VerificationKey", "from_settings"]
