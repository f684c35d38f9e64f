"""lab.yml: the default lab loads, and every kind of mistake is one clear line."""

from __future__ import annotations

import copy
import re
from pathlib import Path
from typing import Any

import pytest

from lab.machines.labfile import LabFileError, load, parse

REPO = Path(__file__).resolve().parents[4]

GOOD: dict[str, Any] = {
    "name": "kubelab",
    "provider": "docker",
    "network": "192.168.56.0/24",
    "memory": 1024,
    "machines": [
        {"name": "cp1", "ip": "192.168.56.11", "roles": ["etcd", "control_plane", "registry"]},
        {"name": "w1", "ip": "192.168.56.21", "roles": ["worker"], "cpus": 4},
    ],
}


def changed(**edits: Any) -> dict[str, Any]:
    raw = copy.deepcopy(GOOD)
    raw.update(edits)
    return raw


def test_the_default_lab_has_one_control_plane_and_two_workers() -> None:
    lab = load(REPO / "lab.yml")
    assert lab.provider == "docker"
    assert lab.names() == ["cp1", "w1", "w2"]
    assert lab.machine("cp1").ip == "192.168.56.11"
    assert [m.name for m in lab.with_role("worker")] == ["w1", "w2"]
    assert lab.with_role("etcd") == lab.with_role("registry") == [lab.machine("cp1")]
    assert lab.volume("w1") == "kubelab-w1-containerd"


def test_machine_sizes_default_from_the_top_level() -> None:
    lab = parse(GOOD)
    assert (lab.machine("cp1").memory, lab.machine("cp1").cpus) == (1024, 2)
    assert (lab.machine("w1").memory, lab.machine("w1").cpus) == (1024, 4)


def machines_with(**second: Any) -> list[dict[str, Any]]:
    machines = copy.deepcopy(GOOD["machines"])
    machines[1].update(second)
    return machines


@pytest.mark.parametrize("raw, message", [
    (changed(machines=machines_with(ip="192.168.56.11")), "ip 192.168.56.11 is already used by cp1"),
    (changed(machines=machines_with(ip="10.0.0.5")), "ip 10.0.0.5 is outside network 192.168.56.0/24"),
    (changed(machines=machines_with(ip="192.168.56.1")), "is reserved"),
    (changed(machines=machines_with(roles=["wroker"])), "unknown role 'wroker'"),
    (changed(machines=machines_with(roles=["etcd", "worker"])), "odd number of members, got 2"),
    (changed(machines=machines_with(name="cp1")), "machine name 'cp1' is used twice"),
    (changed(machines=machines_with(name="W_1")), "is not a DNS label"),
    (changed(provider="hyperv"), "provider 'hyperv' is not one of"),
    (changed(network="192.168.56.1/24"), "network:"),
    (changed(machines=[]), "machines must be a non-empty list"),
    (changed(cpus=0), "cpus must be a positive integer"),
])
def test_a_mistake_is_one_line_naming_the_machine(raw: dict[str, Any], message: str) -> None:
    with pytest.raises(LabFileError) as err:
        parse(raw)
    assert message in str(err.value)
    assert "\n" not in str(err.value)


def test_a_lab_needs_a_control_plane() -> None:
    raw = changed(machines=[{"name": "e1", "ip": "192.168.56.11", "roles": ["etcd"]}])
    with pytest.raises(LabFileError, match="no machine has the control_plane role"):
        parse(raw)


def test_broken_yaml_and_missing_files_are_reported(tmp_path: Path) -> None:
    bad = tmp_path / "lab.yml"
    bad.write_text("machines: [\n")
    with pytest.raises(LabFileError, match=re.escape("lab.yml: not valid YAML")):
        load(bad)
    with pytest.raises(LabFileError, match="no such lab file"):
        load(tmp_path / "missing.yml")


def test_asking_for_an_unknown_machine_lists_the_known_ones() -> None:
    with pytest.raises(LabFileError, match="no machine named 'w9' \\(have cp1, w1\\)"):
        parse(GOOD).machine("w9")
