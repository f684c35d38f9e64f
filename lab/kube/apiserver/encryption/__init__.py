"""Encryption at rest (`--encryption-provider-config`): providers with upstream's on-disk
format, the prefix transformer that picks one per value, and the config that maps resources
to them. The etcd storage applies the result to every value it writes and reads."""

from lab.kube.apiserver.encryption.config import EncryptionConfigError, key_transformers, load
from lab.kube.apiserver.encryption.providers import AESCBC, AESGCM, DecryptError, Identity, Secretbox
from lab.kube.apiserver.encryption.transformer import KeyTransformers, PrefixTransformer

__all__ = [
    "AESCBC", "AESGCM", "DecryptError", "EncryptionConfigError", "Identity", "KeyTransformers",
    "PrefixTransformer", "Secretbox", "key_transformers", "load",
]
