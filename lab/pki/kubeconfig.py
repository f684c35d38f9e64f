"""Kubeconfig documents as kubectl writes them with `--embed-certs`: one cluster, one user
(x509 client certificate), one context, all `-data` fields base64 so the file stands alone.
"""

from __future__ import annotations

import base64
from typing import Any

import yaml

CLUSTER_NAME = "kubelab"


def _b64(data: bytes) -> str:
    return base64.b64encode(data).decode()


def kubeconfig(server: str, ca_pem: bytes, cert_pem: bytes, key_pem: bytes, user: str,
               cluster: str = CLUSTER_NAME) -> dict[str, Any]:
    """The kubeconfig for `user` reaching `server` (e.g. `https://192.168.56.11:6443`)."""
    context = f"{user}@{cluster}"
    return {
        "apiVersion": "v1",
        "kind": "Config",
        "preferences": {},
        "clusters": [{"name": cluster, "cluster": {
            "server": server, "certificate-authority-data": _b64(ca_pem)}}],
        "users": [{"name": user, "user": {
            "client-certificate-data": _b64(cert_pem), "client-key-data": _b64(key_pem)}}],
        "contexts": [{"name": context, "context": {"cluster": cluster, "user": user}}],
        "current-context": context,
    }


def dump(doc: dict[str, Any]) -> bytes:
    """Stable YAML bytes, so an unchanged kubeconfig compares equal to the file on disk."""
    return yaml.safe_dump(doc, sort_keys=False, default_flow_style=False).encode()
