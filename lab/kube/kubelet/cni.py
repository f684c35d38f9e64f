"""The CNI network config for this node's podCIDR: bridge cni0 + host-local IPAM + portmap
(no per-pod ipMasq: the node masquerades pod egress in one chain, pod_masquerade.py).

containerd's CRI plugin watches the conf dir and loads the first `.conflist`, so writing the
file (atomically, and only when it changes) is what makes the node's pod network ready.
"""

from __future__ import annotations

import json
import os
import tempfile
from pathlib import Path
from typing import Any

CONF_NAME = "10-kubelab.conflist"
CNI_VERSION = "0.4.0"  # Debian 12 containernetworking-plugins speak 0.1.0 ... 1.0.0
NETWORK_NAME = "kubelab"
BRIDGE = "cni0"


def conflist(pod_cidr: str, bridge: str = BRIDGE, network: str = NETWORK_NAME) -> dict[str, Any]:
    """`network` also names host-local's lease dir (/var/lib/cni/networks/<network>)."""
    return {
        "cniVersion": CNI_VERSION,
        "name": network,
        "plugins": [
            {"type": "bridge", "bridge": bridge, "isGateway": True, "ipMasq": False, "hairpinMode": True,
             "ipam": {"type": "host-local", "ranges": [[{"subnet": pod_cidr}]],
                      "routes": [{"dst": "0.0.0.0/0"}]}},
            {"type": "portmap", "capabilities": {"portMappings": True}},
        ],
    }


def write_conflist(conf_dir: str | Path, pod_cidr: str, bridge: str = BRIDGE, network: str = NETWORK_NAME) -> bool:
    """Write `<conf_dir>/10-kubelab.conflist`; returns True when the file changed."""
    directory = Path(conf_dir)
    directory.mkdir(parents=True, exist_ok=True)
    target = directory / CONF_NAME
    text = json.dumps(conflist(pod_cidr, bridge, network), indent=2) + "\n"
    if target.exists() and target.read_text() == text:
        return False
    # write beside the target then rename: containerd must never load half a file
    fd, tmp = tempfile.mkstemp(dir=directory, prefix=".kubelab-", suffix=".tmp")
    try:
        with os.fdopen(fd, "w") as f:
            f.write(text)
        os.chmod(tmp, 0o644)
        os.replace(tmp, target)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return True


def configured_cidr(conf_dir: str | Path) -> str:
    """The subnet in our conflist, or "" when there is none (or it is not ours)."""
    try:
        doc = json.loads((Path(conf_dir) / CONF_NAME).read_text())
        return str(doc["plugins"][0]["ipam"]["ranges"][0][0]["subnet"])
    except (OSError, ValueError, KeyError, IndexError, TypeError):
        return ""
