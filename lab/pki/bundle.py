"""Everything the lab's cluster needs, laid out in one directory: which certificates exist
(apiserver, admin, per-node kubelet, kube-proxy, scheduler, controller-manager) and the
kubeconfig built from each client certificate. `ensure` creates only what is missing.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from lab.pki.authority import load_or_create_ca
from lab.pki.certs import CertSpec, ensure_cert
from lab.pki.files import write_if_changed
from lab.pki.kubeconfig import dump, kubeconfig

# Names every in-cluster client uses for the API server (kubeadm's list).
APISERVER_DNS = ("kubernetes", "kubernetes.default", "kubernetes.default.svc",
                 "kubernetes.default.svc.cluster.local", "localhost")
APISERVER_IPS = ("127.0.0.1", "10.96.0.1")


@dataclass(frozen=True)
class NodeSpec:
    """A node's name and (optionally) its lab address, for the kubelet's certificate."""

    name: str
    ip: str | None = None

    @classmethod
    def parse(cls, text: str) -> NodeSpec:
        """`w1` or `w1=192.168.56.12`."""
        name, _, ip = text.partition("=")
        return cls(name=name, ip=ip or None)


@dataclass(frozen=True)
class Bundle:
    """The wanted contents of the PKI directory."""

    apiserver_url: str
    apiserver_sans: tuple[str, ...] = ()
    nodes: tuple[NodeSpec, ...] = ()

    def certs(self) -> list[CertSpec]:
        specs = [
            CertSpec("apiserver", "kube-apiserver", sans=(*APISERVER_IPS, *APISERVER_DNS, *self.apiserver_sans),
                     server=True, client=False),
            CertSpec("admin", "admin", ("system:masters",)),
            CertSpec("kube-proxy", "system:kube-proxy", ("system:node-proxier",)),
            CertSpec("kube-scheduler", "system:kube-scheduler"),
            CertSpec("kube-controller-manager", "system:kube-controller-manager"),
        ]
        for node in self.nodes:
            # serving too: the kubelet's :10250 presents the same certificate
            sans = (node.name, node.ip) if node.ip else (node.name,)
            specs.append(CertSpec(f"kubelet-{node.name}", f"system:node:{node.name}", ("system:nodes",),
                                  sans=sans, server=True))
        return specs

    def kubeconfigs(self) -> dict[str, str]:
        """kubeconfig file stem -> certificate stem."""
        out = {"admin": "admin", "kube-proxy": "kube-proxy", "scheduler": "kube-scheduler",
               "controller-manager": "kube-controller-manager"}
        out.update({f"kubelet-{n.name}": f"kubelet-{n.name}" for n in self.nodes})
        return out


@dataclass
class Report:
    """What `ensure` wrote, for the Ansible role's `changed_when`."""

    written: list[str] = field(default_factory=list)

    @property
    def changed(self) -> bool:
        return bool(self.written)


def ensure(directory: Path, bundle: Bundle, admin_kubeconfig: Path | None = None) -> Report:
    """Create what is missing or stale in `directory`; leave everything else untouched."""
    report = Report()
    ca, created = load_or_create_ca(directory)
    if created:
        report.written += ["ca.crt", "ca.key"]
    for spec in bundle.certs():
        # a new CA fails every old leaf's signature check, so they are all reissued
        if ensure_cert(directory, spec, ca):
            report.written += [f"{spec.name}.crt", f"{spec.name}.key"]
    for stem, cert in bundle.kubeconfigs().items():
        user = "admin" if stem == "admin" else _user_of(cert)
        doc = dump(kubeconfig(bundle.apiserver_url, ca.cert_pem, (directory / f"{cert}.crt").read_bytes(),
                              (directory / f"{cert}.key").read_bytes(), user))
        if write_if_changed(directory / f"{stem}.kubeconfig", doc, private=True):
            report.written.append(f"{stem}.kubeconfig")
        if stem == "admin" and admin_kubeconfig is not None and write_if_changed(admin_kubeconfig, doc, private=True):
            report.written.append(str(admin_kubeconfig))
    return report


def _user_of(cert_stem: str) -> str:
    if cert_stem.startswith("kubelet-"):
        return f"system:node:{cert_stem.removeprefix('kubelet-')}"
    return f"system:{cert_stem}"
