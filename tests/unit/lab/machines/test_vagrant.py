"""How the lab drives Vagrant: which lab and image it passes, how it reads states."""

from __future__ import annotations

from pathlib import Path

from lab.machines.labfile import load
from lab.machines.vagrant import Vagrant, parse_status

REPO = Path(__file__).resolve().parents[4]

STATUS = """\
1764000000,cp1,metadata,provider,docker
1764000000,cp1,provider-name,docker
1764000000,cp1,state,running
1764000000,w1,state,not_created
1764000000,,ui,info,Current machine states:
"""


def test_machine_readable_status_maps_machines_to_states() -> None:
    assert parse_status(STATUS) == {"cp1": "running", "w1": "not_created"}


def test_vagrant_runs_in_the_repo_with_the_lab_and_image_it_was_given() -> None:
    vagrant = Vagrant(REPO, load(REPO / "lab.yml"), "docker", "kubelab/node:abc")
    env = vagrant.env()
    assert env["VAGRANT_CWD"] == str(REPO)
    assert env["VAGRANT_DEFAULT_PROVIDER"] == "docker"
    assert env["KUBELAB_LAB"] == str(REPO / "lab.yml")
    assert env["KUBELAB_NODE_IMAGE"] == "kubelab/node:abc"


def test_ssh_passes_a_command_through_vagrant_ssh_c() -> None:
    vagrant = Vagrant(REPO, load(REPO / "lab.yml"), "docker")
    assert vagrant.ssh_argv("w1", []) == ["vagrant", "ssh", "w1"]
    assert vagrant.ssh_argv("w1", ["systemctl is-system-running"]) == [
        "vagrant", "ssh", "w1", "-c", "systemctl is-system-running"]
    assert vagrant.ssh_argv("w1", ["ip", "-4", "addr"]) == ["vagrant", "ssh", "w1", "-c", "ip -4 addr"]
