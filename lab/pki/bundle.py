"""Everything the lab's cluster needs, laid out in one directory as kubeadm lays out
/etc/kubernetes/pki: three CAs (cluster, etcd, front proxy), the serving and client
certificates each signs, the ServiceAccount key pair, and a kubeconfig per client identity.
`ensure` creates only what is missing or no longer fits (a changed SAN, identity or CA).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from lab.pki.authority import Authority, load_or_create_ca
from lab.pki.certs import CertSpec, ensure_cert
from lab.pki.files import write_if_changed
from lab.pki.kubeconfig import dump, kubeconfig
from lab.pki.service_account import ensure_sa_keys

# CA file stem -> (common name, the name `certs check` shows), as kubeadm names them.
AUTHORITIES = {
    "ca": ("kubernetes", "ca"),
    "etcd/ca": ("etcd-ca", "etcd-ca"),
    "front-proxy-ca": ("front-proxy-ca", "front-proxy-ca"),
}
# Names every in-cluster client uses for the API server (kubeadm's list).
APISERVER_DNS = ("kubernetes", "kubernetes.default", "kubernetes.default.svc",
                 "kubernetes.default.svc.cluster.local", "localhost")
APISERVER_IPS = ("127.0.0.1",)
SERVICE_IP = "10.96.0.1"
"""First address of the service range: the `kubernetes` Service's ClusterIP."""
# kubeadm 1.29+: the admin is bound to cluster-admin through this group (RBAC bootstrap policy),
# so it can be taken away; system:masters is kept for super-admin, which nothing can restrict.
CLUSTER_ADMINS = "kubeadm:cluster-admins"
MASTERS = "system:masters"


@dataclass(frozen=True)
class NodeSpec:
    """A machine's name and (optionally) its lab address, for the certificates it serves with."""

    name: str
    ip: str | None = None

    @classmethod
    def parse(cls, text: str) -> NodeSpec:
        """`w1` or `w1=192.168.56.12`."""
        name, _, ip = text.partition("=")
        return cls(name=name, ip=ip or None)

    @property
    def sans(self) -> tuple[str, ...]:
        return (self.name, self.ip) if self.ip else (self.name,)


@dataclass(frozen=True)
class Bundle:
    """The wanted contents of the PKI directory."""

    apiserver_url: str
    apiserver_sans: tuple[str, ...] = ()
    """Every control-plane machine's IP and name (the fixed kubernetes.* names are added)."""
    nodes: tuple[NodeSpec, ...] = ()
    """Kubelets: a client identity and a serving certificate each."""
    etcd_members: tuple[NodeSpec, ...] = ()
    """etcd members: a server and a peer certificate each."""
    service_ip: str = SERVICE_IP

    def certs(self) -> list[CertSpec]:
        specs = [
            CertSpec("apiserver", "kube-apiserver", server=True, client=False,
                     sans=(*APISERVER_DNS, *APISERVER_IPS, self.service_ip, *self.apiserver_sans)),
            # the apiserver calling kubelets (logs, exec): kubeadm 1.29+ gives it the admins' group
            CertSpec("apiserver-kubelet-client", "kube-apiserver-kubelet-client", (CLUSTER_ADMINS,)),
            CertSpec("apiserver-etcd-client", "kube-apiserver-etcd-client", authority="etcd/ca"),
            CertSpec("front-proxy-client", "front-proxy-client", authority="front-proxy-ca"),
            CertSpec("etcd/healthcheck-client", "kube-etcd-healthcheck-client", authority="etcd/ca"),
            CertSpec("admin", "kubernetes-admin", (CLUSTER_ADMINS,)),
            CertSpec("super-admin", "kubernetes-super-admin", (MASTERS,)),
            CertSpec("kube-scheduler", "system:kube-scheduler"),
            CertSpec("kube-controller-manager", "system:kube-controller-manager"),
            CertSpec("kube-proxy", "system:kube-proxy", ("system:node-proxier",)),
        ]
        for m in self.etcd_members:
            # etcd dials its peers and itself with these, so both usages (as kubeadm issues them)
            sans = (*m.sans, "localhost", "127.0.0.1", "::1")
            specs += [CertSpec(f"etcd/{kind}-{m.name}", m.name, sans=sans, server=True, authority="etcd/ca")
                      for kind in ("server", "peer")]
        for n in self.nodes:
            specs.append(CertSpec(f"kubelet-{n.name}", f"system:node:{n.name}", ("system:nodes",)))
            # :10250 serves with its own certificate, as a kubelet with serverTLSBootstrap gets
            specs.append(CertSpec(f"kubelet-{n.name}-serving", f"system:node:{n.name}", ("system:nodes",),
                                  sans=n.sans, server=True, client=False))
        return specs

    def kubeconfigs(self) -> dict[str, str]:
        """kubeconfig file stem -> certificate stem (every client of the API server)."""
        out = {"admin": "admin", "super-admin": "super-admin", "scheduler": "kube-scheduler",
               "controller-manager": "kube-controller-manager", "kube-proxy": "kube-proxy"}
        out.update({f"kubelet-{n.name}": f"kubelet-{n.name}" for n in self.nodes})
        return out


@dataclass
class Report:
    """What `ensure` wrote (paths relative to the directory), for the role's `changed_when`."""

    written: list[str] = field(default_factory=list)

    @property
    def changed(self) -> bool:
        return bool(self.written)


def ensure_authorities(directory: Path, report: Report) -> dict[str, Authority]:
    out = {}
    for stem, (common_name, _) in AUTHORITIES.items():
        out[stem], created = load_or_create_ca(directory, stem, common_name)
        if created:
            report.written += [f"{stem}.crt", f"{stem}.key"]
    return out


def ensure(directory: Path, bundle: Bundle, admin_kubeconfig: Path | None = None) -> Report:
    """Create what is missing or stale in `directory`; leave everything else untouched."""
    report = Report()
    authorities = ensure_authorities(directory, report)
    specs = {spec.name: spec for spec in bundle.certs()}
    for spec in specs.values():
        # a new CA fails its old leaves' signature check, so exactly those are reissued
        if ensure_cert(directory, spec, authorities[spec.authority]):
            report.written += [f"{spec.name}.crt", f"{spec.name}.key"]
    report.written += ensure_sa_keys(directory)
    ca_pem = authorities["ca"].cert_pem
    for stem, cert in bundle.kubeconfigs().items():
        doc = dump(kubeconfig(bundle.apiserver_url, ca_pem, (directory / f"{cert}.crt").read_bytes(),
                              (directory / f"{cert}.key").read_bytes(), specs[cert].common_name))
        if write_if_changed(directory / f"{stem}.kubeconfig", doc, private=True):
            report.written.append(f"{stem}.kubeconfig")
        if stem == "admin" and admin_kubeconfig is not None and write_if_changed(admin_kubeconfig, doc, private=True):
            report.written.append(str(admin_kubeconfig))
    return report
