"""The wheelhouse is rebuilt only when our sources change, so a re-deploy reinstalls nothing."""

from __future__ import annotations

from pathlib import Path

import pytest

from lab.deploy import wheelhouse


@pytest.fixture
def repo(tmp_path: Path) -> Path:
    (tmp_path / "lab").mkdir()
    (tmp_path / "pyproject.toml").write_text("[project]\nname='kubelab'\n")
    (tmp_path / "lab" / "__init__.py").write_text("")
    return tmp_path


def test_source_hash_follows_code_not_bytecode(repo: Path) -> None:
    before = wheelhouse.source_hash(repo)
    (repo / "lab" / "__pycache__").mkdir()
    (repo / "lab" / "__pycache__" / "x.pyc").write_bytes(b"\0")
    assert wheelhouse.source_hash(repo) == before
    (repo / "lab" / "__init__.py").write_text("VERSION = 2\n")
    assert wheelhouse.source_hash(repo) != before


def test_build_runs_pip_once_per_source_state(repo: Path, tmp_path: Path, monkeypatch) -> None:
    calls: list[list[str]] = []

    def fake_run(cmd: list[str], **kwargs) -> None:
        calls.append(cmd)
        assert kwargs["cwd"] == repo and kwargs["capture"] is False  # pip's output goes to the terminal
        dest = Path(cmd[cmd.index("--wheel-dir") + 1])
        (dest / "kubelab-0.1.0-py3-none-any.whl").write_bytes(b"wheel" + bytes(len(calls)))
        assert kwargs["env"]["SOURCE_DATE_EPOCH"] == wheelhouse.REPRODUCIBLE_EPOCH

    monkeypatch.setattr(wheelhouse, "run", fake_run)
    dest = tmp_path / "wheelhouse"
    (dest).mkdir()
    (dest / "kubelab-0.0.9-py3-none-any.whl").write_bytes(b"old")
    wheelhouse.build(dest, repo)
    wheelhouse.build(dest, repo)
    assert len(calls) == 1
    assert not (dest / "kubelab-0.0.9-py3-none-any.whl").exists()
    sums = (dest / wheelhouse.SUMS).read_text().split()
    assert sums[1] == "kubelab-0.1.0-py3-none-any.whl"
    (repo / "lab" / "__init__.py").write_text("changed = True\n")
    wheelhouse.build(dest, repo)
    assert len(calls) == 2
