"""The EncryptionConfiguration file: resource names and wildcards pick a rule (first wins),
keys are checked, and every mistake is one line that names the field."""

from __future__ import annotations

import base64
import os
from pathlib import Path

import pytest

from lab.kube.apiserver.encryption import EncryptionConfigError, key_transformers, load
from lab.kube.apiserver.encryption.config import matches
from lab.kube.apiserver.settings import from_args
from lab.kube.apiserver.storage.encrypted import value_transformer
from lab.kube.apiserver.storage.interface import StaleObj, is_stale
from lab.kube.apiserver.storage.memory import MemoryStorage
from lab.kube.machinery import catalog
from lab.kube.machinery.objects import Obj


def _b64(n: int) -> str:
    return base64.b64encode(os.urandom(n)).decode()


def _write(tmp_path: Path, body: str) -> Path:
    path = tmp_path / "enc.yaml"
    path.write_text(body)
    return path


CONFIG = f"""
apiVersion: apiserver.config.k8s.io/v1
kind: EncryptionConfiguration
resources:
  - resources: [secrets]
    providers:
      - aescbc: {{keys: [{{name: key1, secret: "{_b64(32)}"}}]}}
      - identity: {{}}
  - resources: ["*.apps"]
    providers:
      - secretbox: {{keys: [{{name: sb, secret: "{_b64(32)}"}}]}}
  - resources: ["*.*"]
    providers:
      - identity: {{}}
"""


def test_each_resource_gets_the_first_rule_naming_it(tmp_path: Path) -> None:
    keys = key_transformers(load(_write(tmp_path, CONFIG)), catalog.RESOURCES, "/registry")
    assert keys.to_storage("/registry/secrets/ns/s", b"{}").startswith(b"k8s:enc:aescbc:v1:key1:")
    assert keys.to_storage("/registry/deployments/ns/d", b"{}").startswith(b"k8s:enc:secretbox:v1:sb:")
    assert keys.to_storage("/registry/configmaps/ns/c", b"{}") == b"{}"  # `*.*` is identity here
    assert keys.to_storage("/registry/ranges/serviceips", b"{}") == b"{}"  # not a resource
    assert keys.from_storage("/registry/secrets/ns/old", b"{}") == (b"{}", True)


@pytest.mark.parametrize(("name", "plural", "group", "want"), [
    ("secrets", "secrets", "", True),
    ("secrets", "configmaps", "", False),
    ("deployments.apps", "deployments", "apps", True),
    ("deployments", "deployments", "apps", False),
    ("*.apps", "replicasets", "apps", True),
    ("*.apps", "pods", "", False),
    ("*.", "configmaps", "", True),
    ("*.", "deployments", "apps", False),
    ("*.*", "leases", "coordination.k8s.io", True),
])
def test_resource_names_and_wildcards(name: str, plural: str, group: str, want: bool) -> None:
    res = next(r for r in catalog.RESOURCES if r.plural == plural and r.group == group)
    assert matches(name, res) is want


