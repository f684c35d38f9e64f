"""What the roles write is what the components accept: the kubelet, kube-proxy, kube-scheduler,
kube-apiserver and kube-controller-manager units' flags and config files and etcd's environment,
rendered by Ansible's own templating from the group_vars and role defaults, load through the
component's own parser without a warning and give the settings the lab expects."""

from __future__ import annotations

import logging
import re
from pathlib import Path
from typing import Any

import pytest
import yaml
from ansible.parsing.dataloader import DataLoader
from ansible.template import Templar, trust_as_template

from lab.kube.apiserver.audit import policy as audit_policy
from lab.kube.apiserver.authz import from_request as authz_attributes
from lab.kube.apiserver.serviceaccount.config import from_settings as token_config
from lab.kube.apiserver.settings import from_args as apiserver_settings
from lab.kube.component.secure_serving import SecureServingSettings
from lab.kube.controllers.main import parse_args as controller_manager_args
from lab.kube.kubelet.settings import settings_from_args as kubelet_settings
from lab.kube.machinery.user import UserInfo
from lab.kube.proxy.config import settings_from_args as proxy_settings
from lab.kube.scheduler import config as scheduler_config
from lab.kube.scheduler.main import parse_args as scheduler_args
from lab.pki import Bundle, ensure

REPO = Path(__file__).resolve().parents[3]
HOST = {"inventory_hostname": "w1", "ip": "192.168.56.21", "ansible_managed": "managed"}


