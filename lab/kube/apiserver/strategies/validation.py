"""Field-error helpers shaped like apimachinery `field.ErrorList`, raised as one `Invalid`.

Messages read as upstream's: `Deployment.apps "web" is invalid: spec.selector: Required value`.
"""

from __future__ import annotations

from typing import Any

import orjson

from lab.kube.machinery import names
from lab.kube.machinery.catalog import Resource
from lab.kube.machinery.errors import Cause, Invalid


def _value(value: Any) -> str:
    if isinstance(value, str):
        return orjson.dumps(value).decode()
    if isinstance(value, bool):
        return "true" if value else "false"
    if value is None:
        return "null"
    if isinstance(value, (dict, list)):
        return orjson.dumps(value).decode()
    return str(value)


def required(field: str, detail: str = "") -> Cause:
    return Cause("FieldValueRequired", "Required value" + (f": {detail}" if detail else ""), field)


def invalid(field: str, value: Any, detail: str) -> Cause:
    return Cause("FieldValueInvalid", f"Invalid value: {_value(value)}: {detail}", field)


def not_supported(field: str, value: Any, valid: list[str]) -> Cause:
    opts = ", ".join(orjson.dumps(v).decode() for v in valid)
    return Cause("FieldValueNotSupported", f"Unsupported value: {_value(value)}: supported values: {opts}",
                 field)


def forbidden(field: str, detail: str) -> Cause:
    return Cause("FieldValueForbidden", f"Forbidden: {detail}", field)


def duplicate(field: str, value: Any) -> Cause:
    return Cause("FieldValueDuplicate", f"Duplicate value: {_value(value)}", field)


def immutable(field: str, value: Any) -> Cause:
    return Cause("FieldValueInvalid", f"Invalid value: {_value(value)}: field is immutable", field)


def name_causes(name: str, *, label: bool = False, field: str = "metadata.name") -> list[Cause]:
    """DNS-1123 subdomain (most kinds) or label (namespaces, services) checks on a name."""
    problems = names.is_dns1123_label(name) if label else names.is_dns1123_subdomain(name)
    return [invalid(field, name, p) for p in problems]


def raise_invalid(resource: Resource, name: str, causes: list[Cause]) -> None:
    """Raise the aggregated `Invalid` error when `causes` is non-empty."""
    if not causes:
        return
    parts = [f"{c.field}: {c.message}" if c.field else c.message for c in causes]
    body = parts[0] if len(parts) == 1 else "[" + ", ".join(parts) + "]"
    qualified = f"{resource.kind}.{resource.group}" if resource.group else resource.kind
    raise Invalid(f'{qualified} "{name}" is invalid: {body}', name=name, kind=resource.kind,
                  group=resource.group, causes=causes)
