"""What goes into the pod images' single layers."""

from __future__ import annotations

import io
import tarfile

from lab.machines.pod_images import pause_layer, web_layer


def members(layer) -> dict[str, tarfile.TarInfo]:  # type: ignore[no-untyped-def]
    with tarfile.open(fileobj=io.BytesIO(layer.tar())) as tar:
        return {m.name: m for m in tar.getmembers()}


def test_pause_is_one_executable() -> None:
    entries = members(pause_layer(b"\x7fELF..."))
    assert list(entries) == ["pause"]
    assert entries["pause"].mode == 0o755


def test_web_has_busybox_its_applets_and_the_entrypoint() -> None:
    entries = members(web_layer(b"\x7fELF...", ["httpd", "sh", "wget"], b"#!/bin/sh\n"))
    assert entries["bin/busybox"].mode == 0o755
    for applet in ("sh", "httpd", "wget"):
        assert entries[f"bin/{applet}"].issym() and entries[f"bin/{applet}"].linkname == "busybox"
    assert entries["entrypoint.sh"].mode == 0o755
    assert entries["tmp"].mode == 0o1777
    assert entries["www"].isdir()
