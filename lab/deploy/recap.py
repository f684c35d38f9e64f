"""Reading ansible-playbook's PLAY RECAP: one line per host with its task counts, e.g.
`cp1  : ok=42 changed=0 unreachable=0 failed=0 skipped=3 rescued=0 ignored=1`.
"""

from __future__ import annotations

import re
from collections.abc import Iterable

_LINE = re.compile(r"^(?P<host>\S+)\s+:\s+(?P<counts>(?:\w+=\d+\s*)+)$")
_COUNT = re.compile(r"(\w+)=(\d+)")


def parse_recap(lines: Iterable[str]) -> dict[str, dict[str, int]]:
    """Per-host counts from the lines after the last `PLAY RECAP` header."""
    recap: dict[str, dict[str, int]] = {}
    in_recap = False
    for raw in lines:
        line = _strip_ansi(raw).rstrip()
        if line.startswith("PLAY RECAP"):
            in_recap, recap = True, {}  # a later recap (several runs in one log) wins
            continue
        if not in_recap:
            continue
        match = _LINE.match(line.strip())
        if match:
            recap[match["host"]] = {k: int(v) for k, v in _COUNT.findall(match["counts"])}
    return recap


_ANSI = re.compile(r"\x1b\[[0-9;]*m")


def _strip_ansi(text: str) -> str:
    return _ANSI.sub("", text)
