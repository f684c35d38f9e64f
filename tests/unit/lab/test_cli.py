"""The `lab` command as a user meets it: one-line errors, and `up` wiring the phases
together (with Vagrant and the image build replaced by fakes)."""

from __future__ import annotations

from pathlib import Path

import pytest
from click.testing import CliRunner

import lab.cli as cli
from lab.machines.inventory import SshEndpoint
from lab.machines.vagrant import Vagrant


def invoke(*args: str):  # type: ignore[no-untyped-def]
    return CliRunner().invoke(cli.main, list(args), catch_exceptions=False)


def test_a_broken_lab_file_is_one_line_and_a_failure(checkout: Path) -> None:
    (checkout / "lab.yml").write_text("network: 192.168.56.0/24\nmachines:\n"
                                      "  - {name: cp1, ip: 10.1.1.1, roles: [etcd, control_plane]}\n")
    result = invoke("status")
    assert result.exit_code == 1
    assert result.output.strip() == "Error: lab.yml: machines[0] (cp1): ip 10.1.1.1 is outside network 192.168.56.0/24"


def test_kubeconfig_before_deploy_says_what_to_do(checkout: Path) -> None:
    result = invoke("kubeconfig")
    assert result.exit_code == 1
    assert "run `lab up`" in result.output


def test_kubeconfig_prints_an_export_line(checkout: Path) -> None:
    (checkout / ".lab").mkdir()
    (checkout / ".lab" / "admin.kubeconfig").write_text("apiVersion: v1\n")
    assert invoke("kubeconfig").output == f"export KUBECONFIG={checkout / '.lab' / 'admin.kubeconfig'}\n"
    assert invoke("kubeconfig", "--path").output == f"{checkout / '.lab' / 'admin.kubeconfig'}\n"


def test_deploy_without_machines_asks_for_lab_up(checkout: Path) -> None:
    result = invoke("deploy")
    assert result.exit_code == 1
    assert "inventory/hosts.ini is missing: run `lab up` first" in result.output


def test_ssh_to_an_unknown_machine_is_refused(checkout: Path) -> None:
    result = invoke("ssh", "w9", "--", "true")
    assert result.exit_code == 1
    assert "no machine named 'w9'" in result.output


def test_up_builds_the_image_starts_machines_and_writes_the_inventory(
        checkout: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    calls: list[str] = []

    def fake_build(repo: Path, force: bool = False, repository: str = "") -> tuple[str, float]:
        calls.append("image")
        return "kubelab/node:t", 1.0

    monkeypatch.setattr(cli.node_image, "build", fake_build)

    def fake_up(self: Vagrant) -> None:
        calls.append(f"up {self.provider} {self.node_image} {' '.join(self.lab.names())}")

    monkeypatch.setattr(Vagrant, "up", fake_up)
    monkeypatch.setattr(Vagrant, "ssh_config", lambda self: {
        name: SshEndpoint("127.0.0.1", 2200 + i, "vagrant", "") for i, name in enumerate(self.lab.names())})

    result = invoke("up", "--no-deploy")
    assert result.exit_code == 0, result.output
    assert calls == ["image", "up docker kubelab/node:t cp1 w1 w2"]
    hosts = (checkout / ".lab" / "inventory" / "hosts.ini").read_text()
    assert "w1 ansible_host=127.0.0.1 ansible_port=2201 ansible_user=vagrant" in hosts
    assert "timings" in result.output and "vagrant up" in result.output


def test_a_failing_vagrant_up_stops_before_the_inventory(checkout: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(cli.node_image, "build", lambda repo, force=False, repository="": ("kubelab/node:t", 0.0))

    def broken_up(self: Vagrant) -> None:
        raise cli.MachineError("vagrant up --provider failed (exit 1): Docker is not running")

    monkeypatch.setattr(Vagrant, "up", broken_up)
    result = invoke("up")
    assert result.exit_code == 1
    assert result.output.splitlines()[-1] == "Error: vagrant up --provider failed (exit 1): Docker is not running"
    assert not (checkout / ".lab" / "inventory" / "hosts.ini").exists()


def test_the_failed_phase_is_named_in_the_timings(checkout: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(cli.node_image, "build", lambda repo, force=False, repository="": ("kubelab/node:t", 0.0))
    monkeypatch.setattr(Vagrant, "up", lambda self: (_ for _ in ()).throw(cli.MachineError("boom")))
    result = invoke("up")
    assert "vagrant up (docker: cp1, w1, w2) (failed)" in result.output


def test_deploy_builds_wheelhouse_and_images_then_runs_site_yml(
        checkout: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import lab.deploy.ansible as ansible
    import lab.deploy.wheelhouse as wheelhouse

    (checkout / ".lab" / "inventory").mkdir(parents=True)
    (checkout / ".lab" / "inventory" / "hosts.ini").write_text("[all]\n")
    calls: list[tuple[str, ...]] = []
    monkeypatch.setattr(wheelhouse, "build", lambda dest: calls.append(("wheelhouse", str(dest))) or dest)
    monkeypatch.setattr(cli.pod_images, "build_all", lambda repo, dest: calls.append(("images", str(dest))) or [])
    monkeypatch.setattr(ansible, "run_playbook", lambda playbook, inventory, **kw: calls.append(
        ("playbook", str(playbook), str(inventory))) or 2)

    result = invoke("deploy")
    state = checkout / ".lab"
    assert calls == [("wheelhouse", str(state / "wheelhouse")), ("images", str(state / "images")),
                     ("playbook", str(checkout / "playbooks" / "site.yml"), str(state / "inventory" / "hosts.ini"))]
    assert result.exit_code == 1
    assert result.output.splitlines()[-1] == "Error: playbooks/site.yml failed (exit 2)"


def test_down_destroys_machines_and_forgets_their_inventory(checkout: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    calls: list[str] = []
    monkeypatch.setattr(Vagrant, "destroy", lambda self: calls.append("destroy"))
    monkeypatch.setattr(Vagrant, "remove_docker_leftovers",
                        lambda self: calls.append("leftovers") or ["volume kubelab-w1-containerd"])
    state = checkout / ".lab"
    (state / "inventory").mkdir(parents=True)
    (state / "inventory" / "hosts.ini").write_text("[all]\n")
    (state / "admin.kubeconfig").write_text("apiVersion: v1\n")
    (state / "pki").mkdir()

    result = invoke("down")
    assert result.exit_code == 0, result.output
    assert calls == ["destroy", "leftovers"]
    assert "removed volume kubelab-w1-containerd" in result.output
    assert not (state / "inventory" / "hosts.ini").exists() and not (state / "admin.kubeconfig").exists()
    assert (state / "pki").is_dir()
    # nothing up: down again is fine
    assert invoke("down").exit_code == 0
