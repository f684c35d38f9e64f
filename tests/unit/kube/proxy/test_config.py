"""Settings: upstream flags over a KubeProxyConfiguration file over upstream defaults."""

from __future__ import annotations

from pathlib import Path

import pytest

from lab.kube.proxy.config import settings_from_args

CONFIG = """\
apiVersion: kubeproxy.config.k8s.io/v1alpha1
kind: KubeProxyConfiguration
mode: iptables
clusterCIDR: 10.244.0.0/16
hostnameOverride: W1
healthzBindAddress: 0.0.0.0:10256
clientConnection:
  kubeconfig: /etc/kubernetes/kube-proxy.kubeconfig
iptables:
  syncPeriod: 1m0s
  minSyncPeriod: 500ms
  masqueradeAll: false
"""


def test_the_config_file_sets_everything(tmp_path: Path) -> None:
    (tmp_path / "kp.yaml").write_text(CONFIG)
    s, _ = settings_from_args(["--config", str(tmp_path / "kp.yaml")])
    assert (s.kubeconfig, s.cluster_cidr, s.node_name) == ("/etc/kubernetes/kube-proxy.kubeconfig",
                                                          "10.244.0.0/16", "w1")
    assert (s.sync_period, s.min_sync_period, s.metrics_bind_address) == (60, 0.5, "127.0.0.1:10249")


def test_flags_win_over_the_file(tmp_path: Path) -> None:
    (tmp_path / "kp.yaml").write_text(CONFIG)
    s, v = settings_from_args(["--config", str(tmp_path / "kp.yaml"), "--cluster-cidr", "10.200.0.0/16",
                               "--iptables-sync-period", "10s", "--hostname-override", "w2", "--v", "2"])
    assert (s.cluster_cidr, s.sync_period, s.node_name, v) == ("10.200.0.0/16", 10, "w2", 2)


def test_a_kubeconfig_is_required() -> None:
    with pytest.raises(ValueError, match="kubeconfig"):
        settings_from_args(["--cluster-cidr", "10.244.0.0/16"])
