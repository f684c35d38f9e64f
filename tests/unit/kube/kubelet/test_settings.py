"""Flags and the KubeletConfiguration file: the file is the base, flags win."""

from __future__ import annotations

import logging
import re
from pathlib import Path

import pytest

from lab.kube.component.config import ConfigError
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
    cfg.write_text("apiVersion: kubeproxy.config.k8s.io/v1alpha1\nkind: KubeProxyConfiguration\n")
    with pytest.raises(ValueError, match=re.escape("expected kind KubeletConfiguration, "
                                                   "apiVersion kubelet.config.k8s.io/v1beta1")):
        settings_from_args(["--config", str(cfg)])


def test_wrong_api_version_is_refused_naming_the_file(tmp_path):
    cfg = tmp_path / "x.yaml"
    cfg.write_text("apiVersion: kubelet.config.k8s.io/v1\nkind: KubeletConfiguration\n")
    with pytest.raises(ValueError, match="^" + re.escape(f'{cfg}: no kind "KubeletConfiguration" is registered '
                                                         'for version "kubelet.config.k8s.io/v1"')):
        settings_from_args(["--config", str(cfg)])


def test_unknown_fields_are_warned_about_and_upstream_fields_kubelab_ignores_are_accepted(tmp_path, caplog):
    cfg = tmp_path / "kubelet.yaml"
    cfg.write_text("apiVersion: kubelet.config.k8s.io/v1beta1\nkind: KubeletConfiguration\n"
                   "cgroupDriver: systemd\nauthentication: {x509: {clientCAFile: /ca.crt}}\n"
                   "maxPod: 50\nhealthzPort: 1234\n")
    with caplog.at_level(logging.WARNING):
        s = settings_from_args(["--config", str(cfg), "--hostname-override", "w1"])
    assert s.healthz_port == 1234 and s.max_pods == 110
    assert caplog.messages == [(f'{cfg}: Using lenient decoding as strict decoding failed: strict decoding error: '
                                'unknown field "maxPod"')]


@pytest.mark.parametrize("line, message", [
    ("nodeStatusUpdateFrequency: 10 seconds", "nodeStatusUpdateFrequency: invalid duration '10 seconds'"),
    ("maxPods: many", "maxPods: expected an integer, got a string 'many'"),
    ("clusterDNS: 10.96.0.10", "clusterDNS: expected a list, got a string '10.96.0.10'"),
])
def test_a_bad_value_is_an_error_naming_file_and_field(tmp_path, line, message):
    cfg = tmp_path / "kubelet.yaml"
    cfg.write_text(f"apiVersion: kubelet.config.k8s.io/v1beta1\nkind: KubeletConfiguration\n{line}\n")
    with pytest.raises(ValueError) as caught:
        settings_from_args(["--config", str(cfg)])
    assert str(caught.value).startswith(f"{cfg}: {message}")


def test_flags_win_over_the_file_even_when_set_to_the_default(tmp_path):
    cfg = tmp_path / "kubelet.yaml"
    cfg.write_text("apiVersion: kubelet.config.k8s.io/v1beta1\nkind: KubeletConfiguration\n"
                   "healthzPort: 1234\nnodeStatusUpdateFrequency: 1m\n")
    s = settings_from_args(["--config", str(cfg), "--healthz-port", "10248", "--node-status-update-frequency", "5s"])
    assert (s.healthz_port, s.node_status_update_frequency) == (10248, 5)


def test_kubelet_api_defaults_are_the_config_files_not_the_legacy_flags():
    s = settings_from_args(["--hostname-override", "w1"])
    assert (s.enable_server, s.address, s.port, s.client_ca_file) == (True, "0.0.0.0", 10250, "")
    assert (s.anonymous_auth, s.authentication_webhook, s.authorization_mode) == (False, True, "Webhook")
    assert (s.authentication_webhook_cache_ttl, s.authorization_webhook_cache_authorized_ttl,
            s.authorization_webhook_cache_unauthorized_ttl, s.fine_grained_authz) == (120, 300, 30, True)


