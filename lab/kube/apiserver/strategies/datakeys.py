"""ConfigMap and Secret payload checks (upstream ValidateConfigMap / ValidateSecret): keys a
kubelet can turn into file names, no key in both maps, and a total size cap."""

from __future__ import annotations

import base64
import binascii
import re
from typing import Any

from lab.kube.apiserver.strategies import validation as v
from lab.kube.machinery.errors import Cause

MAX_CONFIGMAP_BYTES = 1024 * 1024  # upstream RuntimeObjectMaxSize for both kinds
_KEY_FMT = "[-._a-zA-Z0-9]+"
_KEY_RE = re.compile("^" + _KEY_FMT + "$")
_KEY_ERR = ("a valid config key must consist of alphanumeric characters, '-', '_' or '.' (e.g. "
            "'key.name',  or 'KEY_NAME',  or 'key-name', regex used for validation is '" + _KEY_FMT + "')")


def config_key_problems(key: str) -> list[str]:
    """upstream IsConfigMapKey: a file name inside the volume, so no '/', '.' or '..'."""
    errs: list[str] = []
    if len(key) > 253:
        errs.append("must be no more than 253 characters")
    if not _KEY_RE.match(key):
        errs.append(_KEY_ERR)
    if key in (".", ".."):
        errs.append(f"must not be '{key}'")
    elif key.startswith(".."):
        errs.append("must not start with '..'")
    return errs


def _payload_size(data: dict[str, Any], binary: bool) -> int:
    total = 0
    for val in data.values():
        if not isinstance(val, str):
            continue
        if binary:
            try:
                total += len(base64.b64decode(val, validate=True))
            except (binascii.Error, ValueError):
                total += len(val)  # the decoder reports bad base64 on its own
        else:
            total += len(val.encode())
    return total


def payload_causes(obj: dict[str, Any], maps: tuple[tuple[str, bool], ...]) -> list[Cause]:
    """`maps` names the payload fields and whether their values are base64."""
    causes: list[Cause] = []
    seen: set[str] = set()
    size = 0
    for field, binary in maps:
        data = obj.get(field)
        if data is None:
            continue
        if not isinstance(data, dict):
            causes.append(v.invalid(field, data, "must be a map"))
            continue
        for key in data:
            causes += [v.invalid(f"{field}[{key}]", key, p) for p in config_key_problems(key)]
            if key in seen:
                causes.append(v.invalid(f"{field}[{key}]", key, "duplicate of key present in "
                                        + maps[0][0]))
            seen.add(key)
        size += _payload_size(data, binary)
    if size > MAX_CONFIGMAP_BYTES:
        causes.append(v.too_long("", MAX_CONFIGMAP_BYTES))
    return causes
