"""Every component logs in klog's shape, so operators read them all the same way."""

from __future__ import annotations

import logging
import os
import re
import sys

from lab.kube.component import KlogFormatter, setup_logging

KLOG_LINE = re.compile(r"^([IWEF])(\d{4} \d{2}:\d{2}:\d{2}\.\d{6}) +(\d+) ([\w.]+):(\d+)\] (.*)$")


def _record(level: int, msg: str, exc: bool = False) -> logging.LogRecord:
    info = None
    if exc:
        try:
            raise ValueError("boom")
        except ValueError:
            info = sys.exc_info()
    return logging.LogRecord("x", level, "/src/scheduler.py", 42, msg, (), info)


def test_a_line_has_level_time_pid_and_source() -> None:
    line = KlogFormatter().format(_record(logging.WARNING, "node n1 is gone"))
    m = KLOG_LINE.match(line)
    assert m, line
    assert m.group(1) == "W" and int(m.group(3)) == os.getpid()
    assert m.group(4) == "scheduler.py" and m.group(5) == "42" and m.group(6) == "node n1 is gone"


def test_levels_map_to_klog_letters_and_tracebacks_follow() -> None:
    fmt = KlogFormatter()
    assert [fmt.format(_record(lvl, "m"))[0] for lvl in (logging.DEBUG, logging.INFO, logging.ERROR,
                                                          logging.CRITICAL)] == ["I", "I", "E", "F"]
    text = fmt.format(_record(logging.ERROR, "failed", exc=True))
    assert text.splitlines()[0].endswith("] failed") and "ValueError: boom" in text


def test_setup_logging_sets_the_root_handler_and_level() -> None:
    root = logging.getLogger()
    saved = root.handlers[:], root.level
    try:
        setup_logging(0)
        assert root.level == logging.INFO and isinstance(root.handlers[0].formatter, KlogFormatter)
        assert logging.getLogger("aiohttp.access").level == logging.WARNING
        setup_logging(4)
        assert root.level == logging.DEBUG and len(root.handlers) == 1
    finally:
        root.handlers[:], _ = saved
        root.setLevel(saved[1])
