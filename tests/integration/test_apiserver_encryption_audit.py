"""Encryption at rest and audit logging on the real server, etcd and kubectl: a Secret is
stored as `k8s:enc:aescbc:v1:<key>:` + ciphertext, still reads as itself, moves to a new key
by a replace after a rotation, plaintext from before encryption still reads; the audit log
names the admin who created it and records an anonymous 401."""

from __future__ import annotations

import base64
import json
import os
import ssl
import subprocess
import urllib.error
import urllib.request
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.integration.conftest import APIServerProcess, EtcdServer, Kubectl

pytestmark = pytest.mark.integration
KUBECTL = "1.33"
POLICY = """apiVersion: audit.k8s.io/v1
kind: Policy
omitStages: [RequestReceived]
rules:
  - level: None
    nonResourceURLs: ["/healthz*", "/readyz*", "/livez*", "/version", "/openapi*", "/api", "/apis*"]
  - level: Metadata
    resources: [{group: "", resources: ["secrets"]}]
  - level: Metadata
"""


def _config(*keys: tuple[str, bytes]) -> str:
    entries = ", ".join(f'{{name: {name}, secret: "{base64.b64encode(k).decode()}"}}' for name, k in keys)
    return f"""apiVersion: apiserver.config.k8s.io/v1
kind: EncryptionConfiguration
resources:
  - resources: [secrets]
    providers:
      - aescbc: {{keys: [{entries}]}}
      - identity: {{}}
"""


class Cluster:
    """One API server on the session etcd under a key prefix of its own, so its bootstrap
    and its secrets never meet the shared server's."""

    def __init__(self, etcd: EtcdServer, workdir: Path, kubectl_cache: Path) -> None:
        self.etcd, self.prefix = etcd, f"/enc-{uuid.uuid4().hex[:8]}"
        self.enc_config, self.policy = workdir / "encryption.yaml", workdir / "audit-policy.yaml"
        self.audit_log = workdir / "audit.log"
        self.policy.write_text(POLICY)
        self.server = APIServerProcess(etcd.url, workdir / "apiserver")
        self.kubectl = Kubectl(self.server, kubectl_cache)

    def start(self, *, encrypted: bool) -> None:
        args = ["--etcd-prefix", self.prefix, "--audit-policy-file", str(self.policy),
                "--audit-log-path", str(self.audit_log)]
        if encrypted:
            args += ["--encryption-provider-config", str(self.enc_config)]
        self.server.extra_args = tuple(args)
        self.server.start()

    def k(self, *args: str, input: str | None = None) -> str:
        out = self.kubectl(KUBECTL, *args, input=input)
        assert out.returncode == 0, out.stderr
        return out.stdout

    def stored(self, name: str) -> bytes:
        """The raw value etcd holds for secret `name` in default."""
        env = dict(os.environ, ETCDCTL_API="3")
        out = subprocess.run(["etcdctl", "--endpoints", self.etcd.url, "get", "--print-value-only",
                              f"{self.prefix}/secrets/default/{name}"],
                             capture_output=True, timeout=30, env=env, check=True)
        return out.stdout.rstrip(b"\n")

    def secret_value(self, name: str) -> str:
        data = self.k("get", "secret", name, "-o", "jsonpath={.data.password}")
        return base64.b64decode(data).decode()

    def audit_events(self) -> list[dict[str, Any]]:
        return [json.loads(line) for line in self.audit_log.read_text().splitlines()]


@pytest.fixture
def cluster(etcd_server: EtcdServer, tmp_path: Path) -> Iterator[Cluster]:
    c = Cluster(etcd_server, tmp_path, tmp_path / "kubectl-cache")
    try:
        yield c
    finally:
        c.server.stop()


def _anonymous_get(server: APIServerProcess, path: str) -> int:
    ctx = ssl.create_default_context(cafile=str(server.ca_file))  # trusts the server, no client cert
    try:
        with urllib.request.urlopen(server.url + path, timeout=15, context=ctx) as resp:
            return int(resp.status)
    except urllib.error.HTTPError as err:
        return err.code


