"""A minimal OCI image layout writer: one gzip layer, a config, a manifest, an index.

Enough for skopeo, containerd and a registry to take the image (no daemon involved).
Layers are reproducible (fixed mtimes and owners), so an unchanged image keeps its digest.
"""

from __future__ import annotations

import gzip
import hashlib
import io
import json
import shutil
import tarfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

MEDIA_MANIFEST = "application/vnd.oci.image.manifest.v1+json"
MEDIA_CONFIG = "application/vnd.oci.image.config.v1+json"
MEDIA_LAYER = "application/vnd.oci.image.layer.v1.tar+gzip"
EPOCH = 0  # every entry's mtime, for reproducible digests


@dataclass
class Layer:
    """Files of a layer, in order: directories, regular files and symlinks."""

    entries: list[tarfile.TarInfo] = field(default_factory=list)
    data: dict[str, bytes] = field(default_factory=dict)

    def _info(self, path: str, kind: bytes, mode: int) -> tarfile.TarInfo:
        info = tarfile.TarInfo(path.lstrip("/"))
        info.type, info.mode, info.mtime = kind, mode, EPOCH
        info.uid = info.gid = 0
        info.uname = info.gname = "root"
        return info

    def directory(self, path: str, mode: int = 0o755) -> None:
        self.entries.append(self._info(path, tarfile.DIRTYPE, mode))

    def file(self, path: str, content: bytes, mode: int = 0o644) -> None:
        info = self._info(path, tarfile.REGTYPE, mode)
        info.size = len(content)
        self.entries.append(info)
        self.data[info.name] = content

    def symlink(self, path: str, target: str) -> None:
        info = self._info(path, tarfile.SYMTYPE, 0o777)
        info.linkname = target
        self.entries.append(info)

    def tar(self) -> bytes:
        out = io.BytesIO()
        with tarfile.open(fileobj=out, mode="w", format=tarfile.PAX_FORMAT) as tar:
            for info in self.entries:
                content = self.data.get(info.name)
                tar.addfile(info, io.BytesIO(content) if content is not None else None)
        return out.getvalue()


def _digest(blob: bytes) -> str:
    return "sha256:" + hashlib.sha256(blob).hexdigest()


def _json(doc: dict[str, Any]) -> bytes:
    return json.dumps(doc, sort_keys=True, separators=(",", ":")).encode()


def write_layout(dest: Path, layer: Layer, image_config: dict[str, Any], tag: str,
                 created_by: str) -> str:
    """Write `dest` as an OCI image layout holding one image tagged `tag`; return the
    manifest digest. `image_config` is the config's `config` (Cmd, Env, ExposedPorts...)."""
    return write_layout_tar(dest, layer.tar(), image_config, tag, created_by)


def write_layout_tar(dest: Path, raw: bytes, image_config: dict[str, Any], tag: str, created_by: str) -> str:
    """`write_layout` for a layer that is already a tar (a bootstrapped root filesystem)."""
    compressed = gzip.compress(raw, compresslevel=6, mtime=EPOCH)
    config = {
        "architecture": "amd64",
        "os": "linux",
        "created": "1970-01-01T00:00:00Z",
        "config": image_config,
        "rootfs": {"type": "layers", "diff_ids": [_digest(raw)]},
        "history": [{"created": "1970-01-01T00:00:00Z", "created_by": created_by}],
    }
    config_blob = _json(config)
    manifest = {
        "schemaVersion": 2,
        "mediaType": MEDIA_MANIFEST,
        "config": {"mediaType": MEDIA_CONFIG, "digest": _digest(config_blob), "size": len(config_blob)},
        "layers": [{"mediaType": MEDIA_LAYER, "digest": _digest(compressed), "size": len(compressed)}],
    }
    manifest_blob = _json(manifest)
    index = {
        "schemaVersion": 2,
        "manifests": [{
            "mediaType": MEDIA_MANIFEST, "digest": _digest(manifest_blob), "size": len(manifest_blob),
            "annotations": {"org.opencontainers.image.ref.name": tag},
        }],
    }
    # Write a fresh layout beside the old one, then swap, so readers never see half of it.
    staging = dest.with_name(dest.name + ".new")
    shutil.rmtree(staging, ignore_errors=True)
    blobs = staging / "blobs" / "sha256"
    blobs.mkdir(parents=True)
    for blob in (compressed, config_blob, manifest_blob):
        (blobs / _digest(blob).split(":", 1)[1]).write_bytes(blob)
    (staging / "oci-layout").write_bytes(_json({"imageLayoutVersion": "1.0.0"}))
    (staging / "index.json").write_bytes(_json(index))
    shutil.rmtree(dest, ignore_errors=True)
    staging.rename(dest)
    return _digest(manifest_blob)
