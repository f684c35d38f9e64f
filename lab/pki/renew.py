"""`lab certs renew`: issue leaf certificates again with the CA that signed them, keeping
their identity and SANs (as `kubeadm certs renew`), and put each renewed client certificate
into the kubeconfigs that carried the old one. CAs are never renewed here.
"""

from __future__ import annotations

import base64
from pathlib import Path

import yaml

from lab.pki.certs import spec_of, write_cert
from lab.pki.expiry import authorities, authority_of, leaf_names, load
from lab.pki.files import write_private
from lab.pki.kubeconfig import dump


class UnknownCertificate(LookupError):
    """A name `renew` was given that is no leaf certificate of the directory."""


def renew(directory: Path, names: list[str] | None = None) -> list[str]:
    """Renew `names` (default: every leaf); the files written, relative to `directory`."""
    cas = authorities(directory)
    known = leaf_names(directory)
    wanted = known if not names or names == ["all"] else names
    missing = [n for n in wanted if n not in known]
    if missing:
        raise UnknownCertificate(f"no such certificate: {', '.join(missing)} (known: {', '.join(known)})")
    written = []
    for stem in wanted:
        old = (directory / f"{stem}.crt").read_bytes()
        signer = authority_of(load(directory, stem), cas)
        if signer is None:
            raise UnknownCertificate(f"{stem}: not signed by any CA of {directory}")
        write_cert(directory, spec_of(load(directory, stem), stem, signer), cas[signer])
        written += [f"{stem}.crt", f"{stem}.key"]
        written += _refresh_kubeconfigs(directory, old, stem)
    return written


def _refresh_kubeconfigs(directory: Path, old_cert: bytes, stem: str) -> list[str]:
    """Swap the renewed certificate and key into every kubeconfig that embedded the old one."""
    old = base64.b64encode(old_cert).decode()
    new_cert = base64.b64encode((directory / f"{stem}.crt").read_bytes()).decode()
    new_key = base64.b64encode((directory / f"{stem}.key").read_bytes()).decode()
    written = []
    for path in sorted(directory.glob("*.kubeconfig")):
        doc = yaml.safe_load(path.read_text())
        users = [u["user"] for u in doc.get("users", []) if u.get("user", {}).get("client-certificate-data") == old]
        for user in users:
            user["client-certificate-data"], user["client-key-data"] = new_cert, new_key
        if users:
            write_private(path, dump(doc))
            written.append(path.name)
    return written

