"""kube-apiserver settings: a frozen dataclass built from upstream-named flags."""

from __future__ import annotations

import argparse
import ipaddress
from dataclasses import dataclass, field

from lab.kube.component.flags import parse_bool, parse_duration


@dataclass(frozen=True)
class Settings:
    etcd_servers: list[str] = field(default_factory=lambda: ["http://127.0.0.1:2379"])
    """etcd client URLs (only the first is dialled: the client follows the cluster)."""
    etcd_prefix: str = "/registry"
    """Key prefix of every object in etcd."""
    storage_backend: str = "etcd3"
    """`etcd3`, or `memory` for a throwaway server (tests, demos)."""
    bind_address: str = "0.0.0.0"
    """Address the HTTPS listener binds."""
    secure_port: int = 6443
    advertise_address: str = ""
    """Address published in the `kubernetes` Endpoints; default: the bind address or 127.0.0.1."""
    cert_dir: str = "/var/run/kubernetes"
    """Where a self-signed serving certificate is written when none is given."""
    tls_cert_file: str = ""
    tls_private_key_file: str = ""
    service_cluster_ip_range: str = "10.96.0.0/12"
    service_node_port_range: str = "30000-32767"
    watch_bookmark_interval: float = 60.0
    """Seconds between BOOKMARK events on watches that allow them."""
    etcd_compaction_interval: float = 300.0
    """Seconds between etcd compactions (0 disables), as upstream --etcd-compaction-interval."""
    shutdown_delay: float = 0.0
    verbosity: int = 2
    client_ca_file: str = ""
    """CA bundle that client certificates are verified against (x509 authentication)."""
    anonymous_auth: bool = True
    """Requests without credentials act as system:anonymous on the anonymous paths
    (health, version, OIDC discovery); elsewhere they are 401 either way."""
    authorization_mode: tuple[str, ...] = ("AlwaysAllow",)
    """Authorizers in order (`Node`, `RBAC`, `AlwaysAllow`, `AlwaysDeny`); upstream's default
    is AlwaysAllow, the lab runs `Node,RBAC`."""
    enable_admission_plugins: tuple[str, ...] = ()
    """Admission plugins to run besides the default-on ones (e.g. `NodeRestriction,ServiceAccount`)."""
    disable_admission_plugins: tuple[str, ...] = ()
    """Default-on admission plugins not to run (e.g. `DefaultTolerationSeconds`)."""
    default_not_ready_toleration_seconds: int = 300
    default_unreachable_toleration_seconds: int = 300
    """The tolerationSeconds DefaultTolerationSeconds gives every pod for the not-ready/unreachable taints."""
    insecure_anonymous_admin: bool = False
    """kubelab only: requests without credentials act as a cluster admin (system:masters).
    For a throwaway local server (demos, tests); never for a lab."""
    service_account_issuer: tuple[str, ...] = ("https://kubernetes.default.svc.cluster.local",)
    """Issuer (`iss`) of ServiceAccount tokens: the first signs, every one is accepted."""
    service_account_key_file: tuple[str, ...] = ()
    """PEM files of the public (or private) keys ServiceAccount tokens are verified with."""
    service_account_signing_key_file: str = ""
    """PEM private key TokenRequest signs with; unset: no TokenRequest."""
    api_audiences: tuple[str, ...] = ()
    """Audiences a token must name to reach this server; default: the first issuer."""
    service_account_max_token_expiration: float = 0.0
    """Seconds; a TokenRequest asking for longer is shortened to this (0: no cap)."""
    service_account_extend_token_expiration: bool = True
    """Pod-bound tokens asking for 3607 s (projected volumes) get a year, warned after 3607 s."""
    service_account_jwks_uri: str = ""
    """`jwks_uri` in OIDC discovery; default https://<advertise address>:<port>/openid/v1/jwks."""
    encryption_provider_config: str = ""
    """EncryptionConfiguration file: which resources etcd holds encrypted, with which keys."""
    audit_policy_file: str = ""
    """audit.k8s.io/v1 Policy: which requests are audited at which level (unset: none)."""
    audit_log_path: str = ""
    """Where audit events go as JSON lines; `-` is stdout; unset: no log backend."""
    audit_log_maxage: int = 0
    """Days to keep rotated audit logs (0: no age limit)."""
    audit_log_maxbackup: int = 0
    """Rotated audit logs to keep (0: all)."""
    audit_log_maxsize: int = 0
    """Megabytes an audit log grows to before it is rotated (0: lumberjack's default, 100)."""
    audit_log_format: str = "json"
    """Only `json` (upstream's default)."""
    etcd_cafile: str = ""
    """CA that etcd's serving certificate is verified against (https etcd servers)."""
    etcd_certfile: str = ""
    """Client certificate presented to etcd (etcd's --client-cert-auth)."""
    etcd_keyfile: str = ""
    """Key of `etcd_certfile`."""
    kubelet_client_certificate: str = ""
    """Client certificate for the kubelet API (logs, exec, attach, port-forward, nodes/proxy)."""
    kubelet_client_key: str = ""
    """Key of `kubelet_client_certificate`."""
    kubelet_certificate_authority: str = ""
    """CA verifying kubelets' serving certificates; empty means unverified, as upstream."""
    kubelet_preferred_address_types: tuple[str, ...] = (
        "Hostname", "InternalDNS", "InternalIP", "ExternalDNS", "ExternalIP")
    """Node address types tried in order to reach a kubelet (upstream's default order)."""
    kubelet_timeout: float = 5.0
    """Seconds for a kubelet request to answer (streams run longer)."""

    @property
    def advertise(self) -> str:
        if self.advertise_address:
            return self.advertise_address
        return self.bind_address if self.bind_address not in ("0.0.0.0", "::", "") else "127.0.0.1"

    @property
    def server_address(self) -> str:
        return f"{self.advertise}:{self.secure_port}"

    @property
    def first_service_ip(self) -> str:
        net = ipaddress.ip_network(self.service_cluster_ip_range, strict=False)
        return str(net.network_address + 1)


def parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="kube-apiserver", description="kubelab API server")
    a = p.add_argument
    a("--etcd-servers", default="http://127.0.0.1:2379", help="comma-separated etcd client URLs")
    a("--etcd-prefix", default="/registry")
    a("--storage-backend", default="etcd3", choices=["etcd3", "memory"])
    a("--bind-address", default="0.0.0.0")
    a("--secure-port", type=int, default=6443)
    a("--advertise-address", default="")
    a("--cert-dir", default="/var/run/kubernetes")
    a("--tls-cert-file", default="")
    a("--tls-private-key-file", default="")
    a("--service-cluster-ip-range", default="10.96.0.0/12")
    a("--service-node-port-range", default="30000-32767")
    a("--watch-bookmark-interval", type=float, default=60.0, help="seconds (kubelab)")
    a("--etcd-compaction-interval", type=float, default=300.0, help="seconds, 0 disables")
    a("--shutdown-delay-duration", type=float, default=0.0, help="seconds")
    a("-v", "--v", dest="verbosity", type=int, default=2, help="log verbosity (klog levels)")
    a("--client-ca-file", default="", help="CA bundle for client certificate authentication")
    a("--anonymous-auth", type=parse_bool, default=True,
      help="anonymous requests on the health, version and OIDC discovery paths")
    a("--authorization-mode", default="AlwaysAllow",
      help="comma-separated: Node, RBAC, AlwaysAllow, AlwaysDeny")
    a("--enable-admission-plugins", default="", help="comma-separated admission plugins (besides the default-on)")
    a("--disable-admission-plugins", default="", help="comma-separated default-on admission plugins to turn off")
    a("--default-not-ready-toleration-seconds", type=int, default=300)
    a("--default-unreachable-toleration-seconds", type=int, default=300)
    a("--insecure-anonymous-admin", type=parse_bool, default=False,
      help="INSECURE: requests without credentials act as cluster admin (throwaway local servers only)")
    a("--service-account-issuer", action="append", default=None,
      help="token issuer URL; repeatable (the first signs)")
    a("--service-account-key-file", action="append", default=None,
      help="PEM file(s) of token verification keys; repeatable or comma-separated")
    a("--service-account-signing-key-file", default="", help="PEM private key that signs tokens")
    a("--api-audiences", default="", help="comma-separated; default: the first issuer")
    a("--service-account-max-token-expiration", type=parse_duration, default=0.0,
      help="duration (e.g. 48h); 0: no cap")
    a("--service-account-extend-token-expiration", type=parse_bool, default=True)
    a("--service-account-jwks-uri", default="")
    a("--encryption-provider-config", default="", help="EncryptionConfiguration file (encryption at rest)")
    a("--audit-policy-file", default="", help="audit.k8s.io/v1 Policy file")
    a("--audit-log-path", default="", help="audit log file; '-' means stdout")
    a("--audit-log-maxage", type=int, default=0, help="days to keep rotated audit logs")
    a("--audit-log-maxbackup", type=int, default=0, help="rotated audit logs to keep")
    a("--audit-log-maxsize", type=int, default=0, help="megabytes before the audit log is rotated")
    a("--audit-log-format", default="json", choices=["json"], help="audit log line format")
    a("--etcd-cafile", default="", help="CA bundle verifying etcd's serving certificate")
    a("--etcd-certfile", default="", help="client certificate for etcd")
    a("--etcd-keyfile", default="", help="client key for etcd")
    a("--kubelet-client-certificate", default="", help="client certificate the API server shows kubelets")
    a("--kubelet-client-key", default="", help="its key")
    a("--kubelet-certificate-authority", default="",
      help="CA bundle verifying kubelets' serving certificates; empty: not verified, as upstream")
    a("--kubelet-preferred-address-types", default=",".join(Settings.kubelet_preferred_address_types),
      help="node address types tried in order to reach a kubelet")
    a("--kubelet-timeout", type=parse_duration, default=5.0, help="timeout for kubelet requests (not streams)")
    # accepted for compatibility with upstream unit files; not acted upon
    a("--allow-privileged", default=None, help="accepted, not used")
    return p


