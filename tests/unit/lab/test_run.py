"""The lab's one way to run a host tool: captured, on the terminal or streamed, and one-line failures."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

from lab.run import CommandError, last_line, run

PY = sys.executable


def test_output_is_captured_as_text_with_cwd_env_and_input(tmp_path: Path) -> None:
    code = "import os, sys; print(os.getcwd(), os.environ['LAB_X'], sys.stdin.read())"
    proc = run([PY, "-c", code], cwd=tmp_path, env={"LAB_X": "x"}, input="in")
    assert proc.stdout == f"{tmp_path} x in\n" and proc.returncode == 0


def test_binary_output_stays_bytes() -> None:
    proc = run([PY, "-c", "import sys; sys.stdout.buffer.write(bytes([0, 255]))"], text=False)
    assert proc.stdout == b"\x00\xff"


def test_a_failure_is_one_line_with_the_command_exit_code_and_last_line_of_stderr(tmp_path: Path) -> None:
    script = tmp_path / "tool.py"
    script.write_text("import sys\nprint('progress')\nsys.stderr.write('first\\nDocker is not running\\n')\n"
                      "sys.exit(2)\n")
    with pytest.raises(CommandError) as caught:
        run([PY, str(script), "up", "--provider", "docker"])
    assert str(caught.value) == f"{PY} {script} up failed (exit 2): Docker is not running"
    assert (caught.value.argv, caught.value.code) == ((PY, str(script), "up", "--provider", "docker"), 2)
    assert caught.value.stderr == "first\nDocker is not running\n"
    unchecked = run([PY, str(script)], check=False)
    assert unchecked.returncode == 2 and last_line(unchecked) == "Docker is not running"


def test_a_missing_tool_says_how_to_install_it() -> None:
    with pytest.raises(CommandError, match=r"^kubelab-no-such-tool is not installed \(run scripts/host-setup.sh\)$"):
        run(["kubelab-no-such-tool", "up"])


def test_a_timeout_is_a_command_error() -> None:
    with pytest.raises(CommandError, match="timed out after 0s"):
        run([PY, "-c", "import time; time.sleep(30)"], timeout=0.3)


def test_uncaptured_output_goes_to_the_terminal(capfd: pytest.CaptureFixture[str]) -> None:
    proc = run([PY, "-c", "print('to the user')"], capture=False)
    assert proc.stdout is None and capfd.readouterr().out == "to the user\n"


def test_streamed_lines_arrive_one_by_one_and_are_kept() -> None:
    seen: list[str] = []
    code = "import sys; print('one', flush=True); sys.stderr.write('two\\n'); sys.stderr.flush(); print('three')"
    proc = run([PY, "-c", code], on_line=seen.append, check=False)
    assert seen == ["one\n", "two\n", "three\n"]
    assert proc.stdout == "one\ntwo\nthree\n" and proc.returncode == 0