def _trusted(value: Any) -> Any:
    """Variables from our own repo files are templates (Ansible trusts what it loads from them)."""
    if isinstance(value, str):
        return trust_as_template(value)
    if isinstance(value, dict):
        return {k: _trusted(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_trusted(v) for v in value]
    return value


CP1 = {"inventory_hostname": "cp1", "ip": "192.168.56.11", "ansible_managed": "managed",
       "groups": {"etcd": ["cp1"], "kube_control_plane": ["cp1"]}, "hostvars": {"cp1": {"ip": "192.168.56.11"}},
       "playbook_dir": "/repo/playbooks"}


def templar(*roles: str, host: dict[str, Any] | None = None, **overrides: Any) -> Templar:
    variables: dict[str, Any] = {}
    for path in ["inventory/group_vars/all.yml", *(f"roles/{r}/defaults/main.yml" for r in roles)]:
        variables.update(_trusted(yaml.safe_load((REPO / path).read_text())))
    variables.update(host or HOST)
    variables.update(overrides)
    return Templar(loader=DataLoader(), variables=variables)


def render_config(t: Templar, role: str, task_name: str, dest: Path) -> Path:
    """The file the role's copy task writes, rendered from that task's own `content`."""
    tasks = yaml.safe_load((REPO / f"roles/{role}/tasks/configure.yml").read_text())
    content = next(task["ansible.builtin.copy"]["content"] for task in tasks if task["name"] == task_name)
    dest.write_text(t.template(trust_as_template(content)))
    return dest


def unit_flags(t: Templar, role: str, unit: str, config: Path | None = None) -> list[str]:
    """The ExecStart flags of the role's unit (with --config pointed at the rendered file)."""
    text = t.template(trust_as_template((REPO / f"roles/{role}/templates/{unit}.service.j2").read_text()))
    flags = re.findall(r"^\s+(--[\w-]+=\S+)", text, re.MULTILINE)
    assert flags, f"no flags in {unit}.service"
    return [f"--config={config}" if f.startswith("--config=") and config else f for f in flags]


def test_the_kubelet_role_config_and_flags_load(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    t = templar("kubelet")
    config = render_config(t, "kubelet", "Write the kubelet configuration", tmp_path / "kubelet.yaml")
    with caplog.at_level(logging.WARNING):
        s = kubelet_settings(unit_flags(t, "kubelet", "kubelet", config))
    assert not caplog.messages  # every field the role writes is a KubeletConfiguration field
    assert (s.kubeconfig, s.node_name, s.node_ip) == ("/etc/kubernetes/kubelet.kubeconfig", "w1", "192.168.56.21")
    assert (s.container_runtime_endpoint, s.cni_conf_dir) == ("unix:///run/containerd/containerd.sock",
                                                             "/etc/cni/net.d")
    assert (s.healthz_port, s.healthz_bind_address, s.cluster_domain) == (10248, "127.0.0.1", "cluster.local")
    assert (s.node_status_update_frequency, s.max_pods) == (10.0, 110)
    # the kubelet API as kubeadm secures it: no anonymous callers, TokenReview, SubjectAccessReview
    assert (s.anonymous_auth, s.authentication_webhook, s.authentication_webhook_cache_ttl) == (False, True, 120.0)
    assert s.authorization_mode == "Webhook"
    assert s.client_ca_file == "/etc/kubernetes/pki/ca.crt"


def test_the_kube_proxy_role_config_and_flags_load(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    t = templar("kube_proxy")
    config = render_config(t, "kube_proxy", "Write the kube-proxy configuration", tmp_path / "kube-proxy.yaml")
    with caplog.at_level(logging.WARNING):
        s, verbosity = proxy_settings(unit_flags(t, "kube_proxy", "kube-proxy", config))
    assert not caplog.messages  # no unknown field, and no flag the file overrides disagrees with it
    assert (s.kubeconfig, s.node_name, s.cluster_cidr, s.mode) == ("/etc/kubernetes/kube-proxy.kubeconfig", "w1",
                                                                   "10.244.0.0/16", "iptables")
    assert (s.sync_period, s.min_sync_period) == (30.0, 1.0)
    assert (s.healthz_bind_address, s.metrics_bind_address, verbosity) == ("0.0.0.0:10256", "127.0.0.1:10249", 0)


def test_the_kube_scheduler_role_flags_parse() -> None:
    t = templar("kube_scheduler")
    s = scheduler_args(unit_flags(t, "kube_scheduler", "kube-scheduler"))
    assert (s.kubeconfig, s.leader_elect, s.config) == ("/etc/kubernetes/scheduler.kubeconfig", True, "")
    assert scheduler_config.load(s.config).leader_elect  # no --config: upstream defaults
    assert_secure_port(s.serving, 10259, "/etc/kubernetes/scheduler.kubeconfig")
    assert t.template(trust_as_template("{{ kube_scheduler_healthz_url }}")) == "https://127.0.0.1:10259/healthz"


def assert_secure_port(serving: SecureServingSettings, port: int, kubeconfig: str) -> None:
    """Delegated authn/authz against the API server with the component's own identity, on
    loopback with a self-signed serving certificate (the role's health probe skips its check)."""
    assert (serving.secure_port, serving.bind_address) == (port, "127.0.0.1")
    assert (serving.tls_cert_file, serving.cert_dir) == ("", "")
    assert serving.client_ca_file == "/etc/kubernetes/pki/ca.crt"
    assert serving.authentication_kubeconfig == serving.authorization_kubeconfig == kubeconfig


def test_the_kubelet_role_serves_with_the_distributed_certificate() -> None:
    t = templar("kubelet")
    config = t.template(trust_as_template("{{ kubelet_config }}"))
    assert (config["tlsCertFile"], config["tlsPrivateKeyFile"]) == ("/var/lib/kubelet/pki/kubelet.crt",
                                                                    "/var/lib/kubelet/pki/kubelet.key")
    assert config["authentication"]["x509"]["clientCAFile"] == "/etc/kubernetes/pki/ca.crt"
    # the pki role copies the serving certificate where the kubelet looks for it
    pki = templar("pki")
    assert pki.template(trust_as_template("{{ pki_kubelet_cert_dir }}")) == "/var/lib/kubelet/pki"


def test_the_kube_apiserver_role_flags_parse_with_etcd_tls_and_node_rbac_authorization() -> None:
    s = apiserver_settings(unit_flags(templar("kube_apiserver", host=CP1), "kube_apiserver", "kube-apiserver"))
    assert s.etcd_servers == ["https://127.0.0.1:2379"]
    assert (s.etcd_cafile, s.etcd_certfile, s.etcd_keyfile) == (
        "/etc/kubernetes/pki/etcd/ca.crt", "/etc/kubernetes/pki/apiserver-etcd-client.crt",
        "/etc/kubernetes/pki/apiserver-etcd-client.key")
    assert (s.client_ca_file, s.tls_cert_file) == ("/etc/kubernetes/pki/ca.crt", "/etc/kubernetes/pki/apiserver.crt")
    assert s.authorization_mode == ("Node", "RBAC")
    flags = unit_flags(templar("kube_apiserver", host=CP1), "kube_apiserver", "kube-apiserver")
    assert "--kubelet-client-certificate=/etc/kubernetes/pki/apiserver-kubelet-client.crt" in flags


def test_the_kube_apiserver_role_runs_the_secured_server_by_default() -> None:
    flags = unit_flags(templar("kube_apiserver", host=CP1), "kube_apiserver", "kube-apiserver")
    assert {"--enable-admission-plugins=NodeRestriction,ServiceAccount",
            "--service-account-issuer=https://kubernetes.default.svc.cluster.local",
            "--service-account-key-file=/etc/kubernetes/pki/sa.pub",
            "--service-account-signing-key-file=/etc/kubernetes/pki/sa.key",
            "--encryption-provider-config=/etc/kubernetes/encryption-config.yaml",
            "--audit-policy-file=/etc/kubernetes/audit-policy.yaml",
            "--audit-log-path=/var/log/kubernetes/audit/audit.log",
            "--audit-log-maxage=7", "--audit-log-maxbackup=5", "--audit-log-maxsize=100"} <= set(flags)
    s = apiserver_settings(flags)
    assert s.enable_admission_plugins == ("NodeRestriction", "ServiceAccount")
    assert (s.audit_log_maxage, s.audit_log_maxbackup, s.audit_log_maxsize) == (7, 5, 100)
    # a change to either file restarts the server; the pki role puts the encryption config there
    t = templar("kube_apiserver", "pki", host=CP1)
    credentials = t.template(trust_as_template("{{ kube_apiserver_credentials }}"))
    assert {s.encryption_provider_config, s.audit_policy_file} <= set(credentials)
    assert t.template(trust_as_template("{{ pki_encryption_config_file }}")) == s.encryption_provider_config
    t = templar("kube_apiserver", host=CP1, kube_apiserver_authorization_mode="Node,RBAC")
    assert apiserver_settings(unit_flags(t, "kube_apiserver", "kube-apiserver")).authorization_mode == ("Node", "RBAC")


def test_the_kube_apiserver_role_audit_policy_loads(tmp_path: Path) -> None:
    t = templar("kube_apiserver", host=CP1)
    path = tmp_path / "audit-policy.yaml"
    path.write_text(t.template(trust_as_template((REPO / "roles/kube_apiserver/templates/audit-policy.yaml.j2")
                                                  .read_text())))
    policy = audit_policy.load(path)
    assert policy.omit_stages == {"RequestReceived"}
    admin = UserInfo("kubernetes-admin", groups=("kubeadm:cluster-admins", "system:authenticated"))
    proxy = UserInfo("system:kube-proxy", groups=("system:node-proxier", "system:authenticated"))

    def level(user: UserInfo, method: str, path: str, **query: str) -> audit_policy.Level:
        return policy.decide(authz_attributes(user, method, path, query))[0]

    for probe in ("/healthz", "/readyz", "/livez", "/healthz/etcd", "/readyz/ping", "/version"):
        assert level(admin, "GET", probe) == audit_policy.Level.NONE, probe
    assert level(proxy, "GET", "/api/v1/services", watch="true") == audit_policy.Level.NONE
    assert level(proxy, "GET", "/api/v1/services") == audit_policy.Level.METADATA  # its lists are kept
    for path_ in ("/api/v1/namespaces/default/secrets/s", "/api/v1/namespaces/default/configmaps",
                  "/apis/apps/v1/namespaces/default/deployments", "/api/v1/nodes"):
        assert level(admin, "GET", path_) == audit_policy.Level.METADATA, path_
    assert level(admin, "POST", "/api/v1/namespaces/default/serviceaccounts/default/token") == \
        audit_policy.Level.METADATA
    assert level(admin, "GET", "/metrics") == audit_policy.Level.METADATA


def test_the_kube_controller_manager_role_flags_parse() -> None:
    t = templar("kube_controller_manager", host=CP1)
    flags = unit_flags(t, "kube_controller_manager", "kube-controller-manager")
    s = controller_manager_args(flags)  # an unknown flag would exit here
    assert (s.kubeconfig, s.allocate_node_cidrs) == ("/etc/kubernetes/controller-manager.kubeconfig", True)
    assert s.root_ca_file == "/etc/kubernetes/pki/ca.crt"
    # no legacy token controller: the signing key stays with the API server
    assert not [f for f in flags if f.startswith("--service-account-private-key-file")]
    assert not [c for c in t.template(trust_as_template("{{ kube_controller_manager_credentials }}"))
                if c.endswith("sa.key")]
    assert_secure_port(s.serving, 10257, "/etc/kubernetes/controller-manager.kubeconfig")
    assert t.template(trust_as_template("{{ kube_controller_manager_healthz_url }}")) == \
        "https://127.0.0.1:10257/healthz"


def test_the_service_account_flags_load_the_lab_pki_keys(tmp_path: Path) -> None:
    # what the apiserver reads: the pki role's sa.key signs and sa.pub verifies with the same key id
    ensure(tmp_path, Bundle("https://192.168.56.11:6443"))
    t = templar("kube_apiserver", host=CP1, kube_apiserver_cert_dir=str(tmp_path))
    tokens = token_config(apiserver_settings(unit_flags(t, "kube_apiserver", "kube-apiserver")))
    assert tokens.issuer == "https://kubernetes.default.svc.cluster.local"
    assert tokens.signing_key is not None
    assert [k.kid for k in tokens.verification_keys] == [tokens.signing_key.verification.kid]


def test_the_etcd_role_requires_client_and_peer_certificates() -> None:
    t = templar("etcd", host=CP1, lab_pki_dir="/repo/.lab/pki")
    env = t.template(trust_as_template((REPO / "roles/etcd/templates/etcd.env.j2").read_text()))
    settings = dict(re.findall(r'^ETCD_(\w+)="(.*)"$', env, re.MULTILINE))
    assert settings["LISTEN_CLIENT_URLS"] == "https://127.0.0.1:2379,https://192.168.56.11:2379"
    assert settings["INITIAL_CLUSTER"] == "cp1=https://192.168.56.11:2380"
    assert (settings["CLIENT_CERT_AUTH"], settings["PEER_CLIENT_CERT_AUTH"]) == ("true", "true")
    assert settings["TRUSTED_CA_FILE"] == settings["PEER_TRUSTED_CA_FILE"] == "/etc/etcd/pki/ca.crt"
    assert (settings["CERT_FILE"], settings["KEY_FILE"]) == ("/etc/etcd/pki/server.crt", "/etc/etcd/pki/server.key")
    assert (settings["PEER_CERT_FILE"], settings["PEER_KEY_FILE"]) == ("/etc/etcd/pki/peer.crt",
                                                                      "/etc/etcd/pki/peer.key")
    assert all(not v.startswith("http://") for v in settings.values())
