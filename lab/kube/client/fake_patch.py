"""Patch application for the in-memory FakeAPI: JSON merge patch (RFC 7386) and JSON patch (RFC 6902).

Strategic-merge patches are applied as merge patches, except that lists of objects with a
`name` (containers, ports, volumes) or `type` (conditions) are merged item by item.
"""

from __future__ import annotations

import copy
from typing import Any

from lab.kube.machinery.errors import BadRequest, Invalid


def merge_patch(target: Any, patch: Any, strategic: bool = False) -> Any:
    """RFC 7386: objects merge recursively, `null` deletes a key, anything else replaces."""
    if not isinstance(patch, dict):
        if strategic and isinstance(patch, list) and isinstance(target, list):
            return _merge_list(target, patch)
        return copy.deepcopy(patch)
    out = dict(target) if isinstance(target, dict) else {}
    for key, value in patch.items():
        if key.startswith("$"):
            continue  # strategic-merge directives ($patch, $setElementOrder) are not honoured
        if value is None:
            out.pop(key, None)
        else:
            out[key] = merge_patch(out.get(key), value, strategic)
    return out


def _merge_list(target: list[Any], patch: list[Any]) -> list[Any]:
    merge_key = next((k for k in ("name", "type") if patch and all(isinstance(i, dict) and k in i for i in patch)),
                     None)
    if merge_key is None or not all(isinstance(i, dict) for i in target):
        return copy.deepcopy(patch)
    out = [copy.deepcopy(i) for i in target]
    index = {i.get(merge_key): n for n, i in enumerate(out)}
    for item in patch:
        n = index.get(item[merge_key])
        if n is None:
            out.append(copy.deepcopy(item))
        else:
            out[n] = merge_patch(out[n], item, True)
    return out


def _pointer(path: str) -> list[str]:
    if path == "":
        return []
    if not path.startswith("/"):
        raise BadRequest(f"invalid JSON pointer {path!r}")
    return [p.replace("~1", "/").replace("~0", "~") for p in path[1:].split("/")]


def _parent(doc: Any, parts: list[str]) -> Any:
    for part in parts[:-1]:
        doc = doc[int(part)] if isinstance(doc, list) else doc[part]
    return doc


def json_patch(doc: Any, ops: list[dict[str, Any]]) -> Any:
    """RFC 6902 `add`, `remove`, `replace`, `test` (enough for kubectl and controllers)."""
    out = copy.deepcopy(doc)
    for op in ops:
        parts = _pointer(str(op.get("path", "")))
        kind = op.get("op")
        try:
            parent = _parent(out, parts)
            last = parts[-1] if parts else ""
            if kind == "test":
                current = parent[int(last)] if isinstance(parent, list) else parent[last]
                if current != op.get("value"):
                    raise Invalid(f"the test operation at {op.get('path')} failed")
            elif kind == "remove":
                del parent[int(last) if isinstance(parent, list) else last]
            elif kind in ("add", "replace"):
                value = copy.deepcopy(op.get("value"))
                if isinstance(parent, list):
                    idx = len(parent) if last == "-" else int(last)
                    if kind == "add":
                        parent.insert(idx, value)
                    else:
                        parent[idx] = value
                else:
                    if kind == "replace" and last not in parent:
                        raise KeyError(last)
                    parent[last] = value
            else:
                raise BadRequest(f"unknown JSON patch operation {kind!r}")
        except (KeyError, IndexError, ValueError, TypeError) as exc:
            raise Invalid(f"the JSON patch operation {kind} at {op.get('path')} failed: {exc!r}") from exc
    return out
