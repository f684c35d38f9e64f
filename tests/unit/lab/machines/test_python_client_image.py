"""The python-client layout is reused only when it was built from the same inputs."""

from __future__ import annotations

import json
from pathlib import Path

from lab.machines import python_client_image as pci


def layout(dest: Path, inputs: str) -> None:
    dest.mkdir(parents=True)
    (dest / "index.json").write_text(json.dumps({"manifests": [{"digest": "sha256:abc"}]}))
    (dest / pci.INPUTS_FILE).write_text(inputs + "\n")


def test_a_layout_from_the_same_inputs_is_reused(tmp_path: Path) -> None:
    layout(tmp_path / "same", pci.inputs_hash())
    assert pci.cached_digest(tmp_path / "same", pci.inputs_hash()) == "sha256:abc"
    assert pci.build(tmp_path / "same", tmp_path / "work") == "sha256:abc"  # no bootstrap at all


def test_changed_inputs_or_a_broken_layout_rebuild(tmp_path: Path) -> None:
    layout(tmp_path / "old", "0000")
    assert pci.cached_digest(tmp_path / "old", pci.inputs_hash()) is None
    assert pci.cached_digest(tmp_path / "missing", pci.inputs_hash()) is None
    broken = tmp_path / "broken"
    layout(broken, pci.inputs_hash())
    (broken / "index.json").write_text("{")
    assert pci.cached_digest(broken, pci.inputs_hash()) is None
