"""Audit logging (`--audit-policy-file`, `--audit-log-*`): the policy that gives each request
a level, the audit.k8s.io/v1 events, the rotating log they are written to, and the edge
middleware that records them."""

from lab.kube.apiserver.audit.edge import HEADER, Auditor, record_decision
from lab.kube.apiserver.audit.log import LogBackend, RotatingFile
from lab.kube.apiserver.audit.policy import Level, Policy, PolicyError, load

__all__ = ["HEADER", "Auditor", "Level", "LogBackend", "Policy", "PolicyError", "RotatingFile",
           "load", "record_decision"]
