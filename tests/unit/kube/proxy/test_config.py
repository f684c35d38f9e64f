"""Settings as upstream builds them: with --config the KubeProxyConfiguration file wins over the
flags except --hostname-override and -v; without it the flags win over upstream defaults."""

from __future__ import annotations

import logging
import re
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


def test_with_a_config_file_only_hostname_override_and_v_beat_it(tmp_path: Path,
                                                                  caplog: pytest.LogCaptureFixture) -> None:
    (tmp_path / "kp.yaml").write_text(CONFIG)
    with caplog.at_level(logging.WARNING):
        s, v = settings_from_args(["--config", str(tmp_path / "kp.yaml"), "--cluster-cidr", "10.200.0.0/16",
                                   "--iptables-sync-period", "10s", "--hostname-override", "w2", "--v", "2",
                                   "--kubeconfig", "/etc/kubernetes/kube-proxy.kubeconfig"])
    assert (s.cluster_cidr, s.sync_period, s.node_name, v) == ("10.244.0.0/16", 60, "w2", 2)
    # the ignored flags that disagree with the file are named; --kubeconfig agrees with it
    assert [r.getMessage() for r in caplog.records if "ignored" in r.getMessage()] == [
        "Flags for cluster_cidr, sync_period are ignored: the --config file wins over them, as upstream"]


def test_without_a_config_file_the_flags_win_over_the_defaults() -> None:
    s, _ = settings_from_args(["--kubeconfig", "/k", "--cluster-cidr", "10.200.0.0/16",
                               "--iptables-sync-period", "1m30s", "--iptables-min-sync-period", "100ms"])
    assert (s.kubeconfig, s.cluster_cidr, s.sync_period, s.min_sync_period) == ("/k", "10.200.0.0/16", 90, 0.1)
    assert s.healthz_bind_address == "0.0.0.0:10256"


def test_an_empty_string_in_the_file_leaves_the_default(tmp_path: Path) -> None:
    (tmp_path / "kp.yaml").write_text(CONFIG.replace("healthzBindAddress: 0.0.0.0:10256", 'healthzBindAddress: ""'))
    s, _ = settings_from_args(["--config", str(tmp_path / "kp.yaml")])
    assert s.healthz_bind_address == "0.0.0.0:10256"


def test_an_unknown_field_is_a_warning_and_a_bad_duration_an_error(tmp_path: Path,
                                                                    caplog: pytest.LogCaptureFixture) -> None:
    path = tmp_path / "kp.yaml"
    path.write_text(CONFIG + "udpIdleTimeout: 250ms\n")
    with caplog.at_level(logging.WARNING):
        s, _ = settings_from_args(["--config", str(path)])
    assert s.cluster_cidr == "10.244.0.0/16"
    assert f'{path}: Using lenient decoding as strict decoding failed: strict decoding error: unknown field ' \
           '"udpIdleTimeout"' in caplog.text
    path.write_text(CONFIG.replace("syncPeriod: 1m0s", "syncPeriod: 1 minute"))
    with pytest.raises(ValueError, match="^" + re.escape(f"{path}: iptables.syncPeriod: invalid duration '1 minute'")):
        settings_from_args(["--config", str(path)])


def test_a_kubeconfig_is_required() -> None:
    with pytest.raises(ValueError, match="kubeconfig"):
        settings_from_args(["--cluster-cidr", "10.244.0.0/16"])
