"""The review APIs: create-only virtual resources, answered at once and never stored
(upstream `pkg/registry/authentication/{tokenreview,selfsubjectreview}` and
`pkg/registry/authorization/*`). Each is one async function from the posted object to its
`status`; `handle` does the HTTP part (POST only, 201, the object echoed back)."""

from __future__ import annotations

import inspect
from collections.abc import Awaitable, Callable, Sequence
from typing import Any

from aiohttp import web

from lab.kube.apiserver.authn.bearer import BearerTokenAuthenticator, InvalidToken, TokenValidator
from lab.kube.apiserver.authz.attributes import Attributes
from lab.kube.apiserver.authz.authorizer import AlwaysAllow, Decision, Union
from lab.kube.apiserver.context import ServerContext
from lab.kube.apiserver.rest import negotiation as neg
from lab.kube.apiserver.rest.identity import user_of
from lab.kube.apiserver.rest.paths import RequestInfo
from lab.kube.apiserver.strategies import validation as v
from lab.kube.machinery import catalog
from lab.kube.machinery.catalog import Resource
from lab.kube.machinery.errors import BadRequest, MethodNotAllowed
from lab.kube.machinery.objects import Obj
from lab.kube.machinery.user import AUTHENTICATED, UserInfo

Review = Callable[[ServerContext, web.Request, Resource, Obj, str], Awaitable[Any]]


# --- authentication.k8s.io -------------------------------------------------------------------
async def _validate(validator: TokenValidator, token: str, audiences: Sequence[str]) -> UserInfo | None:
    """Validators that check audiences (ServiceAccount tokens) get the review's; others the token."""
    if audiences and "audiences" in inspect.signature(validator.validate).parameters:
        return await validator.validate(token, audiences=audiences)  # type: ignore[call-arg]
    return await validator.validate(token)


async def token_review(ctx: ServerContext, request: web.Request, res: Resource, obj: Obj, ns: str) -> Any:
    spec = obj.get("spec") or {}
    token = spec.get("token") or ""
    if not token:
        raise BadRequest("token is required for TokenReview in authentication")
    audiences = list(spec.get("audiences") or [])
    for authenticator in ctx.authenticator.authenticators:
        if not isinstance(authenticator, BearerTokenAuthenticator):
            continue
        for validator in authenticator.validators:
            try:
                user = await _validate(validator, token, audiences)
            except InvalidToken as exc:
                return {"authenticated": False, "user": {}, "error": str(exc)}
            if user is not None:
                out: dict[str, Any] = {"authenticated": True,
                                       "user": user.with_group(AUTHENTICATED).to_api()}
                if audiences:
                    out["audiences"] = audiences
                return out
    return {"authenticated": False, "user": {}, "error": "invalid bearer token"}


async def self_subject_review(ctx: ServerContext, request: web.Request, res: Resource, obj: Obj,
                              ns: str) -> Any:
    return {"userInfo": user_of(request).to_api()}


# --- authorization.k8s.io --------------------------------------------------------------------
def _attributes(res: Resource, user: UserInfo, spec: dict[str, Any]) -> Attributes:
    ra, nra = spec.get("resourceAttributes"), spec.get("nonResourceAttributes")
    if ra is not None and nra is not None:
        v.raise_invalid(res, "", [v.invalid("spec.nonResourceAttributes", nra,
                                            "cannot be specified in combination with resourceAttributes")])
    if ra is None and nra is None:
        v.raise_invalid(res, "", [v.invalid("spec.resourceAttributes", None, "exactly one of "
                                            "nonResourceAttributes or resourceAttributes must be specified")])
    if nra is not None:
        return Attributes(user, nra.get("verb", ""), False, path=nra.get("path", ""))
    assert ra is not None  # raise_invalid raised otherwise
    return Attributes(user, ra.get("verb", ""), True, namespace=ra.get("namespace", ""),
                      api_group=ra.get("group", ""), api_version=ra.get("version") or "*",
                      resource=ra.get("resource", ""), subresource=ra.get("subresource", ""),
                      name=ra.get("name", ""))


async def _decide(ctx: ServerContext, attrs: Attributes) -> dict[str, Any]:
    verdict = await ctx.authorizer.authorize(attrs)
    out: dict[str, Any] = {"allowed": verdict.decision is Decision.ALLOW}
    if verdict.decision is Decision.DENY:
        out["denied"] = True
    if verdict.reason:
        out["reason"] = verdict.reason
    return out


