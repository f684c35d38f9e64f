"""kube-apiserver against hostile and careless input, over real HTTPS on a real etcd.

Every bad request gets an upstream-shaped Status, nothing reaches etcd (checked with
etcdctl), allocations are given back, and the server still answers /readyz afterwards.
"""

from __future__ import annotations

import base64
import json
import subprocess
import uuid
from collections.abc import AsyncIterator
from typing import Any

import aiohttp
import orjson
import pytest
import yarl

pytestmark = pytest.mark.integration

MiB = 1024 * 1024


def unique(prefix: str) -> str:
    return f"{prefix}-{uuid.uuid4().hex[:6]}"


class API:
    def __init__(self, server: Any, session: aiohttp.ClientSession) -> None:
        self.base, self.session, self.ssl = server.url, session, server.ssl_context()

    async def req(self, method: str, path: str, body: Any = None, *, raw: bytes | None = None,
                  ctype: str = "application/json") -> tuple[int, Any]:
        data = raw if raw is not None else (orjson.dumps(body) if body is not None else None)
        url = yarl.URL(self.base + path, encoded=True)  # as sent: no "." / ".." folding
        async with self.session.request(method, url, data=data, ssl=self.ssl,
                                        headers={"Content-Type": ctype}) as r:
            text = await r.read()
            return r.status, orjson.loads(text) if text and r.content_type == "application/json" else text

    async def succeeds(self, method: str, path: str, body: Any = None, *, code: int = 200, **kw: Any) -> Any:
        """A request that must work (setup, or the good half of a pair): HTTP `code`, the body back."""
        status, answer = await self.req(method, path, body, **kw)
        assert status == code, (status, answer)
        return answer


def etcd_values(etcd_url: str, prefix: str) -> dict[str, str]:
    """key -> value under `prefix`, read straight from etcd (not through the server)."""
    out = subprocess.run(["etcdctl", "--endpoints", etcd_url, "get", "--prefix", prefix, "-w", "json"],
                         capture_output=True, text=True, timeout=30, check=True).stdout
    kvs = json.loads(out).get("kvs") or []
    return {base64.b64decode(kv["key"]).decode(errors="replace"): base64.b64decode(kv["value"]).decode()
            for kv in kvs}


@pytest.fixture
async def api(apiserver: Any) -> AsyncIterator[API]:
    async with aiohttp.ClientSession() as session:
        yield API(apiserver, session)
        # whatever the test threw at it, the server is still serving and ready
        async with session.get(apiserver.url + "/readyz", ssl=apiserver.ssl_context()) as r:
            assert r.status == 200 and await r.text() == "ok"


@pytest.fixture
async def ns(api: API, etcd_server: Any) -> AsyncIterator[str]:
    name = unique("bad")
    await api.succeeds("POST", "/api/v1/namespaces", {"metadata": {"name": name}}, code=201)
    yield name
    await api.succeeds("DELETE", f"/api/v1/namespaces/{name}")


def assert_status(response: tuple[int, Any], code: int, reason: str, message: str | None = None,
                  message_starts: str = "") -> dict[str, Any]:
    """A refusal as upstream sends it: HTTP `code` and a v1 Status saying the same code, `reason`
    and a message (exactly `message` when given, else one that starts with `message_starts`)."""
    http, body = response
    assert isinstance(body, dict) and body.get("kind") == "Status", response
    assert (http, body.get("apiVersion"), body.get("status"), body.get("code"), body.get("reason")) == (
        code, "v1", "Failure", code, reason), response
    text = body.get("message")
    assert isinstance(text, str) and text, response
    if message is not None:
        assert text == message, text
    assert text.startswith(message_starts), text
    return body


def is_invalid(kind: str, name: str) -> str:
    """How every 422 message starts: `<Kind> "<name>" is invalid: `."""
    return f'{kind} "{name}" is invalid: '


def configmaps_in(etcd_url: str, ns: str) -> dict[str, str]:
    return etcd_values(etcd_url, f"/registry/configmaps/{ns}/")


