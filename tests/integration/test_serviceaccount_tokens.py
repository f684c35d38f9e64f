"""ServiceAccount tokens on a real kube-apiserver process with a signing key pair, through
real kubectl 1.27 and 1.33: `kubectl create token` (audience, duration, bound to a pod), the
token used as a credential, the exact 401 for tampered, expired and wrong-audience tokens,
and OIDC discovery read anonymously whose JWKS verifies the token on its own."""

from __future__ import annotations

import base64
import json
import ssl
import subprocess
import time
import urllib.error
import urllib.request
import uuid
from collections.abc import Iterator
from typing import Any

import pytest
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import padding, rsa

from lab.kube.apiserver.serviceaccount import jws
from lab.kube.apiserver.serviceaccount.keys import load_signing_key
from tests.integration.conftest import (
    SA_ISSUER,
    APIServerProcess,
    EtcdServer,
    Kubectl,
    kubectl_path,
    service_account_key_flags,
)

pytestmark = pytest.mark.integration
VERSIONS = ["1.27", "1.33"]
ISSUER = SA_ISSUER
UNAUTHORIZED = {"kind": "Status", "apiVersion": "v1", "metadata": {}, "status": "Failure",
                "message": "Unauthorized", "reason": "Unauthorized", "code": 401}


@pytest.fixture(scope="module")
def sa_server(etcd_server: EtcdServer, tmp_path_factory: pytest.TempPathFactory) -> Iterator[APIServerProcess]:
    workdir = tmp_path_factory.mktemp("sa-apiserver")
    server = APIServerProcess(etcd_server.url, workdir, extra_args=(
        "--etcd-prefix", f"/sa-tokens-{uuid.uuid4().hex[:6]}",  # its own objects beside the session server's
        *service_account_key_flags(workdir), "--authorization-mode", "AlwaysAllow"))
    server.start()
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture(scope="module")
def kubectl_sa(sa_server: APIServerProcess, tmp_path_factory: pytest.TempPathFactory) -> Kubectl:
    return Kubectl(sa_server, tmp_path_factory.mktemp("sa-kubectl-cache"))


@pytest.fixture(params=VERSIONS)
def version(request: pytest.FixtureRequest) -> str:
    return str(request.param)


def _as_token(server: APIServerProcess, version: str, token: str, *args: str) -> subprocess.CompletedProcess[str]:
    """kubectl with only a bearer token (no client certificate) for credentials."""
    ca = base64.b64encode(server.ca_file.read_bytes()).decode()
    config = server.workdir / f"token-{uuid.uuid4().hex[:6]}.kubeconfig"
    config.write_text(json.dumps({
        "apiVersion": "v1", "kind": "Config", "current-context": "sa",
        "clusters": [{"name": "c", "cluster": {"server": server.url, "certificate-authority-data": ca}}],
        "contexts": [{"name": "sa", "context": {"cluster": "c", "user": "sa", "namespace": "default"}}],
        "users": [{"name": "sa", "user": {"token": token}}]}))
    return subprocess.run([str(kubectl_path(version)), "--kubeconfig", str(config), *args],
                          capture_output=True, text=True, timeout=60, check=False)


def _raw(server: APIServerProcess, path: str, token: str | None = None) -> tuple[int, str, Any]:
    """GET with no client certificate: only the token (if any) says who we are."""
    ctx = ssl.create_default_context(cafile=str(server.ca_file))
    req = urllib.request.Request(server.url + path, headers={"Authorization": f"Bearer {token}"} if token else {})
    try:
        with urllib.request.urlopen(req, context=ctx, timeout=10) as resp:
            return resp.status, resp.headers.get("Content-Type", ""), json.loads(resp.read())
    except urllib.error.HTTPError as err:
        return err.code, err.headers.get("Content-Type", ""), json.loads(err.read())


def _claims(token: str) -> dict[str, Any]:
    part = token.split(".")[1]
    return json.loads(base64.urlsafe_b64decode(part + "=" * (-len(part) % 4)))


@pytest.fixture
def account(kubectl_sa: Kubectl, version: str) -> str:
    name = f"bot{version.replace('.', '')}-{uuid.uuid4().hex[:4]}"
    out = kubectl_sa(version, "create", "serviceaccount", name)
    assert out.returncode == 0 and out.stdout.strip() == f"serviceaccount/{name} created", out.stderr
    return name


def test_get_sa_prints_name_secrets_age(kubectl_sa: Kubectl, version: str, account: str) -> None:
    out = kubectl_sa(version, "get", "sa", account)
    assert out.returncode == 0, out.stderr
    header, row = out.stdout.splitlines()
    assert header.split() == ["NAME", "SECRETS", "AGE"]
    assert row.split()[:2] == [account, "0"]


def test_create_token_and_use_it(sa_server: APIServerProcess, kubectl_sa: Kubectl, version: str,
                                 account: str) -> None:
    out = kubectl_sa(version, "create", "token", account)
    assert out.returncode == 0, out.stderr
    token = out.stdout.strip()
    claims = _claims(token)
    assert claims["sub"] == f"system:serviceaccount:default:{account}" and claims["aud"] == [ISSUER]
    assert claims["exp"] - claims["iat"] == 3600
    used = _as_token(sa_server, version, token, "get", "serviceaccount", account, "-o", "name")
    assert used.returncode == 0 and used.stdout.strip() == f"serviceaccount/{account}", used.stderr
    status, _, body = _raw(sa_server, f"/api/v1/namespaces/default/serviceaccounts/{account}", token)
    assert status == 200 and body["metadata"]["name"] == account