def test_kubelet_api_from_the_config_file_then_flags(tmp_path):
    cfg = tmp_path / "kubelet.yaml"
    cfg.write_text("apiVersion: kubelet.config.k8s.io/v1beta1\nkind: KubeletConfiguration\n"
                   "port: 11250\naddress: 192.168.56.21\ntlsCertFile: /pki/kubelet.crt\n"
                   "tlsPrivateKeyFile: /pki/kubelet.key\nfeatureGates: {KubeletFineGrainedAuthz: false}\n"
                   "authentication:\n  x509: {clientCAFile: /pki/ca.crt}\n  webhook: {enabled: true, cacheTTL: 0s}\n"
                   "  anonymous: {enabled: true}\n"
                   "authorization:\n  mode: Webhook\n  webhook: {cacheAuthorizedTTL: 0s, cacheUnauthorizedTTL: 1s}\n")
    s = settings_from_args(["--config", str(cfg), "--hostname-override", "w1", "--anonymous-auth=false"])
    assert (s.port, s.address, s.tls_cert_file, s.tls_private_key_file) == (
        11250, "192.168.56.21", "/pki/kubelet.crt", "/pki/kubelet.key")
    assert (s.client_ca_file, s.authentication_webhook, s.authentication_webhook_cache_ttl) == ("/pki/ca.crt", True, 0)
    assert (s.anonymous_auth, s.authorization_webhook_cache_authorized_ttl,
            s.authorization_webhook_cache_unauthorized_ttl, s.fine_grained_authz) == (False, 0, 1, False)
    s = settings_from_args(["--hostname-override", "w1", "--port", "0", "--client-ca-file", "/ca.crt",
                            "--authorization-mode", "AlwaysAllow", "--authentication-token-webhook=false",
                            "--tls-cert-file", "/c", "--tls-private-key-file", "/k", "--cert-dir", "/d"])
    assert (s.port, s.client_ca_file, s.authorization_mode, s.authentication_webhook) == (
        0, "/ca.crt", "AlwaysAllow", False)
    assert (s.tls_cert_file, s.tls_private_key_file, s.cert_dir) == ("/c", "/k", "/d")


def test_an_unknown_authorization_mode_is_refused():
    with pytest.raises(ValueError, match="unknown authorization mode 'RBAC'"):
        settings_from_args(["--authorization-mode", "RBAC"])


def test_container_log_rotation_from_the_config_file_then_flags(tmp_path):
    defaults = settings_from_args([])
    assert (defaults.container_log_max_bytes, defaults.container_log_max_files,
            defaults.container_log_monitor_interval) == (10 * 1024 * 1024, 5, 10.0)
    cfg = tmp_path / "kubelet.yaml"
    cfg.write_text("apiVersion: kubelet.config.k8s.io/v1beta1\nkind: KubeletConfiguration\n"
                   "containerLogMaxSize: 50Mi\ncontainerLogMaxFiles: 3\ncontainerLogMonitorInterval: 30s\n")
    s = settings_from_args(["--config", str(cfg), "--container-log-max-files", "4"])
    assert (s.container_log_max_bytes, s.container_log_max_files, s.container_log_monitor_interval) == (
        50 * 1024 * 1024, 4, 30.0)


@pytest.mark.parametrize(("args", "message"), [
    (["--container-log-max-files", "1"], "containerLogMaxFiles (--container-log-max-files) 1 must be greater than 1"),
    (["--container-log-max-size", "ten"], "containerLogMaxSize (--container-log-max-size) ten must be a positive"),
    (["--container-log-max-size", "0"], "containerLogMaxSize (--container-log-max-size) 0 must be a positive"),
])
def test_bad_container_log_rotation_settings_are_refused(args, message):
    with pytest.raises(ValueError, match=re.escape(message)):
        settings_from_args(args)


def test_reservations_and_eviction_thresholds_from_flags() -> None:
    s = settings_from_args(["--hostname-override", "w1", "--system-reserved", "cpu=100m,memory=100Mi",
                            "--eviction-hard", "memory.available<200Mi,nodefs.available<5%"])
    assert s.system_reserved == {"cpu": "100m", "memory": "100Mi"}
    assert s.eviction_hard == {"memory.available": "200Mi", "nodefs.available": "5%"}
    with pytest.raises(ConfigError, match="evictionHard: unsupported signal"):
        settings_from_args(["--hostname-override", "w1", "--eviction-hard", "disk<1Gi"])


def test_hollow_nodes_flag() -> None:
    from lab.kube.kubelet.hollow import hollow_settings

    s = settings_from_args(["--hostname-override", "hn", "--hollow-nodes", "3"])
    assert s.hollow_nodes == 3
    one = hollow_settings(s, 258, Path("/tmp/h"))
    assert (one.node_name, one.node_ip, one.hollow, one.port, one.root_dir) == (
        "hn-258", "10.255.1.2", True, 0, "/tmp/h/hn-258")
    with pytest.raises(ConfigError, match="--hollow-nodes must be between 0 and"):
        settings_from_args(["--hostname-override", "hn", "--hollow-nodes", "-1"])
