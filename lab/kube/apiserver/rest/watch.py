"""Watch streams: chunked newline-delimited JSON events, bookmarks, timeouts, ERROR events.

Once the stream has started every failure (410 Expired, etcd gone) is sent as an ERROR event
carrying a Status and the stream ends, so clients re-list, as upstream does.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import random
from collections.abc import Callable
from typing import Any

import orjson
from aiohttp import web

from lab.kube.apiserver.registry import Registry
from lab.kube.apiserver.registry.options import ListOptions
from lab.kube.machinery import errors

log = logging.getLogger(__name__)
MIN_REQUEST_TIMEOUT = 1800  # seconds, upstream --min-request-timeout
_DONE = object()


async def _pump(registry: Registry, namespace: str | None, opts: ListOptions,
                queue: asyncio.Queue[Any]) -> None:
    """Read the registry's event iterator into a queue (waiting on it directly would let a
    timeout cancel, and so close, the iterator)."""
    try:
        async for ev in registry.watch(namespace, opts):
            await queue.put(ev)
        await queue.put(_DONE)
    except asyncio.CancelledError:
        raise
    except errors.APIError as exc:
        await queue.put(exc)
    except Exception as exc:  # reported to the client as an ERROR event, and logged
        log.exception("watch of %s failed", registry.resource.plural)
        await queue.put(errors.InternalError(str(exc)))


def _line(event_type: str, obj: Any) -> bytes:
    return orjson.dumps({"type": event_type, "object": obj}) + b"\n"


async def serve_watch(request: web.Request, registry: Registry, namespace: str | None,
                      opts: ListOptions, render: Callable[[dict[str, Any]], Any],
                      bookmark_interval: float) -> web.StreamResponse:
    registry.check_fields(opts.field_selector)
    timeout = opts.timeout_seconds or random.uniform(MIN_REQUEST_TIMEOUT, 2 * MIN_REQUEST_TIMEOUT)
    resp = web.StreamResponse(status=200, headers={"Content-Type": "application/json",
                                                   "Cache-Control": "no-cache, private"})
    resp.enable_chunked_encoding()
    await resp.prepare(request)
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    queue: asyncio.Queue[Any] = asyncio.Queue(maxsize=1000)
    pump = asyncio.create_task(_pump(registry, namespace, opts, queue))
    last_rv = opts.resource_version if opts.resource_version not in ("", "0") else ""
    try:
        while True:
            remaining = deadline - loop.time()
            if remaining <= 0:
                break
            wait = min(remaining, bookmark_interval) if opts.allow_bookmarks else remaining
            try:
                async with asyncio.timeout(wait):  # not wait_for: it can swallow a cancel on 3.11
                    item = await queue.get()
            except TimeoutError:
                if opts.allow_bookmarks and last_rv and loop.time() < deadline:
                    await resp.write(_line("BOOKMARK", {
                        "kind": registry.resource.kind, "apiVersion": registry.resource.api_version,
                        "metadata": {"resourceVersion": last_rv}}))
                continue
            if item is _DONE:
                break
            if isinstance(item, errors.APIError):
                await resp.write(_line("ERROR", item.status()))
                break
            last_rv = str(item.revision)
            await resp.write(_line(item.type, render(item.object)))
    except ConnectionResetError:
        pass  # the client went away
    finally:
        pump.cancel()
        with contextlib.suppress(asyncio.CancelledError, Exception):
            await pump
    with contextlib.suppress(ConnectionResetError, RuntimeError):
        await resp.write_eof()
    return resp
