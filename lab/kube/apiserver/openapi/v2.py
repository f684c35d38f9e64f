"""The OpenAPI v2 (Swagger 2.0) document of the whole API, as JSON and as gnostic protobuf.

kubectl 1.27/1.28 fetch it with the protobuf Accept header before `create`/`apply`.
"""

from __future__ import annotations

from functools import cache
from typing import Any

from lab.kube.apiserver.schema import definitions

from . import gnostic
from .paths import DEFS, all_paths
from .schemas import definition_schema

INFO = {"title": "Kubernetes", "version": "v1.33.0"}


@cache
def _document() -> dict[str, Any]:
    return {
        "swagger": "2.0",
        "info": dict(INFO),
        "paths": all_paths(),
        "definitions": {name: definition_schema(d, DEFS) for name, d in sorted(definitions().items())},
    }


def v2_json() -> dict[str, Any]:
    """The document as JSON (a fresh copy is not made: treat it as read-only)."""
    return _document()


@cache
def v2_protobuf() -> bytes:
    """The document as a serialized gnostic `openapi.v2.Document`."""
    data: bytes = gnostic.encode_document(_document()).SerializeToString(deterministic=True)  # protobuf is untyped
    return data
