"""What `lab certs check` shows: every certificate of the PKI directory with its expiry,
the time left and the CA that signed it, as `kubeadm certs check-expiration` prints them.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from pathlib import Path

from cryptography import x509

from lab.pki.authority import Authority, load_ca
from lab.pki.bundle import AUTHORITIES
from lab.pki.certs import signed_by

UNKNOWN_CA = "?"


@dataclass(frozen=True)
class Expiry:
    name: str
    """Certificate stem relative to the PKI directory (`apiserver`, `etcd/server-cp1`)."""
    expires: dt.datetime
    authority: str
    """The CA's short name (`ca`, `etcd-ca`, `front-proxy-ca`), empty for a CA itself."""


def authorities(directory: Path) -> dict[str, Authority]:
    """The CAs present in `directory`, by stem."""
    return {stem: load_ca(directory, stem) for stem in AUTHORITIES if (directory / f"{stem}.crt").exists()}


def leaf_names(directory: Path) -> list[str]:
    """Stems of every leaf certificate (every `*.crt` that is not a CA), sorted."""
    stems = (str(p.relative_to(directory).with_suffix("")) for p in directory.rglob("*.crt"))
    return sorted(s for s in stems if s not in AUTHORITIES and not s.startswith("."))


def authority_of(cert: x509.Certificate, cas: dict[str, Authority]) -> str | None:
    """Stem of the CA in `cas` that signed `cert`."""
    return next((stem for stem, ca in cas.items() if signed_by(cert, ca)), None)


def load(directory: Path, stem: str) -> x509.Certificate:
    return x509.load_pem_x509_certificate((directory / f"{stem}.crt").read_bytes())


def check(directory: Path) -> tuple[list[Expiry], list[Expiry]]:
    """(leaf certificates, CAs) of `directory`, each sorted by name."""
    cas = authorities(directory)
    leaves = []
    for stem in leaf_names(directory):
        cert = load(directory, stem)
        signer = authority_of(cert, cas)
        leaves.append(Expiry(stem, cert.not_valid_after_utc, AUTHORITIES[signer][1] if signer else UNKNOWN_CA))
    roots = sorted((Expiry(AUTHORITIES[stem][1], ca.cert.not_valid_after_utc, "") for stem, ca in cas.items()),
                   key=lambda e: e.name)
    return leaves, roots


def residual(expires: dt.datetime, now: dt.datetime) -> str:
    """kubeadm's RESIDUAL TIME: years from a year on, else days (`<invalid>` once expired)."""
    left = expires - now
    if left.total_seconds() <= 0:
        return "<invalid>"
    return f"{left.days // 365}y" if left.days >= 365 else f"{left.days}d"


def when(expires: dt.datetime) -> str:
    """kubeadm's date format (Go's `Jan 02, 2006 15:04 MST`)."""
    return expires.astimezone(dt.UTC).strftime("%b %d, %Y %H:%M UTC")


def table(rows: list[list[str]]) -> str:
    widths = [max(len(r[i]) for r in rows) for i in range(len(rows[0]))]
    return "\n".join("   ".join(c.ljust(w) for c, w in zip(r, widths, strict=True)).rstrip() for r in rows)


def report(directory: Path, now: dt.datetime | None = None) -> str:
    """The two tables `kubeadm certs check-expiration` prints, for `directory`."""
    now = now or dt.datetime.now(dt.UTC)
    leaves, roots = check(directory)
    first = [["CERTIFICATE", "EXPIRES", "RESIDUAL TIME", "CERTIFICATE AUTHORITY"]]
    first += [[e.name, when(e.expires), residual(e.expires, now), e.authority] for e in leaves]
    second = [["CERTIFICATE AUTHORITY", "EXPIRES", "RESIDUAL TIME"]]
    second += [[e.name, when(e.expires), residual(e.expires, now)] for e in roots]
    return f"{table(first)}\n\n{table(second)}\n"
