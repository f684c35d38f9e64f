"""`--encryption-provider-config`: an apiserver.config.k8s.io/v1 EncryptionConfiguration
read into one PrefixTransformer per resource rule, then into the transformer of each storage
key prefix. A bad file stops the server with one line naming the field, as upstream's
validation does (secrets are never echoed)."""

from __future__ import annotations

import base64
import binascii
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any

import yaml

from lab.kube.apiserver.encryption.providers import (
    AES_KEY_SIZES,
    AESCBC,
    AESGCM,
    SECRETBOX_KEY_SIZE,
    Identity,
    Provider,
    Secretbox,
)
from lab.kube.apiserver.encryption.transformer import KeyTransformers, PrefixTransformer
from lab.kube.machinery.catalog import Resource

API_VERSION = "apiserver.config.k8s.io/v1"
KIND = "EncryptionConfiguration"
_Factory = Callable[[str, bytes], Provider]
_KEYED: dict[str, tuple[_Factory, tuple[int, ...]]] = {
    "aescbc": (AESCBC, AES_KEY_SIZES),
    "aesgcm": (AESGCM, AES_KEY_SIZES),
    "secretbox": (Secretbox, (SECRETBOX_KEY_SIZE,)),
}
_KNOWN = {*_KEYED, "identity", "kms"}


class EncryptionConfigError(ValueError):
    """The configuration file cannot be used; the message is one line naming the field."""


Rule = tuple[tuple[str, ...], PrefixTransformer]
"""The resource names of one `resources[]` item and its providers."""


def load(path: str | Path) -> list[Rule]:
    """The rules of the file at `path`, in order (the first that names a resource wins)."""
    try:
        doc = yaml.safe_load(Path(path).read_text())
    except (OSError, yaml.YAMLError) as exc:
        raise EncryptionConfigError(f"error reading encryption provider config {path}: "
                                    f"{' '.join(str(exc).split())}") from exc
    try:
        return parse(doc)
    except EncryptionConfigError as exc:
        raise EncryptionConfigError(f"encryption provider config {path}: {exc}") from None


def parse(doc: Any) -> list[Rule]:
    if not isinstance(doc, dict):
        raise EncryptionConfigError("not an EncryptionConfiguration object")
    if doc.get("kind") != KIND or doc.get("apiVersion") != API_VERSION:
        raise EncryptionConfigError(f"got kind {doc.get('kind')!r} apiVersion {doc.get('apiVersion')!r}, "
                                    f"want {KIND} {API_VERSION}")
    items = doc.get("resources")
    if not isinstance(items, list) or not items:
        raise EncryptionConfigError("resources: Required value: at least one resource rule must be specified")
    rules = [_rule(item, f"resources[{i}]") for i, item in enumerate(items)]
    _check_masking(rules)
    return rules


def _masks(earlier: str, name: str) -> bool:
    """An earlier wildcard (or the same name) leaves a later name no resource to apply to."""
    if earlier == name or earlier == "*.*":
        return True
    group = name.partition(".")[2]
    return earlier.startswith("*.") and earlier[2:] == group


def _check_masking(rules: list[Rule]) -> None:
    seen: list[str] = []
    for i, (names, _) in enumerate(rules):
        for j, name in enumerate(names):
            earlier = next((e for e in seen if _masks(e, name)), None)
            if earlier is not None:
                raise EncryptionConfigError(f'resources[{i}].resources[{j}]: Invalid value: "{name}": '
                                            f'resource "{name}" is masked by earlier rule "{earlier}"')
            seen.append(name)


def _rule(item: Any, path: str) -> Rule:
    if not isinstance(item, dict):
        raise EncryptionConfigError(f"{path}: must be an object")
    names = item.get("resources")
    if not isinstance(names, list) or not names or not all(isinstance(n, str) and n for n in names):
        raise EncryptionConfigError(f"{path}.resources: Required value: resources is a required field")
    for j, name in enumerate(names):
        if name != name.lower():
            raise EncryptionConfigError(f"{path}.resources[{j}]: Invalid value: {name!r}: "
                                        "resource name must be lowercase")
    providers = item.get("providers")
    if not isinstance(providers, list) or not providers:
        raise EncryptionConfigError(f"{path}.providers: Required value: at least one provider must be specified")
    built = [_provider(p, f"{path}.providers[{k}]") for k, p in enumerate(providers)]
    return tuple(names), PrefixTransformer([key for keys in built for key in keys])


def _provider(item: Any, path: str) -> list[Provider]:
    if not isinstance(item, dict) or len(item) != 1:
        raise EncryptionConfigError(f"{path}: more than one provider specified in a single element, "
                                    "should split into different list elements")
    (kind, body), = item.items()
    if kind not in _KNOWN:
        raise EncryptionConfigError(f"{path}: unknown provider {kind!r} (want one of {sorted(_KNOWN)})")
    if kind == "identity":
        return [Identity()]
    if kind == "kms":
        raise EncryptionConfigError(f"{path}.kms: not supported by kubelab")
    cls, sizes = _KEYED[kind]
    keys = (body or {}).get("keys") if isinstance(body or {}, dict) else None
    if not isinstance(keys, list) or not keys:
        raise EncryptionConfigError(f"{path}.{kind}.keys: Required value: at least one key must be specified")
    seen: set[str] = set()
    out: list[Provider] = []
    for i, key in enumerate(keys):
        where = f"{path}.{kind}.keys[{i}]"
        name = key.get("name") if isinstance(key, dict) else None
        if not isinstance(name, str) or not name:
            raise EncryptionConfigError(f"{where}.name: Required value: key name is required")
        if name in seen:
            raise EncryptionConfigError(f"{where}.name: Duplicate value: {name!r}")
        seen.add(name)
        out.append(cls(name, _secret(key.get("secret"), sizes, f"{where}.secret")))
    return out


def _secret(value: Any, sizes: tuple[int, ...], path: str) -> bytes:
    if not isinstance(value, str) or not value:
        raise EncryptionConfigError(f"{path}: Required value: key material is required")
    try:
        raw = base64.b64decode(value, validate=True)
    except (binascii.Error, ValueError):
        raise EncryptionConfigError(f'{path}: Invalid value: "REDACTED": secrets must be base64 encoded') from None
    if len(raw) not in sizes:
        want = " ".join(str(s) for s in sizes)
        raise EncryptionConfigError(f'{path}: Invalid value: "REDACTED": secret is not of the expected '
                                    f"length, got {len(raw)}, expected one of [{want}]")
    return raw


def matches(name: str, resource: Resource) -> bool:
    """`secrets`, `deployments.apps`, `*.apps`, `*.` (every core resource) or `*.*`."""
    plural, _, group = name.partition(".")
    if plural == "*":
        return group == "*" or group == resource.group
    return plural == resource.plural and group == resource.group


def key_transformers(rules: list[Rule], resources: Iterable[Resource], etcd_prefix: str) -> KeyTransformers:
    """Each resource's storage prefix with the transformer of the first rule naming it."""
    by_prefix: dict[str, PrefixTransformer] = {}
    for res in resources:
        rule = next((t for names, t in rules if any(matches(n, res) for n in names)), None)
        if rule is not None:
            by_prefix[f"{etcd_prefix}/{res.storage_prefix}/"] = rule
    return KeyTransformers(by_prefix)
