"""Reading a container's CRI log file as upstream's kubelet does (pkg/kubelet/kuberuntime/logs).

The runtime writes one line per write: `<RFC3339Nano> <stdout|stderr> <F|P> <text>`, `P` for a
partial line whose rest follows. `read_logs` yields what `kubectl logs` prints: the text (with
its timestamp when asked), after `sinceTime`, the last `tailLines` lines, at most `limitBytes`
bytes, and with `follow` keeps reading new lines (reopening the file when it is rotated) until
the container stops.

    async for chunk in read_logs(path, LogOptions(follow=True, tail_lines=10), still_running):
        await response.write(chunk)
"""

from __future__ import annotations

import asyncio
import os
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass
from datetime import UTC, datetime

POLL = 0.2           # seconds between looks at a followed file (upstream waits on inotify)
RUNNING_CHECK = 1.0  # seconds between asking the runtime whether a followed container still runs
TAIL_BLOCK = 64 * 1024
BATCH = 64 * 1024  # bytes of log lines per write: one write per line made `kubectl logs` crawl


class LogFormatError(ValueError):
    """A line that is not in the CRI log format."""


@dataclass(frozen=True)
class LogLine:
    timestamp: str  # as written: RFC3339Nano
    stream: str     # stdout | stderr
    partial: bool
    text: bytes     # without the trailing newline

    def when(self) -> datetime:
        return parse_timestamp(self.timestamp)


@dataclass(frozen=True)
class LogOptions:
    follow: bool = False
    tail_lines: int | None = None  # None: all
    since_time: datetime | None = None
    timestamps: bool = False
    limit_bytes: int | None = None  # None: no limit


def parse_timestamp(value: str) -> datetime:
    """RFC3339 with up to nanoseconds (Python keeps microseconds; enough to compare with since)."""
    text = value.replace("Z", "+00:00")
    if "." in text:
        head, _, rest = text.partition(".")
        digits = len(rest) - len(rest.lstrip("0123456789"))
        text = f"{head}.{rest[:min(digits, 6)].ljust(6, '0')}{rest[digits:]}"
    parsed = datetime.fromisoformat(text)
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)


def parse_line(raw: bytes) -> LogLine:
    line = raw[:-1] if raw.endswith(b"\n") else raw
    parts = line.split(b" ", 3)
    if len(parts) < 3:
        raise LogFormatError(f"invalid CRI log line {line[:80]!r}")
    stamp, stream, tag = parts[0].decode("ascii", "replace"), parts[1].decode("ascii", "replace"), parts[2]
    if stream not in ("stdout", "stderr") or not tag or tag.split(b":", 1)[0] not in (b"F", b"P"):
        raise LogFormatError(f"invalid CRI log line {line[:80]!r}")
    return LogLine(stamp, stream, tag.startswith(b"P"), parts[3] if len(parts) > 3 else b"")


def render(line: LogLine, timestamps: bool, at_line_start: bool) -> bytes:
    """What is printed for one log record: a full line ends with a newline, a partial one not."""
    prefix = f"{line.timestamp} ".encode() if timestamps and at_line_start else b""
    return prefix + line.text + (b"" if line.partial else b"\n")


def tail_offset(path: str, lines: int) -> int:
    """Offset in `path` where its last `lines` full records start (upstream findTailStartIndex)."""
    if lines <= 0:
        return os.path.getsize(path)
    with open(path, "rb") as f:
        end = f.seek(0, os.SEEK_END)
        pos, newlines, buf = end, 0, b""
        while pos > 0:
            step = min(TAIL_BLOCK, pos)
            pos -= step
            f.seek(pos)
            buf = f.read(step) + buf
            # the file's last newline ends the last line: count one more than asked
            newlines = buf.count(b"\n")
            if newlines > lines:
                cut = len(buf)
                for _ in range(lines + 1):
                    cut = buf.rfind(b"\n", 0, cut)
                return pos + cut + 1
        return 0


class _Limit:
    def __init__(self, limit: int | None) -> None:
        self.left = limit

    def take(self, data: bytes) -> bytes:
        if self.left is None:
            return data
        data = data[:self.left]
        self.left -= len(data)
        return data

    @property
    def done(self) -> bool:
        return self.left is not None and self.left <= 0


class LogFile:
    """The open log file of one container instance. Reads of a local file are short, so they
    run inline on the event loop; only waiting for more is async."""

    def __init__(self, path: str, tail_lines: int | None) -> None:
        self.path = path
        self.handle = open(path, "rb")
        if tail_lines is not None:
            self.handle.seek(tail_offset(path, tail_lines))

    def readline(self) -> bytes:
        return self.handle.readline()

    def rotated(self) -> bool:
        """True when `path` is now another file (the runtime reopened it after a rotation)."""
        try:
            st = os.stat(self.path)
        except FileNotFoundError:
            return False  # renamed, the new one not created yet: keep draining the old
        own = os.fstat(self.handle.fileno())
        return (st.st_ino, st.st_dev) != (own.st_ino, own.st_dev)

    def reopen(self) -> None:
        self.handle.close()
        self.handle = open(self.path, "rb")

    def close(self) -> None:
        self.handle.close()


async def read_logs(path: str, options: LogOptions,
                    running: Callable[[], Awaitable[bool]] | None = None) -> AsyncIterator[bytes]:
    """Yield the log as `kubectl logs` shows it; with `follow`, until `running()` says False.
    Lines come in batches of up to BATCH bytes, and whatever is there is yielded before any
    wait, so a follower still sees each line as it is written."""
    limit = _Limit(options.limit_bytes)
    f = LogFile(path, options.tail_lines)
    batch = bytearray()
    try:
        at_line_start, pending = True, b""
        last_check, alive = 0.0, True
        loop = asyncio.get_running_loop()
        while True:
            chunk = f.readline()
            if chunk.endswith(b"\n"):
                raw, pending = pending + chunk, b""
                try:
                    line = parse_line(raw)
                except LogFormatError:
                    continue  # upstream logs and skips a line it cannot parse
                if options.since_time is not None and line.when() < options.since_time:
                    continue
                batch += limit.take(render(line, options.timestamps, at_line_start))
                at_line_start = not line.partial
                if limit.done:
                    break
                if len(batch) >= BATCH:
                    yield bytes(batch)
                    batch.clear()
                continue
            pending += chunk  # a line still being written, or the end of the file
            if batch:
                yield bytes(batch)
                batch.clear()
            if not options.follow:
                return
            if f.rotated():
                f.reopen()  # the rest is in the new file
                pending = b""
                continue
            now = loop.time()
            if running is not None and now - last_check >= RUNNING_CHECK:
                last_check = now
                if not alive:
                    return  # it had stopped and the file is drained
                alive = await running()
                if not alive:
                    continue  # one more pass for what it wrote before stopping
            await asyncio.sleep(POLL)
        if batch:
            yield bytes(batch)
    finally:
        f.close()
