"""OCI layouts written in pure Python: the blobs are what the index and manifest say."""

from __future__ import annotations

import gzip
import hashlib
import io
import json
import tarfile
from pathlib import Path

from lab.machines.oci import Layer, write_layout


def sample_layer() -> Layer:
    layer = Layer()
    layer.directory("/bin")
    layer.file("/bin/tool", b"#!/bin/sh\necho hi\n", 0o755)
    layer.symlink("/bin/alias", "tool")
    return layer


def blob(layout: Path, digest: str) -> bytes:
    data = (layout / "blobs" / "sha256" / digest.split(":", 1)[1]).read_bytes()
    assert "sha256:" + hashlib.sha256(data).hexdigest() == digest
    return data


def test_the_layout_resolves_from_index_to_layer(tmp_path: Path) -> None:
    dest = tmp_path / "tool"
    digest = write_layout(dest, sample_layer(), {"Cmd": ["/bin/tool"], "ExposedPorts": {"80/tcp": {}}}, "7", "test")
    assert json.loads((dest / "oci-layout").read_text()) == {"imageLayoutVersion": "1.0.0"}
    index = json.loads((dest / "index.json").read_text())
    entry = index["manifests"][0]
    assert entry["digest"] == digest
    assert entry["annotations"]["org.opencontainers.image.ref.name"] == "7"

    manifest = json.loads(blob(dest, digest))
    assert manifest["mediaType"] == "application/vnd.oci.image.manifest.v1+json"
    config = json.loads(blob(dest, manifest["config"]["digest"]))
    assert config["config"]["Cmd"] == ["/bin/tool"]
    assert config["config"]["ExposedPorts"] == {"80/tcp": {}}

    compressed = blob(dest, manifest["layers"][0]["digest"])
    raw = gzip.decompress(compressed)
    # the config names the layer by its uncompressed digest (diff_id)
    assert config["rootfs"]["diff_ids"] == ["sha256:" + hashlib.sha256(raw).hexdigest()]
    with tarfile.open(fileobj=io.BytesIO(raw)) as tar:
        tool = tar.getmember("bin/tool")
        assert tool.mode == 0o755 and tool.uid == 0
        assert tar.getmember("bin/alias").linkname == "tool"
        assert tar.extractfile("bin/tool").read() == b"#!/bin/sh\necho hi\n"  # type: ignore[union-attr]


def test_the_same_inputs_give_the_same_digest_and_replace_the_old_layout(tmp_path: Path) -> None:
    dest = tmp_path / "tool"
    first = write_layout(dest, sample_layer(), {"Cmd": ["/bin/tool"]}, "7", "test")
    (dest / "stray").write_text("left over")
    second = write_layout(dest, sample_layer(), {"Cmd": ["/bin/tool"]}, "7", "test")
    assert first == second
    assert not (dest / "stray").exists()
    assert len(list((dest / "blobs" / "sha256").iterdir())) == 3
