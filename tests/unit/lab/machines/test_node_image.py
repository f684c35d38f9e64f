"""The node image is tagged by its inputs, so `lab up` rebuilds it only when they change."""

from __future__ import annotations

import shutil
from pathlib import Path

from lab.machines import node_image
from lab.machines.node_image import NodeImageInputs, mmdebstrap_command

REPO = Path(__file__).resolve().parents[4]


def copy_inputs(tmp_path: Path) -> NodeImageInputs:
    (tmp_path / "images/node").mkdir(parents=True)
    for name in ("packages.txt", "customize.sh"):
        shutil.copy(REPO / "images/node" / name, tmp_path / "images/node" / name)
    return NodeImageInputs.in_repo(tmp_path)


def test_the_package_list_is_what_a_kubelab_node_needs() -> None:
    packages = NodeImageInputs.in_repo(REPO).packages()
    for needed in ("systemd-sysv", "openssh-server", "python3-apt", "containerd", "etcd-server", "docker-registry"):
        assert needed in packages
    assert all(" " not in p and not p.startswith("#") for p in packages)


def test_the_tag_changes_with_the_package_list_or_the_build_script(tmp_path: Path) -> None:
    inputs = copy_inputs(tmp_path)
    before = inputs.tag()
    assert before.startswith("kubelab/node:") and before == NodeImageInputs.in_repo(REPO).tag()
    inputs.packages_file.write_text(inputs.packages_file.read_text() + "jq\n")
    after_packages = inputs.tag()
    inputs.customize_script.write_text(inputs.customize_script.read_text() + "# tweak\n")
    assert len({before, after_packages, inputs.tag()}) == 3


def test_mmdebstrap_gets_the_packages_the_hook_and_the_mirrors() -> None:
    inputs = NodeImageInputs.in_repo(REPO)
    cmd = mmdebstrap_command(inputs, Path("/tmp/x.tar"), ["deb http://m/debian bookworm main"])
    assert cmd[0] == "mmdebstrap"
    include = next(a for a in cmd if a.startswith("--include="))
    assert "openssh-server" in include.split("=", 1)[1].split(",")
    assert f"--customize-hook={inputs.customize_script} \"$1\"" in cmd
    assert cmd[-3:] == ["bookworm", "/tmp/x.tar", "deb http://m/debian bookworm main"]


def test_an_existing_tag_is_not_rebuilt(monkeypatch) -> None:  # type: ignore[no-untyped-def]
    commands: list[list[str]] = []
    monkeypatch.setattr(node_image, "image_exists", lambda tag: True)
    monkeypatch.setattr(node_image, "run", lambda cmd, **k: commands.append(cmd))
    tag, seconds = node_image.build(REPO, repository="example/node")
    assert (tag, seconds) == (NodeImageInputs.in_repo(REPO).tag("example/node"), 0.0)
    # only re-pointing :latest, no mmdebstrap, no import
    assert commands == [["docker", "tag", tag, "example/node:latest"]]
