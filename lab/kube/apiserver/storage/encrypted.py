"""Encryption at rest wired into storage: the value transformer etcd applies for
`--encryption-provider-config` (none without it, so values stay plain JSON)."""

from __future__ import annotations

from lab.kube.apiserver import encryption
from lab.kube.apiserver.settings import Settings
from lab.kube.apiserver.storage.transform import ValueTransformer
from lab.kube.machinery import catalog


def value_transformer(settings: Settings) -> ValueTransformer | None:
    """The transformer for every catalog resource named by the config; raises
    EncryptionConfigError (one line) for a bad file."""
    if not settings.encryption_provider_config:
        return None
    rules = encryption.load(settings.encryption_provider_config)
    return encryption.key_transformers(rules, catalog.RESOURCES, settings.etcd_prefix)
