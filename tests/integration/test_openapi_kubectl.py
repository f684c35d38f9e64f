"""Real kubectl binaries (1.27 and 1.33) against a tiny server that serves kubelab's
discovery and OpenAPI documents: `create -f`/`apply -f` succeed, validate server-side
with `fieldValidation=Strict`, and a manifest with an unknown field is rejected.
"""

from __future__ import annotations

import asyncio
import os
import shutil
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import orjson
import pytest
from aiohttp import web

from lab.kube.apiserver import openapi
from lab.kube.apiserver.schema import check_raw
from lab.kube.machinery import catalog
from lab.kube.machinery.errors import APIError, NotFound
from tests.support import free_port

pytestmark = pytest.mark.integration

KUBECTL_DIR = Path(os.path.realpath(shutil.which("kubectl") or "/nonexistent")).parent

DEPLOYMENT = """\
apiVersion: apps/v1
kind: Deployment
metadata:
  name: web
  labels: {app: web}
spec:
  replicas: 2
  selector:
    matchLabels: {app: web}
  template:
    metadata:
      labels: {app: web}
    spec:
      containers:
      - name: nginx
        image: nginx:1.25
        ports:
        - containerPort: 80
        resources:
          limits: {cpu: 100m, memory: 64Mi}
        livenessProbe:
          httpGet: {path: /, port: 80}
"""


@dataclass
class Recorded:
    method: str
    path: str
    query: dict[str, str]


@dataclass
class FakeAPIServer:
    """Discovery + OpenAPI from kubelab; GET object → 404, POST → validated echo."""

    requests: list[Recorded] = field(default_factory=list)
    stored: dict[str, dict] = field(default_factory=dict)  # path of the object → object
    patches: list[dict] = field(default_factory=list)

    def app(self) -> web.Application:
        app = web.Application(middlewares=[self.record])
        app.router.add_get("/api", self.api_versions)
        app.router.add_get("/apis", self.api_groups)
        app.router.add_get("/openapi/v2", self.openapi_v2)
        app.router.add_get("/swagger-2.0.0.pb-v1", self.openapi_v2)
        app.router.add_get("/openapi/v3", self.openapi_v3_index)
        app.router.add_get("/openapi/v3/{gv:.+}", self.openapi_v3)
        app.router.add_get("/api/{version}", self.resource_list)
        app.router.add_get("/apis/{group}/{version}", self.resource_list)
        app.router.add_route("*", "/{tail:.+}", self.objects)
        return app

    @web.middleware
    async def record(self, request: web.Request, handler: Any) -> web.StreamResponse:
        self.requests.append(Recorded(request.method, request.path, dict(request.query)))
        return await handler(request)

    async def api_versions(self, _: web.Request) -> web.Response:
        return web.json_response({"kind": "APIVersions", "versions": ["v1"]})

    async def api_groups(self, _: web.Request) -> web.Response:
        groups = [{"name": g, "versions": [{"groupVersion": f"{g}/{v}", "version": v} for v in vs],
                   "preferredVersion": {"groupVersion": f"{g}/{vs[0]}", "version": vs[0]}}
                  for g, vs in catalog.groups().items() if g]
        return web.json_response({"kind": "APIGroupList", "apiVersion": "v1", "groups": groups})

    async def resource_list(self, request: web.Request) -> web.Response:
        group, version = request.match_info.get("group", ""), request.match_info["version"]
        resources = []
        for r in catalog.RESOURCES:
            if (r.group, r.version) != (group, version):
                continue
            resources.append({"name": r.plural, "singularName": r.singular, "namespaced": r.namespaced,
                              "kind": r.kind, "verbs": list(r.verbs), "shortNames": list(r.short_names)})
            resources += [{"name": f"{r.plural}/{s}", "singularName": "", "namespaced": r.namespaced,
                           "kind": r.kind, "verbs": ["get", "patch", "update"]} for s in r.subresources]
        if not resources:
            raise web.HTTPNotFound()
        gv = f"{group}/{version}" if group else version
        return web.json_response({"kind": "APIResourceList", "apiVersion": "v1", "groupVersion": gv,
                                  "resources": resources})

    async def openapi_v2(self, request: web.Request) -> web.Response:
        if "protobuf" in request.headers.get("Accept", ""):
            return web.Response(body=openapi.v2_protobuf(), content_type=openapi.PROTOBUF_V2_CONTENT_TYPE)
        return web.json_response(openapi.v2_json())

    async def openapi_v3_index(self, _: web.Request) -> web.Response:
        return web.json_response(openapi.v3_index())

    async def openapi_v3(self, request: web.Request) -> web.Response:
        doc = openapi.v3_document(request.match_info["gv"])
        if doc is None:
            raise web.HTTPNotFound()
        return web.json_response(doc)

    async def objects(self, request: web.Request) -> web.Response:
        parts = request.path.strip("/").split("/")
        group, version = ("", parts[1]) if parts[0] == "api" else (parts[1], parts[2])
        rest = parts[2:] if parts[0] == "api" else parts[3:]
        namespace = rest[1] if rest[:1] == ["namespaces"] and len(rest) > 2 else None
        rest = rest[2:] if namespace else rest
        res = catalog.lookup(group, version, rest[0])
        try:
            if res is None:
                raise NotFound("the server could not find the requested resource")
            if request.method == "GET":
                if request.path in self.stored:
                    return web.json_response(self.stored[request.path])
                raise NotFound(f'{res.group_resource} "{rest[1]}" not found', name=rest[1], kind=res.plural,
                               group=res.group)
            if request.method == "PATCH":  # record what kubectl computed; applying it is not our job
                self.patches.append(orjson.loads(await request.read()))
                return web.json_response(self.stored[request.path])
            if request.method != "POST":
                raise web.HTTPMethodNotAllowed(request.method, ["GET", "POST", "PATCH"])
            body = await request.read()
            warnings = check_raw(res, body, request.query.get("fieldValidation", ""))
        except APIError as exc:
            return web.json_response(exc.status(), status=exc.code)
        obj = orjson.loads(body)
        obj.setdefault("metadata", {}).update(namespace=namespace or "", uid="0000", resourceVersion="1")
        self.stored[f"{request.path}/{obj['metadata']['name']}"] = obj
        # RFC 7234 warn-text is a quoted string: escape backslashes and quotes, as upstream.
        headers = [("Warning", '299 - "{}"'.format(w.replace("\\", "\\\\").replace('"', '\\"')))
                   for w in warnings]
        return web.Response(body=orjson.dumps(obj), status=201, content_type="application/json",
                            headers=headers)


