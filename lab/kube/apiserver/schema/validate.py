"""Server-side field validation: unknown and duplicate fields, and JSON type errors.

Mirrors how the apiserver decodes a body into a Go struct with sigs.k8s.io/json:
strict errors (`unknown field "spec.foo"`, `duplicate field "metadata.name"`) obey
the `fieldValidation` directive; a wrong JSON type always fails the request.
"""

from __future__ import annotations

import base64
import binascii
import json
import re
from typing import Any

from lab.kube.machinery import catalog
from lab.kube.machinery.errors import BadRequest, Cause, Invalid
from lab.kube.machinery.quantity import QUANTITY_ERROR, QuantityError, parse_quantity

from .registry import definitions, kind_name
from .types import Arr, Definition, MapOf, Prim, Ref, Type, field_type

DIRECTIVES = ("Ignore", "Warn", "Strict")
_OPTIONS_KIND = {"create": "CreateOptions", "update": "UpdateOptions", "patch": "PatchOptions"}
_INT_RANGE = {"int32": 2**31, "int64": 2**63}
_RFC3339 = re.compile(r"^\d{4}-\d{2}-\d{2}[Tt]\d{2}:\d{2}:\d{2}(\.\d+)?([Zz]|[+-]\d{2}:\d{2})$")


class _DupDict(dict[str, Any]):
    """A JSON object that remembers which keys appeared more than once."""

    duplicates: list[str]


