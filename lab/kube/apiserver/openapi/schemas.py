"""Render schema definitions as OpenAPI schema objects (shared by v2 and v3).

`prefix` is where references point: `#/definitions/` (v2) or `#/components/schemas/` (v3).
"""

from __future__ import annotations

from typing import Any

from lab.kube.apiserver.schema.types import (
    Definition,
    Desc,
    FieldSpec,
    MapOf,
    Prim,
    Ref,
    Type,
    field_type,
)


def gvk_list(d: Definition) -> list[dict[str, str]]:
    return [{"group": g, "kind": k, "version": v} for g, v, k in d.gvk]


def type_schema(t: Type, prefix: str) -> dict[str, Any]:
    if isinstance(t, Prim):
        out: dict[str, Any] = {"type": t.type}
        if t.format:
            out["format"] = t.format
        return out
    if isinstance(t, Ref):
        return {"$ref": prefix + t.name}
    if isinstance(t, MapOf):
        return {"type": "object", "additionalProperties": type_schema(t.values, prefix)}
    out = {"type": "array", "items": type_schema(t.items, prefix)}
    if t.merge_key:
        out["x-kubernetes-patch-merge-key"] = t.merge_key
    if t.strategy:
        out["x-kubernetes-patch-strategy"] = t.strategy
    if t.list_type:
        out["x-kubernetes-list-type"] = t.list_type
    if t.map_keys:
        out["x-kubernetes-list-map-keys"] = list(t.map_keys)
    return out


def field_schema(spec: FieldSpec, prefix: str) -> dict[str, Any]:
    out = type_schema(field_type(spec), prefix)
    if isinstance(spec, Desc):
        out["description"] = spec.text
    return out


def definition_schema(d: Definition, prefix: str) -> dict[str, Any]:
    out: dict[str, Any] = {}
    if d.description:
        out["description"] = d.description
    if d.special:
        out["type"] = d.type
        if d.format:
            out["format"] = d.format
        return out
    out["type"] = "object"
    if d.props:
        out["properties"] = {name: field_schema(spec, prefix) for name, spec in sorted(d.props.items())}
    if d.required:
        out["required"] = list(d.required)
    if d.gvk:
        out["x-kubernetes-group-version-kind"] = gvk_list(d)
    return out
