"""Per group-version OpenAPI 3.0 documents (`/openapi/v3/api/v1`, `/openapi/v3/apis/apps/v1`).

kubectl 1.29+ reads the index at `/openapi/v3`, then the document of the kind's
group-version; it is derived from the v2 path items so both stay in step.
"""

from __future__ import annotations

import hashlib
import json
from functools import cache
from typing import Any

from lab.kube.apiserver.schema import definitions, reachable
from lab.kube.machinery import catalog

from .paths import DEFS, resource_paths
from .schemas import definition_schema
from .v2 import INFO

SCHEMAS = "#/components/schemas/"


def _gv_path(group: str, version: str) -> str:
    return f"apis/{group}/{version}" if group else f"api/{version}"


def _relink(value: Any) -> Any:
    """Point every `#/definitions/X` reference at `#/components/schemas/X`."""
    if isinstance(value, dict):
        return {k: (SCHEMAS + v[len(DEFS):] if k == "$ref" and isinstance(v, str) else _relink(v))
                for k, v in value.items()}
    if isinstance(value, list):
        return [_relink(v) for v in value]
    return value


def _parameter(p: dict[str, Any]) -> dict[str, Any]:
    out = {"name": p["name"], "in": p["in"], "description": p.get("description", ""),
           "schema": {"type": p.get("type", "string"), "uniqueItems": True}}
    if p.get("required"):
        out["required"] = True
    return out


def _operation(op: dict[str, Any], refs: set[str]) -> dict[str, Any]:
    out = {k: v for k, v in op.items() if k not in ("consumes", "produces", "schemes", "parameters", "responses")}
    params = []
    for p in op.get("parameters", []):
        if p["in"] == "body":
            refs.add(p["schema"]["$ref"][len(DEFS):])
            out["requestBody"] = {"content": {c: {"schema": _relink(p["schema"])} for c in op["consumes"]},
                                  "required": bool(p.get("required"))}
        else:
            params.append(_parameter(p))
    if params:
        out["parameters"] = params
    out["responses"] = {}
    for code, resp in op.get("responses", {}).items():
        r: dict[str, Any] = {"description": resp.get("description", "")}
        if "schema" in resp:
            if "$ref" in resp["schema"]:  # pods/log answers a plain string
                refs.add(resp["schema"]["$ref"][len(DEFS):])
            r["content"] = {c: {"schema": _relink(resp["schema"])} for c in op["produces"]}
        out["responses"][code] = r
    return out


@cache
def _documents() -> dict[str, dict[str, Any]]:
    grouped: dict[str, list[catalog.Resource]] = {}
    for res in catalog.RESOURCES:
        grouped.setdefault(_gv_path(res.group, res.version), []).append(res)
    docs = {}
    defs = definitions()
    for gv, resources in grouped.items():
        paths: dict[str, Any] = {}
        refs: set[str] = set()
        for res in resources:
            for path, item in resource_paths(res).items():
                paths[path] = {k: ([_parameter(p) for p in v] if k == "parameters" else _operation(v, refs))
                               for k, v in item.items()}
        schemas = {name: definition_schema(defs[name], SCHEMAS) for name in reachable(sorted(refs))}
        docs[gv] = {"openapi": "3.0.0", "info": dict(INFO), "paths": dict(sorted(paths.items())),
                    "components": {"schemas": schemas}}
    return docs


@cache
def _hashes() -> dict[str, str]:
    return {gv: hashlib.sha512(json.dumps(doc, sort_keys=True).encode()).hexdigest().upper()
            for gv, doc in _documents().items()}


def v3_index() -> dict[str, Any]:
    """The `/openapi/v3` discovery document: one URL (with content hash) per group-version."""
    return {"paths": {gv: {"serverRelativeURL": f"/openapi/v3/{gv}?hash={h}"} for gv, h in _hashes().items()}}


def v3_document(gv_path: str) -> dict[str, Any] | None:
    """The document of `api/v1` or `apis/<group>/<version>`, or None if not served."""
    return _documents().get(gv_path.strip("/"))