def test_create_token_with_audience_duration_and_pod(sa_server: APIServerProcess, kubectl_sa: Kubectl,
                                                    version: str, account: str) -> None:
    out = kubectl_sa(version, "create", "token", account, "--audience", "vault", "--duration", "10m")
    assert out.returncode == 0, out.stderr
    claims = _claims(out.stdout.strip())
    assert claims["aud"] == ["vault"] and claims["exp"] - claims["iat"] == 600
    # a token for someone else is no credential here
    status, _, body = _raw(sa_server, "/api/v1/namespaces", out.stdout.strip())
    assert (status, body) == (401, UNAUTHORIZED)
    refused = _as_token(sa_server, version, out.stdout.strip(), "get", "ns")
    assert refused.returncode == 1
    assert refused.stderr.strip() == "error: You must be logged in to the server (Unauthorized)"

    pod = f"{account}-pod"
    manifest = json.dumps({"apiVersion": "v1", "kind": "Pod", "metadata": {"name": pod},
                           "spec": {"serviceAccountName": account,
                                    "containers": [{"name": "app", "image": "registry.local/web:1"}]}})
    assert kubectl_sa(version, "create", "-f", "-", input=manifest).returncode == 0
    out = kubectl_sa(version, "create", "token", account, "--bound-object-kind", "Pod",
                     "--bound-object-name", pod)
    assert out.returncode == 0, out.stderr
    token = out.stdout.strip()
    uid = kubectl_sa(version, "get", "pod", pod, "-o", "jsonpath={.metadata.uid}").stdout
    assert _claims(token)["kubernetes.io"]["pod"] == {"name": pod, "uid": uid}
    assert _raw(sa_server, "/api/v1/namespaces/default/pods", token)[0] == 200
    assert kubectl_sa(version, "delete", "pod", pod, "--grace-period=0", "--force").returncode == 0
    status, _, body = _raw(sa_server, "/api/v1/namespaces/default/pods", token)
    assert (status, body) == (401, UNAUTHORIZED)  # the pod is gone, so is the token


def test_too_short_a_duration_is_upstreams_error(kubectl_sa: Kubectl, version: str, account: str) -> None:
    out = kubectl_sa(version, "create", "token", account, "--duration", "1m")
    assert out.returncode == 1
    assert out.stderr.strip() == ('error: failed to create token: TokenRequest.authentication.k8s.io "" is '
                                  "invalid: spec.expirationSeconds: Invalid value: 60: may not specify a "
                                  "duration less than 10 minutes")


def test_tampered_and_expired_tokens_get_the_401(sa_server: APIServerProcess, kubectl_sa: Kubectl,
                                                 version: str, account: str) -> None:
    token = kubectl_sa(version, "create", "token", account).stdout.strip()
    header, _, signature = token.split(".")
    claims = _claims(token)
    forged = base64.urlsafe_b64encode(json.dumps({**claims, "sub": "system:serviceaccount:kube-system:x"})
                                      .encode()).decode().rstrip("=")
    key = load_signing_key(sa_server.workdir / "sa.key")  # our own key: only the time is wrong
    expired = jws.sign({**claims, "iat": claims["iat"] - 7200, "nbf": claims["iat"] - 7200,
                        "exp": int(time.time()) - 120}, key)
    for bad in (f"{header}.{forged}.{signature}", token[:-6] + "AAAAAA", expired, "not-a-jwt"):
        status, ctype, body = _raw(sa_server, "/api/v1/namespaces", bad)
        assert (status, ctype, body) == (401, "application/json", UNAUTHORIZED), bad
    assert _raw(sa_server, "/api/v1/namespaces", token)[0] == 200  # the genuine one still works


def test_oidc_discovery_is_anonymous_and_its_jwks_verifies_tokens(sa_server: APIServerProcess,
                                                                  kubectl_sa: Kubectl, account: str) -> None:
    status, ctype, config = _raw(sa_server, "/.well-known/openid-configuration")
    assert (status, ctype) == (200, "application/json")
    assert config == {"issuer": ISSUER, "jwks_uri": f"{sa_server.url}/openid/v1/jwks",
                      "response_types_supported": ["id_token"], "subject_types_supported": ["public"],
                      "id_token_signing_alg_values_supported": ["RS256"]}
    status, ctype, jwks = _raw(sa_server, "/openid/v1/jwks")
    assert (status, ctype) == (200, "application/jwk-set+json")
    token = kubectl_sa("1.33", "create", "token", account).stdout.strip()
    header = json.loads(base64.urlsafe_b64decode(token.split(".")[0] + "=="))
    (jwk,) = [k for k in jwks["keys"] if k["kid"] == header["kid"]]

    def number(b64: str) -> int:
        return int.from_bytes(base64.urlsafe_b64decode(b64 + "=" * (-len(b64) % 4)), "big")
    public = rsa.RSAPublicNumbers(number(jwk["e"]), number(jwk["n"])).public_key()
    signing_input, _, signature = token.rpartition(".")
    public.verify(base64.urlsafe_b64decode(signature + "=" * (-len(signature) % 4)), signing_input.encode(),
                  padding.PKCS1v15(), hashes.SHA256())  # raises if it does not verify
    assert _raw(sa_server, "/api/v1/namespaces")[0] == 401  # anonymous elsewhere: still refused