def test_secrets_are_encrypted_rotated_and_audited(cluster: Cluster) -> None:
    key1, key2 = os.urandom(32), os.urandom(32)
    cluster.start(encrypted=False)
    cluster.k("create", "secret", "generic", "before", "--from-literal=password=plain-old-days")
    assert b"plain-old-days" in base64.b64decode(json.loads(cluster.stored("before"))["data"]["password"])
    cluster.server.stop()

    cluster.enc_config.write_text(_config(("key1", key1)))
    cluster.start(encrypted=True)
    cluster.k("create", "secret", "generic", "s1", "--from-literal=password=hunter2-at-rest")
    raw = cluster.stored("s1")
    assert raw.startswith(b"k8s:enc:aescbc:v1:key1:")
    assert b"hunter2" not in raw and base64.b64encode(b"hunter2-at-rest") not in raw
    assert cluster.secret_value("s1") == "hunter2-at-rest"
    assert cluster.secret_value("before") == "plain-old-days"  # identity reads the old plaintext
    assert _anonymous_get(cluster.server, "/api/v1/namespaces/default/secrets") == 401

    cluster.server.stop()  # rotation: the new key first, the old one still readable
    cluster.enc_config.write_text(_config(("key2", key2), ("key1", key1)))
    cluster.start(encrypted=True)
    assert cluster.stored("s1").startswith(b"k8s:enc:aescbc:v1:key1:")
    everything = cluster.k("get", "secrets", "-o", "json")
    cluster.k("replace", "-f", "-", input=everything)
    for name in ("s1", "before"):
        assert cluster.stored(name).startswith(b"k8s:enc:aescbc:v1:key2:"), name
    assert cluster.secret_value("s1") == "hunter2-at-rest"
    assert cluster.secret_value("before") == "plain-old-days"
    cluster.server.stop()  # the last events are written before the process ends

    events = cluster.audit_events()
    creates = [e for e in events if e["verb"] == "create" and e.get("objectRef", {}).get("resource") == "secrets"]
    assert {e["objectRef"]["name"] for e in creates} == {"before", "s1"}  # named by the body
    assert len(creates) == 2 and all(e["stage"] == "ResponseComplete" for e in creates)
    for e in creates:
        assert e["level"] == "Metadata" and e["user"]["username"] == "kubelab-admin"
        assert "system:masters" in e["user"]["groups"]
        assert e["responseStatus"]["code"] == 201 and "requestObject" not in e
        assert e["annotations"]["authorization.k8s.io/decision"] == "allow"
    assert not any("hunter2" in json.dumps(e) for e in events)
    denied = [e for e in events if e["responseStatus"]["code"] == 401]
    assert denied and denied[0]["user"] == {} and denied[0]["requestURI"] == "/api/v1/namespaces/default/secrets"
    replaced = [e for e in events if e["verb"] == "update" and e["objectRef"]["resource"] == "secrets"]
    assert {e["objectRef"]["name"] for e in replaced} >= {"s1", "before"}


def test_watches_and_lists_hear_decrypted_objects(cluster: Cluster) -> None:
    cluster.enc_config.write_text(_config(("key1", os.urandom(32))))
    cluster.start(encrypted=True)
    cluster.k("create", "secret", "generic", "listed", "--from-literal=password=in-a-list")
    url = cluster.server.url + "/api/v1/namespaces/default/secrets?watch=1&timeoutSeconds=20"
    with urllib.request.urlopen(url, timeout=30, context=cluster.server.ssl_context()) as watch:
        first = json.loads(watch.readline())  # the initial ADDED of what exists
        assert first["type"] == "ADDED" and first["object"]["metadata"]["name"] == "listed"
        cluster.k("create", "secret", "generic", "watched", "--from-literal=password=on-the-wire")
        ev = json.loads(watch.readline())
    assert cluster.stored("watched").startswith(b"k8s:enc:aescbc:v1:key1:")
    assert ev["type"] == "ADDED" and base64.b64decode(ev["object"]["data"]["password"]) == b"on-the-wire"
    listed = json.loads(cluster.k("get", "secrets", "-o", "json"))["items"]
    assert {s["metadata"]["name"]: base64.b64decode(s["data"]["password"]) for s in listed} == {
        "listed": b"in-a-list", "watched": b"on-the-wire"}
