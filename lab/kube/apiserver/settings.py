"""kube-apiserver settings: a frozen dataclass built from upstream-named flags."""

from __future__ import annotations

import argparse
import ipaddress
from dataclasses import dataclass, field

from lab.kube.component.flags import parse_bool


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
    """Admission plugins to run (e.g. `NodeRestriction,ServiceAccount`)."""
    insecure_anonymous_admin: bool = False
    """kubelab only: requests without credentials act as a cluster admin (system:masters).
    For a throwaway local server (demos, tests); never for a lab."""
    etcd_cafile: str = ""
    """CA that etcd's serving certificate is verified against (https etcd servers)."""
    etcd_certfile: str = ""
    """Client certificate presented to etcd (etcd's --client-cert-auth)."""
    etcd_keyfile: str = ""
    """Key of `etcd_certfile`."""

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
    a("--enable-admission-plugins", default="", help="comma-separated admission plugins")
    a("--insecure-anonymous-admin", type=parse_bool, default=False,
      help="INSECURE: requests without credentials act as cluster admin (throwaway local servers only)")
    a("--etcd-cafile", default="", help="CA bundle verifying etcd's serving certificate")
    a("--etcd-certfile", default="", help="client certificate for etcd")
    a("--etcd-keyfile", default="", help="client key for etcd")
    # accepted for compatibility with upstream unit files; not acted upon
    for flag in ("--service-account-issuer", "--service-account-key-file",
                 "--service-account-signing-key-file", "--kubelet-client-certificate",
                 "--kubelet-client-key", "--allow-privileged"):
        a(flag, default=None, help="accepted, not yet used")
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
        insecure_anonymous_admin=ns.insecure_anonymous_admin,
        etcd_cafile=ns.etcd_cafile,
        etcd_certfile=ns.etcd_certfile,
        etcd_keyfile=ns.etcd_keyfile,
    )