@pytest.fixture
async def server() -> Any:
    fake = FakeAPIServer()
    runner = web.AppRunner(fake.app())
    await runner.setup()
    port = free_port()
    site = web.TCPSite(runner, "127.0.0.1", port)
    await site.start()
    yield fake, f"http://127.0.0.1:{port}"
    await runner.cleanup()


async def kubectl(version: str, server_url: str, tmp_path: Path, *args: str) -> tuple[int, str]:
    binary = KUBECTL_DIR / f"kubectl.{version}"
    if not binary.exists():
        pytest.skip(f"{binary} not installed")
    home = tmp_path / f"home-{version}"
    home.mkdir(exist_ok=True)
    env = {"PATH": os.environ.get("PATH", ""), "HOME": str(home), "KUBECONFIG": str(home / "config")}
    proc = await asyncio.create_subprocess_exec(
        str(binary), "--server", server_url, "--cache-dir", str(home / "cache"), *args,
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.STDOUT, env=env)
    try:
        out, _ = await asyncio.wait_for(proc.communicate(), timeout=60)
    except TimeoutError:
        proc.kill()
        await proc.wait()
        raise
    return proc.returncode or 0, out.decode()


def _manifest(tmp_path: Path, text: str) -> str:
    path = tmp_path / "manifest.yaml"
    path.write_text(text)
    return str(path)


def _posts(fake: FakeAPIServer) -> list[Recorded]:
    return [r for r in fake.requests if r.method == "POST"]


ALL_VERSIONS = [f"1.{minor}" for minor in range(27, 34)]


@pytest.mark.parametrize("version", ALL_VERSIONS)
@pytest.mark.parametrize("verb", ["create", "apply"])
async def test_kubectl_creates_a_deployment_validated_server_side(server, tmp_path, version, verb):
    fake, url = server

    code, out = await kubectl(version, url, tmp_path, verb, "-f", _manifest(tmp_path, DEPLOYMENT))

    assert code == 0, out
    assert "deployment.apps/web created" in out
    posts = _posts(fake)
    assert [p.path for p in posts] == ["/apis/apps/v1/namespaces/default/deployments"]
    assert posts[0].query.get("fieldValidation") == "Strict"
    openapi_paths = {r.path for r in fake.requests if r.path.startswith("/openapi")}
    if version in ("1.27", "1.28"):
        assert "/openapi/v2" in openapi_paths
    else:
        assert "/openapi/v3/apis/apps/v1" in openapi_paths


@pytest.mark.parametrize("version", ["1.27", "1.33"])
async def test_kubectl_reports_an_unknown_field_from_the_server(server, tmp_path, version):
    fake, url = server
    typo = DEPLOYMENT.replace("image: nginx:1.25", "image: nginx:1.25\n        imagePullPolice: Always")

    code, out = await kubectl(version, url, tmp_path, "create", "-f", _manifest(tmp_path, typo))

    assert code != 0
    assert ('Deployment in version "v1" cannot be handled as a Deployment: strict decoding error: '
            'unknown field "spec.template.spec.containers[0].imagePullPolice"') in out
    assert len(_posts(fake)) == 1  # rejected by the server, not by kubectl


async def test_kubectl_with_validation_warn_prints_the_servers_warning(server, tmp_path):
    fake, url = server
    typo = DEPLOYMENT.replace("replicas: 2", "replicas: 2\n  replica: 3")

    code, out = await kubectl("1.33", url, tmp_path, "create", "--validate=warn", "-f", _manifest(tmp_path, typo))

    assert code == 0, out
    assert 'unknown field "spec.replica"' in out
    assert _posts(fake)[0].query.get("fieldValidation") == "Warn"


@pytest.mark.parametrize("version", ["1.27", "1.33"])  # v2 protobuf, v3 JSON
async def test_kubectl_explain_reads_the_schema(server, tmp_path, version):
    _, url = server

    code, out = await kubectl(version, url, tmp_path, "explain", "deployment.spec.template.spec.containers.ports")

    assert code == 0, out
    assert "containerPort" in out and "<integer>" in out


@pytest.mark.parametrize("version", ["1.27", "1.33"])
async def test_kubectl_apply_of_a_change_sends_a_strategic_merge_patch(server, tmp_path, version):
    fake, url = server
    code, out = await kubectl(version, url, tmp_path, "apply", "-f", _manifest(tmp_path, DEPLOYMENT))
    assert code == 0, out

    changed = DEPLOYMENT.replace("nginx:1.25", "nginx:1.26")
    code, out = await kubectl(version, url, tmp_path, "apply", "-f", _manifest(tmp_path, changed))

    assert code == 0, out
    patch = fake.patches[0]["spec"]["template"]["spec"]
    assert patch["$setElementOrder/containers"] == [{"name": "nginx"}]  # merged by the key "name"
    assert patch["containers"] == [{"image": "nginx:1.26", "name": "nginx"}]
