"""`lab certs check` and `lab certs renew` as a user meets them: the expiry table of .lab/pki,
renewal followed by the restart playbook (replaced by a fake), and one-line errors."""

from __future__ import annotations

from pathlib import Path

import pytest
from click.testing import CliRunner

import lab.cli as cli
from lab.pki import Bundle, NodeSpec, ensure

URL = "https://192.168.56.11:6443"


def invoke(*args: str):  # type: ignore[no-untyped-def]
    return CliRunner().invoke(cli.main, list(args), catch_exceptions=False)


@pytest.fixture()
def deployed(checkout: Path) -> Path:
    state = checkout / ".lab"
    ensure(state / "pki", Bundle(URL, ("192.168.56.11", "cp1"), (NodeSpec.parse("w1=192.168.56.21"),),
                                 (NodeSpec.parse("cp1=192.168.56.11"),)))
    (state / "inventory").mkdir(parents=True)
    (state / "inventory" / "hosts.ini").write_text("[all]\n")
    return state


def test_check_before_deploy_says_what_to_do(checkout: Path) -> None:
    result = invoke("certs", "check")
    assert result.exit_code == 1
    assert "no .lab/pki yet: run `lab up`" in result.output


def test_check_prints_the_expiry_tables(deployed: Path) -> None:
    result = invoke("certs", "check")
    assert result.exit_code == 0, result.output
    lines = result.output.splitlines()
    assert lines[0].split() == ["CERTIFICATE", "EXPIRES", "RESIDUAL", "TIME", "CERTIFICATE", "AUTHORITY"]
    rows = {line.split()[0]: line.split() for line in lines[1:lines.index("")]}
    assert rows["apiserver"][-2:] == ["364d", "ca"]
    assert rows["etcd/server-cp1"][-1] == "etcd-ca"
    assert [line.split()[0] for line in lines[lines.index("") + 2:]] == ["ca", "etcd-ca", "front-proxy-ca"]


def test_renew_reissues_then_runs_the_restart_playbook(deployed: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import lab.deploy.ansible as ansible
    calls: list[tuple[str, str]] = []
    monkeypatch.setattr(ansible, "run_playbook", lambda playbook, inventory, **kw: calls.append(
        (str(playbook), str(inventory))) or 0)
    before = (deployed / "pki" / "kube-proxy.crt").read_bytes()
    result = invoke("certs", "renew", "kube-proxy")
    assert result.exit_code == 0, result.output
    assert (deployed / "pki" / "kube-proxy.crt").read_bytes() != before
    assert "kube-proxy.kubeconfig" in result.output
    assert calls == [(str(deployed.parent / "playbooks" / "certs-renew.yml"),
                      str(deployed / "inventory" / "hosts.ini"))]


def test_renew_no_restart_touches_only_the_pki(deployed: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import lab.deploy.ansible as ansible
    monkeypatch.setattr(ansible, "run_playbook", lambda *a, **kw: pytest.fail("no playbook with --no-restart"))
    before = (deployed / "pki" / "apiserver.crt").read_bytes()
    assert invoke("certs", "renew", "--no-restart").exit_code == 0  # all by default
    assert (deployed / "pki" / "apiserver.crt").read_bytes() != before


def test_renew_an_unknown_name_is_one_line(deployed: Path) -> None:
    result = invoke("certs", "renew", "nope")
    assert result.exit_code == 1
    assert result.output.startswith("Error: no such certificate: nope (known: admin, apiserver,")


def test_a_failed_restart_playbook_is_a_failure(deployed: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import lab.deploy.ansible as ansible
    monkeypatch.setattr(ansible, "run_playbook", lambda *a, **kw: 2)
    result = invoke("certs", "renew", "admin")
    assert result.exit_code == 1
    assert "Error: playbooks/certs-renew.yml failed (exit 2)" in result.output
