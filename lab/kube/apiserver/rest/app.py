"""The aiohttp application: one error edge (APIError -> Status), discovery, health, OpenAPI,
and a catch-all that routes resource paths to the resource handler."""

from __future__ import annotations

import logging
import time

from aiohttp import web
from aiohttp.typedefs import Handler, Middleware

from lab.kube.apiserver import audit, openapi
from lab.kube.apiserver.admission import current_request
from lab.kube.apiserver.authz import forbidden, from_request
from lab.kube.apiserver.context import ServerContext
from lab.kube.apiserver.registry.errors import too_large
from lab.kube.apiserver.rest import discovery, identity, paths, proxy
from lab.kube.apiserver.rest.negotiation import json_response
from lab.kube.apiserver.rest.oidc import OpenIDMetadata
from lab.kube.apiserver.rest.resources import ResourceHandler
from lab.kube.apiserver.serviceaccount import from_settings as token_config
from lab.kube.machinery import errors

log = logging.getLogger(__name__)
MAX_BODY_BYTES = 3 * 1024 * 1024  # upstream apiserver's request body limit


def _status_response(err: errors.APIError) -> web.Response:
    headers = {"Retry-After": str(err.retry_after)} if err.retry_after is not None else None
    return json_response(err.status(), err.code, headers)


@web.middleware
async def status_edge(request: web.Request, handler: Handler) -> web.StreamResponse:
    """Every error leaves as an upstream Status; the only place exceptions become HTTP."""
    started = time.monotonic()
    try:
        resp = await handler(request)
    except errors.APIError as err:
        resp = _status_response(err)
    except web.HTTPRequestEntityTooLarge:
        resp = _status_response(too_large(f"limit is {MAX_BODY_BYTES}"))
    except web.HTTPNotFound:
        resp = _status_response(paths.not_found_path())
    except web.HTTPMethodNotAllowed:
        resp = _status_response(errors.MethodNotAllowed(
            "the server does not allow this method on the requested resource"))
    except web.HTTPException:
        raise
    except Exception as exc:
        log.exception("%s %s failed", request.method, request.path_qs)
        resp = _status_response(errors.InternalError(f"Internal error occurred: {exc}"))
    log.debug("%s %s %s %.1fms", request.method, request.path_qs, resp.status,
              (time.monotonic() - started) * 1000)
    return resp


def access_edge(ctx: ServerContext) -> Middleware:
    """Authenticate, then authorize, every request before it is routed (upstream filter
    order): a 401 or 403 never reveals whether the thing asked for exists."""

    @web.middleware
    async def access(request: web.Request, handler: Handler) -> web.StreamResponse:
        user = await ctx.authenticator.authenticate(request)
        attrs = from_request(user, request.method, request.path, request.query)
        identity.remember(request, attrs)  # before authorizing: the audit edge records who was refused
        verdict = await ctx.authorizer.authorize(attrs)
        audit.record_decision(request, verdict)
        if not verdict.allowed:
            log.debug("forbidden %s: %s", attrs, verdict.reason)
            raise forbidden(attrs, verdict.reason)
        current_request.set(attrs)  # for admission, down in the registry (this request's task only)
        return await handler(request)

    return access


def make_app(ctx: ServerContext) -> web.Application:
    auditor = audit.Auditor.from_settings(ctx.settings)
    app = web.Application(middlewares=[status_edge, auditor.middleware, access_edge(ctx)],
                          client_max_size=MAX_BODY_BYTES)
    auditor.attach(app)  # the Audit-Id header; the log writer runs and drains with the app
    resources = ResourceHandler(ctx)

    async def version(_: web.Request) -> web.Response:
        return json_response(discovery.version())

    async def healthz(_: web.Request) -> web.Response:
        return web.Response(text="ok")

    async def readyz(request: web.Request) -> web.Response:
        """Upstream's healthz handler: `ok`, or every check listed (reasons withheld, logged) when
        verbose or failing."""
        checks = await ctx.readiness.checks()
        failed = [(name, why) for name, why in checks if why]
        for name, why in failed:
            log.info("readyz check %s failed: %s", name, why)
        if not failed and "verbose" not in request.query:
            return web.Response(text="ok")
        lines = "".join(f"[-]{name} failed: reason withheld\n" if why else f"[+]{name} ok\n" for name, why in checks)
        if failed:
            return web.Response(text=f"{lines}readyz check failed\n", status=500)
        return web.Response(text=f"{lines}readyz check passed\n")

    async def api(_: web.Request) -> web.Response:
        return json_response(discovery.api_versions(ctx.settings.server_address))

    async def apis(_: web.Request) -> web.Response:
        return json_response(discovery.api_group_list())

    async def group(request: web.Request) -> web.Response:
        doc = discovery.api_group(request.match_info["group"])
        if doc is None:
            raise paths.not_found_path()
        return json_response(doc)

    async def core_version(request: web.Request) -> web.Response:
        doc = discovery.resource_list("", request.match_info["version"])
        if doc is None:
            raise paths.not_found_path()
        return json_response(doc)

    async def group_version(request: web.Request) -> web.Response:
        doc = discovery.resource_list(request.match_info["group"], request.match_info["version"])
        if doc is None:
            raise paths.not_found_path()
        return json_response(doc)

    async def openapi_v2(request: web.Request) -> web.Response:
        accept = request.headers.get("Accept", "")
        if "protobuf" in accept or request.path.endswith(".pb-v1"):
            return web.Response(body=openapi.v2_protobuf(), headers={"Content-Type": openapi.PROTOBUF_V2_CONTENT_TYPE})
        return json_response(openapi.v2_json())

    async def openapi_v3(request: web.Request) -> web.Response:
        sub = request.match_info.get("path", "")
        doc = openapi.v3_index() if not sub else openapi.v3_document(sub)
        if doc is None:
            raise paths.not_found_path()
        return json_response(doc)

    async def any_resource(request: web.Request) -> web.StreamResponse:
        if (proxied := proxy.parse(request.path)) is not None:  # nodes|pods|services/<id>/proxy/...
            return await proxy.serve(ctx, request, proxied)
        info = paths.parse(request.path)
        if info is None:
            raise paths.not_found_path()
        return await resources.handle(request, info)

    r = app.router
    r.add_get("/version", version)
    r.add_get("/version/", version)
    for p in ("/healthz", "/livez"):
        r.add_get(p, healthz)
    r.add_get("/readyz", readyz)
    r.add_get("/api", api)
    r.add_get("/api/", api)
    r.add_get("/apis", apis)
    r.add_get("/apis/", apis)
    r.add_get("/openapi/v2", openapi_v2)
    r.add_get("/swagger-2.0.0.pb-v1", openapi_v2)
    r.add_get("/openapi/v3", openapi_v3)
    r.add_get("/openapi/v3/{path:.*}", openapi_v3)
    r.add_get("/api/{version}", core_version)
    r.add_get("/apis/{group}", group)
    r.add_get("/apis/{group}/{version}", group_version)
    oidc = OpenIDMetadata(token_config(ctx.settings))
    r.add_get("/.well-known/openid-configuration", oidc.configuration)
    r.add_get("/openid/v1/jwks", oidc.jwks)
    r.add_route("*", "/{tail:.*}", any_resource)
    return app
