"""Delegated authentication and authorization decisions (the kubelet's and the secure ports'),
against a fake reviewer and a fake clock: who a request is, what it may do, and how long an
answer from the API server is reused."""

from __future__ import annotations

from pathlib import Path

import pytest

from lab.kube.component.client_certs import X509Verifier
from lab.kube.component.delegated_auth import (
    AuthorizationError,
    DelegatedAuthenticator,
    DelegatedAuthorizer,
    Unauthenticated,
    bearer_token,
    path_allowed,
)
from lab.kube.component.reviews import AccessAttributes, FakeReviewer
from lab.kube.machinery.user import ANONYMOUS_USER, UserInfo
from tests.unit.kube.component.pki import ClientPKI, der_of, make_pki

SA = UserInfo("system:serviceaccount:ns:sa", uid="u-1",
              groups=("system:serviceaccounts", "system:serviceaccounts:ns", "system:authenticated"))


class Clock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def pki(tmp_path: Path) -> ClientPKI:
    return make_pki(tmp_path)


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


@pytest.mark.parametrize(("header", "token"), [
    ("Bearer abc", "abc"), ("bearer abc", "abc"), ("  BEARER abc  ", "abc"), ("Bearer abc extra", "abc"),
    ("Bearer  abc", None), ("Basic abc", None), ("Bearer", None), ("", None),
])
def test_bearer_tokens_are_split_as_upstream(header: str, token: str | None) -> None:
    assert bearer_token({"Authorization": header} if header else {}) == token


async def test_a_client_certificate_from_the_ca_is_its_cn_and_o_plus_authenticated(pki: ClientPKI) -> None:
    authn = DelegatedAuthenticator(X509Verifier.from_file(pki.ca_file), FakeReviewer())
    user = await authn.authenticate({}, pki.der("node", "system:node:w1", "system:nodes"))
    assert (user.name, user.groups) == ("system:node:w1", ("system:nodes", "system:authenticated"))


async def test_a_certificate_from_another_ca_is_refused_even_with_anonymous_on(pki: ClientPKI) -> None:
    authn = DelegatedAuthenticator(X509Verifier.from_file(pki.ca_file), FakeReviewer(), anonymous=True)
    with pytest.raises(Unauthenticated, match="unknown authority"):
        await authn.authenticate({}, der_of(pki.stranger()[0]))


async def test_a_bad_certificate_with_a_good_token_is_the_token_user(pki: ClientPKI) -> None:
    # upstream's union: one authenticator's error does not stop a later one from succeeding
    authn = DelegatedAuthenticator(X509Verifier.from_file(pki.ca_file), FakeReviewer(tokens={"t": SA}))
    assert (await authn.authenticate(bearer("t"), b"not a certificate")).name == SA.name


async def test_tokens_are_reviewed_once_per_ttl() -> None:
    clock, reviewer = Clock(), FakeReviewer(tokens={"good": SA})
    authn = DelegatedAuthenticator(None, reviewer, success_ttl=120, failure_ttl=30, clock=clock)
    assert await authn.authenticate(bearer("good"), None) == SA
    assert await authn.authenticate(bearer("good"), None) == SA
    assert reviewer.token_calls == ["good"]
    for _ in range(2):
        with pytest.raises(Unauthenticated, match="invalid bearer token"):
            await authn.authenticate(bearer("bad"), None)
    assert reviewer.token_calls == ["good", "bad"]
    clock.now += 31  # the failure expired, the success not yet
    with pytest.raises(Unauthenticated):
        await authn.authenticate(bearer("bad"), None)
    await authn.authenticate(bearer("good"), None)
    assert reviewer.token_calls == ["good", "bad", "bad"]
    clock.now += 90
    await authn.authenticate(bearer("good"), None)
    assert reviewer.token_calls == ["good", "bad", "bad", "good"]


async def test_a_ttl_of_zero_reviews_every_request() -> None:
    reviewer = FakeReviewer(tokens={"good": SA})
    authn = DelegatedAuthenticator(None, reviewer, success_ttl=0, failure_ttl=0)
    for _ in range(3):
        await authn.authenticate(bearer("good"), None)
    assert len(reviewer.token_calls) == 3


async def test_a_failed_review_is_a_401_and_is_not_cached() -> None:
    reviewer = FakeReviewer(tokens={"good": SA}, fail=True)
    authn = DelegatedAuthenticator(None, reviewer, anonymous=True)
    with pytest.raises(Unauthenticated, match="TokenReview failed"):
        await authn.authenticate(bearer("good"), None)
    reviewer.fail = False
    assert await authn.authenticate(bearer("good"), None) == SA