# --- names -----------------------------------------------------------------------------------
@pytest.mark.parametrize("name", ["../x", "a/b", "%2F", "UPPER", "x\x00y", "café", "a" * 254, ".", "-a"])
async def test_invalid_object_names_are_422_and_never_stored(api: API, ns: str, etcd_server: Any,
                                                            name: str) -> None:
    body = assert_status(await api.req("POST", f"/api/v1/namespaces/{ns}/configmaps", {"metadata": {"name": name}}),
                         422, "Invalid")
    assert body["message"].startswith("ConfigMap ") and "metadata.name: Invalid value: " in body["message"]
    cause = body["details"]["causes"][0]
    assert cause["field"] == "metadata.name" and cause["reason"] == "FieldValueInvalid"
    assert configmaps_in(etcd_server.url, ns) == {}


async def test_a_missing_name_is_required(api: API, ns: str) -> None:
    body = assert_status(await api.req("POST", f"/api/v1/namespaces/{ns}/configmaps", {"metadata": {}}),
                         422, "Invalid",
                         'ConfigMap "" is invalid: metadata.name: Required value: name or generateName is required')
    assert body["details"]["causes"][0]["message"] == "Required value: name or generateName is required"


async def test_namespace_names_are_dns_labels_of_at_most_63(api: API, etcd_server: Any) -> None:
    name = "a" * 64
    body = assert_status(await api.req("POST", "/api/v1/namespaces", {"metadata": {"name": name}}),
                         422, "Invalid", message_starts=is_invalid("Namespace", name))
    assert "must be no more than 63 characters" in body["message"]
    assert etcd_values(etcd_server.url, f"/registry/namespaces/{name}") == {}


async def test_dns_label_errors_read_as_upstream(api: API) -> None:
    detail = ('Invalid value: "Bad_NS": a lowercase RFC 1123 label must consist of lower case alphanumeric '
              "characters or '-', and must start and end with an alphanumeric character (e.g. 'my-name',  "
              "or '123-abc', regex used for validation is '[a-z0-9]([-a-z0-9]*[a-z0-9])?')")
    body = assert_status(await api.req("POST", "/api/v1/namespaces", {"metadata": {"name": "Bad_NS"}}),
                         422, "Invalid", f'Namespace "Bad_NS" is invalid: metadata.name: {detail}')
    assert body["details"]["causes"][0]["message"] == detail


async def test_an_invalid_generate_name_is_blamed_on_generate_name(api: API, ns: str,
                                                                   etcd_server: Any) -> None:
    body = assert_status(await api.req("POST", f"/api/v1/namespaces/{ns}/configmaps",
                                       {"metadata": {"generateName": "BAD_"}}),
                         422, "Invalid", message_starts='ConfigMap "BAD_')
    assert "metadata.generateName" in {c["field"] for c in body["details"]["causes"]}
    made = await api.succeeds("POST", f"/api/v1/namespaces/{ns}/configmaps",
                              {"metadata": {"generateName": "good-"}}, code=201)
    assert made["metadata"]["name"].startswith("good-")
    assert list(configmaps_in(etcd_server.url, ns)) == [f"/registry/configmaps/{ns}/{made['metadata']['name']}"]


async def test_path_segment_names_that_would_reshape_a_key_are_400(api: API, ns: str) -> None:
    for name in (".", ".."):
        assert_status(await api.req("GET", f"/api/v1/namespaces/{ns}/configmaps/{name}"), 400, "BadRequest",
                      f'Name parameter invalid: "{name}": may not be \'{name}\'')


# --- labels and annotations ------------------------------------------------------------------
async def test_label_keys_and_values_are_validated_with_upstream_messages(api: API, ns: str,
                                                                          etcd_server: Any) -> None:
    cm = {"metadata": {"name": "lbl", "labels": {"bad key!": "v", "ok": "bad value!",
                                                 "a/b/c": "x", "k": "v" * 64}}}
    body = assert_status(await api.req("POST", f"/api/v1/namespaces/{ns}/configmaps", cm), 422, "Invalid",
                         message_starts='ConfigMap "lbl" is invalid: [metadata.labels: ')
    messages = [c["message"] for c in body["details"]["causes"]]
    assert all(c["field"] == "metadata.labels" for c in body["details"]["causes"])
    assert messages[0] == (
        "Invalid value: \"bad key!\": name part must consist of alphanumeric characters, '-', '_' or "
        "'.', and must start and end with an alphanumeric character (e.g. 'MyName',  or 'my.name',  "
        "or '123-abc', regex used for validation is '([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]')")
    assert messages[1].startswith('Invalid value: "bad value!": a valid label must be an empty string')
    assert "with an optional DNS subdomain prefix and '/'" in messages[2]
    assert messages[3].endswith("must be no more than 63 characters")
    assert configmaps_in(etcd_server.url, ns) == {}