def from_args(argv: list[str] | None = None) -> Settings:
    ns = parser().parse_args(argv)
    return Settings(
        etcd_servers=[s.strip() for s in ns.etcd_servers.split(",") if s.strip()],
        etcd_prefix=ns.etcd_prefix.rstrip("/") or "/registry",
        storage_backend=ns.storage_backend,
        bind_address=ns.bind_address,
        secure_port=ns.secure_port,
        advertise_address=ns.advertise_address,
        cert_dir=ns.cert_dir,
        tls_cert_file=ns.tls_cert_file,
        tls_private_key_file=ns.tls_private_key_file,
        service_cluster_ip_range=ns.service_cluster_ip_range,
        service_node_port_range=ns.service_node_port_range,
        watch_bookmark_interval=ns.watch_bookmark_interval,
        etcd_compaction_interval=ns.etcd_compaction_interval,
        shutdown_delay=ns.shutdown_delay_duration,
        verbosity=ns.verbosity,
        client_ca_file=ns.client_ca_file,
        anonymous_auth=ns.anonymous_auth,
        authorization_mode=tuple(m.strip() for m in ns.authorization_mode.split(",") if m.strip()),
        enable_admission_plugins=tuple(n.strip() for n in ns.enable_admission_plugins.split(",") if n.strip()),
        disable_admission_plugins=tuple(n.strip() for n in ns.disable_admission_plugins.split(",") if n.strip()),
        default_not_ready_toleration_seconds=ns.default_not_ready_toleration_seconds,
        default_unreachable_toleration_seconds=ns.default_unreachable_toleration_seconds,
        insecure_anonymous_admin=ns.insecure_anonymous_admin,
        service_account_issuer=tuple(ns.service_account_issuer or Settings.service_account_issuer),
        service_account_key_file=_list_flag(ns.service_account_key_file),
        service_account_signing_key_file=ns.service_account_signing_key_file,
        api_audiences=_list_flag([ns.api_audiences]),
        service_account_max_token_expiration=ns.service_account_max_token_expiration,
        service_account_extend_token_expiration=ns.service_account_extend_token_expiration,
        service_account_jwks_uri=ns.service_account_jwks_uri,
        encryption_provider_config=ns.encryption_provider_config,
        audit_policy_file=ns.audit_policy_file,
        audit_log_path=ns.audit_log_path,
        audit_log_maxage=ns.audit_log_maxage,
        audit_log_maxbackup=ns.audit_log_maxbackup,
        audit_log_maxsize=ns.audit_log_maxsize,
        audit_log_format=ns.audit_log_format,
        etcd_cafile=ns.etcd_cafile,
        etcd_certfile=ns.etcd_certfile,
        etcd_keyfile=ns.etcd_keyfile,
        kubelet_client_certificate=ns.kubelet_client_certificate,
        kubelet_client_key=ns.kubelet_client_key,
        kubelet_certificate_authority=ns.kubelet_certificate_authority,
        kubelet_preferred_address_types=_list_flag([ns.kubelet_preferred_address_types]),
        kubelet_timeout=ns.kubelet_timeout,
    )


def _list_flag(values: list[str] | None) -> tuple[str, ...]:
    """A repeatable flag whose values may also be comma-separated (pflag StringSlice)."""
    return tuple(v.strip() for value in values or () for v in value.split(",") if v.strip())
