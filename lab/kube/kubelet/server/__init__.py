"""The kubelet API server (10250): TLS, delegated authentication and authorization, endpoints."""

from lab.kube.kubelet.server.auth import request_attributes, subresources
from lab.kube.kubelet.server.server import KubeletServer, pod_list

__all__ = ["KubeletServer", "pod_list", "request_attributes", "subresources"]