async def test_good_labels_with_prefixes_and_empty_values_pass(api: API, ns: str) -> None:
    cm = {"metadata": {"name": "ok", "labels": {"app.kubernetes.io/name": "web", "Tier_1": ""},
                       "annotations": {"example.com/Note": "anything at all: /, spaces, ü"}}}
    await api.succeeds("POST", f"/api/v1/namespaces/{ns}/configmaps", cm, code=201)


async def test_annotations_keys_and_total_size_are_limited(api: API, ns: str, etcd_server: Any) -> None:
    assert_status(await api.req("POST", f"/api/v1/namespaces/{ns}/configmaps",
                                {"metadata": {"name": "a", "annotations": {"no spaces": "x"}}}),
                  422, "Invalid", message_starts='ConfigMap "a" is invalid: metadata.annotations: '
                                                 'Invalid value: "no spaces": name part must consist of')
    body = assert_status(await api.req("POST", f"/api/v1/namespaces/{ns}/configmaps",
                                       {"metadata": {"name": "a", "annotations": {"big": "x" * (256 * 1024)}}}),
                         422, "Invalid",
                         'ConfigMap "a" is invalid: metadata.annotations: Too long: must have at most 262144 bytes')
    assert body["details"]["causes"][0] == {"reason": "FieldValueTooLong", "field": "metadata.annotations",
                                            "message": "Too long: must have at most 262144 bytes"}
    assert configmaps_in(etcd_server.url, ns) == {}


async def test_labels_are_validated_on_update_and_patch_too(api: API, ns: str) -> None:
    path = f"/api/v1/namespaces/{ns}/configmaps/cm"
    await api.succeeds("POST", f"/api/v1/namespaces/{ns}/configmaps", {"metadata": {"name": "cm"}}, code=201)
    bad_labels = 'ConfigMap "cm" is invalid: metadata.labels: Invalid value: '
    assert_status(await api.req("PATCH", path, {"metadata": {"labels": {"bad key": "v"}}},
                                ctype="application/merge-patch+json"),
                  422, "Invalid", message_starts=bad_labels + '"bad key"')
    assert_status(await api.req("PUT", path, {"metadata": {"name": "cm", "labels": {"k": "bad value"}}}),
                  422, "Invalid", message_starts=bad_labels + '"bad value"')
    stored = await api.succeeds("GET", path)
    assert "labels" not in stored["metadata"]


# --- identity: namespace, name, kind ---------------------------------------------------------
async def test_body_namespace_must_match_the_url(api: API, ns: str, etcd_server: Any) -> None:
    coll = f"/api/v1/namespaces/{ns}/configmaps"
    assert_status(await api.req("POST", coll, {"metadata": {"name": "m", "namespace": "default"}}),
                  400, "BadRequest",
                  "the namespace of the provided object does not match the namespace sent on the request")
    await api.succeeds("POST", coll, {"metadata": {"name": "m"}}, code=201)
    mismatch = f"the namespace of the object (default) does not match the namespace on the request ({ns})"
    assert_status(await api.req("PUT", f"{coll}/m", {"metadata": {"name": "m", "namespace": "default"}}),
                  400, "BadRequest", mismatch)
    assert_status(await api.req("PATCH", f"{coll}/m", {"metadata": {"namespace": "default"}},
                                ctype="application/merge-patch+json"),
                  400, "BadRequest", mismatch)
    assert etcd_values(etcd_server.url, "/registry/configmaps/default/m") == {}


async def test_put_and_patch_cannot_rename(api: API, ns: str) -> None:
    coll = f"/api/v1/namespaces/{ns}/configmaps"
    await api.succeeds("POST", coll, {"metadata": {"name": "keep"}}, code=201)
    rename = "the name of the object (other) does not match the name on the URL (keep)"
    assert_status(await api.req("PUT", f"{coll}/keep", {"metadata": {"name": "other"}}), 400, "BadRequest", rename)
    assert_status(await api.req("PATCH", f"{coll}/keep", {"metadata": {"name": "other"}},
                                ctype="application/merge-patch+json"),
                  400, "BadRequest", rename)


