"""The encryption-at-rest configuration the pki role copies to the control plane: made once
with a fresh AES-256 key, loaded by the API server's own parser, and never rewritten (a new
key would make every stored Secret unreadable)."""

from __future__ import annotations

import base64
import json
import stat
from pathlib import Path

import pytest
import yaml

from lab.kube.apiserver.encryption.config import load
from lab.pki import Bundle, ensure
from lab.pki.__main__ import main
from lab.pki.encryption import FILE, ensure_encryption_config

URL = "https://192.168.56.11:6443"


def test_the_config_encrypts_secrets_with_aescbc_and_still_reads_plaintext(tmp_path: Path) -> None:
    assert ensure_encryption_config(tmp_path) == [FILE]
    path = tmp_path / FILE
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    providers = yaml.safe_load(path.read_text())["resources"][0]["providers"]
    assert [next(iter(p)) for p in providers] == ["aescbc", "identity"]
    (key,) = providers[0]["aescbc"]["keys"]
    assert key["name"] == "key1" and len(base64.b64decode(key["secret"])) == 32
    ((names, transformer),) = load(path)  # the API server's loader takes it as written
    assert names == ("secrets",)
    stored = transformer.to_storage("/registry/secrets/default/s", b"plain")
    assert stored.startswith(b"k8s:enc:aescbc:v1:key1:")
    assert transformer.from_storage("/registry/secrets/default/s", stored) == (b"plain", False)
    # a Secret stored before encryption was on is still read (and rewritten on its next update)
    assert transformer.from_storage("/registry/secrets/default/old", b"plain") == (b"plain", True)


def test_an_existing_config_is_never_rewritten(tmp_path: Path) -> None:
    ensure_encryption_config(tmp_path)
    before = (tmp_path / FILE).read_bytes()
    assert ensure_encryption_config(tmp_path) == []
    (tmp_path / FILE).write_text("edited by the operator\n")  # e.g. mid key rotation
    assert ensure_encryption_config(tmp_path) == []
    assert (tmp_path / FILE).read_text() == "edited by the operator\n"
    other = tmp_path / "other"
    ensure_encryption_config(other)
    assert (other / FILE).read_bytes() != before  # a fresh key for every new PKI


def test_the_pki_command_creates_it_once(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["--dir", str(tmp_path), "--apiserver-url", URL]) == 0
    assert FILE in json.loads(capsys.readouterr().out)["written"]
    assert ensure(tmp_path, Bundle(apiserver_url=URL)).written == []
