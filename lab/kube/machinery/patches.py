"""PATCH bodies: JSON patch (RFC 6902), merge patch (RFC 7386) and strategic merge patch.

The API server applies every PATCH here (upstream keeps this in apimachinery). Strategic merge
follows upstream `strategicpatch` for the lists kubectl touches: a list merges only where the
schema of the kind being patched says so (`patchStrategy:"merge"`), items matched by its
`patchMergeKey`; every other list is replaced whole. The caller passes that schema as a
`MergeKeys` lookup, since machinery knows no kinds. `$patch` directives (`delete`, `replace`,
`merge`) and `$deleteFromPrimitiveList` are applied; `$setElementOrder` and `$retainKeys` are
accepted and ignored.
"""

from __future__ import annotations

import copy
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from lab.kube.machinery.errors import BadRequest, Invalid, UnsupportedMediaType

JSON_PATCH = "application/json-patch+json"
MERGE_PATCH = "application/merge-patch+json"
STRATEGIC_MERGE_PATCH = "application/strategic-merge-patch+json"
APPLY_PATCH = "application/apply-patch+yaml"


@dataclass(frozen=True)
class ListMerge:
    """A list that strategic merge merges instead of replacing (upstream `patchStrategy:"merge"`)."""

    key: str = ""
    """The `patchMergeKey`: items are objects matched on this field. Empty: the items are
    primitives, merged as a set (metadata.finalizers)."""


MergeKeys = Callable[[tuple[str, ...]], ListMerge | None]
"""How the list at a field path merges, list positions left out: `("spec", "containers",
"ports")` for every container's ports. None: the list is atomic and a patch replaces it."""


def apply_patch(content_type: str, original: dict[str, Any], patch: Any, *,
                merge_keys: MergeKeys) -> dict[str, Any]:
    """`original` patched by `patch` of `content_type`; `merge_keys` is the patched kind's schema."""
    ctype = content_type.split(";")[0].strip().lower()
    if ctype == JSON_PATCH:
        if not isinstance(patch, list):
            raise BadRequest("json patch must be a list of operations")
        return json_patch(original, patch)
    if not isinstance(patch, dict):
        raise BadRequest("patch body must be a JSON object")
    if ctype == MERGE_PATCH:
        return merge_patch(original, patch)
    if ctype == STRATEGIC_MERGE_PATCH:
        return strategic_merge(original, patch, merge_keys)
    raise UnsupportedMediaType(f"the body of the request was in an unknown format - accepted media "
                               f"types include: {JSON_PATCH}, {MERGE_PATCH}, {STRATEGIC_MERGE_PATCH}")


# --- RFC 7386 --------------------------------------------------------------------------------
def merge_patch(target: dict[str, Any], patch: dict[str, Any]) -> dict[str, Any]:
    out = copy.deepcopy(target)
    for k, val in patch.items():
        if val is None:
            out.pop(k, None)
        else:
            out[k] = _merged(out.get(k), val)
    return out


def _merged(target: Any, patch: Any) -> Any:
    if not isinstance(patch, dict):
        return copy.deepcopy(patch)
    return merge_patch(target if isinstance(target, dict) else {}, patch)


# --- RFC 6902 --------------------------------------------------------------------------------
def _unprocessable(message: str) -> Invalid:
    """A well-formed patch that does not apply to this object: 422, as upstream answers
    for `patchObj.Apply` failures (a malformed patch document stays a 400)."""
    return Invalid(message)


def _pointer(path: str) -> list[str]:
    if path == "":
        return []
    if not path.startswith("/"):
        raise BadRequest(f"invalid JSON pointer {path!r}")
    return [p.replace("~1", "/").replace("~0", "~") for p in path[1:].split("/")]


def _walk(doc: Any, parts: list[str]) -> Any:
    for p in parts:
        if isinstance(doc, list):
            doc = doc[_index(doc, p, existing=True)]
        elif isinstance(doc, dict) and p in doc:
            doc = doc[p]
        else:
            raise _unprocessable(f"jsonpatch: path /{'/'.join(parts)} not found")
    return doc


def _index(lst: list[Any], p: str, *, existing: bool) -> int:
    if p == "-" and not existing:
        return len(lst)
    try:
        i = int(p)
    except ValueError as exc:
        raise _unprocessable(f"jsonpatch: invalid list index {p!r}") from exc
    if i < 0 or i > len(lst) - (1 if existing else 0):
        raise _unprocessable(f"jsonpatch: list index {i} out of range")
    return i


def _add(doc: Any, parts: list[str], value: Any) -> Any:
    if not parts:
        return value
    parent = _walk(doc, parts[:-1])
    last = parts[-1]
    if isinstance(parent, list):
        parent.insert(_index(parent, last, existing=False), value)
    elif isinstance(parent, dict):
        parent[last] = value
    else:
        raise _unprocessable("jsonpatch: cannot add to a scalar")
    return doc