async def test_body_kind_and_api_version_must_match_the_url(api: API, ns: str) -> None:
    coll = f"/api/v1/namespaces/{ns}/configmaps"
    assert_status(await api.req("POST", coll, {"kind": "Secret", "apiVersion": "v1", "metadata": {"name": "k"}}),
                  400, "BadRequest", "the kind in the body (Secret) does not match the kind on the URL (ConfigMap)")
    assert_status(await api.req("POST", coll, {"kind": "ConfigMap", "apiVersion": "apps/v1",
                                               "metadata": {"name": "k"}}),
                  400, "BadRequest",
                  "the API version in the data (apps/v1) does not match the expected API version (v1)")


async def test_cluster_scoped_resources_have_no_namespaced_path(api: API) -> None:
    for method in ("GET", "POST"):
        assert_status(await api.req(method, "/api/v1/namespaces/default/nodes", {"metadata": {"name": "n"}}),
                      404, "NotFound", "the server could not find the requested resource")


async def test_put_to_a_missing_configmap_is_404_not_a_create(api: API, ns: str, etcd_server: Any) -> None:
    assert_status(await api.req("PUT", f"/api/v1/namespaces/{ns}/configmaps/ghost", {"metadata": {"name": "ghost"}}),
                  404, "NotFound", 'configmaps "ghost" not found')
    assert configmaps_in(etcd_server.url, ns) == {}


async def test_put_creates_the_kinds_upstream_lets_it_create(api: API, ns: str) -> None:
    svc = await api.succeeds("PUT", f"/api/v1/namespaces/{ns}/services/made",
                             {"metadata": {"name": "made"}, "spec": {"ports": [{"port": 80}]}}, code=201)
    assert svc["spec"]["clusterIP"]
    await api.succeeds("PUT", f"/apis/coordination.k8s.io/v1/namespaces/{ns}/leases/l",
                       {"metadata": {"name": "l"}, "spec": {"holderIdentity": "me"}}, code=201)
    await api.succeeds("PUT", f"/apis/coordination.k8s.io/v1/namespaces/{ns}/leases/l",
                       {"metadata": {"name": "l"}, "spec": {"holderIdentity": "you"}}, code=200)


# --- request shape ---------------------------------------------------------------------------
UNKNOWN_FORMAT = "the body of the request was in an unknown format - accepted media types include: "


async def test_bodies_of_the_wrong_shape_are_400_or_415(api: API, ns: str, etcd_server: Any) -> None:
    coll = f"/api/v1/namespaces/{ns}/configmaps"
    assert_status(await api.req("POST", coll, raw=b'{"metadata":{"name":"t"}}', ctype="text/plain"),
                  415, "UnsupportedMediaType",
                  UNKNOWN_FORMAT + "application/json, application/yaml, application/vnd.kubernetes.protobuf")
    # what the decoder says differs by shape; each is a 400 naming the body as the problem
    for raw, says in ((b"", "couldn't get version/kind; json parse error: "),
                      (b"[1,2]", 'ConfigMap in version "v1" cannot be handled as a ConfigMap: '),
                      (b'"str"', 'ConfigMap in version "v1" cannot be handled as a ConfigMap: '),
                      (b"{", "error decoding request body: "),
                      (b"null", 'ConfigMap in version "v1" cannot be handled as a ConfigMap: ')):
        assert_status(await api.req("POST", coll, raw=raw), 400, "BadRequest", message_starts=says)
    assert_status(await api.req("PUT", f"{coll}/t", raw=b""), 400, "BadRequest",
                  message_starts="couldn't get version/kind; json parse error: ")
    assert configmaps_in(etcd_server.url, ns) == {}


async def test_a_body_over_3mib_is_413_with_a_status(api: API, ns: str) -> None:
    cm = {"metadata": {"name": "huge"}, "data": {"a": "x" * (3 * MiB)}}
    assert_status(await api.req("POST", f"/api/v1/namespaces/{ns}/configmaps", cm),
                  413, "RequestEntityTooLarge", "Request entity too large: limit is 3145728")


