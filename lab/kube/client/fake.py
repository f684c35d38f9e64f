"""FakeAPI: a small in-memory Kubernetes API server on loopback, for unit tests.

It serves every `catalog` resource with get/list/create/update/patch/delete/watch,
resourceVersions, 404/409/410 `Status` errors, selectors, `/status` and `pods/binding`,
so the real `Client` (and Informers built on it) run against it unchanged:

    async with FakeAPI() as api:
        api.seed(PODS, {"metadata": {"name": "web", "namespace": "default"}})
        async with Client(api.config) as client:
            pod = await client.get(PODS, "web", "default")
        api.pause_watches()                      # watches miss what happens next...
        api.compact(); api.expire_watches()      # ...until a 410 forces informers to re-list
        api.fail_next(errors.InternalError("boom"))  # the next request answers 500
        api.requests                             # [("GET", "/api/v1/namespaces/default/pods/web"), ...]

Limits: patches are applied by the server's own `patches` module; no admission or validation
beyond names, no authn; pods bound to a node are deleted gracefully as upstream.
"""

from __future__ import annotations

import asyncio
import copy
from types import TracebackType
from typing import Any

import orjson
from aiohttp import web

from lab.kube.client.config import ClientConfig
from lab.kube.client.fake_store import Event, FakeStore, Watcher
from lab.kube.client.patches import apply_patch
from lab.kube.machinery import catalog, errors, meta
from lab.kube.machinery.catalog import Resource
from lab.kube.machinery.selectors import FieldSelector, LabelSelector

Obj = dict[str, Any]


def _json(body: Any, status: int = 200) -> web.Response:
    return web.Response(body=orjson.dumps(body), status=status, content_type="application/json")


def _field(obj: Obj, path: str) -> str:
    """A selectable field by dotted path (`spec.nodeName`, `status.phase`); missing reads as ""."""
    cur: Any = obj
    for part in path.split("."):
        if not isinstance(cur, dict):
            return ""
        cur = cur.get(part)
    if isinstance(cur, bool):
        return "true" if cur else "false"
    return "" if cur is None or isinstance(cur, (dict, list)) else str(cur)


class _Dropped(Exception):
    """A test asked to drop every open watch."""


class _Route:
    """What a request path names: resource, namespace, name, subresource."""

    def __init__(self, path: str) -> None:
        parts = [p for p in path.split("/") if p]
        if parts[:1] == ["api"] and len(parts) >= 2:
            group, version, rest = "", parts[1], parts[2:]
        elif parts[:1] == ["apis"] and len(parts) >= 3:
            group, version, rest = parts[1], parts[2], parts[3:]
        else:
            raise errors.NotFound("the server could not find the requested resource")
        self.namespace = ""
        if len(rest) >= 3 and rest[0] == "namespaces":
            inner = catalog.lookup(group, version, rest[2])
            if inner is not None and inner.namespaced:
                self.namespace, rest = rest[1], rest[2:]
        res = catalog.lookup(group, version, rest[0]) if rest else None
        if res is None or len(rest) > 3:
            raise errors.NotFound("the server could not find the requested resource")
        self.res: Resource = res
        self.name = rest[1] if len(rest) > 1 else ""
        self.subresource = rest[2] if len(rest) > 2 else None


