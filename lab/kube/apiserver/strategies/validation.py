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


def not_found(field: str, value: Any) -> Cause:
    return Cause("FieldValueNotFound", f"Not found: {_value(value)}", field)


def duplicate(field: str, value: Any) -> Cause:
    return Cause("FieldValueDuplicate", f"Duplicate value: {_value(value)}", field)


def immutable(field: str, value: Any) -> Cause:
    return Cause("FieldValueInvalid", f"Invalid value: {_value(value)}: field is immutable", field)


def name_causes(name: str, *, label: bool = False, field: str = "metadata.name") -> list[Cause]:
    """DNS-1123 subdomain (most kinds) or label (namespaces, services) checks on a name."""
    problems = names.is_dns1123_label(name) if label else names.is_dns1123_subdomain(name)
    return [invalid(field, name, p) for p in problems]


TOTAL_ANNOTATION_SIZE_LIMIT = 256 * 1024


def too_long(field: str, limit: int) -> Cause:
    return Cause("FieldValueTooLong", f"Too long: must have at most {limit} bytes", field)


def labels_causes(labels: Any, field: str = "metadata.labels") -> list[Cause]:
    """Upstream ValidateLabels: qualified-name keys and label-value values."""
    if not isinstance(labels, dict):
        return [invalid(field, labels, "must be a map of strings")]
    causes: list[Cause] = []
    for key, val in labels.items():
        causes += [invalid(field, key, p) for p in names.is_qualified_name(key)]
        if not isinstance(val, str):
            causes.append(invalid(field, val, "must be a string"))
            continue
        causes += [invalid(field, val, p) for p in names.is_valid_label_value(val)]
    return causes


def annotations_causes(annotations: Any, field: str = "metadata.annotations") -> list[Cause]:
    """Upstream ValidateAnnotations: qualified-name keys (case-insensitive), 256 KiB in total."""
    if not isinstance(annotations, dict):
        return [invalid(field, annotations, "must be a map of strings")]
    causes: list[Cause] = []
    size = 0
    for key, val in annotations.items():
        causes += [invalid(field, key, p) for p in names.is_qualified_name(key.lower())]
        if not isinstance(val, str):
            causes.append(invalid(field, val, "must be a string"))
            continue
        size += len(key.encode()) + len(val.encode())
    if size > TOTAL_ANNOTATION_SIZE_LIMIT:
        causes.append(too_long(field, TOTAL_ANNOTATION_SIZE_LIMIT))
    return causes


def owner_references_causes(refs: Any, field: str = "metadata.ownerReferences") -> list[Cause]:
    """Upstream validateOwnerReference: the garbage collector trusts these, so all four parts
    must be there, and at most one owner may be the controller."""
    if not isinstance(refs, list):
        return [invalid(field, refs, "must be a list")]
    causes: list[Cause] = []
    controllers = 0
    for ref in refs:
        if not isinstance(ref, dict):
            causes.append(invalid(field, ref, "must be an object"))
            continue
        version = str(ref.get("apiVersion") or "").rpartition("/")[2]
        for part, value, what in (("apiVersion", version, "version"), ("kind", ref.get("kind"), "kind"),
                                  ("name", ref.get("name"), "name"), ("uid", ref.get("uid"), "uid")):
            if not value:
                causes.append(invalid(f"{field}.{part}", ref.get(part) or "", f"{what} must not be empty"))
        controllers += ref.get("controller") is True
    if controllers > 1:
        causes.append(invalid(field, refs, "Only one reference can have Controller set to true"))
    return causes


def finalizers_causes(finalizers: Any, field: str = "metadata.finalizers") -> list[Cause]:
    """Finalizer names are qualified names (upstream ValidateFinalizerName)."""
    if not isinstance(finalizers, list):
        return [invalid(field, finalizers, "must be a list of strings")]
    return [invalid(field, f, p) for f in finalizers
            for p in (names.is_qualified_name(f) if isinstance(f, str) else ["must be a string"])]


def generate_name_causes(base: str, *, label: bool = False) -> list[Cause]:
    """generateName must itself be a valid name once its trailing dash is masked (upstream
    maskTrailingDash), so a prefix like "web-" passes and "BAD_" fails before any suffix."""
    masked = base[:-1] + "a" if len(base) > 1 and base.endswith("-") else base
    problems = names.is_dns1123_label(masked) if label else names.is_dns1123_subdomain(masked)
    return [invalid("metadata.generateName", base, p) for p in problems]


def raise_invalid(resource: Resource, name: str, causes: list[Cause]) -> None:
    """Raise the aggregated `Invalid` error when `causes` is non-empty."""
    if not causes:
        return
    parts = [f"{c.field}: {c.message}" if c.field else c.message for c in causes]
    body = parts[0] if len(parts) == 1 else "[" + ", ".join(parts) + "]"
    qualified = f"{resource.kind}.{resource.group}" if resource.group else resource.kind
    raise Invalid(f'{qualified} "{name}" is invalid: {body}', name=name, kind=resource.kind,
                  group=resource.group, causes=causes)
