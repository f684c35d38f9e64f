"""Request options the registry understands: deletion and listing (from query or body)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from lab.kube.machinery.errors import BadRequest
from lab.kube.machinery.selectors import FieldSelector, LabelSelector

PROPAGATION = ("Orphan", "Background", "Foreground")


@dataclass(frozen=True)
class DeleteOptions:
    grace_period_seconds: int | None = None
    propagation_policy: str | None = None
    uid: str | None = None  # preconditions.uid
    resource_version: str | None = None  # preconditions.resourceVersion
    dry_run: bool = False

    @classmethod
    def from_dict(cls, body: dict[str, Any] | None, query: dict[str, str] | None = None) -> DeleteOptions:
        body, query = body or {}, query or {}
        grace = body.get("gracePeriodSeconds", query.get("gracePeriodSeconds"))
        policy = body.get("propagationPolicy", query.get("propagationPolicy"))
        if policy is None and body.get("orphanDependents", query.get("orphanDependents")) in (True, "true"):
            policy = "Orphan"
        if policy is not None and policy not in PROPAGATION:
            raise BadRequest(f"propagationPolicy: Unsupported value: \"{policy}\": supported values: "
                             '"Foreground", "Background", "Orphan"')
        pre = body.get("preconditions") or {}
        dry = body.get("dryRun") or query.get("dryRun")
        try:
            grace_int = int(grace) if grace is not None else None
        except (TypeError, ValueError) as exc:
            raise BadRequest(f"invalid gracePeriodSeconds {grace!r}") from exc
        if grace_int is not None and grace_int < 0:
            grace_int = 1  # upstream: negative values mean "as soon as possible"
        return cls(grace_int, policy, pre.get("uid"), pre.get("resourceVersion"), bool(dry))


@dataclass(frozen=True)
class ListOptions:
    label_selector: LabelSelector = field(default_factory=LabelSelector)
    field_selector: FieldSelector = field(default_factory=FieldSelector)
    resource_version: str = ""
    limit: int = 0
    continue_token: str = ""
    timeout_seconds: int | None = None
    allow_bookmarks: bool = False

    @classmethod
    def from_query(cls, q: dict[str, str]) -> ListOptions:
        def num(name: str) -> int | None:
            if not q.get(name):
                return None
            try:
                return int(q[name])
            except ValueError as exc:
                raise BadRequest(f"invalid {name} {q[name]!r}") from exc
        return cls(
            LabelSelector.parse(q.get("labelSelector")),
            FieldSelector.parse(q.get("fieldSelector")),
            q.get("resourceVersion", ""),
            num("limit") or 0,
            q.get("continue", ""),
            num("timeoutSeconds"),
            q.get("allowWatchBookmarks") in ("true", "1"),
        )
