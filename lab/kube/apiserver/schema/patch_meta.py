"""Strategic merge keys from the schema: which lists of a kind merge, and on which field.

`merge_keys(definition)` is the `machinery.patches.MergeKeys` lookup for one kind, read from
the `Arr` patch metadata the OpenAPI documents also serve, so the server merges exactly the
lists kubectl expects it to: container ports by containerPort, Service ports by port, lists
without `patchStrategy: merge` (tolerations, taints, endpoint addresses) replaced whole.
"""

from __future__ import annotations

from dataclasses import dataclass

from lab.kube.machinery.patches import ListMerge

from .registry import definitions
from .types import Arr, MapOf, Ref, Type


@dataclass(frozen=True)
class SchemaMergeKeys:
    """The `MergeKeys` of the definition named `root` (`io.k8s.api.core.v1.Pod`)."""

    root: str

    def __call__(self, path: tuple[str, ...]) -> ListMerge | None:
        found = self._field(path)
        if not isinstance(found, Arr) or "merge" not in found.strategy.split(","):
            return None
        return ListMerge(found.merge_key)

    def _field(self, path: tuple[str, ...]) -> Type | None:
        """The type at `path`; list positions are not in paths, so a list steps to its items."""
        defs = definitions()
        current: Type | None = Ref(self.root)
        for name in path:
            while isinstance(current, Arr):
                current = current.items
            if isinstance(current, MapOf):  # `name` is one of the map's free keys
                current = current.values
            elif isinstance(current, Ref) and current.name in defs:
                current = defs[current.name].field(name)
            else:  # a scalar or free-form object: nothing below it merges
                return None
        return current


def merge_keys(definition: str) -> SchemaMergeKeys:
    """The strategic merge keys of the named definition (see `kind_name`, `subresource_kind`)."""
    if definition not in definitions():
        raise KeyError(f"no schema definition {definition!r}")
    return SchemaMergeKeys(definition)
