"""The ServiceAccount signing key pair, as kubeadm keeps it: `sa.key` (PEM `RSA PRIVATE KEY`,
for `--service-account-signing-key-file`) and `sa.pub` (PEM `PUBLIC KEY`, for
`--service-account-key-file`). A key pair, not a certificate: nothing expires.
"""

from __future__ import annotations

from pathlib import Path

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa

from lab.pki.authority import key_pem, new_key
from lab.pki.files import write_if_changed, write_private

KEY, PUB = "sa.key", "sa.pub"


def public_pem(key: rsa.RSAPrivateKey) -> bytes:
    return key.public_key().public_bytes(serialization.Encoding.PEM,
                                         serialization.PublicFormat.SubjectPublicKeyInfo)


def ensure_sa_keys(directory: Path) -> list[str]:
    """Create `sa.key` when absent and (re)write `sa.pub` from it; the names written.
    The private key is kept once made: every token already issued was signed with it."""
    written = []
    key_file = directory / KEY
    if key_file.exists():
        key = serialization.load_pem_private_key(key_file.read_bytes(), password=None)
        if not isinstance(key, rsa.RSAPrivateKey):
            raise ValueError(f"{key_file}: expected an RSA key")
    else:
        key = new_key()
        write_private(key_file, key_pem(key))
        written.append(KEY)
    if write_if_changed(directory / PUB, public_pem(key), private=False):
        written.append(PUB)
    return written
