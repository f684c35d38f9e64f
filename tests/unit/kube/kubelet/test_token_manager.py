"""The token manager: one TokenRequest bound to the pod, served from cache until 80 % of its
lifetime (or 24 h) has passed, the old token kept while renewal fails and it is still valid."""

from __future__ import annotations

import pytest

from lab.kube.kubelet.token_manager import TokenKey, TokenManager, TokenUnavailable
from lab.kube.machinery import errors

from .conftest import Clock, FakeTokenSource

KEY = TokenKey(namespace="default", service_account="default", audiences=(), expiration_seconds=3607,
               pod_name="web", pod_uid="uid-web")


@pytest.fixture
def source(clock: Clock) -> FakeTokenSource:
    return FakeTokenSource(clock)


@pytest.fixture
def tokens(source: FakeTokenSource, clock: Clock) -> TokenManager:
    return TokenManager(source, clock=clock, jitter=lambda: 0.0)


async def test_the_request_is_bound_to_the_pod_with_the_api_servers_audience(tokens, source):
    token = await tokens.get(KEY)
    assert token.token == "default-1"
    [(namespace, account, request)] = source.requests
    assert (namespace, account) == ("default", "default")
    assert request == {"apiVersion": "authentication.k8s.io/v1", "kind": "TokenRequest",
                       "spec": {"audiences": [], "expirationSeconds": 3607,
                                "boundObjectRef": {"apiVersion": "v1", "kind": "Pod", "name": "web",
                                                   "uid": "uid-web"}}}


async def test_a_token_is_renewed_once_80_percent_of_its_lifetime_has_passed(tokens, source, clock):
    issued = clock.now
    await tokens.get(KEY)
    clock.now = issued + 3607 - 3607 * 20 // 100  # 721 s before expiry: not yet
    assert (await tokens.get(KEY)).token == "default-1"
    clock.advance(1)
    assert (await tokens.get(KEY)).token == "default-2"
    assert len(source.requests) == 2


async def test_the_jitter_brings_renewal_forward(source, clock):
    tokens = TokenManager(source, clock=clock, jitter=lambda: 10.0)
    issued = clock.now
    await tokens.get(KEY)
    clock.now = issued + 3607 - 721 - 9
    assert (await tokens.get(KEY)).token == "default-2"


async def test_a_long_lived_token_is_renewed_after_24_hours(tokens, clock):
    week = TokenKey(**{**KEY.__dict__, "expiration_seconds": 7 * 24 * 3600})
    issued = clock.now
    await tokens.get(week)
    clock.now = issued + 24 * 3600
    assert (await tokens.get(week)).token == "default-1"
    clock.advance(1)
    assert (await tokens.get(week)).token == "default-2"


async def test_failed_renewal_serves_the_old_token_until_it_expires(tokens, source, clock):
    issued = clock.now
    await tokens.get(KEY)
    source.failing = errors.ServiceUnavailable("apiserver down")
    clock.now = issued + 3000
    assert (await tokens.get(KEY)).token == "default-1"
    clock.now = issued + 3608
    with pytest.raises(TokenUnavailable, match="expired and refresh failed: apiserver down"):
        await tokens.get(KEY)


async def test_no_token_at_all_says_why(tokens, source):
    source.failing = errors.NotFound('serviceaccounts "default" not found')
    with pytest.raises(TokenUnavailable, match='failed to fetch token: serviceaccounts "default" not found'):
        await tokens.get(KEY)


async def test_each_request_shape_has_its_own_token_and_a_removed_pod_loses_its_own(tokens, source):
    other = TokenKey(**{**KEY.__dict__, "audiences": ("vault",)})
    assert (await tokens.get(KEY)).token != (await tokens.get(other)).token
    tokens.forget_pod("uid-web")
    await tokens.get(KEY)
    assert len(source.requests) == 3
    assert source.requests[1][2]["spec"]["audiences"] == ["vault"]
