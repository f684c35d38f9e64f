"""The pod images of the lab, built offline into OCI layouts under .lab/images/<name>/.

`pause` (3.9) is images/pods/pause/pause.c compiled static; `web` (1) is Debian's
busybox-static with its applets and images/pods/web/entrypoint.sh (httpd on :8080 serving
the pod's name); `python-client` (1) is python3 with the official Kubernetes client
(python_client_image, cached in .lab/cache). The lab registry role pushes these layouts with skopeo.
"""

from __future__ import annotations

import io
import shutil
import tarfile
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from lab.machines import python_client_image
from lab.machines.errors import MachineError
from lab.machines.oci import Layer, write_layout
from lab.run import last_line, run

BUSYBOX_PACKAGE = "busybox-static"


@dataclass(frozen=True)
class PodImage:
    name: str
    tag: str
    layout: Path
    digest: str

    @property
    def reference(self) -> str:
        return f"{self.name}:{self.tag}"


def compile_pause(source: Path, workdir: Path) -> bytes:
    binary = workdir / "pause"
    run(["gcc", "-static", "-Os", "-s", "-Wall", "-o", str(binary), str(source)])
    return binary.read_bytes()


def busybox_binary(cache: Path) -> bytes:
    """/bin/busybox of Debian's busybox-static .deb (downloaded once into `cache`; not
    installed, since it conflicts with the host's dynamic busybox package)."""
    cache.mkdir(parents=True, exist_ok=True)
    debs = sorted(cache.glob(f"{BUSYBOX_PACKAGE}_*.deb"))
    if not debs:
        run(["apt-get", "download", BUSYBOX_PACKAGE], cwd=cache)
        debs = sorted(cache.glob(f"{BUSYBOX_PACKAGE}_*.deb"))
    if not debs:
        raise MachineError(f"apt-get download {BUSYBOX_PACKAGE} left no .deb in {cache}")
    proc = run(["dpkg-deb", "--fsys-tarfile", str(debs[-1])], check=False, text=False)
    if proc.returncode != 0:
        raise MachineError(f"dpkg-deb could not read {debs[-1].name}: {last_line(proc)}")
    with tarfile.open(fileobj=io.BytesIO(proc.stdout)) as tar:
        member = tar.extractfile("./bin/busybox")
        if member is None:
            raise MachineError(f"{debs[-1].name} has no /bin/busybox")
        return member.read()


def busybox_applets(binary: bytes, workdir: Path) -> list[str]:
    path = workdir / "busybox"
    path.write_bytes(binary)
    path.chmod(0o755)
    proc = run([str(path), "--list"], check=False)
    if proc.returncode != 0:
        raise MachineError(f"busybox --list failed: {last_line(proc)}")
    return sorted({a for a in proc.stdout.split() if a and "/" not in a} - {"busybox"})


def pause_layer(binary: bytes) -> Layer:
    layer = Layer()
    layer.file("/pause", binary, 0o755)
    return layer


def web_layer(busybox: bytes, applets: list[str], entrypoint: bytes) -> Layer:
    layer = Layer()
    for directory in ("/bin", "/etc", "/www"):
        layer.directory(directory)
    layer.directory("/tmp", 0o1777)
    layer.file("/bin/busybox", busybox, 0o755)
    for applet in applets:
        layer.symlink(f"/bin/{applet}", "busybox")
    layer.file("/etc/passwd", b"root:x:0:0:root:/:/bin/sh\nnobody:x:65534:65534:nobody:/:/bin/false\n")
    layer.file("/etc/group", b"root:x:0:\nnogroup:x:65534:\n")
    layer.file("/entrypoint.sh", entrypoint, 0o755)
    return layer


def build_all(repo: Path, dest: Path, with_python_client: bool = True) -> list[PodImage]:
    """Build every pod image into `dest/<name>/`; cheap enough to run on every deploy (the
    bootstrapped python-client image is cached)."""
    sources = repo / "images" / "pods"
    dest.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix="kubelab-pods-") as tmp:
        work = Path(tmp)
        pause = pause_layer(compile_pause(sources / "pause" / "pause.c", work))
        busybox = busybox_binary(repo / ".lab" / "cache" / "debs")
        web = web_layer(busybox, busybox_applets(busybox, work), (sources / "web" / "entrypoint.sh").read_bytes())
    built = []
    recipes: list[tuple[str, str, Layer, dict[str, Any], str]] = [
        ("pause", "3.9", pause, {"Cmd": ["/pause"], "Env": ["PATH=/"]}, "gcc -static -Os pause.c"),
        ("web", "1", web, {"Cmd": ["/entrypoint.sh"], "Env": ["PATH=/bin"], "ExposedPorts": {"8080/tcp": {}},
                           "WorkingDir": "/www"}, "busybox-static + entrypoint.sh"),
    ]
    for name, tag, layer, config, how in recipes:
        digest = write_layout(dest / name, layer, config, tag, how)
        built.append(PodImage(name, tag, dest / name, digest))
    if with_python_client:
        built.append(python_client(repo, dest))
    return built


def python_client(repo: Path, dest: Path) -> PodImage:
    """Built once per machine into .lab/cache (about a minute), copied into `dest`."""
    cache = repo / ".lab" / "cache"
    cached = cache / "images" / python_client_image.NAME
    digest = python_client_image.build(cached, cache)
    target = dest / python_client_image.NAME
    if target.resolve() != cached.resolve():
        shutil.rmtree(target, ignore_errors=True)
        shutil.copytree(cached, target)
    return PodImage(python_client_image.NAME, python_client_image.TAG, target, digest)
