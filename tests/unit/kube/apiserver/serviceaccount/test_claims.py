"""Bound-token claims as upstream writes them, and the time checks with go-jose's leeway."""

from __future__ import annotations

import pytest

from lab.kube.apiserver.serviceaccount import claims as tc

NOW = 1_700_000_000


def test_a_pod_bound_extended_token_has_upstream_claims() -> None:
    claims = tc.build(issuer="https://kubernetes.default.svc.cluster.local",
                      audiences=["https://kubernetes.default.svc.cluster.local"], namespace="default",
                      service_account=tc.Ref("default", "sa-uid"), now=NOW,
                      expiration_seconds=tc.EXPIRATION_EXTENSION_SECONDS, pod=tc.Ref("web", "pod-uid"),
                      node=tc.Ref("w1", "node-uid"), warn_after_seconds=3607, jti="j-1")
    assert claims == {
        "aud": ["https://kubernetes.default.svc.cluster.local"],
        "exp": NOW + 31536000, "iat": NOW, "nbf": NOW,
        "iss": "https://kubernetes.default.svc.cluster.local", "jti": "j-1",
        "kubernetes.io": {"namespace": "default", "node": {"name": "w1", "uid": "node-uid"},
                          "pod": {"name": "web", "uid": "pod-uid"},
                          "serviceaccount": {"name": "default", "uid": "sa-uid"},
                          "warnafter": NOW + 3607},
        "sub": "system:serviceaccount:default:default",
    }
    parsed = tc.parse(claims)
    assert parsed.pod == tc.Ref("web", "pod-uid") and parsed.node == tc.Ref("w1", "node-uid")
    assert parsed.jti == "j-1" and parsed.warn_after == NOW + 3607


def test_an_unbound_token_names_only_the_account_and_gets_a_fresh_jti() -> None:
    a = tc.build(issuer="i", audiences=["x"], namespace="ns", service_account=tc.Ref("bot", "u"),
                 now=NOW, expiration_seconds=600)
    b = tc.build(issuer="i", audiences=["x"], namespace="ns", service_account=tc.Ref("bot", "u"),
                 now=NOW, expiration_seconds=600)
    assert a["kubernetes.io"] == {"namespace": "ns", "serviceaccount": {"name": "bot", "uid": "u"}}
    assert a["exp"] - a["iat"] == 600 and a["jti"] != b["jti"] and len(a["jti"]) == 36


@pytest.mark.parametrize(("claims", "error"), [
    ({"exp": NOW - 61}, "service account token has expired"),
    ({"nbf": NOW + 61}, "service account token is not valid yet"),
    ({"iat": NOW + 61}, "service account token is issued in the future"),
    ({"exp": "soon"}, "unexpected validation error"),
])
def test_times_outside_the_leeway_are_refused(claims: dict[str, object], error: str) -> None:
    with pytest.raises(tc.ClaimsError, match=error):
        tc.check_times(claims, NOW)


def test_times_within_the_minute_of_leeway_hold() -> None:
    tc.check_times({"exp": NOW - 59, "nbf": NOW + 59, "iat": NOW + 59}, NOW)


@pytest.mark.parametrize("private", [None, "x", {"namespace": "ns"}, {"serviceaccount": {"name": "a"}},
                                     {"namespace": "ns", "serviceaccount": {"name": 3}}])
def test_tokens_without_the_bound_token_claims_are_refused(private: object) -> None:
    with pytest.raises(tc.ClaimsError):
        tc.parse({"kubernetes.io": private} if private is not None else {})
