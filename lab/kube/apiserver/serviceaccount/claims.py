"""The claims of a bound ServiceAccount token, as upstream `pkg/serviceaccount/claims.go`
writes and reads them: registered claims (iss, sub, aud as an array, iat = nbf = now, exp,
jti) and the private `kubernetes.io` claim naming the account and what the token is bound to.

Reading is strict about shape (a token of ours with odd claims is refused, never guessed at)
and applies go-jose's one-minute leeway to exp, nbf and iat.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from typing import Any

from lab.kube.machinery.user import SERVICE_ACCOUNT_PREFIX

WARN_ONLY_BOUND_TOKEN_EXPIRATION_SECONDS = 60 * 60 + 7
"""The projected-volume default: such a token is quietly extended (see EXPIRATION_EXTENSION_SECONDS)."""
EXPIRATION_EXTENSION_SECONDS = 24 * 365 * 60 * 60
LEEWAY_SECONDS = 60
PRIVATE = "kubernetes.io"


class ClaimsError(ValueError):
    """A token of ours that does not hold now; the text is upstream's error."""


@dataclass(frozen=True)
class Ref:
    name: str
    uid: str = ""

    def to_claim(self) -> dict[str, str]:
        return {"name": self.name, "uid": self.uid} if self.uid else {"name": self.name}


@dataclass(frozen=True)
class TokenClaims:
    """What a verified token says (the parts the validator checks against the cluster)."""

    subject: str
    audiences: tuple[str, ...]
    namespace: str
    service_account: Ref
    pod: Ref | None = None
    secret: Ref | None = None
    node: Ref | None = None
    jti: str = ""
    warn_after: int | None = None


def username(namespace: str, name: str) -> str:
    return f"{SERVICE_ACCOUNT_PREFIX}{namespace}:{name}"


def build(*, issuer: str, audiences: list[str], namespace: str, service_account: Ref, now: int,
          expiration_seconds: int, pod: Ref | None = None, secret: Ref | None = None,
          node: Ref | None = None, warn_after_seconds: int = 0, jti: str | None = None) -> dict[str, Any]:
    """The claim set to sign. A token is bound to a pod (node as extra information), a secret,
    or nothing; `warn_after_seconds` marks an extended projected token."""
    private: dict[str, Any] = {"namespace": namespace, "serviceaccount": service_account.to_claim()}
    if pod is not None:
        private["pod"] = pod.to_claim()
    elif secret is not None:
        private["secret"] = secret.to_claim()
    if node is not None:
        private["node"] = node.to_claim()
    if warn_after_seconds:
        private["warnafter"] = now + warn_after_seconds
    return {
        "aud": list(audiences), "exp": now + expiration_seconds, "iat": now, "iss": issuer,
        "jti": jti or str(uuid.uuid4()), PRIVATE: private, "nbf": now,
        "sub": username(namespace, service_account.name),
    }


def _ref(value: Any, what: str) -> Ref | None:
    if value is None:
        return None
    if not isinstance(value, dict) or not isinstance(value.get("name", ""), str) \
            or not isinstance(value.get("uid", ""), str):
        raise ClaimsError(f"service account token claims could not be validated: bad {what}")
    return Ref(value.get("name", ""), value.get("uid", ""))


def _number(claims: dict[str, Any], key: str) -> float | None:
    value = claims.get(key)
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise ClaimsError("service account token claims could not be validated due to unexpected "
                          "validation error")
    return float(value)


def check_times(claims: dict[str, Any], now: float) -> None:
    """go-jose `Claims.Validate` with its default leeway, in its order."""
    exp, nbf, iat = _number(claims, "exp"), _number(claims, "nbf"), _number(claims, "iat")
    if nbf is not None and now + LEEWAY_SECONDS < nbf:
        raise ClaimsError("service account token is not valid yet")
    if exp is not None and now - LEEWAY_SECONDS > exp:
        raise ClaimsError("service account token has expired")
    if iat is not None and now + LEEWAY_SECONDS < iat:
        raise ClaimsError("service account token is issued in the future")


def audiences(claims: dict[str, Any]) -> tuple[str, ...]:
    """`aud` as a list (go-jose also accepts a single string)."""
    aud = claims.get("aud")
    if aud is None:
        return ()
    if isinstance(aud, str):
        return (aud,)
    if isinstance(aud, list) and all(isinstance(a, str) for a in aud):
        return tuple(aud)
    raise ClaimsError("service account token claims could not be validated: bad aud")


def parse(claims: dict[str, Any]) -> TokenClaims:
    """The bound-token claims of a verified token (`check_times` first)."""
    private = claims.get(PRIVATE)
    if not isinstance(private, dict):
        # a legacy Secret-based token (kubernetes.io/serviceaccount/* claims): not served here
        raise ClaimsError("service account token claims could not be validated due to unexpected "
                          "private claim")
    namespace = private.get("namespace")
    sa = _ref(private.get("serviceaccount"), "serviceaccount")
    if not isinstance(namespace, str) or not namespace or sa is None or not sa.name:
        raise ClaimsError("service account token claims could not be validated: no service account")
    warn = private.get("warnafter")
    if warn is not None and (isinstance(warn, bool) or not isinstance(warn, (int, float))):
        raise ClaimsError("service account token claims could not be validated: bad warnafter")
    jti = claims.get("jti", "")
    sub = claims.get("sub", "")
    return TokenClaims(subject=sub if isinstance(sub, str) else "", audiences=audiences(claims),
                       namespace=namespace, service_account=sa,
                       pod=_ref(private.get("pod"), "pod"), secret=_ref(private.get("secret"), "secret"),
                       node=_ref(private.get("node"), "node"), jti=jti if isinstance(jti, str) else "",
                       warn_after=int(warn) if warn is not None else None)
