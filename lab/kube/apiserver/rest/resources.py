"""CRUD, patch, delete and watch for catalog resources: from HTTP request to registry call.

Handlers only translate: parse the request, call the registry, render JSON or a Table.
Errors are raised as `APIError` and become a Status in the middleware.
"""

from __future__ import annotations

from typing import Any

import orjson
from aiohttp import web

from lab.kube.apiserver.context import ServerContext
from lab.kube.apiserver.registry import Registry
from lab.kube.apiserver.registry.errors import conflict
from lab.kube.apiserver.registry.options import (
    DeleteOptions,
    ListOptions,
    check_resource_version,
)
from lab.kube.apiserver.rest import connect, eviction, podlogs, reviews
from lab.kube.apiserver.rest import negotiation as neg
from lab.kube.apiserver.rest import subresources as subs
from lab.kube.apiserver.rest.fieldcheck import check_fields, check_shape
from lab.kube.apiserver.rest.paths import RequestInfo, not_found_path
from lab.kube.apiserver.rest.tokenrequest import TokenRequests
from lab.kube.apiserver.rest.watch import serve_watch
from lab.kube.apiserver.schema import kind_name, merge_keys
from lab.kube.apiserver.serviceaccount import from_settings as token_config
from lab.kube.machinery import meta, names
from lab.kube.machinery.errors import BadRequest, MethodNotAllowed, UnsupportedMediaType
from lab.kube.machinery.objects import Obj
from lab.kube.machinery.patches import APPLY_PATCH, apply_patch


def escape_field_value(value: str) -> str:
    """upstream fields.EscapeValue: a name with `,` or `=` stays one selector value."""
    return value.replace("\\", "\\\\").replace(",", "\\,").replace("=", "\\=")


def _warning_headers(warnings: list[str]) -> list[tuple[str, str]]:
    return [("Warning", '299 - "' + w.replace('\\', '\\\\').replace('"', '\\"') + '"') for w in warnings]


def _respond(request: web.Request, registry: Registry, body: Obj, status: int = 200,
             warnings: list[str] | None = None) -> web.Response:
    if neg.wants_table(request) and body.get("kind") == registry.resource.kind:
        body = neg.to_table(registry.strategy, [body], {"resourceVersion": meta.resource_version(body)},
                            request.query.get("includeObject", "Metadata"))
    resp = neg.json_response(body, status)
    for k, val in _warning_headers(warnings or []):
        resp.headers.add(k, val)
    return resp


def _status_success(registry: Registry, obj: Obj) -> Obj:
    details = {"name": meta.name(obj), "kind": registry.resource.plural, "uid": meta.uid(obj)}
    if registry.resource.group:
        details["group"] = registry.resource.group
    return {"kind": "Status", "apiVersion": "v1", "metadata": {}, "status": "Success",
            "details": details}


