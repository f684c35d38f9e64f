"""The authorizer `--authorization-mode` asks for: the modes in order, behind the union."""

from __future__ import annotations

from collections.abc import Mapping

from lab.kube.apiserver.authz.authorizer import AlwaysAllow, AlwaysDeny, Authorizer, Union
from lab.kube.apiserver.node.authorizer import NodeAuthorizer
from lab.kube.apiserver.rbac import EscalationCheck, PolicyCache, RBACAuthorizer
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
        elif mode == "RBAC":
            authorizers.append(_rbac(registries))
        else:
            raise UnknownModeError(f'authorization mode "{mode}" is not supported '
                                   "(--authorization-mode: AlwaysAllow, AlwaysDeny, Node, RBAC)")
    union = Union(authorizers)
    _install_rbac_escalation_check(union, registries)
    return union


def _rbac(registries: Mapping[Resource, Registry]) -> Authorizer:
    return RBACAuthorizer(PolicyCache(registries))


def _install_rbac_escalation_check(union: Union, registries: Mapping[Resource, Registry]) -> None:
    """The RBAC mode brings its escalation check on RBAC writes (it asks the whole union
    whether the writer may `escalate` or `bind`)."""
    rbac = next((a for a in union.authorizers if isinstance(a, RBACAuthorizer)), None)
    if rbac is not None and registries:
        chain = next(iter(registries.values())).ctx.admission
        chain.plugins.append(EscalationCheck(union, rbac.resolver, registries))
