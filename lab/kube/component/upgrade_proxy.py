"""Proxy an upgraded HTTP connection (SPDY/3.1, WebSocket) to a backend and pipe the bytes both
ways: upstream's UpgradeAwareHandler, as the API server uses it towards kubelets and the kubelet
towards the container runtime's streaming server.

The streaming protocols themselves (remotecommand, portforward) are spoken end to end by the
client (kubectl, the Python client) and the runtime's streaming server; every hop in between only
forwards the upgrade request, relays the answer and then copies bytes until either side closes.
A backend that refuses the upgrade (no 101) has its answer relayed as it is, so the client sees
the real reason (and kubectl falls back from WebSocket to SPDY as it does upstream).

    return await proxy_upgrade(request, Backend("10.0.0.7", 10250, "/exec/ns/pod/c?command=sh&output=1", tls))
"""

from __future__ import annotations

import asyncio
import logging
import ssl
from dataclasses import dataclass

from aiohttp import web

log = logging.getLogger(__name__)

# never forwarded: each hop sets its own, or they would let the caller speak for the proxy
DROPPED_REQUEST_HEADERS = frozenset({
    "host", "authorization", "proxy-authorization", "content-length", "transfer-encoding", "keep-alive",
    "te", "trailer", "impersonate-user", "impersonate-group", "impersonate-uid"})
DROPPED_ANSWER_HEADERS = frozenset({"content-length", "transfer-encoding", "keep-alive", "date", "server"})
HEAD_LIMIT = 64 * 1024      # a backend's response head larger than this is refused
BODY_LIMIT = 1024 * 1024    # a refusal's body relayed at most this long
CHUNK = 64 * 1024


class UpgradeProxyError(Exception):
    """The backend could not be reached or did not answer HTTP."""


@dataclass(frozen=True)
class Backend:
    host: str
    port: int
    target: str  # path and query of the request line
    tls: ssl.SSLContext | None = None
    connect_timeout: float = 10.0

    @property
    def authority(self) -> str:
        host = f"[{self.host}]" if ":" in self.host else self.host
        return f"{host}:{self.port}"


def request_head(method: str, backend: Backend, headers: list[tuple[str, str]]) -> bytes:
    lines = [f"{method} {backend.target} HTTP/1.1", f"Host: {backend.authority}"]
    lines += [f"{k}: {v}" for k, v in headers if k.lower() not in DROPPED_REQUEST_HEADERS]
    return ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1")


def parse_head(raw: bytes) -> tuple[int, str, list[tuple[str, str]]]:
    """(status, reason, headers) of an HTTP/1.x response head."""
    text = raw.decode("latin-1")
    status_line, *header_lines = text.split("\r\n")
    parts = status_line.split(" ", 2)
    if len(parts) < 2 or not parts[0].startswith("HTTP/1.") or not parts[1].isdigit():
        raise UpgradeProxyError(f"malformed HTTP response {status_line[:80]!r}")
    headers = []
    for line in header_lines:
        if not line:
            continue
        name, sep, value = line.partition(":")
        if not sep:
            raise UpgradeProxyError(f"malformed HTTP header {line[:80]!r}")
        headers.append((name.strip(), value.strip()))
    return int(parts[1]), parts[2] if len(parts) > 2 else "", headers


class _ToBackend:
    """Takes aiohttp's place as the connection's payload parser once the upgrade is answered, so
    every byte the client sends goes to the backend as it is."""

    def __init__(self, writer: asyncio.StreamWriter) -> None:
        self.writer = writer

    def feed_data(self, data: bytes) -> tuple[bool, bytes]:
        if not self.writer.is_closing():
            self.writer.write(data)
        return False, b""

    def feed_eof(self) -> None:
        if self.writer.is_closing():
            return
        if self.writer.can_write_eof():
            self.writer.write_eof()  # the client is done sending; the backend may still answer
        else:
            self.writer.close()


async def _read_head(reader: asyncio.StreamReader) -> bytes:
    try:
        return await reader.readuntil(b"\r\n\r\n")
    except asyncio.LimitOverrunError as exc:
        raise UpgradeProxyError("response head too large") from exc
    except asyncio.IncompleteReadError as exc:
        raise UpgradeProxyError("connection closed before a response") from exc


async def _read_body(reader: asyncio.StreamReader, headers: list[tuple[str, str]]) -> bytes:
    length = next((v for k, v in headers if k.lower() == "content-length"), None)
    if length is not None and length.isdigit():
        return await reader.readexactly(min(int(length), BODY_LIMIT))
    if any(k.lower() == "transfer-encoding" and "chunked" in v.lower() for k, v in headers):
        body = b""
        while len(body) < BODY_LIMIT:
            size = int((await reader.readline()).split(b";")[0].strip() or b"0", 16)
            if size == 0:
                break
            body += await reader.readexactly(size)
            await reader.readline()
        return body[:BODY_LIMIT]
    return await reader.read(BODY_LIMIT)


async def proxy_upgrade(request: web.Request, backend: Backend, timeout: float = 30.0) -> web.StreamResponse:
    """Forward `request` to `backend`; on 101 pipe both ways until one side closes."""
    try:
        async with asyncio.timeout(backend.connect_timeout):
            reader, writer = await asyncio.open_connection(
                backend.host, backend.port, ssl=backend.tls, limit=HEAD_LIMIT,
                server_hostname=backend.host if backend.tls is not None else None)
    except (OSError, TimeoutError, ssl.SSLError) as exc:
        raise UpgradeProxyError(f"dial {backend.authority}: {exc or type(exc).__name__}") from exc
    try:
        writer.write(request_head(request.method, backend, list(request.headers.items())))
        async with asyncio.timeout(timeout):
            status, reason, headers = parse_head(await _read_head(reader))
            if status != 101:  # refused: relay the answer, the client learns why
                body = await _read_body(reader, headers)
                writer.close()
                answer = web.Response(status=status, reason=reason or None, body=body)
                for k, v in headers:
                    if k.lower() not in DROPPED_ANSWER_HEADERS:
                        answer.headers.add(k, v)
                return answer
    except (OSError, TimeoutError, asyncio.IncompleteReadError) as exc:
        writer.close()
        raise UpgradeProxyError(f"{backend.authority}: {exc or type(exc).__name__}") from exc
    except BaseException:
        writer.close()
        raise
    response = web.StreamResponse(status=101, reason=reason or "Switching Protocols")
    for k, v in headers:
        if k.lower() not in DROPPED_ANSWER_HEADERS:
            response.headers.add(k, v)
    response.force_close()
    assert request.protocol is not None
    # before the 101 goes out: from then on the client's bytes belong to the backend
    request.protocol.set_parser(_ToBackend(writer))  # type: ignore[arg-type]  # a payload parser by duck type
    await response.prepare(request)
    transport = request.transport
    try:
        while transport is not None and not transport.is_closing():
            data = await reader.read(CHUNK)
            if not data:
                break
            await response.write(data)  # raw bytes (a 101 has no body framing); waits while the client lags
    except (OSError, ConnectionError) as exc:
        log.debug("upgraded stream to %s ended: %s", backend.authority, exc)
    finally:
        writer.close()
        if transport is not None:
            transport.close()
    return response