async def test_an_object_too_big_for_etcd_is_413_not_retryable_503(api: API, ns: str,
                                                                   etcd_server: Any) -> None:
    event = {"metadata": {"name": "big"}, "involvedObject": {"kind": "Pod", "name": "p"},
             "message": "x" * (2 * MiB + 100_000)}
    body = assert_status(await api.req("POST", f"/api/v1/namespaces/{ns}/events", event),
                         413, "RequestEntityTooLarge", message_starts="Request entity too large: ")
    assert "retryAfterSeconds" not in body.get("details", {})
    assert etcd_values(etcd_server.url, f"/registry/events/{ns}/") == {}


async def test_configmap_payloads_are_checked_like_upstream(api: API, ns: str, etcd_server: Any) -> None:
    coll = f"/api/v1/namespaces/{ns}/configmaps"
    body = assert_status(await api.req("POST", coll, {"metadata": {"name": "big"}, "data": {"a": "x" * (MiB + 1)}}),
                         422, "Invalid", 'ConfigMap "big" is invalid: Too long: must have at most 1048576 bytes')
    assert body["details"]["causes"][0]["message"] == "Too long: must have at most 1048576 bytes"
    body = assert_status(await api.req("POST", coll, {"metadata": {"name": "keys"},
                                                      "data": {"../etc": "x", "a b": "y"}}),
                         422, "Invalid", message_starts='ConfigMap "keys" is invalid: [data[../etc]: ')
    assert [c["field"] for c in body["details"]["causes"]] == ["data[../etc]", "data[../etc]", "data[a b]"]
    assert_status(await api.req("POST", f"/api/v1/namespaces/{ns}/secrets",
                                {"metadata": {"name": "s"}, "data": {"/root": "eA=="}}),
                  422, "Invalid", message_starts='Secret "s" is invalid: data[/root]: Invalid value: "/root": ')
    assert configmaps_in(etcd_server.url, ns) == {}
    assert etcd_values(etcd_server.url, f"/registry/secrets/{ns}/") == {}


async def test_owner_references_and_finalizers_must_be_complete(api: API, ns: str) -> None:
    coll = f"/api/v1/namespaces/{ns}/configmaps"
    body = assert_status(await api.req("POST", coll, {"metadata": {"name": "o",
                                                                   "ownerReferences": [{"apiVersion": "v1"}]}}),
                         422, "Invalid", message_starts=is_invalid("ConfigMap", "o"))
    assert {c["field"] for c in body["details"]["causes"]} == {
        "metadata.ownerReferences.kind", "metadata.ownerReferences.name", "metadata.ownerReferences.uid"}
    body = assert_status(await api.req("POST", coll, {"metadata": {"name": "f", "finalizers": ["no spaces allowed"]}}),
                         422, "Invalid", message_starts='ConfigMap "f" is invalid: metadata.finalizers: ')
    assert body["details"]["causes"][0]["field"] == "metadata.finalizers"


async def test_service_selectors_are_label_maps(api: API, ns: str) -> None:
    body = assert_status(await api.req("POST", f"/api/v1/namespaces/{ns}/services", {
        "metadata": {"name": "s"}, "spec": {"ports": [{"port": 80}], "selector": {"bad key!": "x"}}}),
        422, "Invalid", message_starts='Service "s" is invalid: spec.selector: Invalid value: "bad key!": ')
    assert body["details"]["causes"][0]["field"] == "spec.selector"


async def test_malformed_delete_options_and_bindings_are_400_not_500(api: API, ns: str) -> None:
    coll = f"/api/v1/namespaces/{ns}/configmaps"
    await api.succeeds("POST", coll, {"metadata": {"name": "d"}}, code=201)
    for bad in ({"preconditions": "x"}, [1], "str"):
        body = assert_status(await api.req("DELETE", f"{coll}/d", bad), 400, "BadRequest",
                             message_starts="json: cannot unmarshal ")
        assert "DeleteOptions" in body["message"], body["message"]
    await api.succeeds("GET", f"{coll}/d")  # a DELETE with a body we could not read deletes nothing
    await api.succeeds("POST", f"/api/v1/namespaces/{ns}/pods", {"metadata": {"name": "p"}, "spec": {
        "containers": [{"name": "c", "image": "busybox"}]}}, code=201)
    assert_status(await api.req("POST", f"/api/v1/namespaces/{ns}/pods/p/binding", {"target": "node-1"}),
                  400, "BadRequest", message_starts="json: cannot unmarshal into Go struct field Binding.target ")
    pod = await api.succeeds("GET", f"/api/v1/namespaces/{ns}/pods/p")
    assert "nodeName" not in pod["spec"]


