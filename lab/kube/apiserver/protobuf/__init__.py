"""Kubernetes protobuf request bodies (`application/vnd.kubernetes.protobuf`) to plain dicts.

client-go 1.32+ typed clients (so kubectl 1.32+) send built-in kinds as protobuf; answers
stay JSON, which those clients also accept.
"""

from lab.kube.apiserver.protobuf.decode import MEDIA_TYPE, decode

__all__ = ["MEDIA_TYPE", "decode"]
