"""Who made a request and what it asked to do, as the access edge found them; handlers
and admission read them here (upstream `request.UserFrom(ctx)`)."""

from __future__ import annotations

from aiohttp import web

from lab.kube.apiserver.authz.attributes import Attributes
from lab.kube.machinery.user import UserInfo

_ATTRIBUTES = web.RequestKey("kubelab.attributes", Attributes)


def remember(request: web.Request, attrs: Attributes) -> None:
    request[_ATTRIBUTES] = attrs


def attributes_of(request: web.Request) -> Attributes:
    try:
        return request[_ATTRIBUTES]
    except KeyError:
        raise RuntimeError("request reached a handler without passing the access edge") from None


def user_of(request: web.Request) -> UserInfo:
    return attributes_of(request).user
