"""Authorization: what a request may do (`--authorization-mode`, one module per mode)."""

from lab.kube.apiserver.authz.attributes import Attributes, from_request
from lab.kube.apiserver.authz.authorizer import (
    AlwaysAllow,
    AlwaysDeny,
    Authorizer,
    Decision,
    Union,
    Verdict,
    forbidden,
)

__all__ = ["AlwaysAllow", "AlwaysDeny", "Attributes", "Authorizer", "Decision", "Union", "Verdict",
           "forbidden", "from_request"]
