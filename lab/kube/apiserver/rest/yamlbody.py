"""YAML request bodies decoded with the limits upstream's YAML-to-JSON step has: no alias bombs
(a few KiB that expand to gigabytes) and no nesting deep enough to exhaust the stack.

Used by `negotiation.decode_body`; JSON bodies are limited by orjson itself (depth 1024).
"""

from __future__ import annotations

from typing import Any

import yaml

from lab.kube.machinery.errors import BadRequest

MAX_DEPTH = 200  # far beyond any real manifest, well inside Python's recursion limit
MAX_EXPANDED_NODES = 1_000_000  # nodes after aliases are expanded; a 3 MiB body has fewer


def _bad(detail: str) -> BadRequest:
    return BadRequest(f"error converting YAML to JSON: yaml: {detail}")


def _expanded_size(root: yaml.Node) -> int:
    """Nodes the document becomes once every alias is copied out, counted without copying."""
    sizes: dict[int, int] = {}
    # iterative post-order walk: depth is checked here, so the constructor never recurses deep
    stack: list[tuple[yaml.Node, int, bool]] = [(root, 1, False)]
    while stack:
        node, depth, done = stack.pop()
        if id(node) in sizes:
            continue
        if depth > MAX_DEPTH:
            raise _bad(f"exceeded max depth of {MAX_DEPTH}")
        children: list[yaml.Node] = []
        if isinstance(node, yaml.SequenceNode):
            children = list(node.value)
        elif isinstance(node, yaml.MappingNode):
            children = [n for pair in node.value for n in pair]
        if done:
            sizes[id(node)] = min(1 + sum(sizes[id(c)] for c in children), MAX_EXPANDED_NODES + 1)
            continue
        stack.append((node, depth, True))
        stack.extend((c, depth + 1, False) for c in children if id(c) not in sizes)
    return sizes[id(root)]


class _Loader(yaml.SafeLoader):
    """SafeLoader resolving as Go's yaml.v2 into interface{}: timestamps stay strings."""


def _timestamp_as_text(loader: yaml.SafeLoader, node: yaml.Node) -> Any:
    return loader.construct_scalar(node)  # type: ignore[arg-type]  # timestamps are scalars


_Loader.add_constructor("tag:yaml.org,2002:timestamp", _timestamp_as_text)


def _key(key: Any) -> str:
    if isinstance(key, bool):
        return "true" if key else "false"
    if key is None:
        return "null"
    if isinstance(key, (str, int, float)):
        return str(key)
    raise _bad(f"invalid map key: {key!r}")


def _jsonable(value: Any) -> Any:
    """JSON-shaped data: string keys (Go's YAMLToJSON stringifies them), JSON scalar leaves."""
    if isinstance(value, dict):
        return {_key(k): _jsonable(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_jsonable(v) for v in value]
    if value is None or isinstance(value, (str, bool, int, float)):
        return value
    raise _bad(f"cannot convert {type(value).__name__} to JSON")


def load(raw: bytes) -> Any:
    """One YAML document as plain data; BadRequest for syntax errors and abusive documents."""
    try:
        loader = _Loader(raw)
        try:
            node = loader.get_single_node()
            if node is None:
                return None
            if _expanded_size(node) > MAX_EXPANDED_NODES:
                raise _bad("document contains excessive aliasing")
            return _jsonable(loader.construct_document(node))
        finally:
            loader.dispose()
    except yaml.YAMLError as exc:
        raise _bad(str(exc)) from exc
    except RecursionError as exc:  # the composer recurses per nesting level
        raise _bad(f"exceeded max depth of {MAX_DEPTH}") from exc
