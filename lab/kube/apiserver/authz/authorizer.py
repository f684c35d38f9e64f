"""Authorizers and how their answers combine (upstream `authorizer.Authorizer` and the
`union` of `--authorization-mode`), and the 403 a denied request gets.

Each authorizer answers ALLOW, DENY or NO_OPINION with a reason. Members of
`system:masters` are always allowed; then the modes are asked in order and the first
ALLOW or DENY wins; when all have no opinion the request is forbidden.
"""

from __future__ import annotations

import asyncio
import enum
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Protocol

from lab.kube.apiserver.authz.attributes import Attributes
from lab.kube.machinery import errors
from lab.kube.machinery.user import MASTERS


class Decision(enum.Enum):
    ALLOW = "allow"
    DENY = "deny"
    NO_OPINION = "no-opinion"


@dataclass(frozen=True)
class Verdict:
    decision: Decision
    reason: str = ""

    @property
    def allowed(self) -> bool:
        return self.decision is Decision.ALLOW


class Authorizer(Protocol):
    async def authorize(self, attrs: Attributes) -> Verdict: ...


class AlwaysAllow:
    """`--authorization-mode=AlwaysAllow` (upstream's default; not for a lab)."""

    async def authorize(self, attrs: Attributes) -> Verdict:
        return Verdict(Decision.ALLOW)


class AlwaysDeny:
    async def authorize(self, attrs: Attributes) -> Verdict:
        return Verdict(Decision.NO_OPINION, "Everything is forbidden.")


class Union:
    """The privileged group first, then each mode in `--authorization-mode` order."""

    def __init__(self, authorizers: Sequence[Authorizer]) -> None:
        self.authorizers = list(authorizers)

    async def authorize(self, attrs: Attributes) -> Verdict:
        if MASTERS in attrs.user.groups:
            return Verdict(Decision.ALLOW)
        reasons: list[str] = []
        for authorizer in self.authorizers:
            verdict = await authorizer.authorize(attrs)
            if verdict.decision is not Decision.NO_OPINION:
                return verdict
            if verdict.reason:
                reasons.append(verdict.reason)
        return Verdict(Decision.NO_OPINION, "\n".join(reasons))

    def synced(self) -> bool:
        """Every mode that keeps a cache has filled it once."""
        return all(getattr(a, "synced", lambda: True)() for a in self.authorizers)

    async def run(self) -> None:
        """Run the modes that keep a cache (the Node graph) until cancelled; the server's
        task group owns this."""
        async with asyncio.TaskGroup() as tg:
            for authorizer in self.authorizers:
                run = getattr(authorizer, "run", None)
                if run is not None:
                    tg.create_task(run(), name=f"authorizer-{type(authorizer).__name__}")


def forbidden(attrs: Attributes, reason: str = "") -> errors.Forbidden:
    """The 403 upstream writes (`responsewriters.forbiddenMessage` + `NewForbidden`)."""
    user = attrs.user.name
    suffix = f": {reason}" if reason else ""
    if not attrs.resource_request:
        return errors.Forbidden(f'forbidden: User "{user}" cannot {attrs.verb} path "{attrs.path}"{suffix}')
    scope = f'in the namespace "{attrs.namespace}"' if attrs.namespace else "at the cluster scope"
    what = (f'User "{user}" cannot {attrs.verb} resource "{attrs.resource_and_sub}" '
            f'in API group "{attrs.api_group}" {scope}')
    group_resource = f"{attrs.resource}.{attrs.api_group}" if attrs.api_group else attrs.resource
    subject = f'{group_resource} "{attrs.name}"' if attrs.name else group_resource
    return errors.Forbidden(f"{subject} is forbidden: {what}{suffix}", name=attrs.name,
                            kind=attrs.resource, group=attrs.api_group)
