"""Choosing a provider for each value (upstream `value.NewPrefixTransformers`): writes use
the first provider's first key; a read uses the first provider whose prefix the data starts
with, and is stale when that was not the first one, so the next update re-encrypts it."""

from __future__ import annotations

from collections.abc import Sequence

from lab.kube.apiserver.encryption.providers import DecryptError, Provider
from lab.kube.apiserver.storage.transform import TransformError


class PrefixTransformer:
    """One resource rule's providers, in configuration order."""

    def __init__(self, providers: Sequence[Provider]) -> None:
        if not providers:
            raise ValueError("a prefix transformer needs at least one provider")
        self.providers = tuple(providers)

    def to_storage(self, key: str, data: bytes) -> bytes:
        first = self.providers[0]
        return first.prefix + first.seal(data, key.encode())

    def from_storage(self, key: str, data: bytes) -> tuple[bytes, bool]:
        problems: list[str] = []
        for i, provider in enumerate(self.providers):
            if not data.startswith(provider.prefix):
                continue
            try:
                plain = provider.open(data[len(provider.prefix):], key.encode())
            except DecryptError as exc:
                if provider.prefix:  # identity failing on encrypted data: try the others quietly
                    problems.append(str(exc))
                continue
            return plain, i != 0
        raise TransformError(key, f"failed to decrypt {key}: "
                                  f"{'; '.join(problems) or 'no matching prefix found'}")


class KeyTransformers:
    """The transformer of each storage key: the longest configured key prefix that holds it;
    keys outside every configured resource are stored as they are."""

    def __init__(self, by_prefix: dict[str, PrefixTransformer]) -> None:
        # longest first, so `/registry/services/specs/` is not taken for `/registry/services/`
        self._rules = sorted(by_prefix.items(), key=lambda kv: len(kv[0]), reverse=True)

    def _for(self, key: str) -> PrefixTransformer | None:
        return next((t for prefix, t in self._rules if key.startswith(prefix)), None)

    def to_storage(self, key: str, data: bytes) -> bytes:
        t = self._for(key)
        return data if t is None else t.to_storage(key, data)

    def from_storage(self, key: str, data: bytes) -> tuple[bytes, bool]:
        t = self._for(key)
        return (data, False) if t is None else t.from_storage(key, data)
