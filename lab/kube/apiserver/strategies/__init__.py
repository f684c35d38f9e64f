"""Per-resource strategies, one small module per resource family; `for_resource` picks one."""

from __future__ import annotations

from lab.kube.apiserver.strategies import (
    apps,
    batch,
    core,
    namespaces,
    networking,
    nodes,
    pods,
    policy,
    rbac,
    scheduling,
    services,
)
from lab.kube.apiserver.strategies import serviceaccounts as service_accounts
from lab.kube.apiserver.strategies.base import Strategy
from lab.kube.machinery.catalog import Resource

_BY_RESOURCE: dict[Resource, Strategy] = {
    s.resource: s
    for s in (pods.STRATEGY, namespaces.STRATEGY, nodes.STRATEGY, services.STRATEGY,
              apps.DEPLOYMENTS, apps.REPLICASETS, apps.DAEMONSETS, apps.CONTROLLER_REVISIONS, batch.JOBS,
              batch.CRONJOBS, core.CONFIGMAPS, core.SECRETS, core.EVENTS, core.ENDPOINTS, core.ENDPOINTSLICES,
              core.LEASES,
              rbac.ROLES, rbac.CLUSTERROLES, rbac.ROLEBINDINGS, rbac.CLUSTERROLEBINDINGS,
              scheduling.PRIORITY_CLASSES, policy.PDBS, networking.INGRESSES, networking.INGRESS_CLASSES,
              networking.NETWORK_POLICIES)
}
_BY_RESOURCE[service_accounts.STRATEGY.resource] = service_accounts.STRATEGY



def for_resource(resource: Resource) -> Strategy:
    """The resource's strategy, or the generic one for catalog entries without their own."""
    return _BY_RESOURCE.get(resource) or Strategy(resource)


__all__ = ["Strategy", "for_resource"]
