"""The protobuf form of the v2 document: gnostic field numbers on the wire, and a
round trip back to the JSON document it was built from."""

from __future__ import annotations

import json
from typing import Any

from lab.kube.apiserver.openapi import v2_json, v2_protobuf
from lab.kube.apiserver.openapi.gnostic_proto import message


def _fields(data: bytes) -> list[tuple[int, int | bytes]]:
    """Decode one level of protobuf wire format: (field number, varint or bytes)."""
    out, i = [], 0
    while i < len(data):
        key, i = _varint(data, i)
        number, wire = key >> 3, key & 7
        if wire == 0:
            value, i = _varint(data, i)
        elif wire == 2:
            size, i = _varint(data, i)
            value, i = data[i:i + size], i + size
        else:
            raise AssertionError(f"unexpected wire type {wire}")
        out.append((number, value))
    return out


def _varint(data: bytes, i: int) -> tuple[int, int]:
    shift = result = 0
    while True:
        b = data[i]
        result |= (b & 0x7F) << shift
        i, shift = i + 1, shift + 7
        if not b & 0x80:
            return result, i


def _get(data: bytes, number: int) -> list:
    return [v for n, v in _fields(data) if n == number]


def test_the_path_kubectl_reads_for_field_validation_uses_gnostic_field_numbers():
    # Document.paths=8 → Paths.path=2 → NamedPathItem{name=1,value=2} → PathItem.patch=8 →
    # Operation{parameters=8, vendor_extension=13} → ParametersItem.parameter=1 →
    # Parameter.non_body_parameter=2 → NonBodyParameter.query_parameter_sub_schema=3 → name=4
    wanted = "/apis/apps/v1/namespaces/{namespace}/deployments/{name}"
    (paths,) = _get(v2_protobuf(), 8)
    items = {_get(p, 1)[0].decode(): _get(p, 2)[0] for p in _get(paths, 2)}
    (patch,) = _get(items[wanted], 8)
    names = []
    for item in _get(patch, 8):
        for parameter in _get(item, 1):
            for non_body in _get(parameter, 2):
                for query in _get(non_body, 3):
                    names.append(_get(query, 4)[0].decode())
    assert "fieldValidation" in names
    extensions = {_get(e, 1)[0].decode(): _get(_get(e, 2)[0], 2)[0].decode() for e in _get(patch, 13)}
    assert extensions["x-kubernetes-group-version-kind"] == '{"group":"apps","kind":"Deployment","version":"v1"}'
    assert _get(v2_protobuf(), 1) == [b"2.0"]


def _schema_back(s: Any) -> dict[str, Any]:
    out: dict[str, Any] = {}
    if s.description:
        out["description"] = s.description
    if s._ref:
        out["$ref"] = s._ref
    if s.type.value:
        out["type"] = s.type.value[0]
    if s.format:
        out["format"] = s.format
    if s.items.schema:
        out["items"] = _schema_back(s.items.schema[0])
    if s.HasField("additional_properties"):
        out["additionalProperties"] = _schema_back(s.additional_properties.schema)
    if s.properties.additional_properties:
        out["properties"] = {p.name: _schema_back(p.value) for p in s.properties.additional_properties}
    if s.required:
        out["required"] = list(s.required)
    for ext in s.vendor_extension:
        out[ext.name] = json.loads(ext.value.yaml)
    return out


def test_definitions_decode_back_to_the_json_document():
    doc = message("Document")()
    doc.ParseFromString(v2_protobuf())
    decoded = {d.name: _schema_back(d.value) for d in doc.definitions.additional_properties}
    assert decoded == v2_json()["definitions"]


def test_every_path_and_operation_survives_the_round_trip():
    doc = message("Document")()
    doc.ParseFromString(v2_protobuf())
    decoded = {p.name: {m for m in ("get", "put", "post", "delete", "patch") if p.value.HasField(m)}
               for p in doc.paths.path}
    expected = {path: set(item) - {"parameters"} for path, item in v2_json()["paths"].items()}
    assert decoded == expected
    assert doc.info.title == "Kubernetes"
