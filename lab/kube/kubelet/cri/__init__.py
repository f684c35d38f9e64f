"""CRI v1 (`runtime.v1`) for the kubelet: generated messages, the gRPC client and a fake runtime."""

from lab.kube.kubelet.cri.client import DEFAULT_ENDPOINT, RemoteRuntime
from lab.kube.kubelet.cri.runtime import CRIError, Runtime

__all__ = ["DEFAULT_ENDPOINT", "CRIError", "RemoteRuntime", "Runtime"]
