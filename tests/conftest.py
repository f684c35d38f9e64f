"""Test-wide settings: integration fixtures live in tests/integration/conftest.py.

Skips are how a tier says "this machine lacks a prerequisite" (etcd, kubectl.1.NN, root,
containerd, docker...). On a developer's machine that is fine; in CI (`CI` set, as CI runs
with CI=true) and under `make test` (scripts/test.sh sets KUBELAB_REQUIRE_ALL=1) a skipped
test would turn a missing prerequisite into a green run, so there every skip is reported as a
failure instead. The run ends with the number of skipped tests (zero expected under `make test`).
"""

from __future__ import annotations

import os
from collections.abc import Generator

import pytest

_FALSE = ("", "0", "false", "no", "off")
# nodeids of tests (or collectors) whose skip was turned into a failure, for the summary
_required_missing: list[str] = []


def require_all() -> bool:
    """True when a missing prerequisite must fail, not skip: in CI or under `make test`."""
    return (os.environ.get("CI", "").strip().lower() not in _FALSE
            or os.environ.get("KUBELAB_REQUIRE_ALL", "").strip() == "1")


def _skip_reason(report: pytest.TestReport | pytest.CollectReport) -> str:
    longrepr = report.longrepr
    if isinstance(longrepr, tuple) and len(longrepr) == 3:  # (path, lineno, "Skipped: why")
        return str(longrepr[2]).removeprefix("Skipped: ")
    return str(longrepr)


def _fail_instead_of_skip(report: pytest.TestReport | pytest.CollectReport) -> None:
    if not require_all() or not report.skipped or hasattr(report, "wasxfail"):
        return  # xfail is a stated expectation, not a missing prerequisite
    _required_missing.append(report.nodeid)
    report.outcome = "failed"
    report.longrepr = (f"missing prerequisite: {_skip_reason(report)} (CI or KUBELAB_REQUIRE_ALL=1 "
                       "is set: a skip fails; scripts/host-setup.sh installs what the tiers need)")


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(item: pytest.Item,
                              call: pytest.CallInfo[None]) -> Generator[None, pytest.TestReport, pytest.TestReport]:
    report = yield
    _fail_instead_of_skip(report)
    return report


@pytest.hookimpl(wrapper=True)
def pytest_make_collect_report(
        collector: pytest.Collector) -> Generator[None, pytest.CollectReport, pytest.CollectReport]:
    report = yield  # a module-level pytest.skip(allow_module_level=True) lands here
    _fail_instead_of_skip(report)
    return report


def pytest_unconfigure(config: pytest.Config) -> None:
    """The last line of the run: how many tests were skipped (after pytest's own summary line)."""
    reporter = config.pluginmanager.get_plugin("terminalreporter")
    if reporter is None:  # -p no:terminal
        return
    if _required_missing:
        reporter.write_line(f"failed for a missing prerequisite (would have skipped): {len(_required_missing)}",
                            red=True)
    reporter.write_line(f"skipped: {len(reporter.stats.get('skipped', []))}")
