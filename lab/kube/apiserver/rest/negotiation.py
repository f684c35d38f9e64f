"""Content negotiation: decode request bodies (JSON, YAML), choose Table or JSON for answers.

Protobuf is not served: a client that also accepts JSON (kubectl does) gets JSON.
"""

from __future__ import annotations

from typing import Any

import orjson
from aiohttp import web

from lab.kube.apiserver import protobuf
from lab.kube.apiserver.rest import yamlbody
from lab.kube.apiserver.strategies.base import Strategy
from lab.kube.machinery import meta
from lab.kube.machinery.errors import BadRequest, NotAcceptable, UnsupportedMediaType

JSON = "application/json"
TABLE_MEDIA = ("application/json;as=table;v=v1;g=meta.k8s.io",
               "application/json;as=table;v=v1beta1;g=meta.k8s.io")


def _media_types(accept: str) -> list[str]:
    return [";".join(p.strip() for p in part.split(";") if not p.strip().startswith("q="))
            .lower().replace(" ", "") for part in accept.split(",") if part.strip()]


def wants_table(request: web.Request) -> bool:
    return any(m in TABLE_MEDIA for m in _media_types(request.headers.get("Accept", "")))


def check_acceptable(request: web.Request) -> None:
    """406 only when nothing acceptable is offered (no JSON, no wildcard)."""
    types = _media_types(request.headers.get("Accept", ""))
    if not types:
        return
    ok = ("application/json", "*/*", "application/*", "application/yaml")
    if not any(t.split(";")[0] in ok for t in types):
        raise NotAcceptable("only the following media types are accepted: application/json, "
                            "application/yaml")


async def read_body(request: web.Request) -> Any:
    return decode_body(await request.read(), request.headers.get("Content-Type", JSON))


def is_json(content_type: str) -> bool:
    ctype = content_type.split(";")[0].strip().lower()
    return ctype in ("", JSON) or ctype.endswith("+json")


def decode_body(raw: bytes, content_type: str) -> Any:
    ctype = content_type.split(";")[0].strip().lower()
    if not raw:
        return None
    if "yaml" in ctype:
        return yamlbody.load(raw)
    if ctype == protobuf.MEDIA_TYPE:
        return protobuf.decode(raw)
    if ctype not in ("", JSON) and not ctype.endswith("+json"):
        raise UnsupportedMediaType(f"the body of the request was in an unknown format - accepted "
                                   f"media types include: application/json, application/yaml, "
                                   f"{protobuf.MEDIA_TYPE}")
    try:
        return orjson.loads(raw)
    except orjson.JSONDecodeError as exc:
        raise BadRequest(f"error decoding request body: invalid JSON: {exc}") from exc


def json_response(body: Any, status: int = 200, headers: dict[str, str] | None = None) -> web.Response:
    return web.Response(body=orjson.dumps(body), status=status, content_type=JSON, headers=headers)


def to_table(strategy: Strategy, objs: list[dict[str, Any]], list_meta: dict[str, Any],
             include: str = "Metadata", with_columns: bool = True) -> dict[str, Any]:
    """A meta.k8s.io/v1 Table; rows carry PartialObjectMetadata unless includeObject=Object."""
    rows = []
    for obj in objs:
        if include == "Object":
            embedded: Any = obj
        elif include == "None":
            embedded = None
        else:
            embedded = {"kind": "PartialObjectMetadata", "apiVersion": "meta.k8s.io/v1",
                        "metadata": meta.metadata(obj)}
        row: dict[str, Any] = {"cells": strategy.row(obj)}
        if embedded is not None:
            row["object"] = embedded
        rows.append(row)
    table: dict[str, Any] = {"kind": "Table", "apiVersion": "meta.k8s.io/v1", "metadata": list_meta,
                             "columnDefinitions": strategy.columns() if with_columns else [],
                             "rows": rows}
    return table
