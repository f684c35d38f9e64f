"""The async API client: one aiohttp session, REST verbs over `catalog.Resource`, watch streams.

Non-2xx answers become `machinery.errors` types (rebuilt from the server's `Status`);
connection failures propagate as `OSError` / `aiohttp.ClientError` so callers can retry.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass
from types import TracebackType
from typing import Any

import aiohttp
import orjson

from lab.kube.client.config import ClientConfig
from lab.kube.machinery import errors, meta
from lab.kube.machinery.catalog import Resource
from lab.kube.machinery.objects import Obj
from lab.kube.machinery.patches import MERGE_PATCH

TRANSPORT_ERRORS: tuple[type[BaseException], ...] = (OSError, aiohttp.ClientError, TimeoutError)
"""What a request raises when the server was unreachable or went away mid-answer (a restart
closes pooled keep-alive connections: `ServerDisconnectedError` is not an `OSError`)."""
WATCH_READ_SLACK = 15.0  # seconds beyond timeoutSeconds before we call a silent watch dead


@dataclass(frozen=True)
class WatchEvent:
    """One line of a watch stream: ADDED, MODIFIED, DELETED or BOOKMARK, and the object."""

    type: str
    object: Obj


def _params(**kwargs: Any) -> dict[str, str]:
    out: dict[str, str] = {}
    for k, v in kwargs.items():
        if v is None:
            continue
        out[k] = ("true" if v else "false") if isinstance(v, bool) else str(v)
    return out


def _error(code: int, body: bytes) -> errors.APIError:
    """The typed error for a failed answer, from its `Status` when it has one."""
    try:
        doc = orjson.loads(body) if body else None
    except orjson.JSONDecodeError:
        doc = None
    if isinstance(doc, dict) and doc.get("kind") == "Status":
        return errors.from_status(doc, code)
    text = body.decode(errors="replace").strip() if body else ""
    return errors.from_status({"code": code, "message": text or f"the server responded with HTTP {code}"}, code)


class Client:
    """Talks to one API server. Use as `async with Client(config) as client:`."""

    def __init__(self, config: ClientConfig) -> None:
        self.config = config
        self._session: aiohttp.ClientSession | None = None

    async def __aenter__(self) -> Client:
        self.open()
        return self

    async def __aexit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                        tb: TracebackType | None) -> None:
        await self.close()

    def open(self) -> None:
        """Create the session (done by `async with`; must run inside the event loop)."""
        if self._session is None or self._session.closed:
            headers = {"User-Agent": self.config.user_agent, "Accept": "application/json"}
            if self.config.token:
                headers["Authorization"] = f"Bearer {self.config.token}"
            connector = aiohttp.TCPConnector(ssl=self.config.ssl_context(), limit=100)
            self._session = aiohttp.ClientSession(
                base_url=self.config.server, headers=headers, connector=connector,
                json_serialize=lambda o: orjson.dumps(o).decode())

    async def close(self) -> None:
        if self._session is not None:
            await self._session.close()
            self._session = None

    @property
    def session(self) -> aiohttp.ClientSession:
        if self._session is None:
            self.open()
        assert self._session is not None
        return self._session

    def _request_kwargs(self) -> dict[str, Any]:
        return {"server_hostname": self.config.tls_server_name} if self.config.tls_server_name else {}

    async def request(self, method: str, path: str, *, params: dict[str, str] | None = None,
                      body: Any = None, content_type: str = "application/json",
                      timeout: float | None = None) -> Any:
        """One JSON request; returns the decoded answer or raises the typed API error."""
        data = None if body is None else orjson.dumps(body)
        headers = {"Content-Type": content_type} if data is not None else {}
        client_timeout = aiohttp.ClientTimeout(total=timeout or self.config.timeout)
        async with self.session.request(method, path, params=params, data=data, headers=headers,
                                        timeout=client_timeout, **self._request_kwargs()) as resp:
            raw = await resp.read()
            if resp.status >= 300:
                raise _error(resp.status, raw)
            return orjson.loads(raw) if raw else None

    @staticmethod
    def _namespace(res: Resource, namespace: str | None, obj: Obj | None = None) -> str | None:
        if not res.namespaced:
            return None
        ns = namespace or meta.namespace(obj or {})
        if not ns:
            raise ValueError(f"{res.group_resource} are namespaced: a namespace is required")
        return str(ns)

    async def get(self, res: Resource, name: str, namespace: str | None = None) -> Obj:
        result: Obj = await self.request("GET", res.path(self._namespace(res, namespace), name))
        return result

    async def list(self, res: Resource, namespace: str | None = None, label_selector: str | None = None,
                   field_selector: str | None = None, resource_version: str | None = None,
                   limit: int | None = None) -> Obj:
        """A List (`items`, `metadata.resourceVersion`); pages through `continue` when `limit` is set."""
        path = res.path(namespace if res.namespaced else None)
        params = _params(labelSelector=label_selector or None, fieldSelector=field_selector or None,
                         resourceVersion=resource_version, limit=limit)
        result: Obj = await self.request("GET", path, params=params)
        while limit and meta.metadata(result).get("continue"):
            params["continue"] = result["metadata"]["continue"]
            params.pop("resourceVersion", None)
            page = await self.request("GET", path, params=params)
            result["items"] = (result.get("items") or []) + (page.get("items") or [])
            result["metadata"] = meta.metadata(page)
        result.setdefault("items", [])
        if result["items"] is None:
            result["items"] = []
        return result

    async def create(self, res: Resource, obj: Obj, namespace: str | None = None) -> Obj:
        result: Obj = await self.request("POST", res.path(self._namespace(res, namespace, obj)), body=obj)
        return result

    async def update(self, res: Resource, obj: Obj, subresource: str | None = None) -> Obj:
        """PUT the whole object; the server compares `metadata.resourceVersion` (409 when stale)."""
        name = meta.metadata(obj).get("name")
        path = res.path(self._namespace(res, None, obj), name, subresource)
        result: Obj = await self.request("PUT", path, body=obj)
        return result

    async def patch(self, res: Resource, name: str, body: Any, namespace: str | None = None,
                    subresource: str | None = None, content_type: str = MERGE_PATCH) -> Obj:
        path = res.path(self._namespace(res, namespace), name, subresource)
        result: Obj = await self.request("PATCH", path, body=body, content_type=content_type)
        return result

    async def delete(self, res: Resource, name: str, namespace: str | None = None,
                     grace_period_seconds: int | None = None, propagation_policy: str | None = None,
                     preconditions: dict[str, str] | None = None) -> Obj:
        """DELETE with `DeleteOptions`; returns the object (being finalized) or a `Status`."""
        opts: Obj = {"kind": "DeleteOptions", "apiVersion": "v1"}
        if grace_period_seconds is not None:
            opts["gracePeriodSeconds"] = grace_period_seconds
        if propagation_policy:
            opts["propagationPolicy"] = propagation_policy
        if preconditions:
            opts["preconditions"] = preconditions
        result: Obj = await self.request("DELETE", res.path(self._namespace(res, namespace), name), body=opts)
        return result

    async def post_subresource(self, res: Resource, name: str, subresource: str, body: Obj,
                               namespace: str | None = None) -> Obj:
        """POST to a subresource, e.g. `pods/binding` (answers with a `Status`)."""
        path = res.path(self._namespace(res, namespace), name, subresource)
        result: Obj = await self.request("POST", path, body=body)
        return result

    async def watch(self, res: Resource, namespace: str | None = None, resource_version: str | None = None,
                    label_selector: str | None = None, field_selector: str | None = None,
                    timeout_seconds: int | None = None) -> AsyncIterator[WatchEvent]:
        """Stream events until the server ends the watch; an ERROR event raises its typed error."""
        params = _params(watch=1, allowWatchBookmarks=True, resourceVersion=resource_version,
                         labelSelector=label_selector or None, fieldSelector=field_selector or None,
                         timeoutSeconds=timeout_seconds)
        read_timeout = timeout_seconds + WATCH_READ_SLACK if timeout_seconds else None
        timeout = aiohttp.ClientTimeout(total=None, sock_connect=self.config.timeout,
                                        sock_read=read_timeout)
        path = res.path(namespace if res.namespaced else None)
        async with self.session.get(path, params=params, timeout=timeout, **self._request_kwargs()) as resp:
            if resp.status >= 300:
                raise _error(resp.status, await resp.read())
            buffer = b""
            # split lines ourselves: StreamReader.readline caps a line at 128 KiB
            async for chunk in resp.content.iter_any():
                buffer += chunk
                while b"\n" in buffer:
                    line, buffer = buffer.split(b"\n", 1)
                    if line.strip():
                        yield _event(line)
            if buffer.strip():
                yield _event(buffer)


def _event(line: bytes) -> WatchEvent:
    doc = orjson.loads(line)
    kind, obj = doc.get("type", ""), doc.get("object") or {}
    if kind == "ERROR":
        raise errors.from_status(obj) if obj.get("kind") == "Status" else errors.InternalError(str(obj))
    return WatchEvent(kind, obj)