def _spec_user(res: Resource, spec: dict[str, Any]) -> UserInfo:
    if not spec.get("user") and not spec.get("groups"):
        v.raise_invalid(res, "", [v.invalid("spec.user", spec.get("user", ""),
                                            "at least one of user or group must be specified")])
    extra = {k: tuple(vals or ()) for k, vals in (spec.get("extra") or {}).items()}
    return UserInfo(spec.get("user", ""), spec.get("uid", ""), tuple(spec.get("groups") or ()), extra)


async def subject_access_review(ctx: ServerContext, request: web.Request, res: Resource, obj: Obj,
                                ns: str) -> Any:
    spec = obj.get("spec") or {}
    return await _decide(ctx, _attributes(res, _spec_user(res, spec), spec))


async def local_subject_access_review(ctx: ServerContext, request: web.Request, res: Resource, obj: Obj,
                                      ns: str) -> Any:
    spec = obj.get("spec") or {}
    if not ns:
        raise BadRequest("namespace is required on this type")
    if spec.get("nonResourceAttributes") is not None:
        v.raise_invalid(res, "", [v.invalid("spec.nonResourceAttributes", spec["nonResourceAttributes"],
                                            "disallowed on this kind of request")])
    ra = spec.get("resourceAttributes") or {}
    if ra.get("namespace", "") not in ("", ns):
        raise BadRequest(f"spec.resourceAttributes.namespace must match namespace: {ns}")
    attrs = _attributes(res, _spec_user(res, spec), {"resourceAttributes": {**ra, "namespace": ns}})
    return await _decide(ctx, attrs)


async def self_subject_access_review(ctx: ServerContext, request: web.Request, res: Resource, obj: Obj,
                                     ns: str) -> Any:
    return await _decide(ctx, _attributes(res, user_of(request), obj.get("spec") or {}))


def rules_for(ctx: ServerContext, user: UserInfo, namespace: str) -> dict[str, Any]:
    """What each mode says the user may do (upstream's union of rule resolvers)."""
    out: dict[str, Any] = {"resourceRules": [], "nonResourceRules": [], "incomplete": False}
    errs: list[str] = []
    members = ctx.authorizer.authorizers if isinstance(ctx.authorizer, Union) else [ctx.authorizer]
    for authorizer in members:
        if isinstance(authorizer, AlwaysAllow):
            out["resourceRules"].append({"verbs": ["*"], "apiGroups": ["*"], "resources": ["*"]})
            out["nonResourceRules"].append({"verbs": ["*"], "nonResourceURLs": ["*"]})
            continue
        resolve = getattr(authorizer, "rules_for", None)
        if resolve is None:
            continue
        resource, non_resource, incomplete, err = resolve(user, namespace)
        out["resourceRules"] += resource
        out["nonResourceRules"] += non_resource
        out["incomplete"] = out["incomplete"] or incomplete
        if err:
            errs.append(err)
    if errs:
        out["evaluationError"] = errs[0] if len(errs) == 1 else "[" + ", ".join(errs) + "]"
    return out


async def self_subject_rules_review(ctx: ServerContext, request: web.Request, res: Resource, obj: Obj,
                                    ns: str) -> Any:
    namespace = (obj.get("spec") or {}).get("namespace") or ""
    if not namespace:
        raise BadRequest("no namespace on request")
    return rules_for(ctx, user_of(request), namespace)


REVIEWS: dict[str, Review] = {
    "tokenreviews": token_review,
    "selfsubjectreviews": self_subject_review,
    "subjectaccessreviews": subject_access_review,
    "localsubjectaccessreviews": local_subject_access_review,
    "selfsubjectaccessreviews": self_subject_access_review,
    "selfsubjectrulesreviews": self_subject_rules_review,
}


def is_review(res: Resource) -> bool:
    return res in catalog.REVIEWS


async def handle(ctx: ServerContext, request: web.Request, info: RequestInfo) -> web.Response:
    """POST a review: 201 with the posted object and its status; nothing else is served."""
    if request.method != "POST" or info.name is not None:
        raise MethodNotAllowed("the server does not allow this method on the requested resource")
    res = info.resource
    obj = await neg.read_body(request)
    if not isinstance(obj, dict):
        raise BadRequest(f"the object provided is unrecognized (must be of type {res.kind})")
    md = dict(obj.get("metadata") or {})
    md.setdefault("creationTimestamp", None)
    if res.namespaced:
        md["namespace"] = info.namespace or ""
    status = await REVIEWS[res.plural](ctx, request, res, obj, info.namespace or "")
    body = {**obj, "kind": res.kind, "apiVersion": res.group_version, "metadata": md, "status": status}
    if res.plural == "selfsubjectreviews":
        body.pop("spec", None)
    return neg.json_response(body, 201)
