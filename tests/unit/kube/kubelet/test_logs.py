"""CRI log files read as `kubectl logs` shows them: full and partial lines, timestamps, since,
tail, limitBytes, and follow across a rotation until the container stops."""

from __future__ import annotations

import asyncio
import os
from datetime import UTC, datetime
from pathlib import Path

import pytest

from lab.kube.kubelet import logs
from lab.kube.kubelet.logs import LogFormatError, LogOptions, parse_line, parse_timestamp, read_logs

LINES = (b"2026-12-02T10:00:00.000000001Z stdout F one\n"
         b"2026-12-02T10:00:01.5Z stderr P par\n"
         b"2026-12-02T10:00:01.6Z stderr F tial\n"
         b"2026-12-02T10:00:02.123456789+00:00 stdout F three\n")


async def collect(path: Path, options: LogOptions) -> bytes:
    return b"".join([chunk async for chunk in read_logs(str(path), options)])


@pytest.fixture
def log_file(tmp_path: Path) -> Path:
    path = tmp_path / "0.log"
    path.write_bytes(LINES)
    return path


def test_a_cri_line_parses_into_its_parts() -> None:
    line = parse_line(b"2026-12-02T10:00:00.5Z stderr P half a line\n")
    assert (line.timestamp, line.stream, line.partial, line.text) == ("2026-12-02T10:00:00.5Z", "stderr", True,
                                                                       b"half a line")
    assert parse_line(b"2026-12-02T10:00:00Z stdout F\n").text == b""  # an empty line
    for bad in (b"garbage\n", b"2026-12-02T10:00:00Z stdlog F x\n", b"2026-12-02T10:00:00Z stdout X x\n"):
        with pytest.raises(LogFormatError):
            parse_line(bad)


def test_nanosecond_timestamps_compare_in_order() -> None:
    assert parse_timestamp("2026-12-02T10:00:00.000000001Z") < parse_timestamp("2026-12-02T10:00:00.000002Z")
    assert parse_timestamp("2026-12-02T10:00:00Z") == datetime(2026, 12, 2, 10, tzinfo=UTC)


async def test_the_whole_log_joins_partial_lines(log_file: Path) -> None:
    assert await collect(log_file, LogOptions()) == b"one\npartial\nthree\n"


async def test_timestamps_prefix_each_line_once(log_file: Path) -> None:
    assert await collect(log_file, LogOptions(timestamps=True)) == (
        b"2026-12-02T10:00:00.000000001Z one\n2026-12-02T10:00:01.5Z partial\n"
        b"2026-12-02T10:00:02.123456789+00:00 three\n")


async def test_tail_lines_counts_records_from_the_end(log_file: Path) -> None:
    assert await collect(log_file, LogOptions(tail_lines=1)) == b"three\n"
    assert await collect(log_file, LogOptions(tail_lines=0)) == b""
    assert await collect(log_file, LogOptions(tail_lines=100)) == b"one\npartial\nthree\n"


async def test_tail_finds_lines_across_read_blocks(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(logs, "TAIL_BLOCK", 16)
    path = tmp_path / "0.log"
    path.write_bytes(b"".join(b"2026-12-02T10:00:00Z stdout F line %d\n" % i for i in range(50)))
    assert await collect(path, LogOptions(tail_lines=3)) == b"line 47\nline 48\nline 49\n"


async def test_since_time_skips_older_lines(log_file: Path) -> None:
    since = parse_timestamp("2026-12-02T10:00:01.55Z")
    assert await collect(log_file, LogOptions(since_time=since)) == b"tial\nthree\n"


async def test_limit_bytes_cuts_the_output(log_file: Path) -> None:
    assert await collect(log_file, LogOptions(limit_bytes=6)) == b"one\npa"


async def test_unparsable_lines_are_skipped(tmp_path: Path) -> None:
    path = tmp_path / "0.log"
    path.write_bytes(b"not a cri line\n2026-12-02T10:00:00Z stdout F ok\n")
    assert await collect(path, LogOptions()) == b"ok\n"


async def test_follow_streams_new_lines_across_a_rotation_until_the_container_stops(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(logs, "POLL", 0.01)
    monkeypatch.setattr(logs, "RUNNING_CHECK", 0.05)
    path = tmp_path / "0.log"
    path.write_bytes(b"2026-12-02T10:00:00Z stdout F first\n")
    stopped = asyncio.Event()

    async def running() -> bool:
        return not stopped.is_set()

    got: list[bytes] = []

    async def follow() -> None:
        async for chunk in read_logs(str(path), LogOptions(follow=True), running):
            got.append(chunk)

    task = asyncio.create_task(follow())
    for _ in range(100):
        if got:
            break
        await asyncio.sleep(0.01)
    with path.open("ab") as f:
        f.write(b"2026-12-02T10:00:01Z stdout F second\n2026-12-02T10:00:02Z stdout F half")
    await asyncio.sleep(0.1)
    assert got == [b"first\n", b"second\n"]  # an unfinished line waits for its end
    with path.open("ab") as f:
        f.write(b"-line\n")  # the writer finishes the physical line, then the runtime rotates the file
    os.rename(path, tmp_path / "0.log.20261202-100003")
    path.write_bytes(b"2026-12-02T10:00:04Z stdout F after rotation\n")
    await asyncio.sleep(0.2)
    stopped.set()
    await asyncio.wait_for(task, 5)  # ends by itself once the container stopped
    assert b"".join(got) == b"first\nsecond\nhalf-line\nafter rotation\n"
