"""audit.k8s.io/v1 Event records: what one request looked like at one stage, cut to the
level its policy rule gave (Metadata: who, what, outcome; Request: and the body sent;
RequestResponse: and the body returned)."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Any

from lab.kube.apiserver.audit.policy import Level
from lab.kube.apiserver.authz.attributes import Attributes

DECISION = "authorization.k8s.io/decision"
REASON = "authorization.k8s.io/reason"


def micro_time(when: dt.datetime) -> str:
    """metav1.MicroTime: RFC 3339 in UTC with six decimals."""
    return when.astimezone(dt.UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


@dataclass
class RequestRecord:
    """What the audit edge knows of one request; filled in as it goes."""

    audit_id: str
    request_uri: str
    source_ips: list[str]
    user_agent: str
    received: dt.datetime
    attrs: Attributes
    authenticated: bool
    level: Level = Level.NONE
    omit_stages: frozenset[str] = frozenset()
    annotations: dict[str, str] = field(default_factory=dict)
    request_object: Any = None
    request_meta: dict[str, Any] = field(default_factory=dict)
    """The request body's metadata: it completes objectRef (a create's name, for one)."""
    response_object: Any = None
    response_status: dict[str, Any] | None = None
    settled: bool = False
    """The caller and the level are fixed (at the first stage that is written)."""
    logged: set[str] = field(default_factory=set)
    """Stages already written (or omitted): each at most once."""


def object_ref(attrs: Attributes, body_meta: dict[str, Any]) -> dict[str, str] | None:
    """Absent for non-resource requests; fields are omitempty, as upstream's ObjectReference.
    What the path does not say comes from the request body, as upstream's LogRequestObject."""
    if not attrs.resource_request:
        return None
    ref = {"resource": attrs.resource,
           "namespace": attrs.namespace or str(body_meta.get("namespace") or ""),
           "name": attrs.name or str(body_meta.get("name") or ""),
           "uid": str(body_meta.get("uid") or ""),
           "apiGroup": attrs.api_group, "apiVersion": attrs.api_version,
           "resourceVersion": str(body_meta.get("resourceVersion") or ""),
           "subresource": attrs.subresource}
    return {k: v for k, v in ref.items() if v}


def response_status(code: int, body: Any) -> dict[str, Any]:
    """A metav1.Status: the bounded fields of a Status the server answered, else just the code."""
    status: dict[str, Any] = {"metadata": {}, "code": code}
    if isinstance(body, dict) and body.get("kind") == "Status":
        for key in ("status", "message", "reason", "details"):
            if body.get(key):
                status[key] = body[key]
    return status


def event(rec: RequestRecord, stage: str, when: dt.datetime) -> dict[str, Any]:
    """The Event for `stage`; bodies only at their levels, and never for non-resource requests."""
    out: dict[str, Any] = {
        "kind": "Event", "apiVersion": "audit.k8s.io/v1", "level": rec.level.wire,
        "auditID": rec.audit_id, "stage": stage, "requestURI": rec.request_uri,
        "verb": rec.attrs.verb,
        "user": rec.attrs.user.to_api() if rec.authenticated else {},
        "sourceIPs": rec.source_ips,
    }
    if rec.user_agent:
        out["userAgent"] = rec.user_agent
    ref = object_ref(rec.attrs, rec.request_meta)
    if ref is not None:
        out["objectRef"] = ref
    if stage != "RequestReceived" and rec.response_status is not None:
        out["responseStatus"] = rec.response_status
    if rec.attrs.resource_request:
        if rec.level >= Level.REQUEST and rec.request_object is not None:
            out["requestObject"] = rec.request_object
        if rec.level >= Level.REQUEST_RESPONSE and rec.response_object is not None and stage != "RequestReceived":
            out["responseObject"] = rec.response_object
    out["requestReceivedTimestamp"] = micro_time(rec.received)
    out["stageTimestamp"] = micro_time(when)
    if rec.annotations:
        out["annotations"] = dict(rec.annotations)
    return out
