"""The lab's PKI, laid out as kubeadm's: a cluster CA, an etcd CA and a front-proxy CA, the
serving and client certificates they sign, the ServiceAccount key pair, and the kubeconfigs
that carry the client identities. `ensure()` creates only what is missing or stale; `renew()`
reissues leaves with the same CA; `expiry.report()` is `lab certs check`.
"""

from lab.pki.authority import Authority, load_or_create_ca
from lab.pki.bundle import Bundle, NodeSpec, ensure
from lab.pki.certs import issue
from lab.pki.kubeconfig import kubeconfig
from lab.pki.renew import UnknownCertificate, renew

__all__ = ["Authority", "Bundle", "NodeSpec", "UnknownCertificate", "ensure", "issue", "kubeconfig",
           "load_or_create_ca", "renew"]
