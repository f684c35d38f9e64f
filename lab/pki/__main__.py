"""`python -m lab.pki`: create the lab's CAs, certificates, ServiceAccount keys and
kubeconfigs (only what is missing or stale). Prints one JSON line
`{"changed": bool, "written": [...]}` for Ansible.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from lab.pki.bundle import Bundle, NodeSpec, ensure


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    p = argparse.ArgumentParser(prog="python -m lab.pki", description=__doc__)
    p.add_argument("--dir", required=True, type=Path, help="PKI directory, e.g. .lab/pki")
    p.add_argument("--apiserver-url", required=True, help="server written into kubeconfigs")
    p.add_argument("--sans", nargs="*", default=[], help="extra apiserver SANs (control-plane IPs and names)")
    p.add_argument("--nodes", nargs="*", default=[], help="kubelet certificates: NAME or NAME=IP")
    p.add_argument("--etcd-members", nargs="*", default=[], help="etcd server/peer certificates: NAME=IP")
    p.add_argument("--service-ip", default="10.96.0.1", help="first address of the service range")
    p.add_argument("--admin-kubeconfig", type=Path, help="also write the admin kubeconfig here")
    return p.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    bundle = Bundle(apiserver_url=args.apiserver_url, apiserver_sans=tuple(args.sans),
                    nodes=tuple(NodeSpec.parse(n) for n in args.nodes),
                    etcd_members=tuple(NodeSpec.parse(m) for m in args.etcd_members),
                    service_ip=args.service_ip)
    report = ensure(args.dir, bundle, admin_kubeconfig=args.admin_kubeconfig)
    json.dump({"changed": report.changed, "written": report.written}, sys.stdout)
    sys.stdout.write("\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
