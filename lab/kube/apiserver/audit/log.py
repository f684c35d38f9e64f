"""The log backend (`--audit-log-path`): events are queued by the event loop and written as
JSON lines by one thread, so a slow disk never stalls requests; `close()` drains the queue,
so the last events of a stopping server are kept. Rotation follows lumberjack, which
upstream uses: past `max_bytes` the file is renamed `<name>-<UTC time>.<ext>` and a new one
started; old files beyond `max_backups` or `max_age_days` are removed."""

from __future__ import annotations

import datetime as dt
import logging
import os
import queue
import sys
import threading
from pathlib import Path
from typing import IO, Any

import orjson

log = logging.getLogger(__name__)
MEGABYTE = 1024 * 1024
DEFAULT_MAX_MB = 100  # lumberjack's size when none is set
_STOP = object()
_STAMP = "%Y-%m-%dT%H-%M-%S.%f"  # lumberjack's "2006-01-02T15-04-05.000", milliseconds cut below


class RotatingFile:
    """A file that rotates by size and prunes its backups (lumberjack.Logger)."""

    def __init__(self, path: Path, max_bytes: int, max_backups: int = 0, max_age_days: int = 0) -> None:
        self.path, self.max_bytes = path, max_bytes
        self.max_backups, self.max_age_days = max_backups, max_age_days
        self._file: IO[bytes] | None = None
        self._size = 0

    def write(self, data: bytes) -> None:
        if self._file is None:
            self._open_existing()
        if self._size + len(data) > self.max_bytes and self._size > 0:
            self._rotate()
        assert self._file is not None
        self._file.write(data)
        self._size += len(data)

    def flush(self) -> None:
        if self._file is not None:
            self._file.flush()

    def close(self) -> None:
        if self._file is not None:
            self._file.close()
            self._file = None

    def _open_existing(self) -> None:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(self.path, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o600)
        self._file = os.fdopen(fd, "ab")
        self._size = self.path.stat().st_size

    def backup_name(self, when: dt.datetime) -> Path:
        stamp = when.astimezone(dt.UTC).strftime(_STAMP)[:-3]
        return self.path.with_name(f"{self.path.stem}-{stamp}{self.path.suffix}")

    def _rotate(self) -> None:
        self.close()
        when = dt.datetime.now(dt.UTC)
        while self.backup_name(when).exists():  # two rotations in one millisecond keep both
            when += dt.timedelta(milliseconds=1)
        os.replace(self.path, self.backup_name(when))
        self._open_existing()
        self.prune()

    def backups(self) -> list[Path]:
        """Rotated files, newest first (their names sort by time)."""
        prefix, suffix = f"{self.path.stem}-", self.path.suffix
        found = [p for p in self.path.parent.iterdir()
                 if p.name.startswith(prefix) and p.name.endswith(suffix) and p != self.path]
        return sorted(found, key=lambda p: p.name, reverse=True)

    def prune(self) -> None:
        old = self.backups()
        doomed = old[self.max_backups:] if self.max_backups > 0 else []
        if self.max_age_days > 0:
            cutoff = dt.datetime.now().timestamp() - self.max_age_days * 86400
            doomed += [p for p in old if p not in doomed and p.stat().st_mtime < cutoff]
        for p in doomed:
            p.unlink(missing_ok=True)


class LogBackend:
    """Queue events from the event loop; one thread writes them."""

    def __init__(self, sink: RotatingFile | IO[bytes]) -> None:
        self._sink = sink
        self._queue: queue.SimpleQueue[Any] = queue.SimpleQueue()
        self._thread: threading.Thread | None = None

    @classmethod
    def open(cls, path: str, max_mb: int, max_backups: int, max_age_days: int) -> LogBackend:
        if path == "-":
            return cls(sys.stdout.buffer)
        return cls(RotatingFile(Path(path), (max_mb or DEFAULT_MAX_MB) * MEGABYTE, max_backups, max_age_days))

    def start(self) -> None:
        if self._thread is None:
            self._thread = threading.Thread(target=self._run, name="audit-log", daemon=True)
            self._thread.start()

    def emit(self, event: dict[str, Any]) -> None:
        """Never blocks: the queue is unbounded, as upstream's blocking log backend's file is."""
        self._queue.put(event)

    def close(self) -> None:
        """Write what is queued, then stop (blocking: call it from a thread)."""
        if self._thread is None:
            self._run_until_stop(drain_only=True)
            return
        self._queue.put(_STOP)
        self._thread.join()
        self._thread = None

    def _run(self) -> None:
        self._run_until_stop(drain_only=False)

    def _run_until_stop(self, *, drain_only: bool) -> None:
        while True:
            if drain_only and self._queue.empty():
                break
            item = self._queue.get()
            if item is _STOP:
                break
            try:
                self._sink.write(orjson.dumps(item) + b"\n")
                if self._queue.empty():
                    self._sink.flush()
            except (OSError, TypeError) as exc:  # a full disk (or an odd body) must not end the server
                log.error("writing the audit log failed: %s", exc)
        self._sink.flush()
        if isinstance(self._sink, RotatingFile):
            self._sink.close()
