"""The authorizer `--authorization-mode` asks for: the modes in order, behind the union."""

from __future__ import annotations

from collections.abc import Mapping

from lab.kube.apiserver.authz.authorizer import AlwaysAllow, AlwaysDeny, Authorizer, Union
from lab.kube.apiserver.node.authorizer import NodeAuthorizer
from lab.kube.apiserver.registry import Registry
from lab.kube.apiserver.settings import Settings
from lab.kube.machinery.catalog import Resource


class UnknownModeError(ValueError):
    """`--authorization-mode` names a mode this server does not have."""


def build_authorizer(settings: Settings, registries: Mapping[Resource, Registry]) -> Union:
    authorizers: list[Authorizer] = []
    for mode in settings.authorization_mode:
        if mode == "AlwaysAllow":
            authorizers.append(AlwaysAllow())
        elif mode == "AlwaysDeny":
            authorizers.append(AlwaysDeny())
        elif mode == "Node":
            authorizers.append(NodeAuthorizer.on(registries))
        else:
            raise UnknownModeError(f'authorization mode "{mode}" is not supported '
                                   "(--authorization-mode: AlwaysAllow, AlwaysDeny)")
    return Union(authorizers)
