"""Decode the `k8s\\0` + runtime.Unknown envelope and the object inside it, driven by the
field table in `descriptors.json` (see `extract.py`), into the object's JSON form.

Go marshals non-pointer fields even when empty; empty strings, zero times and zero
int-or-strings are dropped so the result reads like the JSON the client would have sent.
"""

from __future__ import annotations

import base64
import functools
import json
import struct
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from lab.kube.machinery.errors import BadRequest

MEDIA_TYPE = "application/vnd.kubernetes.protobuf"
MAGIC = b"k8s\x00"
UNKNOWN = ".k8s.io.apimachinery.pkg.runtime.Unknown"
META = ".k8s.io.apimachinery.pkg.apis.meta.v1."
SPECIAL = {
    META + "Time": "time", META + "MicroTime": "microtime", META + "Duration": "duration",
    ".k8s.io.apimachinery.pkg.api.resource.Quantity": "quantity",
    ".k8s.io.apimachinery.pkg.util.intstr.IntOrString": "intorstr",
    ".k8s.io.apimachinery.pkg.runtime.RawExtension": "raw",
}
_DROP = object()
# Go writes every non-pointer field; a zero there means "unset" and is dropped. These are
# pointer (or always-serialised) fields where 0/false is a real value and must stay.
KEEP_ZERO = frozenset({
    "replicas", "revisionHistoryLimit", "terminationGracePeriodSeconds", "gracePeriodSeconds",
    "activeDeadlineSeconds", "deletionGracePeriodSeconds", "runAsUser", "runAsGroup", "fsGroup",
    "exitCode", "tolerationSeconds", "automountServiceAccountToken", "enableServiceLinks",
    "allowPrivilegeEscalation", "privileged", "readOnlyRootFilesystem", "runAsNonRoot",
    "optional", "ready", "serving", "terminating", "defaultMode", "mode", "hostUsers",
    "orphanDependents", "allocateLoadBalancerNodePorts", "leaseTransitions",
    "leaseDurationSeconds", "backoffLimit", "parallelism", "completions", "suspend",
    "ttlSecondsAfterFinished", "priority", "shareProcessNamespace", "setHostnameAsFQDN",
    "controller", "blockOwnerDeletion", "restartCount", "port",
})

# Go structs embedded with `json:",inline"`: a field of their own in protobuf, their fields
# spread into the parent in JSON (a configMapKeyRef's `name`, a volume's `emptyDir`, ...).
INLINE = frozenset({"volumeSource", "persistentVolumeSource", "ephemeralContainerCommon", "probeHandler",
                    "localObjectReference", "ingressRuleValue"})


@functools.cache
def _table() -> dict[str, dict[str, list[Any]]]:
    # descriptors.json is written by extract.build, so it has build's shape
    table: dict[str, dict[str, list[Any]]] = json.loads((Path(__file__).with_name("descriptors.json")).read_text())
    return table


def _varint(buf: bytes, pos: int) -> tuple[int, int]:
    result = shift = 0
    while True:
        if pos >= len(buf):
            raise BadRequest("protobuf: truncated varint")
        b = buf[pos]
        pos += 1
        result |= (b & 0x7F) << shift
        if not b & 0x80:
            return result, pos
        shift += 7


def _fields(buf: bytes) -> list[tuple[int, int, Any]]:
    """(field number, wire type, raw value) in order."""
    out, pos = [], 0
    while pos < len(buf):
        tag, pos = _varint(buf, pos)
        num, wire = tag >> 3, tag & 7
        val: int | bytes  # varints are ints; fixed-size and length-delimited values stay bytes
        if wire == 0:
            val, pos = _varint(buf, pos)
        elif wire == 1:
            val, pos = buf[pos:pos + 8], pos + 8
        elif wire == 2:
            size, pos = _varint(buf, pos)
            val, pos = buf[pos:pos + size], pos + size
        elif wire == 5:
            val, pos = buf[pos:pos + 4], pos + 4
        else:
            raise BadRequest(f"protobuf: unsupported wire type {wire}")
        out.append((num, wire, val))
    return out


def _scalar(kind: str, wire: int, val: Any) -> Any:
    if kind == "string":
        return bytes(val).decode("utf-8")
    if kind == "bytes":
        return base64.b64encode(bytes(val)).decode()
    if kind == "bool":
        return bool(val)
    if kind == "int":
        return val - (1 << 64) if val >= 1 << 63 else val
    if kind == "sint":
        return (val >> 1) ^ -(val & 1)
    if kind == "double":
        return struct.unpack("<d", val)[0]
    if kind == "float":
        return struct.unpack("<f", val)[0]
    if kind in ("fixed32", "fixed64"):
        return int.from_bytes(val, "little")
    raise BadRequest(f"protobuf: unknown field kind {kind}")


