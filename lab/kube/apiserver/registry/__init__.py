"""Generic registry: CRUD, deletion and watch for any catalog resource, guided by its strategy."""

from lab.kube.apiserver.registry.context import RegistryContext
from lab.kube.apiserver.registry.store import Registry, WatchEvent

__all__ = ["Registry", "RegistryContext", "WatchEvent"]
