"""`/metrics` for components that keep no metrics of their own yet: the process series every
component-base binary exports, in the Prometheus text format, so the endpoint (and who may
read it) behaves as upstream's does."""

from __future__ import annotations

import os
import time

from aiohttp import web

STARTED = time.time()


def render() -> str:
    lines = ["# HELP process_start_time_seconds [ALPHA] Start time of the process since unix epoch in seconds.",
             "# TYPE process_start_time_seconds gauge", f"process_start_time_seconds {STARTED:.2f}"]
    try:
        with open(f"/proc/{os.getpid()}/statm") as statm:
            resident = int(statm.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")
    except (OSError, ValueError, IndexError):
        resident = None  # not Linux: leave the series out rather than report a wrong one
    if resident is not None:
        lines += ["# HELP process_resident_memory_bytes Resident memory size in bytes.",
                  "# TYPE process_resident_memory_bytes gauge", f"process_resident_memory_bytes {resident}"]
    return "\n".join(lines) + "\n"


async def handler(_: web.Request) -> web.Response:
    return web.Response(text=render(), content_type="text/plain", charset="utf-8")
