"""Role-based access control: the authorizer (`--authorization-mode=RBAC`), its watch-kept
policy cache, the escalation check on RBAC writes, and the bootstrap policy."""

from lab.kube.apiserver.rbac.authorizer import RBACAuthorizer, RuleResolver
from lab.kube.apiserver.rbac.cache import PolicyCache
from lab.kube.apiserver.rbac.escalation import EscalationCheck
from lab.kube.apiserver.rbac.rules import rule_allows

__all__ = ["EscalationCheck", "PolicyCache", "RBACAuthorizer", "RuleResolver", "rule_allows"]