def _pairs(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    out = _DupDict()
    out.duplicates = []
    for key, value in pairs:
        if key in out and key not in out.duplicates:
            out.duplicates.append(key)
        out[key] = value  # the last one wins, as in Go
    return out


def _json_kind(value: Any) -> str:
    """How Go's decoder names a JSON value in `cannot unmarshal <kind>`."""
    if isinstance(value, bool):
        return "bool"
    if isinstance(value, (int, float)):
        return "number"
    if isinstance(value, str):
        return "string"
    return "array" if isinstance(value, list) else "object"


class _Decoder:
    """Walks a JSON value along a schema, collecting what Go's strict decoder reports."""

    def __init__(self) -> None:
        self.defs = definitions()
        self.strict: list[str] = []
        self.error: str | None = None  # the first hard decoding error, as Go keeps it

    def fail(self, message: str) -> None:
        if self.error is None:
            self.error = message

    def type_error(self, value: Any, go_type: str, struct: str, fields: list[str], literal: str = "") -> None:
        what = f"number {literal}" if literal else _json_kind(value)
        where = f"Go struct field {struct}.{'.'.join(fields)}" if struct else "Go value"
        self.fail(f"json: cannot unmarshal {what} into {where} of type {go_type}")

    def value(self, t: Type, v: Any, path: str, struct: str, fields: list[str]) -> None:
        if v is None:
            return  # null leaves the Go zero value
        if isinstance(t, Prim):
            self.prim(t, v, struct, fields)
        elif isinstance(t, Arr):
            if not isinstance(v, list):
                return self.type_error(v, t.go, struct, fields)
            for i, item in enumerate(v):
                self.value(t.items, item, f"{path}[{i}]", struct, fields)
        elif isinstance(t, MapOf):
            if not isinstance(v, dict):
                return self.type_error(v, t.go, struct, fields)
            self.duplicates(v, path)
            for key, item in v.items():
                self.value(t.values, item, f"{path}.{key}", struct, fields)
        else:
            self.named(self.defs[t.name], t, v, path, struct, fields)

    def prim(self, t: Prim, v: Any, struct: str, fields: list[str]) -> None:
        ok = {
            "string": isinstance(v, str),
            "boolean": isinstance(v, bool),
            "number": isinstance(v, (int, float)) and not isinstance(v, bool),
            "integer": isinstance(v, (int, float)) and not isinstance(v, bool),
        }[t.type]
        if not ok:
            return self.type_error(v, t.go, struct, fields)
        if t.type == "integer" and (isinstance(v, float) or not -_INT_RANGE[t.go] <= v < _INT_RANGE[t.go]):
            return self.type_error(v, t.go, struct, fields, literal=str(v))
        if t.format == "byte":
            try:
                base64.b64decode(v, validate=True)
            except (binascii.Error, ValueError):
                self.fail(f"illegal base64 data at input byte {_bad_base64_offset(v)}")

    def named(self, d: Definition, ref: Ref, v: Any, path: str, struct: str, fields: list[str]) -> None:
        if d.special == "free-form":
            return
        if d.special == "quantity":
            try:
                if isinstance(v, bool) or not isinstance(v, (str, int, float)):
                    raise QuantityError(QUANTITY_ERROR)
                parse_quantity(v)
            except (QuantityError, ValueError, ZeroDivisionError):
                self.fail(QUANTITY_ERROR)
            return
        if d.special == "int-or-string":
            if isinstance(v, str):
                return
            return self.prim(Prim("integer", "int32", "int32"), v, struct, fields)
        if d.special == "time":
            if not isinstance(v, str):
                return self.type_error(v, "string", struct, fields)
            if v and not _RFC3339.match(v):
                self.fail(f'parsing time "{v}" as "2006-01-02T15:04:05Z07:00": cannot parse "{v}" as "2006"')
            return
        if not isinstance(v, dict):
            return self.type_error(v, ref.go, struct, fields)
        self.duplicates(v, path)
        for key, item in v.items():
            sub = f"{path}.{key}" if path else key
            spec = d.props.get(key)
            if spec is None:
                self.strict.append(f'unknown field "{sub}"')
                continue
            self.value(field_type(spec), item, sub, d.short, [*fields, key])

    def duplicates(self, v: dict[str, Any], path: str) -> None:
        for key in getattr(v, "duplicates", ()):
            self.strict.append(f'duplicate field "{path}.{key}"' if path else f'duplicate field "{key}"')


def _bad_base64_offset(s: str) -> int:
    """The byte offset Go's base64 decoder complains about (approximately: the first bad one)."""
    for i, ch in enumerate(s):
        if not (ch.isascii() and (ch.isalnum() or ch in "+/=")):
            return i
    return len(s) - len(s) % 4 if len(s) % 4 else max(len(s) - 1, 0)


def _directive(directive: str | None, verb: str) -> str:
    if not directive:
        return "Warn"  # the apiserver default since field validation went GA (1.27)
    if directive not in DIRECTIVES:
        options = _OPTIONS_KIND.get(verb, "CreateOptions")
        message = f'Unsupported value: "{directive}": supported values: "", "Ignore", "Strict", "Warn"'
        raise Invalid(f'{options}.meta.k8s.io "" is invalid: fieldValidation: {message}',
                      kind=options, group="meta.k8s.io",
                      causes=[Cause("FieldValueNotSupported", message, "fieldValidation")])
    return directive


def _decode(resource: catalog.Resource, obj: Any, directive: str | None, definition: str | None,
            verb: str) -> list[str]:
    directive = _directive(directive, verb)
    target = definition or kind_name(resource)
    ref = Ref(target)
    decoder = _Decoder()
    decoder.named(definitions()[target], ref, obj, "", "", [])
    into = ref.name.rsplit(".", 1)[-1]
    if decoder.error is not None or (decoder.strict and directive == "Strict"):
        kind, version = into, resource.version
        if isinstance(obj, dict):
            sent_kind = obj.get("kind")
            kind = sent_kind if isinstance(sent_kind, str) and sent_kind else into
            api_version = obj.get("apiVersion")
            if isinstance(api_version, str) and api_version:
                version = api_version.rsplit("/", 1)[-1]
        detail = decoder.error or "strict decoding error: " + ", ".join(decoder.strict)
        raise BadRequest(f'{kind} in version "{version}" cannot be handled as a {into}: {detail}')
    return decoder.strict if directive == "Warn" else []


def check_fields(resource: catalog.Resource, obj: Any, directive: str | None, *,
                 definition: str | None = None, verb: str = "create") -> list[str]:
    """Validate a decoded object; return warnings (Warn) or raise `BadRequest`.

    `definition` overrides the schema (e.g. `io.k8s.api.autoscaling.v1.Scale` for /scale).
    """
    return _decode(resource, obj, directive, definition, verb)


def check_raw(resource: catalog.Resource, body: bytes | str, directive: str | None, *,
              definition: str | None = None, verb: str = "create") -> list[str]:
    """Like `check_fields`, on the raw JSON body, so duplicate fields are seen too."""
    try:
        obj = json.loads(body, object_pairs_hook=_pairs)
    except (ValueError, UnicodeDecodeError) as exc:
        raise BadRequest(f"couldn't get version/kind; json parse error: {exc}") from exc
    return _decode(resource, obj, directive, definition, verb)