class FakeAPI:
    """Start with `async with FakeAPI() as api:`; connect with `Client(api.config)`."""

    def __init__(self) -> None:
        self.store = FakeStore()
        self.requests: list[tuple[str, str]] = []
        self._failures: list[errors.APIError] = []
        self._runner: web.AppRunner | None = None
        self.config = ClientConfig.in_memory("http://127.0.0.1:0")

    async def __aenter__(self) -> FakeAPI:
        await self.start()
        return self

    async def __aexit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                        tb: TracebackType | None) -> None:
        await self.stop()

    async def start(self) -> None:
        app = web.Application()
        app.router.add_route("*", "/{tail:.*}", self._handle)
        self._runner = web.AppRunner(app, handle_signals=False, shutdown_timeout=0.1)
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", 0)  # loopback only, any free port
        await site.start()
        host, port = self._runner.addresses[0][:2]
        self.config = ClientConfig.in_memory(f"http://{host}:{port}")

    async def stop(self) -> None:
        self.store.drop_watches()
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None

    # -- test controls ---------------------------------------------------------------------------
    def seed(self, res: Resource, obj: Obj, namespace: str | None = None) -> Obj:
        """Create an object directly (no HTTP), as a test's starting state."""
        ns = namespace or (obj.get("metadata") or {}).get("namespace") or ("default" if res.namespaced else "")
        return self.store.create(res, ns, obj)

    def object(self, res: Resource, name: str, namespace: str = "") -> Obj | None:
        try:
            return self.store.get(res, namespace, name)
        except errors.NotFound:
            return None

    def objects(self, res: Resource, namespace: str | None = None) -> list[Obj]:
        return self.store.list(res, namespace)

    def fail_next(self, error: errors.APIError, times: int = 1) -> None:
        """Answer the next `times` requests with `error`'s Status."""
        self._failures.extend([error] * times)

    def compact(self) -> None:
        self.store.compact()

    def pause_watches(self) -> None:
        """Stop delivering changes to open watches (a partition); ended by `expire_watches`."""
        self.store.paused = True

    def expire_watches(self) -> None:
        """Send every open watch a 410 Expired ERROR event (as after etcd compaction)."""
        self.store.expire_watches()

    def drop_watches(self) -> None:
        """End every open watch stream abruptly (as when the server restarts)."""
        self.store.drop_watches()

    # -- HTTP ------------------------------------------------------------------------------------
    async def _handle(self, request: web.Request) -> web.StreamResponse:
        self.requests.append((request.method, request.path))
        try:
            if self._failures:
                raise self._failures.pop(0)
            route = _Route(request.path)
            if request.method == "GET" and request.query.get("watch") in ("1", "true"):
                return await self._watch(request, route)
            return await self._dispatch(request, route)
        except errors.APIError as exc:
            return _json(exc.status(), exc.code)

    async def _body(self, request: web.Request) -> Any:
        raw = await request.read()
        try:
            return orjson.loads(raw) if raw else {}
        except orjson.JSONDecodeError as exc:
            raise errors.BadRequest(f"error decoding request body: {exc}") from exc

    async def _dispatch(self, request: web.Request, r: _Route) -> web.Response:
        s, method = self.store, request.method
        if method == "GET" and r.name:
            return _json(s.get(r.res, r.namespace, r.name))
        if method == "GET":
            return _json(self._list(r, request.query))
        body = await self._body(request)
        if method == "POST" and r.subresource == "binding" and r.res == catalog.PODS:
            return _json(self._bind(r, body), 201)
        if method == "POST" and not r.name:
            return _json(s.create(r.res, r.namespace, body), 201)
        if method == "PUT" and r.name:
            return _json(s.update(r.res, r.namespace, r.name, body, r.subresource))
        if method == "PATCH" and r.name:
            return _json(self._patch(r, body, request.content_type))
        if method == "DELETE" and r.name:
            return _json(s.delete(r.res, r.namespace, r.name, body or {}))
        raise errors.MethodNotAllowed("the server does not allow this method on the requested resource")

    def _list(self, r: _Route, query: Any) -> Obj:
        items = [o for o in self.store.list(r.res, r.namespace) if self._selected(o, query)]
        return {"kind": r.res.list_kind_name, "apiVersion": r.res.api_version,
                "metadata": {"resourceVersion": str(self.store.rv)}, "items": items}

    def _selected(self, obj: Obj, query: Any) -> bool:
        labels = LabelSelector.parse(query.get("labelSelector", ""))
        fields = FieldSelector.parse(query.get("fieldSelector", ""))
        values = {req.field: _field(obj, req.field) for req in fields.requirements}
        return labels.matches(meta.labels(obj)) and fields.matches(values)

    def _patch(self, r: _Route, body: Any, content_type: str) -> Obj:
        current = self.store.get(r.res, r.namespace, r.name)
        patched = apply_patch(content_type, current, body)
        # a patch only conflicts when it names a resourceVersion itself
        pinned = isinstance(body, dict) and bool((body.get("metadata") or {}).get("resourceVersion"))
        if not pinned:
            patched.setdefault("metadata", {})["resourceVersion"] = meta.resource_version(current)
        return self.store.update(r.res, r.namespace, r.name, patched, r.subresource)

    def _bind(self, r: _Route, binding: Obj) -> Obj:
        pod = self.store.get(r.res, r.namespace, r.name)
        if meta.is_deleting(pod):
            raise errors.Conflict(f"pod {r.name} is being deleted, cannot be assigned to a host",
                                  name=r.name, kind="pods")
        node = (pod.get("spec") or {}).get("nodeName")
        if node:
            raise errors.Conflict(f'Operation cannot be fulfilled on pods/binding "{r.name}": pod {r.name} is '
                                  f'already assigned to node "{node}"', name=r.name, kind="pods/binding")
        pod.setdefault("spec", {})["nodeName"] = (binding.get("target") or {}).get("name", "")
        status = pod.setdefault("status", {})
        conditions = [c for c in status.get("conditions") or [] if c.get("type") != "PodScheduled"]
        conditions.append({"type": "PodScheduled", "status": "True", "lastTransitionTime": meta.now()})
        status["conditions"] = conditions
        self.store.replace(r.res, pod)
        return {"kind": "Status", "apiVersion": "v1", "metadata": {}, "status": "Success", "code": 201}

    async def _watch(self, request: web.Request, r: _Route) -> web.StreamResponse:
        q = request.query
        rv = q.get("resourceVersion", "")
        timeout = float(q.get("timeoutSeconds") or 1800)
        bookmarks = q.get("allowWatchBookmarks") in ("1", "true")
        watcher = Watcher(r.res)
        self.store.watchers.add(watcher)  # registered before the snapshot: nothing can fall in between
        resp = web.StreamResponse(headers={"Content-Type": "application/json"})
        await resp.prepare(request)
        try:
            if rv in ("", "0"):
                backlog = [Event(self.store.rv, "ADDED", r.res, o) for o in self.store.list(r.res, r.namespace)]
                seen = self.store.rv
            else:
                try:
                    backlog, seen = self.store.since(r.res, int(rv)), self.store.rv
                except errors.Expired as exc:
                    await self._send(resp, "ERROR", exc.status())
                    return resp
            for event in backlog:
                await self._send_event(resp, r, event, q)
            await self._stream(resp, r, watcher, seen, q, timeout)
            if bookmarks:  # as the watch cache does just before a watch's deadline
                await self._send(resp, "BOOKMARK", {"kind": r.res.kind, "apiVersion": r.res.api_version,
                                                    "metadata": {"resourceVersion": str(self.store.rv)}})
        except _Dropped:
            if request.transport is not None:
                request.transport.close()  # cut the connection, no clean end of stream
        except (ConnectionResetError, asyncio.CancelledError):
            pass  # the client went away
        finally:
            self.store.watchers.discard(watcher)
        return resp

    async def _stream(self, resp: web.StreamResponse, r: _Route, watcher: Watcher, seen: int, q: Any,
                      timeout: float) -> None:
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        while (left := deadline - loop.time()) > 0:
            try:
                async with asyncio.timeout(left):
                    item = await watcher.queue.get()
            except TimeoutError:
                return
            if item is None:
                raise _Dropped()
            if isinstance(item, errors.APIError):
                await self._send(resp, "ERROR", item.status())
                return
            if item.rv > seen:
                await self._send_event(resp, r, item, q)

    async def _send_event(self, resp: web.StreamResponse, r: _Route, event: Event, q: Any) -> None:
        obj = event.object
        if r.namespace and r.res.namespaced and meta.namespace(obj) != r.namespace:
            return
        if self._selected(obj, q):
            await self._send(resp, event.type, copy.deepcopy(obj))

    @staticmethod
    async def _send(resp: web.StreamResponse, kind: str, obj: Obj) -> None:
        await resp.write(orjson.dumps({"type": kind, "object": obj}) + b"\n")
