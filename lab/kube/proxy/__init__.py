"""kube-proxy in iptables mode: a pure rule builder, an iptables applier, and the sync loop."""

from lab.kube.proxy.model import Endpoint, ServicePort, service_ports
from lab.kube.proxy.proxier import Proxier, ProxierOptions
from lab.kube.proxy.rules import RuleSet, build_rules
from lab.kube.proxy.syncer import Applier, IptablesApplier, RecordingApplier

__all__ = ["Applier", "Endpoint", "IptablesApplier", "Proxier", "ProxierOptions", "RecordingApplier",
           "RuleSet", "ServicePort", "build_rules", "service_ports"]
