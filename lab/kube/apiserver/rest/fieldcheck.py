"""Body checks before the registry sees an object: shape (400) and the schema's field checks.

`lab.kube.apiserver.schema` (the definitions the OpenAPI documents are rendered from) does the
unknown/duplicate-field checks that fieldValidation=Warn/Strict ask for.
"""

from __future__ import annotations

from typing import Any

from lab.kube.apiserver import schema
from lab.kube.machinery import meta
from lab.kube.machinery.catalog import Resource
from lab.kube.machinery.errors import BadRequest


def _json_type(value: Any) -> str:
    return {dict: "object", list: "array", str: "string", bool: "bool", int: "number",
            float: "number"}.get(type(value), "null")


def check_shape(resource: Resource, obj: Any, url_namespace: str | None = None) -> dict[str, Any]:
    """An object we can work with: a JSON object of the URL's kind with object-typed parts."""
    if not isinstance(obj, dict):
        raise BadRequest(f"Object '{resource.kind}' is invalid: body must be a JSON object, got "
                         f"{_json_type(obj)}")
    kind, api_version = obj.get("kind"), obj.get("apiVersion")
    if kind not in (None, "", resource.kind):
        raise BadRequest(f"the kind in the body ({kind}) does not match the kind on the URL "
                         f"({resource.kind})" if isinstance(kind, str) else
                         "Object 'Kind' is invalid: kind must be a string")
    if api_version not in (None, "", resource.api_version):
        raise BadRequest(f"the API version in the data ({api_version}) does not match the expected "
                         f"API version ({resource.api_version})")
    for field in ("metadata", "spec", "status"):
        if field in obj and obj[field] is not None and not isinstance(obj[field], dict):
            raise BadRequest(f"json: cannot unmarshal {_json_type(obj[field])} into Go struct field "
                             f"{resource.kind}.{field} of type object")
    md = meta.metadata(obj)
    for field in ("name", "namespace", "generateName", "resourceVersion", "uid"):
        if field in md and md[field] is not None and not isinstance(md[field], str):
            raise BadRequest(f"json: cannot unmarshal {_json_type(md[field])} into Go struct field "
                             f"ObjectMeta.metadata.{field} of type string")
    for field in ("labels", "annotations"):
        val = md.get(field)
        if val is not None and (not isinstance(val, dict)
                                or not all(isinstance(x, str) for x in val.values())):
            raise BadRequest(f"json: cannot unmarshal {_json_type(val)} into Go struct field "
                             f"ObjectMeta.metadata.{field} of type map[string]string")
    return obj


def check_fields(resource: Resource, obj: Any, directive: str | None, *, raw: bytes | None = None,
                 verb: str = "create") -> list[str]:
    """Warnings to send back; raises BadRequest for strict problems and wrong JSON types.

    `raw` (the JSON request body) lets duplicate fields be seen; patches pass the patched
    object instead. Server default directive: Warn.
    """
    if raw is not None:
        return schema.check_raw(resource, raw, directive or "Warn", verb=verb)
    return schema.check_fields(resource, obj, directive or "Warn", verb=verb)
