"""The roles against real machines: two node-image containers (cp1, w1) on a docker network
this test creates, site.yml run twice, the second run must change nothing. Our Python
components are replaced by a stand-in (any flags; HTTPS /readyz when given a serving cert),
so this tests the roles (etcd, registry, containerd, units, PKI, venv), not the components.
"""

from __future__ import annotations

import io
import json
import shutil
import subprocess
import uuid
from pathlib import Path
from typing import Iterator

import pytest

from lab.deploy.ansible import REPO, ansible_playbook_binary, playbook_env, run_playbook
from lab.deploy.wheelhouse import build

pytestmark = pytest.mark.integration

STANDIN = """#!/usr/bin/python3
import http.server, ssl, sys, time
args = dict(a[2:].split("=", 1) for a in sys.argv[1:] if a.startswith("--") and "=" in a)
if "tls-cert-file" in args:
    class H(http.server.BaseHTTPRequestHandler):
        def do_GET(self):
            self.send_response(200); self.end_headers(); self.wfile.write(b"ok")
    srv = http.server.HTTPServer(("0.0.0.0", int(args.get("secure-port", 6443))), H)
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    ctx.load_cert_chain(args["tls-cert-file"], args["tls-private-key-file"])
    srv.socket = ctx.wrap_socket(srv.socket, server_side=True)
    srv.serve_forever()
while True:
    time.sleep(3600)
"""
MACHINE_ARGS = ["--cap-add=ALL", "--cap-drop=SYS_RESOURCE", "--security-opt", "seccomp=unconfined",
                "--security-opt", "apparmor=unconfined", "-v", "/sys/fs/cgroup:/sys/fs/cgroup:rw",
                "--tmpfs", "/run", "--tmpfs", "/run/lock", "-v", "/lib/modules:/lib/modules:ro"]


def test_playbooks_pass_syntax_check(tmp_path: Path) -> None:
    inventory = tmp_path / "hosts.ini"
    inventory.write_text("[etcd]\ncp1 ip=10.0.0.1\n[kube_control_plane]\ncp1\n[registry]\ncp1\n"
                         "[kube_node]\nw1 ip=10.0.0.2\n[k8s_cluster:children]\nkube_control_plane\nkube_node\n")
    for playbook in ("site.yml", "reset.yml"):
        proc = subprocess.run([ansible_playbook_binary(), "-i", str(inventory), "--syntax-check",
                               str(REPO / "playbooks" / playbook)], env=playbook_env(), capture_output=True, text=True)
        assert proc.returncode == 0, proc.stdout + proc.stderr


def docker(*args: str, check: bool = True) -> str:
    return subprocess.run(["docker", *args], check=check, capture_output=True, text=True).stdout.strip()


def node_image() -> str | None:
    if not shutil.which("docker"):
        return None
    tags = docker("images", "kubelab/node", "--format", "{{.Repository}}:{{.Tag}}", check=False).split()
    return tags[0] if tags else None


def free_subnet() -> str:
    used = docker("network", "inspect", "--format", "{{range .IPAM.Config}}{{.Subnet}} {{end}}",
                  *docker("network", "ls", "-q").split())
    for third in range(60, 250):
        if f"192.168.{third}.0/24" not in used:
            return f"192.168.{third}"
    raise RuntimeError("no free 192.168.x.0/24 for the test network")


@pytest.fixture(scope="module")
def machines(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Path, str]]:
    image = node_image()
    if image is None or not (REPO / ".lab" / "images" / "web").exists():
        pytest.skip("needs docker, the kubelab/node image and .lab/images (run `lab up` once)")
    work = tmp_path_factory.mktemp("roletest")
    run_id = uuid.uuid4().hex[:6]
    net, prefix = f"roletest-{run_id}", free_subnet()
    subprocess.run(["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-f", str(work / "id")], check=True)
    docker("network", "create", "--subnet", f"{prefix}.0/24", net)
    names = {"cp1": f"{prefix}.11", "w1": f"{prefix}.12"}
    (work / "standin").write_text(STANDIN)
    try:
        for name, ip in names.items():
            docker("run", "-d", "--name", f"{net}-{name}", "--hostname", name, "--network", net, "--ip", ip,
                   *MACHINE_ARGS, "-v", f"{net}-{name}-containerd:/var/lib/containerd", image)
            subprocess.run(["docker", "exec", "-i", f"{net}-{name}", "sh", "-c",
                            "cat >> /home/vagrant/.ssh/authorized_keys"], input=(work / "id.pub").read_text(),
                           text=True, check=True)
            docker("cp", str(work / "standin"), f"{net}-{name}:/usr/local/bin/kubelab-standin")
            docker("exec", f"{net}-{name}", "chmod", "755", "/usr/local/bin/kubelab-standin")
        host = "{n} ansible_host={ip} ansible_port=22 ansible_user=vagrant ansible_ssh_private_key_file={k} ip={ip}"
        (work / "hosts.ini").write_text(
            f"[etcd]\n{host.format(n='cp1', ip=names['cp1'], k=work / 'id')}\n[kube_control_plane]\ncp1\n"
            f"[registry]\ncp1\n[kube_node]\n{host.format(n='w1', ip=names['w1'], k=work / 'id')}\n"
            "[k8s_cluster:children]\nkube_control_plane\nkube_node\n")
        yield work, net
    finally:
        for name in names:
            docker("rm", "-f", "-v", f"{net}-{name}", check=False)
            docker("volume", "rm", f"{net}-{name}-containerd", check=False)
        docker("network", "rm", net, check=False)


def test_site_converges_and_a_second_run_changes_nothing(machines: tuple[Path, str]) -> None:
    work, net = machines
    standin = "/usr/local/bin/kubelab-standin"
    extra = {"lab_pki_dir": str(work / "pki"), "lab_admin_kubeconfig": str(work / "admin.kubeconfig"),
             "lab_wheelhouse_dir": str(build(work / "wheelhouse"))}
    extra.update({f"{c}_binary": standin for c in
                  ("kube_apiserver", "kube_controller_manager", "kube_scheduler", "kubelet", "kube_proxy")})
    first = run_playbook("site.yml", work / "hosts.ini", extra_vars=extra, out=io.StringIO())
    assert first.ok, first.recap
    second = run_playbook("site.yml", work / "hosts.ini", extra_vars=extra, out=io.StringIO())
    assert second.ok
    assert second.changed() == {"cp1": 0, "w1": 0, "localhost": 0}
    catalog = json.loads(docker("exec", f"{net}-cp1", "curl", "-s", "http://127.0.0.1:5000/v2/_catalog"))
    assert {"kubelab/pause", "kubelab/web"} <= set(catalog["repositories"])

