"""The audit edge: every request gets an audit ID (the `Audit-Id` response header, or the
caller's own `Audit-ID`), and when a policy and a log are configured, its events at the
stages upstream records: RequestReceived and ResponseComplete, ResponseStarted when a
long-running response (a watch) starts, Panic when a handler failed with an unexpected
exception. It sits inside the status edge and outside the access edge, so it sees the 401s
and 403s as errors; the access edge tells it who the caller was and what authorization said.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import logging
import uuid
from typing import Any

import orjson
from aiohttp import web
from aiohttp.typedefs import Handler, Middleware

from lab.kube.apiserver.audit.event import DECISION, REASON, RequestRecord, event, response_status
from lab.kube.apiserver.audit.log import LogBackend
from lab.kube.apiserver.audit.policy import Level, Policy
from lab.kube.apiserver.audit.policy import load as load_policy
from lab.kube.apiserver.authz.attributes import from_request
from lab.kube.apiserver.authz.authorizer import Verdict
from lab.kube.apiserver.rest import identity
from lab.kube.apiserver.rest.negotiation import decode_body
from lab.kube.apiserver.settings import Settings
from lab.kube.machinery import errors
from lab.kube.machinery.user import UserInfo

log = logging.getLogger(__name__)
HEADER = "Audit-Id"
_RECORD = web.RequestKey("kubelab.audit", RequestRecord)
# upstream's LongRunningRequestCheck: these verbs and subresources stream their responses
_LONG_VERBS = frozenset({"watch", "proxy"})
_LONG_SUBRESOURCES = frozenset({"attach", "exec", "proxy", "log", "portforward"})


def record_decision(request: web.Request, verdict: Verdict) -> None:
    """The authorizer's answer as the event's annotations (upstream's authorization filter)."""
    rec = request.get(_RECORD)
    if rec is not None:
        rec.annotations[DECISION] = "allow" if verdict.allowed else "forbid"
        rec.annotations[REASON] = verdict.reason


def _now() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


def _source_ips(request: web.Request) -> list[str]:
    """X-Forwarded-For, then X-Real-Ip, then the peer (upstream utilnet.SourceIPs)."""
    ips = [ip.strip() for ip in request.headers.get("X-Forwarded-For", "").split(",") if ip.strip()]
    for ip in (request.headers.get("X-Real-Ip", "").strip(), request.remote or ""):
        if ip and ip not in ips:
            ips.append(ip)
    return ips


def _json(data: bytes | None) -> Any:
    if not data:
        return None
    try:
        return orjson.loads(data)
    except orjson.JSONDecodeError:  # a response in protobuf or a table: logged without a body
        return None


async def _request_body(request: web.Request) -> Any:
    """The object sent, in any format the server reads (kubectl sends protobuf); the
    handler's read is cached, so the body is not read twice from the wire."""
    try:
        return decode_body(await request.read(), request.headers.get("Content-Type", "application/json"))
    except (errors.APIError, web.HTTPException, ValueError):  # the handler has answered it already
        return None


class Auditor:
    """The policy and the log; `enabled` only with both, as upstream's audit needs both."""

    def __init__(self, policy: Policy | None, backend: LogBackend | None) -> None:
        self.policy, self.backend = policy, backend

    @classmethod
    def from_settings(cls, settings: Settings) -> Auditor:
        if not settings.audit_policy_file or not settings.audit_log_path:
            return cls(None, None)
        return cls(load_policy(settings.audit_policy_file),
                   LogBackend.open(settings.audit_log_path, settings.audit_log_maxsize,
                                   settings.audit_log_maxbackup, settings.audit_log_maxage))

    @property
    def enabled(self) -> bool:
        return self.policy is not None and self.backend is not None

    def attach(self, app: web.Application) -> None:
        """Stamp the Audit-Id header on every response; run the log writer with the app and
        drain it when the app stops."""
        app.on_response_prepare.append(self._on_prepare)
        if self.backend is not None:
            backend = self.backend
            app.on_startup.append(lambda _: _start(backend))
            app.on_cleanup.append(lambda _: asyncio.to_thread(backend.close))

    @property
    def middleware(self) -> Middleware:
        @web.middleware
        async def audit(request: web.Request, handler: Handler) -> web.StreamResponse:
            rec = RequestRecord(
                audit_id=request.headers.get("Audit-ID") or str(uuid.uuid4()),
                request_uri=request.raw_path, source_ips=_source_ips(request),
                user_agent=request.headers.get("User-Agent", ""), received=_now(),
                attrs=from_request(UserInfo(""), request.method, request.path, request.query),
                authenticated=False)
            request[_RECORD] = rec
            if not self.enabled:
                return await handler(request)
            try:
                resp = await handler(request)
            except errors.APIError as err:
                await self._complete(request, rec, err.code, err.status())
                raise
            except web.HTTPException as exc:
                await self._complete(request, rec, exc.status, None)
                raise
            except Exception:  # the status edge answers 500; upstream records a Panic stage
                self._settle(request, rec)
                rec.response_status = response_status(500, None)
                self._emit(rec, "Panic")
                raise
            body = resp.body if isinstance(resp, web.Response) and isinstance(resp.body, bytes) else None
            await self._complete(request, rec, resp.status, _json(body))
            return resp

        return audit

    def _settle(self, request: web.Request, rec: RequestRecord) -> None:
        """Once the caller is known (or known to be nobody), fix the level from the policy."""
        if rec.settled or self.policy is None:
            return
        rec.settled = True
        try:
            rec.attrs, rec.authenticated = identity.attributes_of(request), True
        except RuntimeError:  # refused before the access edge named the caller
            pass
        rec.level, rec.omit_stages = self.policy.decide(rec.attrs)

    async def _complete(self, request: web.Request, rec: RequestRecord, code: int, body: Any) -> None:
        self._settle(request, rec)
        if rec.level is Level.NONE:
            return
        rec.response_status = response_status(code, body)
        if not rec.authenticated and code == 401:
            self._emit(rec, "ResponseStarted", received_first=False)  # upstream's failed-authn event
            return
        self._emit_received(rec)
        if rec.attrs.resource_request and request.body_exists:
            sent = await _request_body(request)
            if isinstance(sent, dict) and isinstance(sent.get("metadata"), dict):
                rec.request_meta = sent["metadata"]
            if rec.level >= Level.REQUEST:
                rec.request_object = sent
        if rec.level >= Level.REQUEST_RESPONSE and isinstance(body, dict) and body.get("kind") != "Status":
            rec.response_object = body
        self._emit(rec, "ResponseComplete")

    async def _on_prepare(self, request: web.Request, response: web.StreamResponse) -> None:
        rec = request.get(_RECORD)
        if rec is None:
            return
        response.headers[HEADER] = rec.audit_id
        if not self.enabled or not _long_running(rec) or rec.logged & {"ResponseStarted", "ResponseComplete"}:
            return
        self._settle(request, rec)
        rec.response_status = response_status(response.status, None)
        self._emit(rec, "ResponseStarted")

    def _emit_received(self, rec: RequestRecord) -> None:
        """RequestReceived, stamped when the request came in: written late, once the caller is
        known, because the access edge (which names them) runs inside this one."""
        self._write(rec, "RequestReceived", rec.received)

    def _emit(self, rec: RequestRecord, stage: str, *, received_first: bool = True) -> None:
        if received_first:
            self._emit_received(rec)
        self._write(rec, stage, _now())

    def _write(self, rec: RequestRecord, stage: str, when: dt.datetime) -> None:
        if rec.level is Level.NONE or self.backend is None or stage in rec.logged:
            return
        rec.logged.add(stage)
        if stage not in rec.omit_stages:
            self.backend.emit(event(rec, stage, when))


def _long_running(rec: RequestRecord) -> bool:
    return rec.attrs.verb in _LONG_VERBS or rec.attrs.subresource in _LONG_SUBRESOURCES


async def _start(backend: LogBackend) -> None:
    backend.start()