class ResourceHandler:
    def __init__(self, ctx: ServerContext) -> None:
        self.ctx = ctx
        self.tokens = TokenRequests(token_config(ctx.settings), ctx.registries)

    async def handle(self, request: web.Request, info: RequestInfo) -> web.StreamResponse:
        if reviews.is_review(info.resource):  # create-only and never stored
            return await reviews.handle(self.ctx, request, info)
        registry = self.ctx.registries[info.resource]
        if info.resource.namespaced and info.name and info.namespace is None:
            raise not_found_path()
        if info.name is not None:
            problems = names.path_segment_problems(info.name)
            if problems:  # upstream NamespaceKeyFunc: never let a name reshape a storage key
                raise BadRequest(f"Name parameter invalid: {orjson.dumps(info.name).decode()}: "
                                 + ";".join(problems))
        method = request.method
        if info.subresource == "log":  # pods/log: read only, streamed from the kubelet
            if method != "GET":
                raise MethodNotAllowed("the server does not allow this method on the requested resource")
            return await podlogs.serve(self.ctx, request, info.namespace or "", info.name or "")
        if info.subresource in connect.CONNECT_SUBRESOURCES:  # upgraded streams to the kubelet
            if method not in ("GET", "POST"):
                raise MethodNotAllowed("the server does not allow this method on the requested resource")
            return await connect.serve(self.ctx, request, info.namespace or "", info.name or "", info.subresource)
        neg.check_acceptable(request)
        if info.subresource == "token":  # serviceaccounts/token: TokenRequest, create only
            if method != "POST":
                raise MethodNotAllowed("the server does not allow this method on the requested resource")
            token, warnings = await self.tokens.create(info.namespace or "", info.name or "",
                                                       await neg.read_body(request))
            return _respond(request, registry, token, 201, warnings)
        watching = info.watch_path or request.query.get("watch") in ("1", "true", "True")
        if method == "GET":
            if watching:
                if info.name:  # watch on one object: a name field selector
                    fs = "metadata.name=" + escape_field_value(info.name)
                    q = dict(request.query, fieldSelector=",".join(
                        x for x in (request.query.get("fieldSelector"), fs) if x))
                    opts = ListOptions.from_query(q)
                else:
                    opts = ListOptions.from_query(dict(request.query))
                return await self._watch(request, registry, info, opts)
            if info.name:
                return await self._get(request, registry, info)
            return await self._list(request, registry, info)
        if method == "POST":
            if info.subresource == "binding":
                body = await neg.read_body(request)
                return neg.json_response(await subs.bind(registry, info.namespace or "", info.name or "", body), 201)
            if info.subresource == "eviction":
                body = await neg.read_body(request)
                return neg.json_response(await eviction.evict(self.ctx, info.namespace or "", info.name or "", body),
                                         201)
            if info.name:
                raise MethodNotAllowed("the server does not allow this method on the requested resource")
            return await self._create(request, registry, info)
        if method == "PUT" and info.name:
            return await self._update(request, registry, info)
        if method == "PATCH" and info.name:
            return await self._patch(request, registry, info)
        if method == "DELETE":
            if info.name:
                return await self._delete(request, registry, info)
            return await self._delete_collection(request, registry, info)
        raise MethodNotAllowed("the server does not allow this method on the requested resource")

    # --- reads -------------------------------------------------------------------------------
    async def _get(self, request: web.Request, registry: Registry, info: RequestInfo) -> web.Response:
        if info.subresource == "scale":
            return neg.json_response(await subs.get_scale(registry, info.namespace or "", info.name or ""))
        check_resource_version(request.query.get("resourceVersion", ""))
        obj = await registry.get(info.namespace, info.name or "")
        return _respond(request, registry, obj)

    async def _list(self, request: web.Request, registry: Registry, info: RequestInfo) -> web.Response:
        listed = await registry.list(info.namespace, ListOptions.from_query(dict(request.query)))
        if neg.wants_table(request):
            return neg.json_response(neg.to_table(registry.strategy, listed["items"], listed["metadata"],
                                                  request.query.get("includeObject", "Metadata")))
        return neg.json_response(listed)

    async def _watch(self, request: web.Request, registry: Registry, info: RequestInfo,
                     opts: ListOptions) -> web.StreamResponse:
        include = request.query.get("includeObject", "Metadata")
        as_table = neg.wants_table(request)
        first = [True]

        def render(obj: Obj) -> Any:
            if not as_table:
                return obj
            table = neg.to_table(registry.strategy, [obj], {"resourceVersion": meta.resource_version(obj)},
                                 include, with_columns=first[0])
            first[0] = False
            return table
        return await serve_watch(request, registry, info.namespace, opts, render,
                                 self.ctx.settings.watch_bookmark_interval)

    # --- writes ------------------------------------------------------------------------------
    async def _body(self, request: web.Request, registry: Registry, verb: str) -> tuple[Obj, list[str]]:
        raw = await request.read()
        ctype = request.headers.get("Content-Type", neg.JSON)
        body = neg.decode_body(raw, ctype)
        warnings = check_fields(registry.resource, body, request.query.get("fieldValidation"),
                                raw=raw if neg.is_json(ctype) else None, verb=verb)
        return check_shape(registry.resource, body), warnings

    async def _create(self, request: web.Request, registry: Registry, info: RequestInfo) -> web.Response:
        body, warnings = await self._body(request, registry, "create")
        obj = await registry.create(info.namespace, body, dry_run=bool(request.query.get("dryRun")))
        return _respond(request, registry, obj, 201, warnings)

    async def _update(self, request: web.Request, registry: Registry, info: RequestInfo) -> web.Response:
        if info.subresource == "scale":
            body = await neg.read_body(request)
            return neg.json_response(await subs.update_scale(registry, info.namespace or "", info.name or "", body))
        body, warnings = await self._body(request, registry, "update")
        obj, created = await registry.put(info.namespace, info.name or "", body,
                                          subresource=info.subresource,
                                          dry_run=bool(request.query.get("dryRun")))
        return _respond(request, registry, obj, 201 if created else 200, warnings)

    async def _patch(self, request: web.Request, registry: Registry, info: RequestInfo) -> web.Response:
        ctype = request.headers.get("Content-Type", "").split(";")[0].strip().lower()
        if ctype == APPLY_PATCH:
            raise UnsupportedMediaType("server-side apply is not supported: use client-side "
                                       "`kubectl apply` (the default)")
        patch = await neg.read_body(request)
        if patch is None:
            raise BadRequest("the body of the request is empty")
        if info.subresource == "scale":
            return neg.json_response(await subs.update_scale(registry, info.namespace or "", info.name or "",
                                                             patch, ctype))
        directive = request.query.get("fieldValidation")
        warnings: list[str] = []

        def patched(current: Obj) -> Obj:
            new = apply_patch(ctype, current, patch, merge_keys=merge_keys(kind_name(registry.resource)))
            if not isinstance(new, dict):
                raise BadRequest("the patched object must be a JSON object")
            registry.check_identity(new, info.namespace, info.name or "")
            warnings[:] = check_fields(registry.resource, new, directive, verb="patch")
            check_shape(registry.resource, new)
            rv = meta.resource_version(new)
            if rv and rv != meta.resource_version(current):
                raise conflict(registry.resource, info.name or "")
            return new
        obj = await registry.guaranteed_update(info.namespace, info.name or "", patched,
                                               subresource=info.subresource,
                                               dry_run=bool(request.query.get("dryRun")))
        return _respond(request, registry, obj, 200, warnings)

    async def _delete(self, request: web.Request, registry: Registry, info: RequestInfo) -> web.Response:
        body = await neg.read_body(request)
        opts = DeleteOptions.from_dict(body, dict(request.query))
        obj, removed = await registry.delete(info.namespace, info.name or "", opts)
        if not removed:
            # upstream answers 202 only for an explicit orphanDependents=false; else 200
            accepted = isinstance(body, dict) and body.get("orphanDependents") is False
            return _respond(request, registry, obj, 202 if accepted else 200)
        if registry.strategy.return_deleted_object:
            return _respond(request, registry, obj)
        return neg.json_response(_status_success(registry, obj))

    async def _delete_collection(self, request: web.Request, registry: Registry,
                                 info: RequestInfo) -> web.Response:
        body = await neg.read_body(request)
        dopts = DeleteOptions.from_dict(body, dict(request.query))
        return neg.json_response(await registry.delete_collection(
            info.namespace, ListOptions.from_query(dict(request.query)), dopts))
