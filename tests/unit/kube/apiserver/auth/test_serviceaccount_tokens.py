"""ServiceAccount tokens end to end on the in-memory server: TokenRequest issues them (defaults,
limits, binding, the projected-token extension) and the validator accepts only a token that
is ours, for us, in its lifetime, whose account and bound pod or secret are still the same."""

from __future__ import annotations

import base64
import time
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import aiohttp
import orjson
import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa

from lab.kube.apiserver.admission import AdmissionRequest, Operation
from lab.kube.apiserver.authn.bearer import InvalidToken
from lab.kube.apiserver.authn.serviceaccount import ServiceAccountTokenValidator
from lab.kube.apiserver.serviceaccount import from_settings, jws
from lab.kube.apiserver.settings import Settings
from lab.kube.apiserver.testing import InMemoryAPI
from lab.kube.machinery import errors
from lab.kube.machinery.catalog import NODES, PODS, SECRETS, SERVICEACCOUNTS
from lab.kube.machinery.user import UserInfo

ISSUER = "https://kubernetes.default.svc.cluster.local"
UNAUTHORIZED = {"kind": "Status", "apiVersion": "v1", "metadata": {}, "status": "Failure",
                "message": "Unauthorized", "reason": "Unauthorized", "code": 401}


def _key_file(path: Path) -> Path:
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    path.write_bytes(key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                       serialization.NoEncryption()))
    return path