async def test_deeply_nested_json_and_yaml_are_400(api: API, ns: str) -> None:
    coll = f"/api/v1/namespaces/{ns}/configmaps"
    assert_status(await api.req("POST", coll, raw=b"[" * 100_000 + b"]" * 100_000), 400, "BadRequest",
                  message_starts="error decoding request body: ")
    assert_status(await api.req("POST", coll, raw=b"[" * 5000 + b"]" * 5000, ctype="application/yaml"),
                  400, "BadRequest", "error converting YAML to JSON: yaml: exceeded max depth of 200")


async def test_a_yaml_alias_bomb_is_refused_before_expansion(api: API, ns: str, etcd_server: Any) -> None:
    lines = ["a: &a [1,1,1,1,1,1,1,1,1]"]
    for prev, cur in zip("abcdefgh", "bcdefghi", strict=True):
        lines.append(f"{cur}: &{cur} [" + ",".join([f"*{prev}"] * 9) + "]")
    raw = ("\n".join(lines) + "\nmetadata: {name: bomb}\n").encode()
    assert_status(await api.req("POST", f"/api/v1/namespaces/{ns}/configmaps", raw=raw, ctype="application/yaml"),
                  400, "BadRequest", "error converting YAML to JSON: yaml: document contains excessive aliasing")
    assert configmaps_in(etcd_server.url, ns) == {}


async def test_yaml_bodies_become_json_like_upstream(api: API, ns: str) -> None:
    raw = b"metadata: {name: dated}\ndata: {when: 2024-01-01, 1: one}\n"
    made = await api.succeeds("POST", f"/api/v1/namespaces/{ns}/configmaps", raw=raw, ctype="application/yaml",
                              code=201)
    assert made["data"] == {"when": "2024-01-01", "1": "one"}


# --- query parameters ------------------------------------------------------------------------
async def test_invalid_query_parameters_are_400(api: API, ns: str) -> None:
    coll = f"/api/v1/namespaces/{ns}/configmaps"
    await api.succeeds("POST", coll, {"metadata": {"name": "q"}}, code=201)
    bad_rv = 'resourceVersion: Invalid value: "abc": strconv.ParseUint: parsing "abc": invalid syntax'
    for path in (f"{coll}?resourceVersion=abc", f"{coll}/q?resourceVersion=abc",
                 f"{coll}?watch=1&resourceVersion=abc"):
        assert_status(await api.req("GET", path), 400, "BadRequest", bad_rv)
    assert_status(await api.req("GET", f"{coll}?timeoutSeconds=abc"), 400, "BadRequest",
                  'strconv.ParseInt: parsing "abc": invalid syntax')
    assert_status(await api.req("GET", f"{coll}?fieldSelector=spec.foo%3Dbar"), 400, "BadRequest",
                  "field label not supported: spec.foo")
    body = assert_status(await api.req("GET", f"{coll}?resourceVersionMatch=Bogus&resourceVersion=1"),
                         422, "Invalid", message_starts='ListOptions.meta.k8s.io "" is invalid: resourceVersionMatch: ')
    assert body["details"]["causes"][0]["field"] == "resourceVersionMatch"


async def test_a_negative_limit_means_no_limit(api: API, ns: str) -> None:
    coll = f"/api/v1/namespaces/{ns}/configmaps"
    for name in ("l1", "l2"):
        await api.succeeds("POST", coll, {"metadata": {"name": name}}, code=201)
    listed = await api.succeeds("GET", f"{coll}?limit=-1")
    assert len(listed["items"]) == 2 and "continue" not in listed["metadata"]


