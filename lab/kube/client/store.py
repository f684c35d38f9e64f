"""The informer's local cache: objects by key, plus optional secondary indexes.

Objects in the store are shared with every reader: never mutate one, `copy.deepcopy` first.
"""

from __future__ import annotations

import builtins
from collections.abc import Callable, Iterator

from lab.kube.machinery import meta
from lab.kube.machinery.objects import Obj

IndexFunc = Callable[[Obj], list[str]]


class Store:
    """A read-mostly map `namespace/name -> object` kept current by an Informer."""

    def __init__(self) -> None:
        self._items: dict[str, Obj] = {}
        self._indexers: dict[str, IndexFunc] = {}
        self._indexes: dict[str, dict[str, set[str]]] = {}

    def get(self, key: str) -> Obj | None:
        return self._items.get(key)

    def get_by_name(self, namespace: str | None, name: str) -> Obj | None:
        return self._items.get(f"{namespace}/{name}" if namespace else name)

    def list(self) -> builtins.list[Obj]:
        return list(self._items.values())

    def keys(self) -> builtins.list[str]:
        return list(self._items)

    def __len__(self) -> int:
        return len(self._items)

    def __contains__(self, key: object) -> bool:
        return key in self._items

    def __iter__(self) -> Iterator[Obj]:
        return iter(list(self._items.values()))

    def add_index(self, name: str, func: IndexFunc) -> None:
        """Index objects by `func(obj)` values, e.g. pods by `spec.nodeName`."""
        self._indexers[name] = func
        self._indexes[name] = {}
        for key, obj in self._items.items():
            self._index(name, key, obj)

    def by_index(self, name: str, value: str) -> builtins.list[Obj]:
        keys = self._indexes[name].get(value, set())
        return [self._items[k] for k in sorted(keys) if k in self._items]

    def put(self, obj: Obj) -> Obj | None:
        """Insert or replace; returns the previous object."""
        key = meta.key(obj)
        old = self._items.get(key)
        if old is not None:
            self._unindex(key, old)
        self._items[key] = obj
        for name in self._indexers:
            self._index(name, key, obj)
        return old

    def remove(self, key: str) -> Obj | None:
        old = self._items.pop(key, None)
        if old is not None:
            self._unindex(key, old)
        return old

    def _index(self, name: str, key: str, obj: Obj) -> None:
        for value in self._indexers[name](obj):
            self._indexes[name].setdefault(value, set()).add(key)

    def _unindex(self, key: str, obj: Obj) -> None:
        for name, func in self._indexers.items():
            for value in func(obj):
                keys = self._indexes[name].get(value)
                if keys is not None:
                    keys.discard(key)
                    if not keys:
                        del self._indexes[name][value]
