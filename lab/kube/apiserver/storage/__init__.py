"""Storage seam: the narrow interface the registry needs, an etcd and an in-memory backend."""

from lab.kube.apiserver.storage.interface import (
    Compacted,
    Conflict,
    Event,
    KeyExists,
    KeyNotFound,
    Storage,
    StorageError,
    TooLarge,
    Unavailable,
)

__all__ = [
    "Compacted", "Conflict", "Event", "KeyExists", "KeyNotFound", "Storage", "StorageError",
    "TooLarge", "Unavailable",
]
