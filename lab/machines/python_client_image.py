"""The `python-client` pod image: Debian's python3 with the official Kubernetes client
(python3-kubernetes), for in-cluster clients (`config.load_incluster_config()`), operators and
drills. Bootstrapped offline with mmdebstrap from the host's Debian mirror, like the node image,
into an OCI layout under .lab/images/python-client/.

Building costs about a minute, so the layout records a hash of its inputs and is rebuilt only
when they change (the package list, the options, this recipe).
"""

from __future__ import annotations

import hashlib
import json
import tempfile
from pathlib import Path

from lab.machines.apt_sources import debian_sources, host_sources
from lab.machines.errors import MachineError
from lab.machines.oci import write_layout_tar
from lab.run import last_line, run

NAME, TAG = "python-client", "1"
CODENAME = "bookworm"
PACKAGES = ("python3-kubernetes", "ca-certificates")
OPTIONS = (
    "--variant=essential",  # Essential: yes packages (a shell, coreutils) plus ours: no apt, no init
    "--dpkgopt=path-exclude=/usr/share/man/*",
    "--dpkgopt=path-exclude=/usr/share/info/*",
    "--dpkgopt=path-exclude=/usr/share/locale/*",
    "--dpkgopt=path-exclude=/usr/share/doc/*",
    "--dpkgopt=path-include=/usr/share/doc/*/copyright",
)
CONFIG = {"Cmd": ["/usr/bin/python3"], "Env": ["PATH=/usr/local/bin:/usr/bin:/bin", "LANG=C.UTF-8"],
          "WorkingDir": "/"}
RECIPE_VERSION = "1"
INPUTS_FILE = "kubelab-inputs"


def inputs_hash() -> str:
    text = json.dumps([RECIPE_VERSION, CODENAME, PACKAGES, OPTIONS, CONFIG], sort_keys=True)
    return hashlib.sha256(text.encode()).hexdigest()[:16]


def cached_digest(dest: Path, wanted: str) -> str | None:
    """The layout's manifest digest when it was built from the same inputs."""
    try:
        if (dest / INPUTS_FILE).read_text().strip() != wanted:
            return None
        index = json.loads((dest / "index.json").read_text())
        return str(index["manifests"][0]["digest"])
    except (OSError, ValueError, KeyError, IndexError):
        return None


def build(dest: Path, workdir: Path) -> str:
    """Ensure `dest` holds the image; return its manifest digest."""
    wanted = inputs_hash()
    digest = cached_digest(dest, wanted)
    if digest is not None:
        return digest
    mirrors = [s.line() for s in debian_sources(CODENAME, host_sources())]
    if not mirrors:
        raise MachineError(f"no Debian {CODENAME} source in /etc/apt: cannot bootstrap the {NAME} image")
    workdir.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(dir=workdir, prefix=f"{NAME}-") as tmp:
        rootfs = Path(tmp) / "rootfs.tar"
        proc = run(["mmdebstrap", "--mode=auto", "--format=tar", *OPTIONS, "--include=" + ",".join(PACKAGES),
                    CODENAME, str(rootfs), *mirrors], check=False)
        if proc.returncode != 0:
            raise MachineError(f"mmdebstrap of the {NAME} image failed: {last_line(proc)}")
        digest = write_layout_tar(dest, rootfs.read_bytes(), CONFIG, TAG, f"mmdebstrap {' '.join(PACKAGES)}")
    (dest / INPUTS_FILE).write_text(wanted + "\n")
    return digest
