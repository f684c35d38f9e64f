"""The API server's EncryptionConfiguration (`--encryption-provider-config`): Secrets written
with aescbc under `key1` (32 random bytes), read back by aescbc or, for what was stored before
encryption was turned on, identity. Like the ServiceAccount key it is made once: a new key
would leave every Secret already stored unreadable, so an existing file is never rewritten
(rotating it is a deliberate, multi-step operator action, not something `ensure` does).
"""

from __future__ import annotations

import base64
import os
from pathlib import Path

import yaml

from lab.pki.files import write_private

FILE = "encryption-config.yaml"
KEY_NAME = "key1"
KEY_BYTES = 32  # AES-256, what the upstream docs recommend for aescbc


def encryption_config(secret: bytes) -> bytes:
    """The document: aescbc first (writes use the first provider), then identity."""
    doc = {
        "apiVersion": "apiserver.config.k8s.io/v1",
        "kind": "EncryptionConfiguration",
        "resources": [{
            "resources": ["secrets"],
            "providers": [
                {"aescbc": {"keys": [{"name": KEY_NAME, "secret": base64.b64encode(secret).decode()}]}},
                {"identity": {}},
            ],
        }],
    }
    return yaml.safe_dump(doc, sort_keys=False).encode()


def ensure_encryption_config(directory: Path) -> list[str]:
    """Create `encryption-config.yaml` (0600) with a fresh key when absent; the names written."""
    path = directory / FILE
    if path.exists():
        return []
    write_private(path, encryption_config(os.urandom(KEY_BYTES)))
    return [FILE]
