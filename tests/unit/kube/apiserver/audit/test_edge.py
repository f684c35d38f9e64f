"""The audit edge in the real app: events per level and stage, the Audit-Id header, 401s
and 403s recorded, no body where the level does not ask for it, a Panic for a crash."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import aiohttp
from aiohttp import web

from lab.kube.apiserver.audit import Auditor
from lab.kube.apiserver.rest.app import status_edge
from lab.kube.apiserver.settings import Settings
from lab.kube.apiserver.testing import InMemoryAPI
from tests.support import free_port

SECRET = {"apiVersion": "v1", "kind": "Secret", "metadata": {"name": "s1"}, "stringData": {"pw": "hunter2"}}
POLICY = """
apiVersion: audit.k8s.io/v1
kind: Policy
rules:
  - level: None
    nonResourceURLs: ["/healthz*"]
  - level: Metadata
    resources: [{group: "", resources: ["secrets"]}]
  - level: RequestResponse
    resources: [{group: "", resources: ["configmaps"]}]
  - level: Request
    verbs: ["watch"]
  - level: Metadata
"""


def _settings(tmp_path: Path, **kw: Any) -> Settings:
    (tmp_path / "policy.yaml").write_text(POLICY)
    return Settings(audit_policy_file=str(tmp_path / "policy.yaml"),
                    audit_log_path=str(tmp_path / "audit.log"), **kw)


def _events(tmp_path: Path) -> list[dict[str, Any]]:
    return [json.loads(line) for line in (tmp_path / "audit.log").read_text().splitlines()]


async def test_metadata_events_carry_who_and_what_but_no_bodies(tmp_path: Path) -> None:
    async with InMemoryAPI(_settings(tmp_path, insecure_anonymous_admin=True)) as api:
        async with aiohttp.ClientSession(api.config.server) as http:
            async with http.post("/api/v1/namespaces/default/secrets", json=SECRET,
                                 headers={"User-Agent": "kubectl/v1.33.0"}) as resp:
                assert resp.status == 201
                audit_id = resp.headers["Audit-Id"]
            async with http.get("/healthz") as resp:
                assert resp.headers["Audit-Id"]  # every response has one, audited or not
    events = [e for e in _events(tmp_path) if e["auditID"] == audit_id]
    assert [e["stage"] for e in events] == ["RequestReceived", "ResponseComplete"]
    received, done = events
    assert done["level"] == "Metadata" and done["verb"] == "create"
    assert done["requestURI"] == "/api/v1/namespaces/default/secrets"
    assert done["objectRef"] == {"resource": "secrets", "namespace": "default", "name": "s1", "apiVersion": "v1"}
    assert done["user"]["username"] == "system:anonymous"  # the insecure admin mode's caller
    assert "system:masters" in done["user"]["groups"]
    assert done["sourceIPs"] == ["127.0.0.1"] and done["userAgent"] == "kubectl/v1.33.0"
    assert done["responseStatus"] == {"metadata": {}, "code": 201}
    assert done["annotations"]["authorization.k8s.io/decision"] == "allow"
    assert "responseStatus" not in received and received["stageTimestamp"] == received["requestReceivedTimestamp"]
    assert "hunter2" not in json.dumps(events) and "requestObject" not in done
    assert not any(e["requestURI"] == "/healthz" for e in _events(tmp_path))  # level None


async def test_request_response_level_logs_both_bodies_and_errors_their_status(tmp_path: Path) -> None:
    cm = {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "c"}, "data": {"k": "v"}}
    async with InMemoryAPI(_settings(tmp_path, insecure_anonymous_admin=True)) as api:
        async with aiohttp.ClientSession(api.config.server) as http:
            async with http.post("/api/v1/namespaces/default/configmaps", json=cm) as resp:
                assert resp.status == 201
            async with http.get("/api/v1/namespaces/default/configmaps/missing") as resp:
                assert resp.status == 404
    done = [e for e in _events(tmp_path) if e["stage"] == "ResponseComplete" and "configmaps" in e["requestURI"]]
    created, missing = done
    assert created["requestObject"]["data"] == {"k": "v"}
    assert created["responseObject"]["metadata"]["uid"]
    assert missing["responseStatus"]["code"] == 404 and missing["responseStatus"]["reason"] == "NotFound"
    assert missing["objectRef"]["name"] == "missing" and "responseObject" not in missing


async def test_a_watch_records_response_started_when_the_stream_opens(tmp_path: Path) -> None:
    async with InMemoryAPI(_settings(tmp_path, insecure_anonymous_admin=True)) as api:
        async with aiohttp.ClientSession(api.config.server) as http:
            async with http.get("/api/v1/namespaces/default/pods",
                                params={"watch": "1", "timeoutSeconds": "1"}) as resp:
                await resp.read()
    stages = [e["stage"] for e in _events(tmp_path) if e["verb"] == "watch"]
    assert stages == ["RequestReceived", "ResponseStarted", "ResponseComplete"]


async def test_an_unauthenticated_request_is_audited_as_a_401_with_no_user(tmp_path: Path) -> None:
    async with InMemoryAPI(_settings(tmp_path)) as api:
        async with aiohttp.ClientSession(api.config.server) as http:
            async with http.get("/api/v1/namespaces/default/secrets", headers={"Audit-ID": "mine"}) as resp:
                assert resp.status == 401
                assert resp.headers["Audit-Id"] == "mine"
    (event,) = [e for e in _events(tmp_path) if e["auditID"] == "mine"]
    assert event["stage"] == "ResponseStarted" and event["user"] == {}
    assert event["responseStatus"]["code"] == 401 and event["responseStatus"]["reason"] == "Unauthorized"


async def test_a_forbidden_request_names_the_user_and_the_decision(tmp_path: Path) -> None:
    settings = _settings(tmp_path, anonymous_auth=True, authorization_mode=("AlwaysDeny",))
    async with InMemoryAPI(settings) as api:
        async with aiohttp.ClientSession(api.config.server) as http:
            async with http.get("/version") as resp:  # anonymous may reach it, AlwaysDeny refuses
                assert resp.status == 403
    (done,) = [e for e in _events(tmp_path) if e["stage"] == "ResponseComplete"]
    assert done["user"]["username"] == "system:anonymous"
    assert done["responseStatus"]["code"] == 403 and done["responseStatus"]["reason"] == "Forbidden"
    assert done["annotations"]["authorization.k8s.io/decision"] == "forbid"


async def test_an_unexpected_exception_is_recorded_as_a_panic(tmp_path: Path) -> None:
    auditor = Auditor.from_settings(_settings(tmp_path))

    async def broken(_: web.Request) -> web.Response:
        raise RuntimeError("boom")

    app = web.Application(middlewares=[status_edge, auditor.middleware])
    app.router.add_get("/apis/example.com/v1/things", broken)
    auditor.attach(app)
    runner = web.AppRunner(app)
    await runner.setup()
    port = free_port()
    await web.TCPSite(runner, "127.0.0.1", port).start()
    try:
        async with aiohttp.ClientSession() as http:
            async with http.get(f"http://127.0.0.1:{port}/apis/example.com/v1/things") as resp:
                assert resp.status == 500
                audit_id = resp.headers["Audit-Id"]
    finally:
        await runner.cleanup()  # drains the log
    stages = [(e["stage"], e.get("responseStatus", {}).get("code")) for e in _events(tmp_path)]
    assert stages == [("RequestReceived", None), ("Panic", 500)]
    assert all(e["auditID"] == audit_id and e["user"] == {} for e in _events(tmp_path))