def _packed(kind: str, buf: bytes) -> list[Any]:
    out, pos = [], 0
    while pos < len(buf):
        v, pos = _varint(buf, pos)
        out.append(_scalar(kind, 0, v))
    return out


def _special(kind: str, buf: bytes) -> Any:
    f = {num: val for num, _, val in _fields(buf)}
    if kind in ("time", "microtime"):
        seconds, nanos = _scalar("int", 0, f.get(1, 0)), f.get(2, 0)
        if not seconds and not nanos:
            return _DROP
        ts = datetime.fromtimestamp(seconds + nanos / 1e9, UTC)
        return ts.strftime("%Y-%m-%dT%H:%M:%S.%fZ" if kind == "microtime" else "%Y-%m-%dT%H:%M:%SZ")
    if kind == "duration":
        return f"{_scalar('int', 0, f.get(1, 0)) / 1e9:g}s"
    if kind == "quantity":
        text = bytes(f.get(1, b"")).decode()
        return text or _DROP
    if kind == "intorstr":
        if f.get(1, 0) == 1:
            return bytes(f.get(3, b"")).decode() or _DROP
        value = _scalar("int", 0, f.get(2, 0))
        return value if value or 1 in f else _DROP
    if kind == "raw":
        raw = bytes(f.get(1, b""))
        return json.loads(raw) if raw else _DROP
    raise BadRequest(f"protobuf: unknown special {kind}")


def message(type_name: str, buf: bytes) -> dict[str, Any]:
    """Decode one message of `type_name` (a `.k8s.io...` full name) into a JSON-shaped dict."""
    schema = _table().get(type_name)
    if schema is None:
        raise BadRequest(f"protobuf: no schema for {type_name}")
    out: dict[str, Any] = {}
    for num, wire, val in _fields(buf):
        spec = schema.get(str(num))
        if spec is None:
            continue  # unknown field: a newer client; ignore as upstream's decoder does
        name, kind, sub, repeated = spec[0], spec[1], spec[2], spec[3]
        if kind == "map":
            entry = {n: v for n, _, v in _fields(val)}
            key = _scalar(spec[4], 0, entry.get(1, b"" if spec[4] == "string" else 0))
            vkind = spec[5]
            raw = entry.get(2, b"" if vkind in ("string", "bytes", "message") else 0)
            value = message(sub, raw) if vkind == "message" else _scalar(vkind, 0, raw)
            out.setdefault(name, {})[key] = value
            continue
        if kind == "message":
            value = _special(SPECIAL[sub], val) if sub in SPECIAL else message(sub, val)
        elif repeated and wire == 2 and kind not in ("string", "bytes"):
            out.setdefault(name, []).extend(_packed(kind, val))
            continue
        else:
            value = _scalar(kind, wire, val)
        if value is _DROP or (not repeated and _is_zero(value) and name not in KEEP_ZERO):
            continue
        if repeated:
            out.setdefault(name, []).append(value)
        elif name in INLINE and isinstance(value, dict):
            out.update(value)
        else:
            out[name] = value
    return out


def _is_zero(value: Any) -> bool:
    return value == "" or value is False or (type(value) is int and value == 0)


def _message_name(api_version: str, kind: str) -> str:
    if kind in ("DeleteOptions", "Status", "ListOptions"):
        return META + kind
    group, _, version = api_version.rpartition("/")
    package = group.split(".")[0] if group else "core"
    return f".k8s.io.api.{package}.{version}.{kind}"


def decode(body: bytes) -> dict[str, Any]:
    """A protobuf request body -> the object as a dict with `apiVersion` and `kind`."""
    if not body.startswith(MAGIC):
        raise BadRequest("provided protobuf is not a Kubernetes object (missing k8s\\0 prefix)")
    envelope = message(UNKNOWN, body[len(MAGIC):])
    type_meta = envelope.get("typeMeta") or {}
    api_version, kind = type_meta.get("apiVersion", ""), type_meta.get("kind", "")
    raw = base64.b64decode(envelope.get("raw", ""))
    obj = message(_message_name(api_version, kind), raw)
    return {"apiVersion": api_version, "kind": kind, **obj}