def _remove(doc: Any, parts: list[str]) -> Any:
    if not parts:
        raise _unprocessable("jsonpatch: cannot remove the whole document")
    parent = _walk(doc, parts[:-1])
    last = parts[-1]
    if isinstance(parent, list):
        return parent.pop(_index(parent, last, existing=True))
    if isinstance(parent, dict) and last in parent:
        return parent.pop(last)
    raise _unprocessable(f"jsonpatch remove operation does not apply: doc is missing path: /{'/'.join(parts)}")


def json_patch(original: dict[str, Any], ops: list[Any]) -> dict[str, Any]:
    doc: Any = copy.deepcopy(original)
    for op in ops:
        if not isinstance(op, dict) or "op" not in op:
            raise BadRequest("jsonpatch: each operation needs an 'op'")
        kind, parts = op["op"], _pointer(str(op.get("path", "")))
        if kind == "add":
            doc = _add(doc, parts, copy.deepcopy(op.get("value")))
        elif kind == "remove":
            _remove(doc, parts)
        elif kind == "replace":
            _walk(doc, parts)  # must exist
            if parts:
                _remove(doc, parts)
            doc = _add(doc, parts, copy.deepcopy(op.get("value")))
        elif kind in ("move", "copy"):
            src = _pointer(str(op.get("from", "")))
            value = _remove(doc, src) if kind == "move" else copy.deepcopy(_walk(doc, src))
            doc = _add(doc, parts, value)
        elif kind == "test":
            if _walk(doc, parts) != op.get("value"):
                raise _unprocessable(f"jsonpatch: test failed for path {op.get('path')}")
        else:
            raise _unprocessable(f"jsonpatch: unknown operation {kind!r}")
    if not isinstance(doc, dict):
        raise _unprocessable("jsonpatch: the result must be an object")
    return doc


# --- strategic merge -------------------------------------------------------------------------
def strategic_merge(original: dict[str, Any], patch: dict[str, Any], merge_keys: MergeKeys) -> dict[str, Any]:
    return _merge_map(copy.deepcopy(original), patch, (), merge_keys)


def _merge_map(target: dict[str, Any], patch: dict[str, Any], path: tuple[str, ...],
               merge_keys: MergeKeys) -> dict[str, Any]:
    if patch.get("$patch") == "replace":
        return {k: copy.deepcopy(v) for k, v in patch.items() if k != "$patch"}
    if patch.get("$patch") == "delete":
        return {}
    for key, val in patch.items():
        if key in ("$patch", "$retainKeys") or key.startswith("$setElementOrder/"):
            continue
        if key.startswith("$deleteFromPrimitiveList/"):
            name = key.split("/", 1)[1]
            target[name] = [x for x in target.get(name) or [] if x not in (val or [])]
            continue
        if val is None:
            target.pop(key, None)
        elif isinstance(val, dict) and isinstance(target.get(key), dict):
            target[key] = _merge_map(target[key], val, (*path, key), merge_keys)
        elif isinstance(val, list) and isinstance(target.get(key), list):
            target[key] = _merge_list(target[key], val, (*path, key), merge_keys)
        elif isinstance(val, dict):
            target[key] = _merge_map({}, val, (*path, key), merge_keys)
        elif isinstance(val, list):
            target[key] = [_strip(i) for i in val if not (isinstance(i, dict) and i.get("$patch") == "delete")]
        else:
            target[key] = copy.deepcopy(val)
    return target


def _strip(item: Any) -> Any:
    if isinstance(item, dict):
        return {k: _strip(v) for k, v in item.items() if not k.startswith("$")}
    return copy.deepcopy(item)


def _merge_list(current: list[Any], patch: list[Any], path: tuple[str, ...],
                merge_keys: MergeKeys) -> list[Any]:
    if any(isinstance(i, dict) and i.get("$patch") == "replace" for i in patch):
        return [_strip(i) for i in patch if not (isinstance(i, dict) and "$patch" in i)]
    merge = merge_keys(path)
    if merge is None:  # atomic
        return [_strip(i) for i in patch]
    if not merge.key:  # a set of primitives
        return current + [copy.deepcopy(i) for i in patch if i not in current]
    key = merge.key
    out = list(current)
    for item in patch:
        if not isinstance(item, dict):
            raise BadRequest(f"strategic merge patch: items of {path[-1]} must be objects")
        pos = next((n for n, cur in enumerate(out)
                    if isinstance(cur, dict) and cur.get(key) == item.get(key)), None)
        if item.get("$patch") == "delete":
            if pos is not None:
                out.pop(pos)
            continue
        if pos is None:
            out.append(_strip(item))
        else:
            out[pos] = _merge_map(out[pos], item, path, merge_keys)
    return out
