"""Request options the registry understands: deletion and listing (from query or body)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from lab.kube.machinery.errors import BadRequest, Cause, Invalid
from lab.kube.machinery.selectors import FieldSelector, LabelSelector

PROPAGATION = ("Orphan", "Background", "Foreground")
RV_MATCH = ("Exact", "NotOlderThan", "")


def check_resource_version(rv: str) -> str:
    """A query resourceVersion is empty or a non-negative integer (upstream ParseResourceVersion),
    so a typo is a 400 rather than a silently fresh read or a watch that errors mid-stream."""
    if rv and not (rv.isascii() and rv.isdigit()):
        raise BadRequest(f'resourceVersion: Invalid value: "{rv}": strconv.ParseUint: parsing '
                         f'"{rv}": invalid syntax')
    return rv


def _check_rv_match(match: str, rv: str) -> None:
    """Upstream ValidateListOptions, answered as 422 on ListOptions.meta.k8s.io."""
    if match not in RV_MATCH:
        opts = ", ".join(f'"{m}"' for m in RV_MATCH)
        cause = Cause("FieldValueNotSupported", f'Unsupported value: "{match}": supported values: '
                      f"{opts}", "resourceVersionMatch")
    elif match and not rv:
        cause = Cause("FieldValueForbidden", "Forbidden: resourceVersionMatch is forbidden unless "
                      "resourceVersion is provided", "resourceVersionMatch")
    else:
        return
    raise Invalid(f'ListOptions.meta.k8s.io "" is invalid: {cause.field}: {cause.message}',
                  kind="ListOptions", group="meta.k8s.io", causes=[cause])


@dataclass(frozen=True)
class DeleteOptions:
    grace_period_seconds: int | None = None
    propagation_policy: str | None = None
    uid: str | None = None  # preconditions.uid
    resource_version: str | None = None  # preconditions.resourceVersion
    dry_run: bool = False

    @classmethod
    def from_dict(cls, body: Any, query: dict[str, str] | None = None) -> DeleteOptions:
        body, query = body or {}, query or {}
        if not isinstance(body, dict):  # a DELETE body is DeleteOptions or nothing
            raise BadRequest("json: cannot unmarshal into Go value of type v1.DeleteOptions")
        grace = body.get("gracePeriodSeconds", query.get("gracePeriodSeconds"))
        policy = body.get("propagationPolicy", query.get("propagationPolicy"))
        if policy is None and body.get("orphanDependents", query.get("orphanDependents")) in (True, "true"):
            policy = "Orphan"
        if policy is not None and policy not in PROPAGATION:
            raise BadRequest(f"propagationPolicy: Unsupported value: \"{policy}\": supported values: "
                             '"Foreground", "Background", "Orphan"')
        pre = body.get("preconditions") or {}
        if not isinstance(pre, dict):
            raise BadRequest("json: cannot unmarshal into Go struct field DeleteOptions.preconditions "
                             "of type v1.Preconditions")
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
                # upstream's query decoder error, verbatim
                raise BadRequest(f'strconv.ParseInt: parsing "{q[name]}": invalid syntax') from exc
        rv = check_resource_version(q.get("resourceVersion", ""))
        _check_rv_match(q.get("resourceVersionMatch", ""), rv)
        return cls(
            LabelSelector.parse(q.get("labelSelector")),
            FieldSelector.parse(q.get("fieldSelector")),
            rv,
            max(num("limit") or 0, 0),  # upstream pages only when limit > 0; negative = no limit
            q.get("continue", ""),
            num("timeoutSeconds"),
            q.get("allowWatchBookmarks") in ("true", "1"),
        )
