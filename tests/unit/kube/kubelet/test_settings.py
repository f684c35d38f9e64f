"""Flags and the KubeletConfiguration file: the file is the base, flags win."""

from __future__ import annotations

import pytest

from lab.kube.kubelet.settings import settings_from_args


def test_config_file_then_flags(tmp_path):
    cfg = tmp_path / "kubelet.yaml"
    cfg.write_text("apiVersion: kubelet.config.k8s.io/v1beta1\nkind: KubeletConfiguration\n"
                   "nodeStatusUpdateFrequency: 1m30s\nmaxPods: 50\nclusterDNS: [10.96.0.10]\n"
                   "containerRuntimeEndpoint: unix:///run/other.sock\n")
    s = settings_from_args(["--config", str(cfg), "--kubeconfig", "/k", "--hostname-override", "W1",
                            "--node-ip", "192.168.56.21", "--max-pods", "20"])
    assert s.node_status_update_frequency == 90 and s.max_pods == 20 and s.cluster_dns == ("10.96.0.10",)
    assert s.container_runtime_endpoint == "unix:///run/other.sock"
    assert s.node_name == "w1" and s.node_ip == "192.168.56.21" and s.healthz_port == 10248


def test_wrong_kind_is_refused(tmp_path):
    cfg = tmp_path / "x.yaml"
    cfg.write_text("kind: KubeProxyConfiguration\n")
    with pytest.raises(ValueError, match="KubeletConfiguration"):
        settings_from_args(["--config", str(cfg)])
