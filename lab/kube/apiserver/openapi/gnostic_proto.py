"""The subset of gnostic's `openapiv2/OpenAPIv2.proto` kubelab writes, built at import time.

Field numbers are upstream's (google/gnostic, package `openapi.v2`); messages are made
from a descriptor here instead of generated `_pb2` code, so any protobuf runtime >= 4 works.
"""

from __future__ import annotations

from google.protobuf import descriptor_pb2, descriptor_pool, message_factory

# message -> (field, number, type); "T*" is repeated, "T|oneof" belongs to the oneof `oneof`.
# Lower-case types are scalars, capitalised ones are messages of this file.
_MESSAGES: dict[str, list[tuple[str, int, str]]] = {
    "AdditionalPropertiesItem": [("schema", 1, "Schema|oneof"), ("boolean", 2, "bool|oneof")],
    "Any": [("yaml", 2, "string")],  # field 1 is a google.protobuf.Any we never write
    "BodyParameter": [("description", 1, "string"), ("name", 2, "string"), ("in", 3, "string"),
                      ("required", 4, "bool"), ("schema", 5, "Schema"), ("vendor_extension", 6, "NamedAny*")],
    "Definitions": [("additional_properties", 1, "NamedSchema*")],
    "Document": [("swagger", 1, "string"), ("info", 2, "Info"), ("host", 3, "string"), ("base_path", 4, "string"),
                 ("schemes", 5, "string*"), ("consumes", 6, "string*"), ("produces", 7, "string*"),
                 ("paths", 8, "Paths"), ("definitions", 9, "Definitions"), ("vendor_extension", 16, "NamedAny*")],
    "Info": [("title", 1, "string"), ("version", 2, "string"), ("description", 3, "string"),
             ("vendor_extension", 7, "NamedAny*")],
    "ItemsItem": [("schema", 1, "Schema*")],
    "JsonReference": [("_ref", 1, "string"), ("description", 2, "string")],
    "NamedAny": [("name", 1, "string"), ("value", 2, "Any")],
    "NamedPathItem": [("name", 1, "string"), ("value", 2, "PathItem")],
    "NamedResponseValue": [("name", 1, "string"), ("value", 2, "ResponseValue")],
    "NamedSchema": [("name", 1, "string"), ("value", 2, "Schema")],
    "NonBodyParameter": [("header_parameter_sub_schema", 1, "HeaderParameterSubSchema|oneof"),
                         ("query_parameter_sub_schema", 3, "QueryParameterSubSchema|oneof"),
                         ("path_parameter_sub_schema", 4, "PathParameterSubSchema|oneof")],
    "HeaderParameterSubSchema": [("required", 1, "bool"), ("in", 2, "string"), ("description", 3, "string"),
                                 ("name", 4, "string"), ("type", 5, "string")],
    "Operation": [("tags", 1, "string*"), ("summary", 2, "string"), ("description", 3, "string"),
                  ("operation_id", 5, "string"), ("produces", 6, "string*"), ("consumes", 7, "string*"),
                  ("parameters", 8, "ParametersItem*"), ("responses", 9, "Responses"), ("schemes", 10, "string*"),
                  ("deprecated", 11, "bool"), ("vendor_extension", 13, "NamedAny*")],
    "Parameter": [("body_parameter", 1, "BodyParameter|oneof"), ("non_body_parameter", 2, "NonBodyParameter|oneof")],
    "ParametersItem": [("parameter", 1, "Parameter|oneof"), ("json_reference", 2, "JsonReference|oneof")],
    "PathItem": [("_ref", 1, "string"), ("get", 2, "Operation"), ("put", 3, "Operation"), ("post", 4, "Operation"),
                 ("delete", 5, "Operation"), ("options", 6, "Operation"), ("head", 7, "Operation"),
                 ("patch", 8, "Operation"), ("parameters", 9, "ParametersItem*"),
                 ("vendor_extension", 10, "NamedAny*")],
    "PathParameterSubSchema": [("required", 1, "bool"), ("in", 2, "string"), ("description", 3, "string"),
                               ("name", 4, "string"), ("type", 5, "string"), ("format", 6, "string"),
                               ("unique_items", 19, "bool")],
    "Paths": [("vendor_extension", 1, "NamedAny*"), ("path", 2, "NamedPathItem*")],
    "Properties": [("additional_properties", 1, "NamedSchema*")],
    "QueryParameterSubSchema": [("required", 1, "bool"), ("in", 2, "string"), ("description", 3, "string"),
                                ("name", 4, "string"), ("allow_empty_value", 5, "bool"), ("type", 6, "string"),
                                ("format", 7, "string"), ("unique_items", 20, "bool")],
    "Response": [("description", 1, "string"), ("schema", 2, "SchemaItem"), ("vendor_extension", 5, "NamedAny*")],
    "ResponseValue": [("response", 1, "Response|oneof"), ("json_reference", 2, "JsonReference|oneof")],
    "Responses": [("response_code", 1, "NamedResponseValue*"), ("vendor_extension", 2, "NamedAny*")],
    "Schema": [("_ref", 1, "string"), ("format", 2, "string"), ("title", 3, "string"), ("description", 4, "string"),
               ("default", 5, "Any"), ("required", 19, "string*"), ("enum", 20, "Any*"),
               ("additional_properties", 21, "AdditionalPropertiesItem"), ("type", 22, "TypeItem"),
               ("items", 23, "ItemsItem"), ("all_of", 24, "Schema*"), ("properties", 25, "Properties"),
               ("read_only", 27, "bool"), ("vendor_extension", 31, "NamedAny*")],
    "SchemaItem": [("schema", 1, "Schema|oneof")],
    "TypeItem": [("value", 1, "string*")],
}

_SCALARS = {
    "string": descriptor_pb2.FieldDescriptorProto.TYPE_STRING,
    "bool": descriptor_pb2.FieldDescriptorProto.TYPE_BOOL,
}


def _file() -> descriptor_pb2.FileDescriptorProto:
    fd = descriptor_pb2.FileDescriptorProto(name="kubelab/openapiv2/OpenAPIv2.proto", package="openapi.v2",
                                            syntax="proto3")
    for name, fields in _MESSAGES.items():
        msg = fd.message_type.add(name=name)
        for field_name, number, spec in fields:
            typ, _, oneof = spec.partition("|")
            repeated = typ.endswith("*")
            typ = typ.rstrip("*")
            f = msg.field.add(name=field_name, number=number)
            f.label = f.LABEL_REPEATED if repeated else f.LABEL_OPTIONAL
            if typ in _SCALARS:
                f.type = _SCALARS[typ]
            else:
                f.type = f.TYPE_MESSAGE
                f.type_name = f".openapi.v2.{typ}"
            if oneof:
                if not msg.oneof_decl:
                    msg.oneof_decl.add(name="oneof")
                f.oneof_index = 0
    return fd


# A private pool: the names cannot clash with a real gnostic module loaded elsewhere.
_POOL = descriptor_pool.DescriptorPool()
_POOL.Add(_file())


def message(name: str) -> type:
    """The message class `openapi.v2.<name>`."""
    # protobuf is untyped here; GetMessageClass returns the generated message class
    cls: type = message_factory.GetMessageClass(_POOL.FindMessageTypeByName(f"openapi.v2.{name}"))
    return cls
