"""Encode an OpenAPI v2 JSON document as a gnostic `openapi.v2.Document` message.

Vendor extensions and other free values travel as YAML text in `Any.yaml`, as gnostic
does; JSON is valid YAML, so they are written as compact JSON.
"""

from __future__ import annotations

import json
from typing import Any

from .gnostic_proto import message

Document, Info, Paths, NamedPathItem, PathItem, Operation = (
    message(n) for n in ("Document", "Info", "Paths", "NamedPathItem", "PathItem", "Operation"))
ParametersItem, Parameter, BodyParameter, NonBodyParameter = (
    message(n) for n in ("ParametersItem", "Parameter", "BodyParameter", "NonBodyParameter"))
QueryParameterSubSchema, PathParameterSubSchema = message("QueryParameterSubSchema"), message("PathParameterSubSchema")
Responses, NamedResponseValue, ResponseValue, Response, SchemaItem = (
    message(n) for n in ("Responses", "NamedResponseValue", "ResponseValue", "Response", "SchemaItem"))
Schema, NamedSchema, Properties, Definitions, TypeItem, ItemsItem, AdditionalPropertiesItem = (
    message(n) for n in ("Schema", "NamedSchema", "Properties", "Definitions", "TypeItem", "ItemsItem",
                         "AdditionalPropertiesItem"))
NamedAny, Any_ = message("NamedAny"), message("Any")


def _any(value: Any) -> Any:
    return Any_(yaml=json.dumps(value, separators=(",", ":")))


def _extensions(obj: dict[str, Any]) -> list[Any]:
    return [NamedAny(name=k, value=_any(v)) for k, v in obj.items() if k.startswith("x-")]


def encode_schema(s: dict[str, Any]) -> Any:
    out = Schema(vendor_extension=_extensions(s))
    for key, attr in (("$ref", "_ref"), ("format", "format"), ("title", "title"), ("description", "description")):
        if key in s:
            setattr(out, attr, s[key])
    if "type" in s:
        out.type.CopyFrom(TypeItem(value=[s["type"]]))
    if "required" in s:
        out.required.extend(s["required"])
    if "enum" in s:
        out.enum.extend(_any(v) for v in s["enum"])
    if "items" in s:
        out.items.CopyFrom(ItemsItem(schema=[encode_schema(s["items"])]))
    if "properties" in s:
        out.properties.CopyFrom(Properties(additional_properties=[
            NamedSchema(name=k, value=encode_schema(v)) for k, v in s["properties"].items()]))
    extra = s.get("additionalProperties")
    if isinstance(extra, dict):
        out.additional_properties.CopyFrom(AdditionalPropertiesItem(schema=encode_schema(extra)))
    elif isinstance(extra, bool):
        out.additional_properties.CopyFrom(AdditionalPropertiesItem(boolean=extra))
    if "allOf" in s:
        out.all_of.extend(encode_schema(x) for x in s["allOf"])
    return out


def encode_parameter(p: dict[str, Any]) -> Any:
    if p["in"] == "body":
        return ParametersItem(parameter=Parameter(body_parameter=BodyParameter(
            name=p["name"], description=p.get("description", ""), required=p.get("required", False),
            schema=encode_schema(p["schema"]), **{"in": "body"})))
    common = {"name": p["name"], "in": p["in"], "description": p.get("description", ""),
              "required": p.get("required", False), "type": p.get("type", ""),
              "unique_items": p.get("uniqueItems", False)}
    if p["in"] == "path":
        nbp = NonBodyParameter(path_parameter_sub_schema=PathParameterSubSchema(**common))
    else:
        nbp = NonBodyParameter(query_parameter_sub_schema=QueryParameterSubSchema(**common))
    return ParametersItem(parameter=Parameter(non_body_parameter=nbp))


def encode_operation(op: dict[str, Any]) -> Any:
    codes = []
    for code, resp in op.get("responses", {}).items():
        r = Response(description=resp.get("description", ""))
        if "schema" in resp:
            r.schema.CopyFrom(SchemaItem(schema=encode_schema(resp["schema"])))
        codes.append(NamedResponseValue(name=code, value=ResponseValue(response=r)))
    return Operation(
        tags=op.get("tags", []), description=op.get("description", ""), operation_id=op.get("operationId", ""),
        produces=op.get("produces", []), consumes=op.get("consumes", []), schemes=op.get("schemes", []),
        parameters=[encode_parameter(p) for p in op.get("parameters", [])],
        responses=Responses(response_code=codes), vendor_extension=_extensions(op))


def encode_path_item(item: dict[str, Any]) -> Any:
    out = PathItem(parameters=[encode_parameter(p) for p in item.get("parameters", [])],
                   vendor_extension=_extensions(item))
    for method in ("get", "put", "post", "delete", "options", "head", "patch"):
        if method in item:
            getattr(out, method).CopyFrom(encode_operation(item[method]))
    return out


def encode_document(doc: dict[str, Any]) -> Any:
    return Document(
        swagger=doc["swagger"],
        info=Info(title=doc["info"]["title"], version=doc["info"]["version"]),
        paths=Paths(path=[NamedPathItem(name=k, value=encode_path_item(v)) for k, v in doc["paths"].items()]),
        definitions=Definitions(additional_properties=[
            NamedSchema(name=k, value=encode_schema(v)) for k, v in doc["definitions"].items()]),
        vendor_extension=_extensions(doc),
    )
