"""The playbooks parse: `ansible-playbook --syntax-check` of every entry playbook (site,
reset, certs-renew) against a minimal inventory with the lab's groups. The roles run for real in the e2e tier (site.yml
twice on a docker-provider lab, the second run changing nothing).
"""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest

from lab.deploy.ansible import REPO, ansible_playbook_binary, playbook_env

pytestmark = pytest.mark.integration


def test_playbooks_pass_syntax_check(tmp_path: Path) -> None:
    inventory = tmp_path / "hosts.ini"
    inventory.write_text("[etcd]\ncp1 ip=10.0.0.1\n[kube_control_plane]\ncp1\n[registry]\ncp1\n"
                         "[kube_node]\nw1 ip=10.0.0.2\n[k8s_cluster:children]\nkube_control_plane\nkube_node\n")
    for playbook in ("site.yml", "reset.yml", "certs-renew.yml"):
        proc = subprocess.run([ansible_playbook_binary(), "-i", str(inventory), "--syntax-check",
                               str(REPO / "playbooks" / playbook)], env=playbook_env(), capture_output=True, text=True)
        assert proc.returncode == 0, proc.stdout + proc.stderr
