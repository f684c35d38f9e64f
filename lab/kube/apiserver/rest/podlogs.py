"""`GET pods/{name}/log`: the container's log, streamed from its node's kubelet (upstream
pkg/registry/core/pod/rest/log.go and strategy.go LogLocation).

The query is a PodLogOptions, validated here; the pod's container is picked (the only one, or
the one named); the kubelet's `/containerLogs` answer is relayed as it arrives, so `logs -f`
streams. A kubelet refusal becomes a Status with its code and its text as the message, as
upstream's response checker does.
"""

from __future__ import annotations

import logging
import ssl
from urllib.parse import urlencode

import aiohttp
from aiohttp import web

from lab.kube.apiserver.context import ServerContext
from lab.kube.apiserver.kubelet_client import KubeletLocation
from lab.kube.apiserver.strategies import validation as v
from lab.kube.machinery import catalog, errors
from lab.kube.machinery.objects import Obj, spec_of

log = logging.getLogger(__name__)
LOG_OPTIONS = ("container", "follow", "previous", "sinceSeconds", "sinceTime", "timestamps", "tailLines",
               "limitBytes", "insecureSkipTLSVerifyBackend")
MAX_ERROR_BODY = 4096  # upstream reads at most this much of a failed kubelet answer


def _int_param(query: dict[str, str], key: str) -> int | None:
    if not query.get(key):
        return None
    try:
        return int(query[key])
    except ValueError:
        raise errors.BadRequest(f'strconv.ParseInt: parsing "{query[key]}": invalid syntax') from None


def validate(name: str, query: dict[str, str]) -> None:
    """Upstream ValidatePodLogOptions."""
    causes = []
    tail, limit, since = _int_param(query, "tailLines"), _int_param(query, "limitBytes"), _int_param(query,
                                                                                                    "sinceSeconds")
    if tail is not None and tail < 0:
        causes.append(v.invalid("tailLines", tail, "must be greater than or equal to 0"))
    if limit is not None and limit < 1:
        causes.append(v.invalid("limitBytes", limit, "must be greater than 0"))
    if since is not None and query.get("sinceTime"):
        causes.append(v.forbidden("", "at most one of `sinceTime` or `sinceSeconds` may be specified"))
    elif since is not None and since < 1:
        causes.append(v.invalid("sinceSeconds", since, "must be greater than 0"))
    if causes:
        # the error names the options kind, not pods
        parts = [f"{c.field}: {c.message}" if c.field else c.message for c in causes]
        body = parts[0] if len(parts) == 1 else "[" + ", ".join(parts) + "]"
        raise errors.Invalid(f'PodLogOptions "{name}" is invalid: {body}', name=name, kind="PodLogOptions",
                             causes=causes)


def pick_container(pod: Obj, name: str, wanted: str) -> str:
    """The container to read (upstream LogLocation)."""
    spec = spec_of(pod)
    containers = [str(c.get("name", "")) for c in spec.get("containers") or []]
    if not wanted:
        if len(containers) == 1:
            return containers[0]
        if not containers:
            raise errors.BadRequest(f"a container name must be specified for pod {name}")
        message = f"a container name must be specified for pod {name}, choose one of: [{' '.join(containers)}]"
        inits = [c.get("name", "") for c in spec.get("initContainers") or []]
        if inits:
            message += f" or one of the init containers: [{' '.join(inits)}]"
        raise errors.BadRequest(message)
    every = containers + [c.get("name", "") for key in ("initContainers", "ephemeralContainers")
                          for c in spec.get(key) or []]
    if wanted not in every:
        raise errors.BadRequest(f"container {wanted} is not valid for pod {name}")
    return wanted


def kubelet_error(status: int, body: str) -> errors.APIError:
    """Upstream NewGenericServerResponse: the code decides the reason, the kubelet's text the message."""
    by_code: dict[int, type[errors.APIError]] = {
        400: errors.BadRequest, 401: errors.Unauthorized, 403: errors.Forbidden, 404: errors.NotFound,
        405: errors.MethodNotAllowed, 409: errors.Conflict, 422: errors.Invalid, 429: errors.TooManyRequests,
        500: errors.InternalError, 503: errors.ServiceUnavailable, 504: errors.Timeout}
    message = body.strip() or f"the server responded with the status code {status} but did not return more information"
    return by_code.get(status, errors.InternalError)(message)


async def serve(ctx: ServerContext, request: web.Request, namespace: str, name: str) -> web.StreamResponse:
    query = {k: request.query[k] for k in LOG_OPTIONS if k in request.query}
    validate(name, query)
    pod = await ctx.registries[catalog.PODS].get(namespace, name)
    container = pick_container(pod, name, query.get("container", ""))
    node = spec_of(pod).get("nodeName") or ""
    response = web.StreamResponse(headers={"Content-Type": "text/plain"})
    if not node:  # not scheduled yet: upstream answers an empty log
        await response.prepare(request)
        await response.write_eof()
        return response
    location = await ctx.kubelets.locate(node)
    params = {k: val for k, val in query.items() if k not in ("container", "insecureSkipTLSVerifyBackend")}
    url = location.url(f"/containerLogs/{namespace}/{name}/{container}", urlencode(params))
    return await _relay(request, response, location, url, ctx.kubelets.ssl, ctx.kubelets.timeout,
                        follow=query.get("follow") in ("true", "1"))


async def _relay(request: web.Request, response: web.StreamResponse, location: KubeletLocation, url: str,
                 tls: ssl.SSLContext, timeout: float, follow: bool) -> web.StreamResponse:
    # connecting and the first answer are bounded; a followed stream then runs as long as it lasts
    client_timeout = aiohttp.ClientTimeout(total=None, connect=timeout, sock_connect=timeout,
                                           sock_read=None if follow else max(timeout, 60.0))
    try:
        async with aiohttp.ClientSession(timeout=client_timeout) as session, \
                session.get(url, ssl=tls) as answer:
            if answer.status != 200:
                body = (await answer.content.read(MAX_ERROR_BODY)).decode("utf-8", "replace")
                raise kubelet_error(answer.status, body)
            response.enable_chunked_encoding()
            await response.prepare(request)
            async for chunk in answer.content.iter_any():
                await response.write(chunk)
    except aiohttp.ClientError as exc:
        if response.prepared:  # the stream broke midway: end it, as upstream does
            log.info("log stream from node %s ended: %s", location.node, exc)
            return response
        raise errors.InternalError(f'Get "{url}": {exc}') from exc
    except (ConnectionResetError, OSError) as exc:
        if response.prepared:
            return response
        raise errors.InternalError(f'Get "{url}": {exc}') from exc
    await response.write_eof()
    return response
