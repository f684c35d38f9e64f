"""Where the API server is and how to prove who we are: kubeconfig loading and TLS setup.

`load_kubeconfig` reads the same file kubectl reads (clusters, users, contexts, `-data`
fields base64) into a `ClientConfig`; `ClientConfig.ssl_context()` builds the TLS side.
"""

from __future__ import annotations

import base64
import os
import ssl
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml


@dataclass(frozen=True)
class ClientConfig:
    """Everything a Client needs to reach one API server."""

    server: str
    """Base URL, e.g. `https://127.0.0.1:6443` (plain `http://` is allowed for fakes)."""
    ca_data: bytes | None = None
    """PEM of the CA that signed the server's certificate (None: system trust store)."""
    cert_data: bytes | None = None
    """PEM client certificate for x509 authentication."""
    key_data: bytes | None = None
    """PEM private key matching `cert_data`."""
    token: str | None = None
    """Bearer token (service accounts, static tokens)."""
    insecure: bool = False
    """Skip verifying the server's certificate (`insecure-skip-tls-verify`)."""
    tls_server_name: str | None = None
    """Name to verify the server certificate against, when it differs from the URL host."""
    user_agent: str = "kubelab/0.1"
    """Sent as `User-Agent`; components put their name here."""
    timeout: float = 30.0
    """Seconds allowed for one non-watch request."""

    @classmethod
    def in_memory(cls, server: str, **kwargs: Any) -> ClientConfig:
        """A config built in code (tests, fakes, components handed a URL)."""
        return cls(server=server.rstrip("/"), **kwargs)

    def ssl_context(self) -> ssl.SSLContext | bool:
        """The TLS context for aiohttp; `False` for plain-http servers (fakes on loopback)."""
        if not self.server.startswith("https://"):
            return False
        ctx = ssl.create_default_context(cadata=self.ca_data.decode() if self.ca_data else None)
        if self.insecure:
            ctx.check_hostname = False
            ctx.verify_mode = ssl.CERT_NONE
        if self.cert_data and self.key_data:
            _load_cert_chain(ctx, self.cert_data, self.key_data)
        return ctx


def _load_cert_chain(ctx: ssl.SSLContext, cert: bytes, key: bytes) -> None:
    # ssl only loads client certificates from files, so stage the PEMs in a private temp dir
    with tempfile.TemporaryDirectory(prefix="kubelab-client-") as tmp:
        cert_path, key_path = Path(tmp, "tls.crt"), Path(tmp, "tls.key")
        cert_path.write_bytes(cert)
        fd = os.open(key_path, os.O_WRONLY | os.O_CREAT, 0o600)
        with os.fdopen(fd, "wb") as fh:
            fh.write(key)
        ctx.load_cert_chain(cert_path, key_path)


def _named(items: list[dict[str, Any]], name: str, what: str) -> dict[str, Any]:
    for item in items or []:
        if item.get("name") == name:
            return item.get(what) or {}
    raise ValueError(f"kubeconfig: no {what} named {name!r}")


def _data(section: dict[str, Any], field: str, base: Path) -> bytes | None:
    """`<field>-data` (base64) wins over `<field>` (a path, relative to the kubeconfig)."""
    if section.get(f"{field}-data"):
        return base64.b64decode(section[f"{field}-data"])
    if section.get(field):
        return (base / os.path.expanduser(str(section[field]))).read_bytes()
    return None


def load_kubeconfig(path: str | os.PathLike[str] | None = None, context: str | None = None) -> ClientConfig:
    """Read a kubeconfig (default `$KUBECONFIG` or `~/.kube/config`) for one context."""
    file = Path(path or os.environ.get("KUBECONFIG", "").split(os.pathsep)[0] or "~/.kube/config").expanduser()
    doc = yaml.safe_load(file.read_text()) or {}
    ctx_name = context or doc.get("current-context")
    if not ctx_name:
        raise ValueError(f"kubeconfig {file}: no context given and no current-context")
    ctx = _named(doc.get("contexts", []), ctx_name, "context")
    cluster = _named(doc.get("clusters", []), ctx["cluster"], "cluster")
    user = _named(doc.get("users", []), ctx["user"], "user") if ctx.get("user") else {}
    base = file.parent
    token = user.get("token")
    if not token and user.get("tokenFile"):
        token = (base / user["tokenFile"]).read_text().strip()
    return ClientConfig(
        server=str(cluster["server"]).rstrip("/"),
        ca_data=_data(cluster, "certificate-authority", base),
        cert_data=_data(user, "client-certificate", base),
        key_data=_data(user, "client-key", base),
        token=token,
        insecure=bool(cluster.get("insecure-skip-tls-verify", False)),
        tls_server_name=cluster.get("tls-server-name"),
    )
