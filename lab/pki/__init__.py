"""The lab's PKI: a cluster CA, the apiserver's serving certificate, a client certificate per
component, and the kubeconfigs that carry them. `ensure()` creates only what is missing.
"""

from lab.pki.authority import Authority, load_or_create_ca
from lab.pki.bundle import Bundle, NodeSpec, ensure
from lab.pki.certs import issue
from lab.pki.kubeconfig import kubeconfig

__all__ = ["Authority", "Bundle", "NodeSpec", "ensure", "issue", "kubeconfig", "load_or_create_ca"]
