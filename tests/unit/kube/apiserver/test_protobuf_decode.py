"""Protobuf request bodies (kubectl 1.32+ typed clients) decode to the JSON an object has."""

from __future__ import annotations

import base64

import pytest

from lab.kube.apiserver.protobuf import decode
from lab.kube.machinery.errors import BadRequest


def varint(n: int) -> bytes:
    n &= (1 << 64) - 1
    out = bytearray()
    while True:
        b = n & 0x7F
        n >>= 7
        out.append(b | (0x80 if n else 0))
        if not n:
            return bytes(out)


def field(num: int, value: bytes | int | str) -> bytes:
    if isinstance(value, int):
        return varint(num << 3) + varint(value)
    data = value.encode() if isinstance(value, str) else value
    return varint(num << 3 | 2) + varint(len(data)) + data


def envelope(api_version: str, kind: str, raw: bytes) -> bytes:
    type_meta = field(1, api_version) + field(2, kind)
    return b"k8s\x00" + field(1, type_meta) + field(2, raw) + field(4, "application/vnd.kubernetes.protobuf")


def test_configmap_with_labels_data_and_binary_data() -> None:
    meta = field(1, "cfg") + field(3, "") + field(11, field(1, "app") + field(2, "web"))
    raw = (field(1, meta) + field(2, field(1, "a") + field(2, "b"))
           + field(3, field(1, "bin") + field(2, b"\x00\x01")))
    obj = decode(envelope("v1", "ConfigMap", raw))
    assert obj == {"apiVersion": "v1", "kind": "ConfigMap",
                   "metadata": {"name": "cfg", "labels": {"app": "web"}},
                   "data": {"a": "b"}, "binaryData": {"bin": base64.b64encode(b"\x00\x01").decode()}}


def test_deployment_keeps_zero_replicas_and_int_or_string() -> None:
    container = field(1, "web") + field(2, "nginx:1") + field(6, field(3, 8080))  # ports.containerPort
    pod_spec = field(2, container)
    template = field(1, b"") + field(2, pod_spec)
    strategy = field(1, "RollingUpdate") + field(2, field(1, field(1, 1) + field(3, "25%")))
    spec = field(1, 0) + field(3, template) + field(4, strategy) + field(5, 0)  # replicas 0, minReadySeconds 0
    obj = decode(envelope("apps/v1", "Deployment", field(1, field(1, "d")) + field(2, spec)))
    assert obj["spec"]["replicas"] == 0  # a pointer in Go: zero is meant
    assert "minReadySeconds" not in obj["spec"]  # a plain int: zero means unset
    assert obj["spec"]["strategy"] == {"type": "RollingUpdate", "rollingUpdate": {"maxUnavailable": "25%"}}
    assert obj["spec"]["template"]["spec"]["containers"] == [
        {"name": "web", "image": "nginx:1", "ports": [{"containerPort": 8080}]}]


def test_delete_options_with_zero_grace_period() -> None:
    raw = field(1, 0) + field(4, "Foreground")
    obj = decode(envelope("v1", "DeleteOptions", raw))
    assert obj["gracePeriodSeconds"] == 0 and obj["propagationPolicy"] == "Foreground"


def test_not_a_kubernetes_protobuf() -> None:
    with pytest.raises(BadRequest):
        decode(b"\x0a\x00")


def test_inline_structs_spread_into_their_parent_as_in_json() -> None:
    # Volume{name, volumeSource{emptyDir{medium}}} is `{"name": ..., "emptyDir": {...}}` in JSON
    volume = field(1, "scratch") + field(2, field(2, field(1, "Memory")))
    raw = field(1, field(1, "p")) + field(2, field(1, volume))
    pod = decode(envelope("v1", "Pod", raw))
    assert pod["spec"]["volumes"] == [{"name": "scratch", "emptyDir": {"medium": "Memory"}}]
