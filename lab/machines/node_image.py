"""The lab node image: Debian bookworm bootstrapped with mmdebstrap, imported into Docker.

Inputs are images/node/packages.txt and images/node/customize.sh; the tag is a hash of
them (and of this build recipe), so the image is rebuilt only when they change.
"""

from __future__ import annotations

import hashlib
import os
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

from lab.machines.apt_sources import debian_sources, host_sources
from lab.machines.errors import MachineError
from lab.run import last_line, run

REPOSITORY = "kubelab/node"
CODENAME = "bookworm"
# What `docker import` adds: systemd as PID 1, told it runs in a container.
DOCKER_CHANGES = ('ENV container=docker', 'CMD ["/sbin/init"]')
# `docker import --change` can't set STOPSIGNAL, so a one-line build on top adds it:
# systemd shuts down cleanly on SIGRTMIN+3 (SIGTERM would make it re-exec).
FINISH_DOCKERFILE = "FROM {base}\nSTOPSIGNAL SIGRTMIN+3\n"
# mmdebstrap options beyond the package list; part of the tag like the input files.
MMDEBSTRAP_OPTIONS = (
    "--variant=apt",
    # keep apt lists so the apt module works on machines without an update first
    "--skip=cleanup/apt/lists",
    # machines need no manuals, docs or translations (about 100 MB less per image)
    "--dpkgopt=path-exclude=/usr/share/man/*",
    "--dpkgopt=path-exclude=/usr/share/info/*",
    "--dpkgopt=path-exclude=/usr/share/locale/*",
    "--dpkgopt=path-exclude=/usr/share/doc/*",
    "--dpkgopt=path-include=/usr/share/doc/*/copyright",
)
# Bump when the recipe below changes in a way the inputs above don't show.
RECIPE_VERSION = "2"


@dataclass(frozen=True)
class NodeImageInputs:
    packages_file: Path
    customize_script: Path

    @classmethod
    def in_repo(cls, repo: Path) -> NodeImageInputs:
        return cls(repo / "images/node/packages.txt", repo / "images/node/customize.sh")

    def packages(self) -> list[str]:
        names = []
        for raw in self.packages_file.read_text().splitlines():
            name = raw.split("#", 1)[0].strip()
            if name:
                names.append(name)
        return names

    def tag(self, repository: str = REPOSITORY) -> str:
        digest = hashlib.sha256(RECIPE_VERSION.encode())
        for part in (self.packages_file, self.customize_script):
            digest.update(part.read_bytes())
        digest.update("\n".join([*MMDEBSTRAP_OPTIONS, *DOCKER_CHANGES, FINISH_DOCKERFILE]).encode())
        return f"{repository}:{digest.hexdigest()[:12]}"


def vagrant_public_key() -> Path:
    """Vagrant's bundled insecure key (Debian ships it inside the vagrant gem)."""
    listing = run(["dpkg", "-L", "vagrant"], check=False).stdout
    for line in listing.splitlines():
        if line.endswith("/keys/vagrant.pub"):
            return Path(line)
    raise MachineError("vagrant's keys/vagrant.pub not found: is the vagrant package installed?")


def image_exists(tag: str) -> bool:
    return run(["docker", "image", "inspect", tag], check=False).returncode == 0


def mmdebstrap_command(inputs: NodeImageInputs, target: Path, mirrors: list[str]) -> list[str]:
    return [
        # auto: root mode as root, unshare mode otherwise
        "mmdebstrap", "--mode=auto", "--format=tar", *MMDEBSTRAP_OPTIONS,
        "--include=" + ",".join(inputs.packages()),
        f'--customize-hook={inputs.customize_script} "$1"',
        CODENAME, str(target), *mirrors,
    ]


def finish(base: str, tag: str) -> None:
    """Add what `docker import` can't (the stop signal) with a no-context legacy build."""
    env = dict(os.environ, DOCKER_BUILDKIT="0")
    proc = run(["docker", "build", "-q", "-t", tag, "-"], input=FINISH_DOCKERFILE.format(base=base), env=env,
               check=False)
    if proc.returncode != 0:
        raise MachineError(f"docker build of {tag} failed: {last_line(proc)}")
    run(["docker", "image", "rm", base])


def build(repo: Path, force: bool = False, repository: str = REPOSITORY) -> tuple[str, float]:
    """Ensure the node image exists; return its tag and the seconds spent building (0 if cached)."""
    inputs = NodeImageInputs.in_repo(repo)
    tag = inputs.tag(repository)
    if not force and image_exists(tag):
        tag_latest(tag)
        return tag, 0.0
    mirrors = [s.line() for s in debian_sources(CODENAME, host_sources())]
    if not mirrors:
        raise MachineError(f"no Debian {CODENAME} source in /etc/apt: cannot bootstrap the node image")
    started = time.monotonic()
    cache = repo / ".lab" / "cache"
    cache.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(dir=cache, prefix="node-image-") as tmp:
        tarball = Path(tmp) / "rootfs.tar"
        env = dict(os.environ, VAGRANT_PUBKEY=str(vagrant_public_key()))
        run(mmdebstrap_command(inputs, tarball, mirrors), env=env, capture=False)
        changes = [arg for change in DOCKER_CHANGES for arg in ("--change", change)]
        base = f"{tag}-rootfs"
        run(["docker", "import", *changes, "--message", "kubelab node image", str(tarball), base])
    finish(base, tag)
    tag_latest(tag)
    prune_old_tags(tag)
    return tag, time.monotonic() - started


def tag_latest(tag: str) -> None:
    """`<repository>:latest` too, so a plain `vagrant up` (no KUBELAB_NODE_IMAGE) finds it."""
    run(["docker", "tag", tag, tag.rsplit(":", 1)[0] + ":latest"])


def prune_old_tags(keep: str) -> None:
    """Untag earlier node images (each is ~0.5 GB); one a container still uses stays."""
    repository = keep.rsplit(":", 1)[0]
    listed = run(["docker", "images", repository, "--format", "{{.Repository}}:{{.Tag}}"], check=False).stdout
    for old in listed.split():
        if old not in (keep, f"{repository}:latest"):
            run(["docker", "image", "rm", old], check=False)
