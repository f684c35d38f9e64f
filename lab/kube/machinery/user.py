"""Who a request is: the authenticated user as the API server and the kubelet see it
(upstream `k8s.io/apiserver/pkg/authentication/user`), and the well-known names."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

ANONYMOUS = "system:anonymous"
UNAUTHENTICATED = "system:unauthenticated"
AUTHENTICATED = "system:authenticated"
MASTERS = "system:masters"
NODES = "system:nodes"
NODE_PREFIX = "system:node:"
SERVICE_ACCOUNT_PREFIX = "system:serviceaccount:"
SERVICE_ACCOUNTS = "system:serviceaccounts"


@dataclass(frozen=True)
class UserInfo:
    name: str
    """The username: a certificate's CN, `system:serviceaccount:<ns>:<name>`, `system:anonymous`."""
    uid: str = ""
    groups: tuple[str, ...] = ()
    """A certificate's O values, or the groups a token grants; `system:authenticated` is added."""
    extra: Mapping[str, tuple[str, ...]] = field(default_factory=dict)
    """e.g. `authentication.kubernetes.io/pod-name` for a pod-bound token."""

    def with_group(self, group: str) -> UserInfo:
        return self if group in self.groups else UserInfo(self.name, self.uid, (*self.groups, group), self.extra)

    def to_api(self) -> dict[str, object]:
        """The `UserInfo` shape of TokenReview and SelfSubjectReview statuses."""
        out: dict[str, object] = {"username": self.name, "groups": list(self.groups)}
        if self.uid:
            out["uid"] = self.uid
        if self.extra:
            out["extra"] = {k: list(v) for k, v in self.extra.items()}
        return out


ANONYMOUS_USER = UserInfo(ANONYMOUS, groups=(UNAUTHENTICATED,))


def node_name(user: UserInfo) -> str | None:
    """The node a kubelet identity speaks for (`system:node:<name>` in `system:nodes`), else None."""
    if NODES in user.groups and user.name.startswith(NODE_PREFIX):
        return user.name[len(NODE_PREFIX):] or None
    return None


def service_account(user: UserInfo) -> tuple[str, str] | None:
    """(`namespace`, `name`) of a ServiceAccount username, else None."""
    if not user.name.startswith(SERVICE_ACCOUNT_PREFIX):
        return None
    ns, sep, name = user.name[len(SERVICE_ACCOUNT_PREFIX):].partition(":")
    return (ns, name) if sep and ns and name else None