@pytest.fixture(scope="module")
def keys(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    d = tmp_path_factory.mktemp("sa-keys")
    return _key_file(d / "sa.key"), _key_file(d / "other.key")


@pytest.fixture
async def api(keys: tuple[Path, Path]) -> AsyncIterator[InMemoryAPI]:
    settings = Settings(insecure_anonymous_admin=True, service_account_signing_key_file=str(keys[0]),
                        service_account_key_file=(str(keys[0]),), service_account_max_token_expiration=86400)
    async with InMemoryAPI(settings) as server:
        await server.seed(SERVICEACCOUNTS, {"metadata": {"name": "bot", "namespace": "default"}})
        yield server


async def _call(api: InMemoryAPI, method: str, path: str, body: Any = None,
                token: str | None = None) -> tuple[int, Any, aiohttp.typedefs.LooseHeaders]:
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    async with aiohttp.ClientSession() as session, session.request(
            method, api.config.server + path, json=body, headers=headers) as resp:
        return resp.status, await resp.json(), resp.headers


async def _token(api: InMemoryAPI, spec: dict[str, Any] | None = None, sa: str = "bot") -> dict[str, Any]:
    status, body, _ = await _call(api, "POST", f"/api/v1/namespaces/default/serviceaccounts/{sa}/token",
                                  {"apiVersion": "authentication.k8s.io/v1", "kind": "TokenRequest",
                                   "spec": spec or {}})
    assert status == 201, body
    return body


def _claims(token: str) -> dict[str, Any]:
    part = token.split(".")[1]
    return orjson.loads(base64.urlsafe_b64decode(part + "=" * (-len(part) % 4)))


def _validator(api: InMemoryAPI, clock: float | None = None) -> ServiceAccountTokenValidator:
    assert api.server is not None
    ctx = api.server.context
    return ServiceAccountTokenValidator(from_settings(ctx.settings), ctx.registries,
                                        clock=(lambda: clock) if clock is not None else time.time)


async def test_a_token_request_is_defaulted_and_answered_with_a_signed_token(api: InMemoryAPI) -> None:
    sa = await api.object(SERVICEACCOUNTS, "bot", "default")
    assert sa is not None
    before = int(time.time())
    answer = await _token(api)
    assert answer["kind"] == "TokenRequest" and answer["apiVersion"] == "authentication.k8s.io/v1"
    assert answer["metadata"]["name"] == "bot" and answer["metadata"]["namespace"] == "default"
    assert answer["spec"] == {"audiences": [ISSUER], "expirationSeconds": 3600}
    claims = _claims(answer["status"]["token"])
    assert claims["iss"] == ISSUER and claims["aud"] == [ISSUER]
    assert claims["sub"] == "system:serviceaccount:default:bot"
    assert claims["kubernetes.io"] == {"namespace": "default",
                                       "serviceaccount": {"name": "bot", "uid": sa["metadata"]["uid"]}}
    assert claims["exp"] - claims["iat"] == 3600 and claims["iat"] == claims["nbf"] >= before
    assert answer["status"]["expirationTimestamp"] == time.strftime(
        "%Y-%m-%dT%H:%M:%SZ", time.gmtime(claims["exp"]))


async def test_token_request_limits_are_upstreams(api: InMemoryAPI) -> None:
    status, body, _ = await _call(api, "POST", "/api/v1/namespaces/default/serviceaccounts/bot/token",
                                  {"spec": {"expirationSeconds": 60}})
    assert status == 422
    assert body["message"] == ('TokenRequest.authentication.k8s.io "" is invalid: spec.expirationSeconds: '
                               "Invalid value: 60: may not specify a duration less than 10 minutes")
    status, body, _ = await _call(api, "POST", "/api/v1/namespaces/default/serviceaccounts/ghost/token", {})
    assert (status, body["message"]) == (404, 'serviceaccounts "ghost" not found')
    status, body, _ = await _call(api, "POST", "/api/v1/namespaces/default/serviceaccounts/bot/token",
                                  {"metadata": {"name": "other"}})
    assert status == 422 and "must match the service account name if specified" in body["message"]
    status, body, headers = await _call(api, "POST", "/api/v1/namespaces/default/serviceaccounts/bot/token",
                                        {"spec": {"expirationSeconds": 172800}})
    assert status == 201 and body["spec"]["expirationSeconds"] == 86400
    assert headers["Warning"] == '299 - "requested expiration of 172800 seconds shortened to 86400 seconds"'
    status, _, _ = await _call(api, "GET", "/api/v1/namespaces/default/serviceaccounts/bot/token")
    assert status == 405


async def test_binding_to_a_pod_needs_its_account_and_its_uid(api: InMemoryAPI) -> None:
    await api.seed(NODES, {"metadata": {"name": "w1"}})
    pod = await api.seed(PODS, {"metadata": {"name": "web", "namespace": "default"},
                                "spec": {"serviceAccountName": "bot", "nodeName": "w1",
                                         "containers": [{"name": "app", "image": "nginx"}]}})
    node = await api.object(NODES, "w1")
    assert node is not None
    ref = {"kind": "Pod", "apiVersion": "v1", "name": "web"}
    answer = await _token(api, {"boundObjectRef": ref, "expirationSeconds": 3607})
    claims = _claims(answer["status"]["token"])
    assert claims["kubernetes.io"]["pod"] == {"name": "web", "uid": pod["metadata"]["uid"]}
    assert claims["kubernetes.io"]["node"] == {"name": "w1", "uid": node["metadata"]["uid"]}
    # the projected-volume lifetime: a year in the token, 3607 s in the status, warned after 3607 s
    assert claims["exp"] - claims["iat"] == 31536000
    assert claims["kubernetes.io"]["warnafter"] - claims["iat"] == 3607
    assert answer["spec"]["expirationSeconds"] == 3607
    status, body, _ = await _call(api, "POST", "/api/v1/namespaces/default/serviceaccounts/bot/token",
                                  {"spec": {"boundObjectRef": {**ref, "uid": "not-it"}}})
    assert status == 409 and body["message"] == (
        'Operation cannot be fulfilled on Pod "web": the UID in the bound object reference (not-it) does '
        "not match the UID in record. The object might have been deleted and then recreated")
    await api.seed(SERVICEACCOUNTS, {"metadata": {"name": "other", "namespace": "default"}})
    status, body, _ = await _call(api, "POST", "/api/v1/namespaces/default/serviceaccounts/other/token",
                                  {"spec": {"boundObjectRef": ref}})
    assert (status, body["message"]) == (400, 'cannot bind token for serviceaccount "other" to pod running '
                                              "with different serviceaccount name.")
    status, body, _ = await _call(api, "POST", "/api/v1/namespaces/default/serviceaccounts/bot/token",
                                  {"spec": {"boundObjectRef": {"kind": "ConfigMap", "apiVersion": "v1",
                                                               "name": "x"}}})
    assert (status, body["message"]) == (400, "cannot bind token to object of type /v1, Kind=ConfigMap")


async def test_a_valid_token_is_the_service_account(api: InMemoryAPI) -> None:
    sa = await api.object(SERVICEACCOUNTS, "bot", "default")
    assert sa is not None
    token = (await _token(api))["status"]["token"]
    user = await _validator(api).validate(token)
    assert user == UserInfo("system:serviceaccount:default:bot", sa["metadata"]["uid"],
                            ("system:serviceaccounts", "system:serviceaccounts:default"),
                            {"authentication.kubernetes.io/credential-id": (f"JTI={_claims(token)['jti']}",)})
    status, body, _ = await _call(api, "GET", "/api/v1/namespaces/default/serviceaccounts/bot", token=token)
    assert status == 200 and body["metadata"]["name"] == "bot"


async def test_a_pod_bound_token_carries_the_pod_and_dies_with_it(api: InMemoryAPI) -> None:
    pod = await api.seed(PODS, {"metadata": {"name": "web", "namespace": "default"},
                                "spec": {"serviceAccountName": "bot", "nodeName": "w9",
                                         "containers": [{"name": "app", "image": "nginx"}]}})
    token = (await _token(api, {"boundObjectRef": {"kind": "Pod", "apiVersion": "v1", "name": "web"}}))
    token = token["status"]["token"]
    user = await _validator(api).validate(token)
    assert user is not None and dict(user.extra) == {
        "authentication.kubernetes.io/pod-name": ("web",),
        "authentication.kubernetes.io/pod-uid": (pod["metadata"]["uid"],),
        "authentication.kubernetes.io/node-name": ("w9",),  # no such Node: the name only
        "authentication.kubernetes.io/credential-id": (f"JTI={_claims(token)['jti']}",)}
    await api.delete(PODS, "web", "default", grace_period_seconds=0)
    with pytest.raises(InvalidToken, match="service account token has been invalidated"):
        await _validator(api).validate(token)
    await api.seed(PODS, {"metadata": {"name": "web", "namespace": "default"},
                          "spec": {"serviceAccountName": "bot", "containers": [{"name": "a", "image": "x"}]}})
    with pytest.raises(InvalidToken, match=r"pod UID \(.*\) does not match service account pod ref claim"):
        await _validator(api).validate(token)


async def test_a_secret_bound_token_dies_with_its_secret(api: InMemoryAPI) -> None:
    await api.seed(SECRETS, {"metadata": {"name": "s", "namespace": "default"}})
    token = (await _token(api, {"boundObjectRef": {"kind": "Secret", "apiVersion": "v1", "name": "s"}}))
    token = token["status"]["token"]
    assert _claims(token)["kubernetes.io"]["secret"]["name"] == "s"
    assert await _validator(api).validate(token) is not None
    await api.delete(SECRETS, "s", "default")
    with pytest.raises(InvalidToken, match="service account token has been invalidated"):
        await _validator(api).validate(token)


async def test_a_recreated_service_account_does_not_inherit_old_tokens(api: InMemoryAPI) -> None:
    token = (await _token(api))["status"]["token"]
    await api.delete(SERVICEACCOUNTS, "bot", "default")
    with pytest.raises(InvalidToken, match='serviceaccounts "bot" not found'):
        await _validator(api).validate(token)
    await api.seed(SERVICEACCOUNTS, {"metadata": {"name": "bot", "namespace": "default"}})
    with pytest.raises(InvalidToken, match=r"service account UID \(.*\) does not match claim"):
        await _validator(api).validate(token)


async def test_times_are_checked_with_a_minute_of_leeway(api: InMemoryAPI) -> None:
    token = (await _token(api, {"expirationSeconds": 600}))["status"]["token"]
    iat = _claims(token)["iat"]
    assert await _validator(api, clock=iat + 600 + 59).validate(token) is not None
    with pytest.raises(InvalidToken, match="service account token has expired"):
        await _validator(api, clock=iat + 600 + 61).validate(token)
    with pytest.raises(InvalidToken, match="service account token is not valid yet"):
        await _validator(api, clock=iat - 61).validate(token)


async def test_tokens_for_others_or_not_ours_are_refused(api: InMemoryAPI, keys: tuple[Path, Path]) -> None:
    token = (await _token(api, {"audiences": ["vault"]}))["status"]["token"]
    with pytest.raises(InvalidToken, match=r'token audiences \["vault"\] is invalid for the target audiences '
                                           r'\["https://kubernetes.default.svc.cluster.local"\]'):
        await _validator(api).validate(token)
    assert await _validator(api).validate(token, audiences=["vault"]) is not None  # TokenReview's view
    good = (await _token(api))["status"]["token"]
    header, _, signature = good.split(".")
    claims = _claims(good)
    claims["sub"] = "system:serviceaccount:kube-system:admin"
    forged = base64.urlsafe_b64encode(orjson.dumps(claims)).decode().rstrip("=")
    with pytest.raises(InvalidToken, match="invalid signature"):
        await _validator(api).validate(f"{header}.{forged}.{signature}")
    other = from_settings(Settings(service_account_signing_key_file=str(keys[1]))).signing_key
    assert other is not None
    with pytest.raises(InvalidToken, match="no keys found"):
        await _validator(api).validate(jws.sign(_claims(good), other))
    # another issuer's JWT, or no JWT at all, is not ours: the chain decides (401 if nobody knows it)
    assert await _validator(api).validate(jws.sign({**_claims(good), "iss": "https://elsewhere"}, other)) is None
    assert await _validator(api).validate("opaque-token") is None


async def test_a_bad_token_is_the_upstream_401(api: InMemoryAPI) -> None:
    token = (await _token(api, {"audiences": ["vault"]}))["status"]["token"]
    for bad in (token, token[:-4] + "AAAA", "opaque-token"):
        status, body, _ = await _call(api, "GET", "/api/v1/namespaces", token=bad)
        assert (status, body) == (401, UNAUTHORIZED)


async def test_oidc_discovery_publishes_the_verification_keys(api: InMemoryAPI, keys: tuple[Path, Path]) -> None:
    status, config, headers = await _call(api, "GET", "/.well-known/openid-configuration")
    assert status == 200 and headers["Cache-Control"] == "public, max-age=3600"
    assert config == {"issuer": ISSUER, "jwks_uri": f"https://{api.config.server.split('//')[1]}/openid/v1/jwks",
                      "response_types_supported": ["id_token"], "subject_types_supported": ["public"],
                      "id_token_signing_alg_values_supported": ["RS256"]}
    status, jwks_doc, headers = await _call(api, "GET", "/openid/v1/jwks")
    assert status == 200 and headers["Content-Type"] == "application/jwk-set+json"
    signing = from_settings(Settings(service_account_signing_key_file=str(keys[0]))).signing_key
    assert signing is not None
    assert jwks_doc == {"keys": [signing.verification.jwk()]}


async def test_a_token_request_passes_admission_as_a_create_of_the_token_subresource(api: InMemoryAPI) -> None:
    seen: list[tuple[Operation, str, str, str, Any]] = []

    class Refuser:
        name = "Refuser"

        async def admit(self, request: AdmissionRequest) -> None:
            seen.append((request.operation, request.resource.plural, request.subresource, request.name,
                         request.obj))
            if (request.obj or {}).get("spec", {}).get("audiences") == ["refused"]:
                raise errors.Forbidden("refused by Refuser")

    api.registry(SERVICEACCOUNTS).ctx.admission.plugins.append(Refuser())
    await _token(api, {"audiences": ["fine"]})
    status, body, _ = await _call(api, "POST", "/api/v1/namespaces/default/serviceaccounts/bot/token",
                                  {"spec": {"audiences": ["refused"]}})
    assert (status, body["message"]) == (403, "refused by Refuser")
    assert [s[:4] for s in seen] == [(Operation.CREATE, "serviceaccounts", "token", "bot")] * 2
    assert seen[0][4]["kind"] == "TokenRequest" and seen[0][4]["spec"]["audiences"] == ["fine"]


def _b64(obj: Any) -> str:
    return base64.urlsafe_b64encode(orjson.dumps(obj)).decode().rstrip("=")


async def test_malformed_tokens_are_always_401_never_500(api: InMemoryAPI) -> None:
    good = (await _token(api))["status"]["token"]
    header, payload, signature = good.split(".")
    claims = _claims(good)
    bad = [good[:n] for n in (1, len(header), len(header) + 1, len(good) // 2, len(good) - 1)]
    bad += [f"{header}.{payload}", f"{header}.{payload}.{signature}.x", f"{header}..{signature}",
            f"{_b64({'alg': 'HS256', 'kid': 'x'})}.{payload}.{signature}",
            f"{_b64({'alg': 'RS256'})}.{payload}.{signature}", f"{_b64([1])}.{payload}.{signature}",
            f"{header}.{_b64({**claims, 'aud': 7})}.{signature}", f"{header}.{_b64('iss')}.{signature}",
            f"{header}.{payload}.%%%", "." * 2, "x" * 7000, good.upper()]
    for token in bad:
        status, body, _ = await _call(api, "GET", "/api/v1/namespaces", token=token)
        assert (status, body) == (401, UNAUTHORIZED), token[:80]
    assert (await _call(api, "GET", "/api/v1/namespaces", token=good))[0] == 200  # still serving