async def test_a_reviewed_user_gets_system_authenticated_once() -> None:
    plain = UserInfo("alice", groups=("dev",))
    authn = DelegatedAuthenticator(None, FakeReviewer(tokens={"a": plain, "s": SA}))
    assert (await authn.authenticate(bearer("a"), None)).groups == ("dev", "system:authenticated")
    assert (await authn.authenticate(bearer("s"), None)).groups == SA.groups


async def test_no_credentials_is_anonymous_only_when_allowed() -> None:
    assert await DelegatedAuthenticator(None, FakeReviewer(), anonymous=True).authenticate({}, None) == ANONYMOUS_USER
    with pytest.raises(Unauthenticated):
        await DelegatedAuthenticator(None, FakeReviewer(), anonymous=False).authenticate({}, None)
    # a client certificate without a client CA to check it against is no credential at all
    with pytest.raises(Unauthenticated):
        await DelegatedAuthenticator(None, None).authenticate(bearer("x"), b"der")


def node_get(user: UserInfo, subresource: str = "proxy") -> AccessAttributes:
    return AccessAttributes(user, "get", True, path="/pods", api_version="v1", resource="nodes",
                            subresource=subresource, name="w1")


def test_review_specs_have_upstream_shapes() -> None:
    assert node_get(SA).review_spec() == {
        "user": SA.name, "uid": "u-1", "groups": list(SA.groups),
        "resourceAttributes": {"verb": "get", "version": "v1", "resource": "nodes", "subresource": "proxy",
                               "name": "w1"}}
    metrics = AccessAttributes(ANONYMOUS_USER, "get", False, path="/metrics")
    assert metrics.review_spec() == {"user": "system:anonymous", "groups": ["system:unauthenticated"],
                                     "nonResourceAttributes": {"path": "/metrics", "verb": "get"}}


@pytest.mark.parametrize(("path", "allowed"), [
    ("/healthz", True), ("/readyz", True), ("/livez", True), ("/healthz/", False), ("/healthz/ping", False),
    ("/metrics", False), ("/debug/pprof/heap", True), ("/debug", False),
])
def test_always_allowed_paths_are_exact_or_star_prefixes(path: str, allowed: bool) -> None:
    assert path_allowed(path, ("/healthz", "/readyz", "/livez", "/debug/*")) is allowed


async def test_masters_and_always_allowed_paths_skip_the_review() -> None:
    reviewer = FakeReviewer()
    authz = DelegatedAuthorizer(reviewer, always_allow_paths=("/healthz",), always_allow_groups=("system:masters",))
    admin = UserInfo("admin", groups=("system:masters",))
    assert (await authz.authorize(AccessAttributes(admin, "get", False, path="/metrics"))).allowed
    assert (await authz.authorize(AccessAttributes(ANONYMOUS_USER, "get", False, path="/healthz"))).allowed
    assert reviewer.access_calls == []
    assert not (await authz.authorize(AccessAttributes(ANONYMOUS_USER, "get", False, path="/metrics"))).allowed
    assert len(reviewer.access_calls) == 1


async def test_review_answers_are_cached_per_spec_for_their_ttl() -> None:
    clock = Clock()
    reviewer = FakeReviewer(allow=lambda a: a.subresource == "pods")
    authz = DelegatedAuthorizer(reviewer, allow_ttl=300, deny_ttl=30, clock=clock)
    for _ in range(2):
        assert (await authz.authorize(node_get(SA, "pods"))).allowed
        assert not (await authz.authorize(node_get(SA, "proxy"))).allowed
    assert [a.subresource for a in reviewer.access_calls] == ["pods", "proxy"]
    clock.now += 31  # the denial is asked again, the allowance is still cached
    await authz.authorize(node_get(SA, "pods"))
    await authz.authorize(node_get(SA, "proxy"))
    assert [a.subresource for a in reviewer.access_calls] == ["pods", "proxy", "proxy"]


async def test_a_failed_review_is_an_authorization_error_and_no_review_means_no() -> None:
    with pytest.raises(AuthorizationError):
        await DelegatedAuthorizer(FakeReviewer(fail=True)).authorize(node_get(SA))
    assert not (await DelegatedAuthorizer(None).authorize(node_get(SA))).allowed
