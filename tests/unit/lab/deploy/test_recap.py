"""Reading a playbook's PLAY RECAP, which the e2e test uses to prove a second run changed nothing."""

from __future__ import annotations

import io
import sys

from lab.deploy.ansible import PlaybookResult, playbook_command, run_playbook
from lab.deploy.recap import parse_recap

OUTPUT = """\
TASK [etcd : Write the etcd member configuration] ****
changed: [cp1]

PLAY RECAP *********************************************************************
\x1b[0;33mcp1\x1b[0m                        : \x1b[0;32mok=63  \x1b[0m \x1b[0;33mchanged=2   \x1b[0m unreachable=0    failed=0    skipped=12   rescued=0    ignored=0
localhost                  : ok=1    changed=0    unreachable=0    failed=0    skipped=0    rescued=0    ignored=0
w1                         : ok=53   changed=0    unreachable=0    failed=1    skipped=8    rescued=0    ignored=0
"""  # noqa: E501  verbatim ansible-playbook output, colour codes included; one host per line


def test_recap_gives_counts_per_host_even_in_colour() -> None:
    recap = parse_recap(OUTPUT.splitlines())
    assert set(recap) == {"cp1", "localhost", "w1"}
    assert recap["cp1"]["changed"] == 2
    assert recap["cp1"]["ok"] == 63
    assert recap["w1"]["failed"] == 1


def test_lines_before_the_recap_are_not_hosts() -> None:
    assert parse_recap(["changed: [cp1]", "ok: [w1] => (item=x)"]) == {}


def test_result_is_the_exit_code_and_carries_the_recap() -> None:
    result = PlaybookResult(2, parse_recap(OUTPUT.splitlines()))
    assert result == 2 and result.rc == 2 and not result.ok
    assert result.changed() == {"cp1": 2, "localhost": 0, "w1": 0}


def test_command_resolves_playbooks_and_passes_options() -> None:
    cmd = playbook_command("site.yml", "/inv/hosts.ini", extra_vars={"reset_confirmation": "yes"},
                           limit="w1", check=True)
    assert cmd[1:3] == ["-i", "/inv/hosts.ini"]
    assert cmd[3].endswith("playbooks/site.yml")
    assert cmd[cmd.index("-e") + 1] == '{"reset_confirmation": "yes"}'
    assert cmd[cmd.index("--limit") + 1] == "w1"
    assert "--check" in cmd


def test_run_playbook_streams_output_and_parses_the_recap(monkeypatch) -> None:
    # a fake ansible-playbook that prints a recap and fails, as a real failed run does
    script = f"import sys; sys.stdout.write({OUTPUT!r}); sys.exit(2)"
    monkeypatch.setattr("lab.deploy.ansible.playbook_command",
                        lambda *a, **k: [sys.executable, "-c", script])
    out = io.StringIO()
    result = run_playbook("site.yml", "/nowhere", out=out)
    assert result.rc == 2
    assert result.recap["w1"]["failed"] == 1
    assert "PLAY RECAP" in out.getvalue()
