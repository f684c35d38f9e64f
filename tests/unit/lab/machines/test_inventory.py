"""The inventory Ansible gets: kubespray's groups from lab.yml roles, SSH from Vagrant."""

from __future__ import annotations

import configparser
import stat
from pathlib import Path

import pytest

from lab.machines.inventory import SshEndpoint, parse_ssh_config, private_keys, render, write
from lab.machines.labfile import load

REPO = Path(__file__).resolve().parents[4]

SSH_CONFIG = """\
Host cp1
  HostName 127.0.0.1
  User vagrant
  Port 2200
  UserKnownHostsFile /dev/null
  IdentityFile /root/.vagrant.d/insecure_private_key
  IdentityFile /root/.vagrant.d/other_key
  IdentitiesOnly yes

Host w1
  HostName 127.0.0.1
  User vagrant
  Port 2222
  IdentityFile "/keys/with space"

Host w2
  HostName 172.17.0.4
  User vagrant
  Port 22
  IdentityFile /k
"""


def test_vagrant_ssh_config_gives_each_machine_its_endpoint() -> None:
    endpoints = parse_ssh_config(SSH_CONFIG)
    assert endpoints["cp1"] == SshEndpoint("127.0.0.1", 2200, "vagrant", "/root/.vagrant.d/insecure_private_key")
    assert endpoints["w1"].port == 2222
    assert endpoints["w1"].identity_file == "/keys/with space"
    assert endpoints["w2"].host == "172.17.0.4"


def read_ini(text: str) -> configparser.ConfigParser:
    parser = configparser.ConfigParser(allow_no_value=True, delimiters=(" ",))
    parser.optionxform = str  # type: ignore[assignment,method-assign]
    parser.read_string(text)
    return parser


def test_groups_follow_the_roles_of_lab_yml() -> None:
    ini = read_ini(render(load(REPO / "lab.yml"), parse_ssh_config(SSH_CONFIG)))
    assert list(ini["etcd"]) == ["cp1"]
    assert list(ini["kube_control_plane"]) == ["cp1"]
    assert list(ini["kube_node"]) == ["w1", "w2"]
    assert list(ini["registry"]) == ["cp1"]
    assert list(ini["k8s_cluster:children"]) == ["kube_control_plane", "kube_node"]


def test_host_vars_say_how_to_ssh_in_and_which_lab_address_to_use() -> None:
    text = render(load(REPO / "lab.yml"), parse_ssh_config(SSH_CONFIG))
    cp1 = next(line for line in text.splitlines() if line.startswith("cp1 "))
    assert cp1 == ("cp1 ansible_host=127.0.0.1 ansible_port=2200 ansible_user=vagrant "
                   "ansible_ssh_private_key_file=/root/.vagrant.d/insecure_private_key ip=192.168.56.11")
    # machines are recreated with fresh host keys: no host key checking
    assert "ansible_ssh_common_args='-o StrictHostKeyChecking=no -o UserKnownHostsFile=/dev/null" in text


def test_a_machine_vagrant_does_not_know_is_an_error() -> None:
    endpoints = parse_ssh_config(SSH_CONFIG)
    del endpoints["w2"]
    with pytest.raises(ValueError, match="no SSH details for w2"):
        render(load(REPO / "lab.yml"), endpoints)


def test_keys_are_copied_private_so_ssh_accepts_them(tmp_path: Path) -> None:
    key = tmp_path / "vagrant.d" / "insecure_private_key"
    key.parent.mkdir()
    key.write_text("KEY")
    key.chmod(0o644)  # as Debian's vagrant package ships it
    copied = private_keys({"cp1": SshEndpoint("127.0.0.1", 2200, "vagrant", str(key))}, tmp_path / "ssh")
    target = Path(copied["cp1"].identity_file)
    assert target.parent == tmp_path / "ssh"
    assert target.read_text() == "KEY"
    assert stat.S_IMODE(target.stat().st_mode) == 0o600


def test_write_puts_hosts_ini_under_the_state_dir(tmp_path: Path) -> None:
    endpoints = {name: SshEndpoint("127.0.0.1", 2200 + i, "vagrant", "") for i, name in enumerate(["cp1", "w1", "w2"])}
    path = write(load(REPO / "lab.yml"), endpoints, tmp_path)
    assert path == tmp_path / "inventory" / "hosts.ini"
    assert "w2 ansible_host=127.0.0.1 ansible_port=2202" in path.read_text()
