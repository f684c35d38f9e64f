"""The few kube-proxy metrics we keep, rendered in the Prometheus text format.

Names follow upstream (`kubeproxy_` subsystem, pkg/proxy/metrics/metrics.go) so dashboards
and habits carry over; no client library is needed for three series.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from lab.kube.component.metrics import Histogram


@dataclass
class ProxyMetrics:
    sync_duration: Histogram = field(default_factory=lambda: Histogram(
        "kubeproxy_sync_proxy_rules_duration_seconds", "SyncProxyRules latency in seconds"))
    last_sync_timestamp: float = 0.0
    restore_failures: int = 0
    rules: dict[str, int] = field(default_factory=dict)  # rules programmed per table

    def render(self) -> str:
        lines = self.sync_duration.render()
        for name, kind, help_, value in (
            ("kubeproxy_sync_proxy_rules_last_timestamp_seconds", "gauge",
             "The last time proxy rules were successfully synced", f"{self.last_sync_timestamp:.3f}"),
            ("kubeproxy_sync_proxy_rules_iptables_restore_failures_total", "counter",
             "Cumulative proxy iptables restore failures", str(self.restore_failures)),
        ):
            lines += [f"# HELP {name} {help_}", f"# TYPE {name} {kind}", f"{name} {value}"]
        name = "kubeproxy_sync_proxy_rules_iptables_total"
        lines += [f"# HELP {name} Number of proxy iptables rules programmed", f"# TYPE {name} gauge"]
        lines += [f'{name}{{table="{t}"}} {n}' for t, n in sorted(self.rules.items())]
        return "\n".join(lines) + "\n"
