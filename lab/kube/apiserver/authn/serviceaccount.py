"""ServiceAccount bearer tokens (upstream `JWTTokenAuthenticator` + `pkg/serviceaccount/claims.go`
validator): a JWT one of our issuers signed, for one of our audiences, within its lifetime,
whose ServiceAccount (and bound pod or secret) still exists with the uid it names.

A token that is not ours (not a JWS, another issuer) is None, so another validator may know
it; ours and bad is `InvalidToken`, a 401. The user is `system:serviceaccount:<ns>:<name>`.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping, Sequence

from lab.kube.apiserver.authn.bearer import InvalidToken
from lab.kube.apiserver.registry import Registry
from lab.kube.apiserver.serviceaccount import TokenConfig, jws
from lab.kube.apiserver.serviceaccount import claims as tc
from lab.kube.machinery import catalog, errors, meta
from lab.kube.machinery.catalog import Resource
from lab.kube.machinery.objects import Obj
from lab.kube.machinery.user import SERVICE_ACCOUNTS, UserInfo

EXTRA_POD_NAME = "authentication.kubernetes.io/pod-name"
EXTRA_POD_UID = "authentication.kubernetes.io/pod-uid"
EXTRA_NODE_NAME = "authentication.kubernetes.io/node-name"
EXTRA_NODE_UID = "authentication.kubernetes.io/node-uid"
EXTRA_CREDENTIAL_ID = "authentication.kubernetes.io/credential-id"


def _go_quoted(values: Sequence[str]) -> str:
    """Go's `%q` of a []string: `["a" "b"]`."""
    return "[" + " ".join('"' + v.replace("\\", "\\\\").replace('"', '\\"') + '"' for v in values) + "]"


class ServiceAccountTokenValidator:
    def __init__(self, config: TokenConfig, registries: Mapping[Resource, Registry],
                 clock: Callable[[], float] = time.time) -> None:
        self.config = config
        self.registries = registries
        self.clock = clock

    async def validate(self, token: str, audiences: Sequence[str] | None = None) -> UserInfo | None:
        """`audiences`: whom the token must be for (TokenReview's spec.audiences); default the API's."""
        try:
            issuer = jws.peek(token).get("iss")
        except jws.MalformedToken:
            return None
        if issuer not in self.config.issuers or not self.config.verification_keys:
            return None
        try:
            claims = jws.verify(token, self.config.verification_keys)
        except jws.MalformedToken:
            return None
        except jws.BadSignature as exc:
            raise InvalidToken(str(exc)) from exc
        if claims.get("iss") not in self.config.issuers:
            raise InvalidToken(f"token issuer {claims.get('iss')!r} is invalid")
        try:
            wanted = tuple(audiences) if audiences else self.config.api_audiences
            token_audiences = tc.audiences(claims) or wanted  # no aud: a legacy token
            if wanted and not set(token_audiences) & set(wanted):
                raise InvalidToken(f"token audiences {_go_quoted(token_audiences)} is invalid for the "
                                   f"target audiences {_go_quoted(wanted)}")
            now = self.clock()
            tc.check_times(claims, now)
            bound = tc.parse(claims)
        except tc.ClaimsError as exc:
            raise InvalidToken(str(exc)) from exc
        await self._check_bindings(bound, now - tc.LEEWAY_SECONDS)
        return self._user(bound)

    async def _get(self, res: Resource, namespace: str | None, name: str) -> Obj | None:
        try:
            return await self.registries[res].get(namespace, name)
        except errors.NotFound:
            return None
        except errors.APIError as exc:  # storage trouble: refuse rather than guess
            raise InvalidToken(f"{res.plural} lookup failed: {exc}") from exc

    @staticmethod
    def _deleted_before(obj: Obj, cutoff: float) -> bool:
        ts = meta.metadata(obj).get("deletionTimestamp")
        return isinstance(ts, str) and bool(ts) and meta.parse_time(ts).timestamp() < cutoff

    async def _check_bindings(self, bound: tc.TokenClaims, cutoff: float) -> None:
        """upstream validator.Validate: what the token names must still be there, unchanged."""
        ns, sa_ref = bound.namespace, bound.service_account
        sa = await self._get(catalog.SERVICEACCOUNTS, ns, sa_ref.name)
        if sa is None:
            raise InvalidToken(f'serviceaccounts "{sa_ref.name}" not found')
        if self._deleted_before(sa, cutoff):
            raise InvalidToken(f"service account {ns}/{sa_ref.name} has been deleted")
        if meta.uid(sa) != sa_ref.uid:
            raise InvalidToken(f"service account UID ({meta.uid(sa)}) does not match claim ({sa_ref.uid})")
        if bound.secret is not None:
            secret = await self._get(catalog.SECRETS, ns, bound.secret.name)
            if secret is None or self._deleted_before(secret, cutoff):
                raise InvalidToken("service account token has been invalidated")
            if meta.uid(secret) != bound.secret.uid:
                raise InvalidToken(f"secret UID ({meta.uid(secret)}) does not match service account secret "
                                   f"ref claim ({bound.secret.uid})")
        if bound.pod is not None:
            pod = await self._get(catalog.PODS, ns, bound.pod.name)
            if pod is None or self._deleted_before(pod, cutoff):
                raise InvalidToken("service account token has been invalidated")
            if meta.uid(pod) != bound.pod.uid:
                raise InvalidToken(f"pod UID ({meta.uid(pod)}) does not match service account pod ref "
                                   f"claim ({bound.pod.uid})")
        elif bound.node is not None:  # bound to the node itself; for pod tokens it is information only
            node = await self._get(catalog.NODES, None, bound.node.name)
            if node is None or self._deleted_before(node, cutoff):
                raise InvalidToken("service account token has been invalidated")
            if meta.uid(node) != bound.node.uid:
                raise InvalidToken(f"node UID ({meta.uid(node)}) does not match service account node ref "
                                   f"claim ({bound.node.uid})")

    @staticmethod
    def _user(bound: tc.TokenClaims) -> UserInfo:
        extra: dict[str, tuple[str, ...]] = {}
        if bound.pod is not None and bound.pod.name and bound.pod.uid:
            extra[EXTRA_POD_NAME], extra[EXTRA_POD_UID] = (bound.pod.name,), (bound.pod.uid,)
        if bound.node is not None and bound.node.name:
            extra[EXTRA_NODE_NAME] = (bound.node.name,)
            if bound.node.uid:
                extra[EXTRA_NODE_UID] = (bound.node.uid,)
        if bound.jti:
            extra[EXTRA_CREDENTIAL_ID] = (f"JTI={bound.jti}",)
        ns = bound.namespace
        return UserInfo(tc.username(ns, bound.service_account.name), bound.service_account.uid,
                        (SERVICE_ACCOUNTS, f"{SERVICE_ACCOUNTS}:{ns}"), extra)
