"""The review APIs a component delegates to: TokenReview (who is this bearer token?) and
SubjectAccessReview (may this user do this?), in upstream's `authentication.k8s.io/v1` and
`authorization.k8s.io/v1` JSON shapes.

`Reviewer` is the seam: `APIReviewer` POSTs to the API server through the client, as
upstream's webhook token authenticator and webhook authorizer do; `FakeReviewer` answers
from tables, for tests. Caching is not here (see `delegated_auth`).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any, Protocol

from lab.kube.client import TRANSPORT_ERRORS, Client
from lab.kube.machinery import errors
from lab.kube.machinery.user import UserInfo

TOKEN_REVIEWS = "/apis/authentication.k8s.io/v1/tokenreviews"
SUBJECT_ACCESS_REVIEWS = "/apis/authorization.k8s.io/v1/subjectaccessreviews"
_NO_ANSWER: tuple[type[BaseException], ...] = (errors.APIError, *TRANSPORT_ERRORS)


class ReviewError(Exception):
    """The review could not be had (API server unreachable, review refused): neither yes nor no."""


@dataclass(frozen=True)
class AccessAttributes:
    """What a request asks to do (upstream `authorizer.AttributesRecord`)."""

    user: UserInfo
    verb: str
    resource_request: bool
    path: str = ""
    namespace: str = ""
    api_group: str = ""
    api_version: str = ""
    resource: str = ""
    subresource: str = ""
    name: str = ""

    def review_spec(self) -> dict[str, Any]:
        """The SubjectAccessReview `spec` for these attributes (empty fields left out, as Go's omitempty)."""
        spec: dict[str, Any] = {}
        if self.user.name:
            spec["user"] = self.user.name
        if self.user.groups:
            spec["groups"] = list(self.user.groups)
        if self.user.extra:
            spec["extra"] = {k: list(v) for k, v in self.user.extra.items()}
        if self.user.uid:
            spec["uid"] = self.user.uid
        if self.resource_request:
            resource = {"namespace": self.namespace, "verb": self.verb, "group": self.api_group,
                        "version": self.api_version, "resource": self.resource, "subresource": self.subresource,
                        "name": self.name}
            spec["resourceAttributes"] = {k: v for k, v in resource.items() if v}
        else:
            spec["nonResourceAttributes"] = {k: v for k, v in (("path", self.path), ("verb", self.verb)) if v}
        return spec


@dataclass(frozen=True)
class TokenReviewResult:
    authenticated: bool
    user: UserInfo | None = None
    error: str = ""


@dataclass(frozen=True)
class AccessReviewResult:
    allowed: bool
    denied: bool = False
    reason: str = ""
    evaluation_error: str = ""


class Reviewer(Protocol):
    async def review_token(self, token: str) -> TokenReviewResult: ...

    async def review_access(self, attrs: AccessAttributes) -> AccessReviewResult: ...


def user_from_review(doc: Mapping[str, Any]) -> UserInfo:
    """A TokenReview `status.user` as a UserInfo."""
    extra = doc.get("extra") or {}
    return UserInfo(str(doc.get("username") or ""), uid=str(doc.get("uid") or ""),
                    groups=tuple(str(g) for g in doc.get("groups") or ()),
                    extra={str(k): tuple(str(x) for x in v or ()) for k, v in extra.items()})


class APIReviewer:
    """Reviews through the API server with the component's own credentials (its kubeconfig)."""

    def __init__(self, authentication: Client, authorization: Client | None = None) -> None:
        self.authentication = authentication
        self.authorization = authorization or authentication

    async def review_token(self, token: str) -> TokenReviewResult:
        body = {"apiVersion": "authentication.k8s.io/v1", "kind": "TokenReview", "spec": {"token": token}}
        status = await self._post(self.authentication, TOKEN_REVIEWS, body)
        if not status.get("authenticated"):
            return TokenReviewResult(False, error=str(status.get("error") or ""))
        return TokenReviewResult(True, user_from_review(status.get("user") or {}))

    async def review_access(self, attrs: AccessAttributes) -> AccessReviewResult:
        body = {"apiVersion": "authorization.k8s.io/v1", "kind": "SubjectAccessReview", "spec": attrs.review_spec()}
        status = await self._post(self.authorization, SUBJECT_ACCESS_REVIEWS, body)
        return AccessReviewResult(bool(status.get("allowed")), bool(status.get("denied")),
                                  str(status.get("reason") or ""), str(status.get("evaluationError") or ""))

    @staticmethod
    async def _post(client: Client, path: str, body: dict[str, Any]) -> dict[str, Any]:
        # Any failure to get an answer (transport, 4xx/5xx) is "no answer", never a yes.
        try:
            answer = await client.request("POST", path, body=body)
        except _NO_ANSWER as exc:
            raise ReviewError(f"{path}: {exc}") from exc
        status = answer.get("status") if isinstance(answer, dict) else None
        if not isinstance(status, dict):
            raise ReviewError(f"{path}: the answer has no status")
        return status


@dataclass
class FakeReviewer:
    """Answers from tables and records what it was asked (for tests).

    `tokens` maps a token to its user (any other token is not authenticated); `allow`
    decides each access review (default: nothing is allowed). `fail` makes every review
    raise ReviewError, as an unreachable API server would."""

    tokens: dict[str, UserInfo] = field(default_factory=dict)
    allow: Callable[[AccessAttributes], bool] = lambda _attrs: False
    fail: bool = False
    token_calls: list[str] = field(default_factory=list)
    access_calls: list[AccessAttributes] = field(default_factory=list)

    async def review_token(self, token: str) -> TokenReviewResult:
        self.token_calls.append(token)
        if self.fail:
            raise ReviewError("fake: the API server is unreachable")
        user = self.tokens.get(token)
        return TokenReviewResult(True, user) if user else TokenReviewResult(False, error="invalid bearer token")

    async def review_access(self, attrs: AccessAttributes) -> AccessReviewResult:
        self.access_calls.append(attrs)
        if self.fail:
            raise ReviewError("fake: the API server is unreachable")
        return AccessReviewResult(self.allow(attrs))
