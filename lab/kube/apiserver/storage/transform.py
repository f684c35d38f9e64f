"""Value transformers: how an object's bytes are changed on their way to and from etcd
(upstream `storage/value.Transformer`); encryption at rest plugs in here.

A read also says whether the value is *stale* (read with a key that is no longer the one
writes use). `guaranteed_update` writes a stale object even when the update changes nothing,
so `kubectl replace` of unchanged objects re-encrypts them with the current key.
"""

from __future__ import annotations

from typing import Protocol

from lab.kube.apiserver.storage.interface import StaleObj, StorageError
from lab.kube.machinery.objects import Obj


class ValueTransformer(Protocol):
    def to_storage(self, key: str, data: bytes) -> bytes:
        """The bytes to store for `data` at `key`."""
        ...

    def from_storage(self, key: str, data: bytes) -> tuple[bytes, bool]:
        """The plaintext of stored `data` and whether it is stale; raises TransformError."""
        ...


class TransformError(StorageError):
    """A stored value could not be turned back into an object (wrong key, corrupt data);
    upstream answers such a read with a 500."""


def mark_stale(obj: Obj) -> Obj:
    return StaleObj(obj)

