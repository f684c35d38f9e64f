"""ServiceAccounts: the generic rules plus their table (`kubectl get sa`: NAME, SECRETS, AGE).
Their `token` subresource (TokenRequest) is served by `rest/tokenrequest.py`, not stored."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from lab.kube.apiserver.printers import age
from lab.kube.apiserver.strategies.base import AGE_COLUMN, NAME_COLUMN, Strategy, column
from lab.kube.machinery import catalog, meta
from lab.kube.machinery.objects import Obj


@dataclass
class ServiceAccountStrategy(Strategy):
    def columns(self) -> list[dict[str, Any]]:
        return [NAME_COLUMN,
                column("Secrets", description="Secrets is a list of the secrets in the same namespace that "
                                              "pods running using this ServiceAccount are allowed to use."),
                AGE_COLUMN]

    def row(self, obj: Obj) -> list[Any]:
        return [meta.name(obj), len(obj.get("secrets") or []), age(obj)]


STRATEGY = ServiceAccountStrategy(catalog.SERVICEACCOUNTS)
