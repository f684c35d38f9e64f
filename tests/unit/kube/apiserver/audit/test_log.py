"""The log backend writes every queued event as a JSON line from its own thread, keeps the
last ones at close, and rotates by size as lumberjack does (renamed with a UTC time, pruned)."""

from __future__ import annotations

import datetime as dt
import json
import os
import time
from pathlib import Path

from lab.kube.apiserver.audit import LogBackend, RotatingFile
from lab.kube.apiserver.settings import from_args


def _lines(paths: list[Path]) -> list[dict]:
    return [json.loads(line) for p in paths for line in p.read_text().splitlines()]


def test_close_drains_every_queued_event(tmp_path: Path) -> None:
    path = tmp_path / "audit.log"
    backend = LogBackend.open(str(path), 0, 0, 0)
    backend.start()
    for i in range(500):
        backend.emit({"kind": "Event", "n": i})
    backend.close()
    assert [e["n"] for e in _lines([path])] == list(range(500))
    assert path.stat().st_mode & 0o777 == 0o600


def test_a_backend_never_started_still_writes_at_close(tmp_path: Path) -> None:
    path = tmp_path / "audit.log"
    backend = LogBackend.open(str(path), 0, 0, 0)
    backend.emit({"n": 1})
    backend.close()
    assert _lines([path]) == [{"n": 1}]


def test_rotation_by_size_renames_with_a_timestamp_and_keeps_max_backups(tmp_path: Path) -> None:
    path = tmp_path / "audit.log"
    log = RotatingFile(path, max_bytes=100, max_backups=2)
    line = b'{"event":"' + b"x" * 37 + b'"}\n'  # 50 bytes: two per file
    for _ in range(10):
        log.write(line)
    log.close()
    backups = log.backups()
    assert len(backups) == 2  # the oldest three were pruned
    assert path.stat().st_size == 100
    stamp = backups[0].name.removeprefix("audit-").removesuffix(".log")
    dt.datetime.strptime(stamp, "%Y-%m-%dT%H-%M-%S.%f")  # lumberjack's 2006-01-02T15-04-05.000
    assert all(p.stat().st_size == 100 for p in backups)


def test_an_existing_log_is_appended_to_until_it_is_full(tmp_path: Path) -> None:
    path = tmp_path / "audit.log"
    path.write_bytes(b"x" * 90 + b"\n")
    log = RotatingFile(path, max_bytes=100)
    log.write(b"y" * 5 + b"\n")
    log.write(b"z" * 5 + b"\n")  # would pass 100: rotate first
    log.close()
    assert path.read_bytes() == b"zzzzz\n"
    assert log.backups()[0].read_bytes().endswith(b"yyyyy\n")


def test_backups_older_than_max_age_are_removed(tmp_path: Path) -> None:
    path = tmp_path / "audit.log"
    old = tmp_path / "audit-2020-01-01T00-00-00.000.log"
    old.write_text("old\n")
    week_ago = time.time() - 8 * 86400
    os.utime(old, (week_ago, week_ago))
    log = RotatingFile(path, max_bytes=10, max_age_days=7)
    log.write(b"a" * 8 + b"\n")
    log.write(b"b" * 8 + b"\n")
    log.close()
    assert not old.exists() and len(log.backups()) == 1


def test_audit_flags() -> None:
    s = from_args(["--audit-policy-file", "/etc/kubernetes/audit-policy.yaml", "--audit-log-path", "-",
                   "--audit-log-maxage", "7", "--audit-log-maxbackup", "5", "--audit-log-maxsize", "50"])
    assert (s.audit_policy_file, s.audit_log_path) == ("/etc/kubernetes/audit-policy.yaml", "-")
    assert (s.audit_log_maxage, s.audit_log_maxbackup, s.audit_log_maxsize, s.audit_log_format) == (7, 5, 50, "json")
