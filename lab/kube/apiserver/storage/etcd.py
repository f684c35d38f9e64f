"""etcd v3 storage through aetcd: CAS by `Txn(ModRevision == rv)`, watch from rev+1 with prev_kv.

Values are JSON, passed through a value transformer when one is given (encryption at rest);
keys are `<prefix>/<resource>/<ns>/<name>`. A gRPC failure becomes
`Unavailable`, so requests fail fast with a Status while etcd is away and work again after.
An `https://` server is dialled over TLS with the client certificate of `EtcdTLS`.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any, TypeVar, cast
from urllib.parse import urlparse

import aetcd
import aetcd.exceptions as etcd_errors
import orjson

from lab.kube.apiserver.storage.etcd_tls import EtcdTLS, TLSClient
from lab.kube.apiserver.storage.interface import (
    Compacted,
    Conflict,
    Event,
    KeyExists,
    KeyNotFound,
    Storage,
    TooLarge,
    Unavailable,
    with_rv,
    without_rv,
)
from lab.kube.apiserver.storage.transform import ValueTransformer, mark_stale
from lab.kube.machinery.objects import Obj

log = logging.getLogger(__name__)
T = TypeVar("T")
# etcd's own answer past --max-request-bytes, and gRPC's past the server's receive limit
TOO_LARGE_MESSAGES = ("request is too large", "larger than max")
REQUEST_TIMEOUT = 5  # seconds: an etcd that does not answer is reported, not waited on
# transport failures: etcd is away (or too slow), so the request fails fast as Unavailable
TRANSPORT_ERRORS = (TimeoutError, etcd_errors.ConnectionFailedError, etcd_errors.ConnectionTimeoutError,
                    etcd_errors.InternalError, OSError)


class EtcdStorage(Storage):
    def __init__(self, servers: list[str], *, timeout: int = REQUEST_TIMEOUT,
                 transformer: ValueTransformer | None = None, tls: EtcdTLS | None = None) -> None:
        url = urlparse(servers[0] if "://" in servers[0] else f"http://{servers[0]}")
        self._host, self._port = url.hostname or "127.0.0.1", url.port or 2379
        # as upstream, the URL's scheme decides: https dials TLS (system roots unless a CA is given)
        self._tls = (tls or EtcdTLS()) if url.scheme == "https" else None
        if self._tls is not None:
            self._tls.credentials()  # unreadable or mismatched files fail at startup, not per request
        self._timeout = timeout
        self._client: aetcd.Client | None = None
        self._lock = asyncio.Lock()
        self._transformer = transformer

    def _encode(self, key: str, obj: Obj) -> tuple[bytes, bytes]:
        """The object's JSON and the bytes to store for it."""
        data = orjson.dumps(without_rv(obj))
        return data, data if self._transformer is None else self._transformer.to_storage(key, data)

    def _decode(self, key: str, value: bytes, revision: int) -> Obj:
        if self._transformer is None:
            return with_rv(orjson.loads(value), revision)
        plain, stale = self._transformer.from_storage(key, value)
        obj = with_rv(orjson.loads(plain), revision)
        return mark_stale(obj) if stale else obj

    async def _conn(self) -> aetcd.Client:
        async with self._lock:
            if self._client is None:
                client = (aetcd.Client(self._host, self._port, timeout=self._timeout) if self._tls is None
                          else TLSClient(self._host, self._port, self._tls, timeout=self._timeout))
                await client.connect()
                self._client = client
            return self._client

    async def _call(self, key: str, fn: Callable[[aetcd.Client], Awaitable[T]]) -> T:
        """Run one etcd call, mapping transport failures to `Unavailable`."""
        try:
            return await asyncio.wait_for(fn(await self._conn()), self._timeout + 1)
        except TRANSPORT_ERRORS as exc:
            raise Unavailable(key, f"etcd unavailable: {exc}") from exc
        except etcd_errors.ClientError as exc:
            if any(m in str(exc) for m in TOO_LARGE_MESSAGES):  # retrying can never help
                raise TooLarge(key, f"etcd refused the request: {exc}") from exc
            raise Unavailable(key, f"etcd error: {exc}") from exc

    async def close(self) -> None:
        if self._client is not None:
            await self._client.close()
            self._client = None

    async def revision(self) -> int:
        async def op(c: aetcd.Client) -> int:
            # an empty prefix read still carries the header revision
            rng = await c.get_prefix(b"/\0revision-probe", keys_only=True)
            return int(rng.header.revision)
        return await self._call("/", op)

    async def get(self, key: str) -> Obj:
        res = await self._call(key, lambda c: c.get(key.encode()))
        if res is None:
            raise KeyNotFound(key)
        return self._decode(key, res.value, res.mod_revision)

    async def list(self, prefix: str) -> tuple[list[Obj], int]:
        res = await self._call(prefix, lambda c: c.get_prefix(prefix.encode()))
        return ([self._decode(kv.key.decode(), kv.value, kv.mod_revision) for kv in res.kvs],
                int(res.header.revision))

    async def create(self, key: str, obj: Obj) -> Obj:
        data, stored = self._encode(key, obj)
        ok, responses = await self._txn_put(key, stored, 0)
        if not ok:
            raise KeyExists(key)
        return with_rv(orjson.loads(data), responses[0].response_put.header.revision)

    async def _txn_put(self, key: str, data: bytes, revision: int) -> tuple[bool, Any]:
        async def op(c: aetcd.Client) -> tuple[bool, Any]:
            tx = c.transactions
            # aetcd is untyped; its transaction answers (succeeded, responses)
            return cast("tuple[bool, Any]", await c.transaction(
                compare=[tx.mod(key.encode()) == revision],
                success=[tx.put(key.encode(), data)],
                failure=[tx.get(key.encode())],
            ))
        return await self._call(key, op)

    async def update(self, key: str, obj: Obj, revision: int) -> Obj:
        data, stored = self._encode(key, obj)
        ok, responses = await self._txn_put(key, stored, revision)
        if not ok:
            if not responses or not responses[0]:
                raise KeyNotFound(key)
            raise Conflict(key)
        return with_rv(orjson.loads(data), responses[0].response_put.header.revision)

    async def delete(self, key: str, revision: int | None = None) -> Obj:
        current = await self.get(key)
        rev = int(current["metadata"]["resourceVersion"])
        if revision is not None and revision != rev:
            raise Conflict(key)

        async def op(c: aetcd.Client) -> tuple[bool, Any]:
            tx = c.transactions
            # aetcd is untyped; its transaction answers (succeeded, responses)
            return cast("tuple[bool, Any]", await c.transaction(
                compare=[tx.mod(key.encode()) == rev],
                success=[tx.delete(key.encode())],
                failure=[tx.get(key.encode())],
            ))
        ok, responses = await self._call(key, op)
        if not ok:
            if not responses or not responses[0]:
                raise KeyNotFound(key)
            raise Conflict(key)
        return current

    async def watch(self, prefix: str, from_revision: int) -> AsyncIterator[Event]:
        async def op(c: aetcd.Client) -> Any:
            return await c.watch_prefix(prefix.encode(), start_revision=from_revision + 1,
                                        prev_kv=True)
        try:
            stream = await self._call(prefix, op)
        except Unavailable as exc:
            cause = exc.__cause__
            if isinstance(cause, etcd_errors.RevisionCompactedError):
                raise Compacted(prefix, from_revision, cause.compacted_revision) from cause
            raise
        try:
            async for ev in stream:
                yield self._event(ev)
        except etcd_errors.RevisionCompactedError as exc:
            raise Compacted(prefix, from_revision, exc.compacted_revision) from exc
        except etcd_errors.ClientError as exc:
            raise Unavailable(prefix, f"etcd watch failed: {exc}") from exc
        finally:
            try:
                await asyncio.wait_for(stream.cancel(), 2)
            except Exception as exc:  # the stream may already be gone with the connection
                log.debug("cancelling etcd watch: %s", exc)

    def _event(self, ev: Any) -> Event:
        key = ev.kv.key.decode()
        prev = (self._decode(key, ev.prev_kv.value, ev.prev_kv.mod_revision)
                if ev.prev_kv and ev.prev_kv.value else None)
        if ev.kind == "DELETE":
            return Event("DELETED", key, None, prev, int(ev.kv.mod_revision))
        obj = self._decode(key, ev.kv.value, ev.kv.mod_revision)
        return Event("ADDED" if ev.kv.create_revision == ev.kv.mod_revision else "MODIFIED",
                     key, obj, prev, int(ev.kv.mod_revision))

    async def compact(self, revision: int) -> None:
        await self._call("/", lambda c: c.compact(revision))

    async def compact_loop(self, interval: float = 300.0) -> None:
        """Compact history every `interval`, keeping one interval of it (as the apiserver does)."""
        last = 0
        while True:
            await asyncio.sleep(interval)
            try:
                current = await self.revision()
                if last:
                    await self.compact(last)
                    log.info("compacted etcd to revision %d", last)
                last = current
            except Exception as exc:  # compaction is best effort; try again next round
                log.warning("etcd compaction failed: %s", exc)