@pytest.mark.parametrize(("body", "message"), [
    ("kind: Nope\n", "got kind 'Nope'"),
    ("apiVersion: apiserver.config.k8s.io/v1\nkind: EncryptionConfiguration\nresources: []\n",
     "resources: Required value"),
    ("apiVersion: apiserver.config.k8s.io/v1\nkind: EncryptionConfiguration\n"
     "resources: [{resources: [secrets], providers: []}]\n",
     r"resources\[0\].providers: Required value: at least one provider must be specified"),
    ("apiVersion: apiserver.config.k8s.io/v1\nkind: EncryptionConfiguration\n"
     "resources: [{resources: [secrets], providers: [{aescbc: {keys: [{name: k, secret: c2hvcnQ=}]}}]}]\n",
     r'resources\[0\].providers\[0\].aescbc.keys\[0\].secret: Invalid value: "REDACTED": secret is not of '
     r"the expected length, got 5, expected one of \[16 24 32\]"),
    ("apiVersion: apiserver.config.k8s.io/v1\nkind: EncryptionConfiguration\n"
     "resources: [{resources: [secrets], providers: [{secretbox: {keys: [{name: k, secret: '!!'}]}}]}]\n",
     "secrets must be base64 encoded"),
    ("apiVersion: apiserver.config.k8s.io/v1\nkind: EncryptionConfiguration\n"
     f"resources: [{{resources: [secrets], providers: [{{aesgcm: {{keys: [{{name: k, secret: {_b64(16)}}}, "
     f"{{name: k, secret: {_b64(16)}}}]}}}}]}}]\n",
     r"keys\[1\].name: Duplicate value: 'k'"),
    ("apiVersion: apiserver.config.k8s.io/v1\nkind: EncryptionConfiguration\n"
     "resources: [{resources: [secrets], providers: [{identity: {}, aescbc: {}}]}]\n",
     "more than one provider specified in a single element"),
    ("apiVersion: apiserver.config.k8s.io/v1\nkind: EncryptionConfiguration\n"
     "resources: [{resources: [Secrets], providers: [{identity: {}}]}]\n",
     "resource name must be lowercase"),
    ("[unclosed", "error reading encryption provider config"),
    ("apiVersion: apiserver.config.k8s.io/v1\nkind: EncryptionConfiguration\n"
     "resources: [{resources: ['*.'], providers: [{identity: {}}]},\n"
     "            {resources: [secrets], providers: [{identity: {}}]}]\n",
     r'resources\[1\].resources\[0\]: Invalid value: "secrets": resource "secrets" is masked by earlier rule "\*\."'),
    ("apiVersion: apiserver.config.k8s.io/v1\nkind: EncryptionConfiguration\n"
     "resources: [{resources: ['*.*', deployments.apps], providers: [{identity: {}}]}]\n",
     r'is masked by earlier rule "\*\.\*"'),
])
def test_config_errors_are_one_line_naming_the_field(tmp_path: Path, body: str, message: str) -> None:
    with pytest.raises(EncryptionConfigError, match=message) as info:
        load(_write(tmp_path, body))
    assert "\n" not in str(info.value)
    assert "c2hvcnQ=" not in str(info.value)  # key material is never echoed


def test_a_missing_file_is_one_line(tmp_path: Path) -> None:
    with pytest.raises(EncryptionConfigError, match="error reading encryption provider config"):
        load(tmp_path / "absent.yaml")


class _StaleReads(MemoryStorage):
    """Reads come back stale, as etcd's do for a value under an old key."""

    async def get(self, key: str) -> Obj:
        return StaleObj(await super().get(key))


async def test_an_unchanged_update_of_a_stale_object_still_writes() -> None:
    fresh, stale = MemoryStorage(), _StaleReads()
    for store in (fresh, stale):
        await store.create("/registry/secrets/ns/s", {"metadata": {"name": "s"}, "data": {}})
    kept = await fresh.guaranteed_update("/registry/secrets/ns/s", lambda o: o)
    written = await stale.guaranteed_update("/registry/secrets/ns/s", lambda o: o)
    assert kept["metadata"]["resourceVersion"] == "2"  # a no-op skips the write
    assert written["metadata"]["resourceVersion"] == "3"  # a stale one is re-encrypted
    assert is_stale(StaleObj()) and not is_stale({})


def test_the_flag_reaches_the_etcd_value_transformer(tmp_path: Path) -> None:
    assert value_transformer(from_args([])) is None  # no config: values stay plain JSON
    settings = from_args(["--encryption-provider-config", str(_write(tmp_path, CONFIG)), "--etcd-prefix", "/x"])
    transformer = value_transformer(settings)
    assert transformer is not None
    assert transformer.to_storage("/x/secrets/ns/s", b"{}").startswith(b"k8s:enc:aescbc:v1:key1:")
    bad = from_args(["--encryption-provider-config", str(tmp_path / "missing.yaml")])
    with pytest.raises(EncryptionConfigError, match=r"missing\.yaml"):
        value_transformer(bad)