# --- patch -----------------------------------------------------------------------------------
async def test_patch_content_types_and_bodies(api: API, ns: str) -> None:
    path = f"/api/v1/namespaces/{ns}/configmaps/p"
    await api.succeeds("POST", f"/api/v1/namespaces/{ns}/configmaps", {"metadata": {"name": "p"}}, code=201)
    assert_status(await api.req("PATCH", path, {"data": {"a": "b"}}, ctype="text/plain"),
                  415, "UnsupportedMediaType", message_starts=UNKNOWN_FORMAT)
    assert_status(await api.req("PATCH", path, {"data": {"a": "b"}}, ctype="application/json"),
                  415, "UnsupportedMediaType", UNKNOWN_FORMAT + (
                      "application/json-patch+json, application/merge-patch+json, "
                      "application/strategic-merge-patch+json"))
    assert_status(await api.req("PATCH", path, raw=b"", ctype="application/merge-patch+json"),
                  400, "BadRequest", "the body of the request is empty")
    body = assert_status(await api.req("PATCH", path, [{"op": "bogus", "path": "/x"}],
                                       ctype="application/json-patch+json"),
                         422, "Invalid")
    assert "bogus" in body["message"], body["message"]
    stored = await api.succeeds("GET", path)
    assert "data" not in stored


# --- immutable fields ------------------------------------------------------------------------
async def test_a_service_cluster_ip_cannot_change(api: API, ns: str) -> None:
    svc = {"metadata": {"name": "web"}, "spec": {"ports": [{"port": 80}]}}
    made = await api.succeeds("POST", f"/api/v1/namespaces/{ns}/services", svc, code=201)
    made["spec"]["clusterIP"] = made["spec"]["clusterIPs"][0] = "10.96.200.200"
    body = assert_status(await api.req("PUT", f"/api/v1/namespaces/{ns}/services/web", made), 422, "Invalid",
                         message_starts=is_invalid("Service", "web"))
    assert "field is immutable" in body["message"]


async def test_a_deployment_selector_cannot_change(api: API, ns: str) -> None:
    dep = {"metadata": {"name": "d"}, "spec": {
        "selector": {"matchLabels": {"app": "d"}},
        "template": {"metadata": {"labels": {"app": "d", "v": "2"}},
                     "spec": {"containers": [{"name": "c", "image": "busybox"}]}}}}
    made = await api.succeeds("POST", f"/apis/apps/v1/namespaces/{ns}/deployments", dep, code=201)
    made["spec"]["selector"] = {"matchLabels": {"app": "d", "v": "2"}}
    body = assert_status(await api.req("PUT", f"/apis/apps/v1/namespaces/{ns}/deployments/d", made), 422, "Invalid",
                         message_starts=is_invalid("Deployment.apps", "d"))
    assert body["details"]["causes"][-1]["field"] == "spec.selector"
    assert "field is immutable" in body["details"]["causes"][-1]["message"]


# --- allocations -----------------------------------------------------------------------------
def allocations_owned_by(etcd_url: str, ns: str) -> list[str]:
    values = etcd_values(etcd_url, "/registry/ranges/")
    return sorted(k for k, v in values.items() if json.loads(v).get("owner", "").startswith(f"{ns}/"))


async def test_failed_service_creates_give_back_every_allocation(api: API, ns: str,
                                                                 etcd_server: Any) -> None:
    coll = f"/api/v1/namespaces/{ns}/services"
    first = await api.succeeds("POST", coll, {"metadata": {"name": "first"}, "spec": {
        "type": "NodePort", "ports": [{"port": 80}]}}, code=201)
    held = allocations_owned_by(etcd_server.url, ns)
    assert len(held) == 2  # one cluster IP, one node port
    taken_port = first["spec"]["ports"][0]["nodePort"]
    for i in range(10):
        # the cluster IP is allocated before the node port clash is found
        assert_status(await api.req("POST", coll, {"metadata": {"name": f"clash{i}"}, "spec": {
            "type": "NodePort", "ports": [{"port": 80, "nodePort": taken_port}]}}),
            422, "Invalid", f'Service "clash{i}" is invalid: spec.ports[0].nodePort: Invalid value: {taken_port}: '
                            "provided port is already allocated")
        assert_status(await api.req("POST", coll, {"metadata": {"name": f"Invalid{i}"}, "spec": {
            "ports": [{"port": 80}]}}),
            422, "Invalid", message_starts=f'Service "Invalid{i}" is invalid: metadata.name: ')
        await api.succeeds("POST", coll + "?dryRun=All", {"metadata": {"name": f"dry{i}"}, "spec": {
            "type": "NodePort", "ports": [{"port": 80}]}}, code=201)
        assert_status(await api.req("POST", coll, {"metadata": {"name": "first"}, "spec": {"ports": [{"port": 80}]}}),
                      409, "AlreadyExists", 'services "first" already exists')
    assert allocations_owned_by(etcd_server.url, ns) == held
