"""Session fixtures for integration tests: a real etcd, a real kube-apiserver process on it,
and the real kubectl binaries, all on loopback with free ports and temp dirs.

    def test_x(apiserver, kubectl):
        out = kubectl("1.33", "get", "ns")          # CompletedProcess
        apiserver.stop(); apiserver.start()          # restart on the same port and etcd
"""

from __future__ import annotations

import base64
import json
import os
import shutil
import signal
import ssl
import subprocess
import sys
import time
import urllib.error
import urllib.request
import uuid
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa

from lab.kube.machinery.user import MASTERS
from lab.pki.authority import load_or_create_ca
from lab.pki.certs import CertSpec, ensure_cert
from tests.support import free_port

REPO = Path(__file__).resolve().parents[2]
START_TIMEOUT = 30.0


def _tail(path: Path, lines: int = 40) -> str:
    try:
        return "\n".join(path.read_text(errors="replace").splitlines()[-lines:])
    except OSError:
        return "(no log)"


def _stop(proc: subprocess.Popen[bytes] | None, timeout: float = 10.0) -> None:
    if proc is None or proc.poll() is not None:
        return
    proc.send_signal(signal.SIGTERM)
    try:
        proc.wait(timeout)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait(5)


class EtcdServer(str):
    """The client URL (a str, so it can be passed straight to --etcd-servers), plus the
    process controls a failure test needs: `stop()`, `start()`. With `pki_dir`, clients
    must present a certificate of the etcd CA there (`--client-cert-auth`, https)."""

    data_dir: Path
    log: Path
    peer_port: int
    proc: subprocess.Popen[bytes] | None
    pki_dir: Path | None

    def __new__(cls, data_dir: Path, pki_dir: Path | None = None) -> EtcdServer:
        self = super().__new__(cls, f"{'https' if pki_dir else 'http'}://127.0.0.1:{free_port()}")
        self.data_dir, self.log, self.peer_port, self.proc = data_dir, data_dir.parent / "etcd.log", free_port(), None
        self.pki_dir = pki_dir
        return self

    def client_credentials(self) -> tuple[Path, Path, Path]:
        """(etcd CA, client cert, client key): the API server's etcd client identity."""
        assert self.pki_dir is not None, "a plain-HTTP etcd has no credentials"
        ca, _ = load_or_create_ca(self.pki_dir, "etcd/ca", "etcd-ca")
        ensure_cert(self.pki_dir, CertSpec("etcd/server", "kubelab-test", sans=("127.0.0.1", "localhost"),
                                           server=True, authority="etcd/ca"), ca)
        ensure_cert(self.pki_dir, CertSpec("apiserver-etcd-client", "kube-apiserver-etcd-client",
                                           authority="etcd/ca"), ca)
        return (self.pki_dir / "etcd/ca.crt", self.pki_dir / "apiserver-etcd-client.crt",
                self.pki_dir / "apiserver-etcd-client.key")

    def _tls_flags(self) -> list[str]:
        if self.pki_dir is None:
            return []
        ca, _, _ = self.client_credentials()
        return ["--client-cert-auth", "--trusted-ca-file", str(ca), "--cert-file",
                str(self.pki_dir / "etcd/server.crt"), "--key-file", str(self.pki_dir / "etcd/server.key")]

    def _health_context(self) -> ssl.SSLContext | None:
        if self.pki_dir is None:
            return None
        ca, cert, key = self.client_credentials()
        ctx = ssl.create_default_context(cafile=str(ca))
        ctx.load_cert_chain(str(cert), str(key))
        return ctx

    @property
    def url(self) -> str:
        return str(self)

    def start(self) -> None:
        peer = f"http://127.0.0.1:{self.peer_port}"
        cmd = ["etcd", "--name", "kubelab-test", "--data-dir", str(self.data_dir),
               "--listen-client-urls", self.url, "--advertise-client-urls", self.url,
               "--listen-peer-urls", peer, "--initial-advertise-peer-urls", peer,
               "--initial-cluster", f"kubelab-test={peer}", "--log-level", "warn", *self._tls_flags()]
        with open(self.log, "ab") as log:
            self.proc = subprocess.Popen(cmd, stdout=log, stderr=subprocess.STDOUT)
        context = self._health_context()
        deadline = time.monotonic() + START_TIMEOUT
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"etcd exited:\n{_tail(self.log)}")
            try:
                with urllib.request.urlopen(f"{self.url}/health", timeout=1, context=context) as resp:
                    if resp.status == 200:
                        return
            except (urllib.error.URLError, OSError):
                pass
            time.sleep(0.1)
        raise RuntimeError(f"etcd did not become healthy:\n{_tail(self.log)}")

    def stop(self) -> None:
        _stop(self.proc)
        self.proc = None


SA_ISSUER = "https://kubernetes.default.svc.cluster.local"


def service_account_key_flags(workdir: Path) -> tuple[str, ...]:
    """Write a ServiceAccount signing key pair (kubeadm's sa.key / sa.pub) into `workdir` and
    return the kube-apiserver flags that issue and verify tokens with it."""
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    (workdir / "sa.key").write_bytes(key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.TraditionalOpenSSL, serialization.NoEncryption()))
    (workdir / "sa.pub").write_bytes(key.public_key().public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo))
    return ("--service-account-issuer", SA_ISSUER, "--service-account-key-file", str(workdir / "sa.pub"),
            "--service-account-signing-key-file", str(workdir / "sa.key"))


@dataclass
class APIServerProcess:
    """A `kube-apiserver` process. `url`, `kubeconfig` (CA = the generated serving cert),
    `ca_file`, `stop()`, `start()`, `restart()`."""

    etcd_url: str
    workdir: Path
    port: int = field(default_factory=free_port)
    extra_args: tuple[str, ...] = ()
    proc: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"https://127.0.0.1:{self.port}"

    @property
    def cert_dir(self) -> Path:
        return self.workdir / "certs"

    @property
    def ca_file(self) -> Path:
        return self.cert_dir / "apiserver.crt"

    @property
    def kubeconfig(self) -> Path:
        return self.workdir / "kubeconfig"

    @property
    def log(self) -> Path:
        return self.workdir / "apiserver.log"

    @property
    def pki_dir(self) -> Path:
        """The test cluster's client CA and the admin's certificate (system:masters)."""
        return self.workdir / "pki"

    def admin_credentials(self) -> tuple[Path, Path]:
        """(cert, key) of the admin client certificate, issued by the client CA once."""
        ca, _ = load_or_create_ca(self.pki_dir)
        ensure_cert(self.pki_dir, CertSpec("admin", "kubelab-admin", (MASTERS,)), ca)
        return self.pki_dir / "admin.crt", self.pki_dir / "admin.key"

    def kubelet_client_credentials(self) -> tuple[Path, Path]:
        """(cert, key) the API server shows kubelets (logs, exec), as kubeadm's apiserver-kubelet-client."""
        ca, _ = load_or_create_ca(self.pki_dir)
        ensure_cert(self.pki_dir, CertSpec("apiserver-kubelet-client", "kube-apiserver-kubelet-client", (MASTERS,)),
                    ca)
        return self.pki_dir / "apiserver-kubelet-client.crt", self.pki_dir / "apiserver-kubelet-client.key"

    def ssl_context(self) -> ssl.SSLContext:
        """Trusts the server and presents the admin's client certificate."""
        ctx = ssl.create_default_context(cafile=str(self.ca_file))
        cert, key = self.admin_credentials()
        ctx.load_cert_chain(str(cert), str(key))
        return ctx

    def command(self) -> list[str]:
        return [sys.executable, "-m", "lab.kube.apiserver.main",
                "--etcd-servers", self.etcd_url, "--secure-port", str(self.port),
                "--bind-address", "127.0.0.1", "--advertise-address", "127.0.0.1",
                "--cert-dir", str(self.cert_dir), "--service-cluster-ip-range", "10.96.0.0/12",
                "--client-ca-file", str(self.pki_dir / "ca.crt"),
                "--kubelet-client-certificate", str(self.pki_dir / "apiserver-kubelet-client.crt"),
                "--kubelet-client-key", str(self.pki_dir / "apiserver-kubelet-client.key"),
                # test kubelets serve self-signed certificates on loopback (no --kubelet-certificate-authority)
                "--kubelet-preferred-address-types", "InternalIP,Hostname",
                # authorized as the lab runs it; a test's own --authorization-mode comes later and wins
                "--authorization-mode", "Node,RBAC", *self.extra_args]

    def start(self) -> None:
        self.workdir.mkdir(parents=True, exist_ok=True)
        self.admin_credentials()  # the client CA must exist before the server reads it
        self.kubelet_client_credentials()
        env = dict(os.environ, PYTHONPATH=str(REPO), PYTHONUNBUFFERED="1")
        with open(self.log, "ab") as log:
            self.proc = subprocess.Popen(self.command(), stdout=log, stderr=subprocess.STDOUT,
                                         cwd=REPO, env=env)
        self.wait_ready()
        self._write_kubeconfig()

    def wait_ready(self, timeout: float = START_TIMEOUT) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc is not None and self.proc.poll() is not None:
                raise RuntimeError(f"kube-apiserver exited:\n{_tail(self.log)}")
            if self.ca_file.exists():
                try:
                    with urllib.request.urlopen(f"{self.url}/readyz", timeout=2,
                                                context=self.ssl_context()) as resp:
                        if resp.status == 200:
                            return
                except (urllib.error.URLError, OSError, ssl.SSLError):
                    pass
            time.sleep(0.1)
        raise RuntimeError(f"kube-apiserver not ready after {timeout}s:\n{_tail(self.log)}")

    def _write_kubeconfig(self) -> None:
        ca = base64.b64encode(self.ca_file.read_bytes()).decode()
        cert, key = (base64.b64encode(p.read_bytes()).decode() for p in self.admin_credentials())
        self.kubeconfig.write_text(f"""apiVersion: v1
kind: Config
clusters:
- name: kubelab
  cluster:
    server: {self.url}
    certificate-authority-data: {ca}
contexts:
- name: kubelab
  context: {{cluster: kubelab, user: admin, namespace: default}}
current-context: kubelab
users:
- name: admin
  user: {{client-certificate-data: {cert}, client-key-data: {key}}}
""")

    def stop(self) -> None:
        _stop(self.proc)
        self.proc = None

    def restart(self) -> None:
        self.stop()
        self.start()


@pytest.fixture(scope="session")
def etcd_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[EtcdServer]:
    if shutil.which("etcd") is None:
        pytest.skip("etcd is not installed")
    server = EtcdServer(tmp_path_factory.mktemp("etcd") / "data")
    server.start()
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture(scope="session")
def apiserver(etcd_server: EtcdServer, tmp_path_factory: pytest.TempPathFactory) -> Iterator[APIServerProcess]:
    server = APIServerProcess(etcd_server.url, tmp_path_factory.mktemp("apiserver"))
    server.start()
    try:
        yield server
    finally:
        server.stop()


def kubectl_path(version: str | int) -> Path:
    """`kubectl.1.NN` beside the `kubectl` on PATH."""
    base = shutil.which("kubectl")
    if base is None:
        pytest.skip("kubectl is not on PATH")
    minor = str(version).split(".")[-1]
    path = Path(os.path.realpath(base)).parent / f"kubectl.1.{minor}"
    if not path.exists():
        pytest.skip(f"{path.name} is not installed")
    return path


@dataclass
class Kubectl:
    """Runs a real kubectl against `apiserver` with an isolated discovery cache."""

    apiserver: APIServerProcess
    cache_root: Path

    def __call__(self, version: str | int, *args: str, input: str | None = None,
                 timeout: float = 60, check: bool = False) -> subprocess.CompletedProcess[str]:
        binary = kubectl_path(version)
        cache = self.cache_root / binary.name
        cmd = [str(binary), "--kubeconfig", str(self.apiserver.kubeconfig), "--cache-dir", str(cache), *args]
        return subprocess.run(cmd, input=input if input is not None else "", capture_output=True,
                              text=True, timeout=timeout, check=check)

    def popen(self, version: str | int, *args: str) -> subprocess.Popen[str]:
        """A long-running kubectl (e.g. `get -w`); the caller stops it."""
        binary = kubectl_path(version)
        cmd = [str(binary), "--kubeconfig", str(self.apiserver.kubeconfig), "--cache-dir",
               str(self.cache_root / binary.name), *args]
        return subprocess.Popen(cmd, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                                stderr=subprocess.PIPE, text=True)


@pytest.fixture(scope="session")
def kubectl(apiserver: APIServerProcess, tmp_path_factory: pytest.TempPathFactory) -> Kubectl:
    return Kubectl(apiserver, tmp_path_factory.mktemp("kubectl-cache"))


# --- network namespaces for kube-proxy tests ---------------------------------------------------
# Topology (all inside namespaces the test creates; nothing leaves them):
#     client 10.244.0.2 ── router (node: kube-proxy's rules, ip_forward) ── backend-i 10.244.i.2:8080
#                                    └── uplink 10.244.250.2 (the default route; drops everything)

needs_netns = pytest.mark.skipif(
    os.geteuid() != 0 or not shutil.which("ip") or not shutil.which("iptables-restore"),
    reason="needs root, iproute2 and iptables")

NETLAB_CLUSTER_IP = "10.96.77.10"
NETLAB_BACKENDS = ("backend1", "backend2", "backend3")

# Answers "<name> <client address>" to every GET, so the test sees who served it and from where.
_NETLAB_SERVER = """
import http.server, sys
name = sys.argv[1]
class H(http.server.BaseHTTPRequestHandler):
    def do_GET(self):
        body = f"{name} {self.client_address[0]}".encode()
        self.send_response(200); self.send_header("Content-Length", str(len(body))); self.end_headers()
        self.wfile.write(body)
    def log_message(self, *a): pass
srv = http.server.HTTPServer(("0.0.0.0", 8080), H)
print("ready", flush=True)
srv.serve_forever()
"""

# N requests, a new connection each, bounded by a timeout; prints a JSON list of answers/errors.
_NETLAB_CLIENT = """
import json, sys, urllib.request
out = []
for _ in range(int(sys.argv[2])):
    try:
        out.append(urllib.request.urlopen(sys.argv[1], timeout=2).read().decode())
    except Exception as exc:
        out.append("error: " + type(getattr(exc, "reason", exc)).__name__)
print(json.dumps(out))
"""


def _sh(*argv: str) -> str:
    return subprocess.run(argv, check=True, capture_output=True, text=True, timeout=30).stdout


@dataclass
class NetLab:
    """Namespaces `<prefix>-<role>`; `exec(role, ...)` runs inside one, `requests(n)` asks the
    ClusterIP from the client namespace and returns what answered."""

    prefix: str
    servers: list[subprocess.Popen[str]] = field(default_factory=list)
    namespaces: list[str] = field(default_factory=list)

    def ns(self, role: str) -> str:
        return f"{self.prefix}-{role}"

    def exec(self, role: str, *argv: str) -> str:
        return _sh("ip", "netns", "exec", self.ns(role), *argv)

    def add_ns(self, role: str) -> None:
        _sh("ip", "netns", "add", self.ns(role))
        self.namespaces.append(self.ns(role))
        self.exec(role, "ip", "link", "set", "lo", "up")

    def link(self, role: str, router_if: str, subnet: int) -> None:
        """A veth from the router (10.244.<subnet>.1) to `role` (10.244.<subnet>.2, default via router)."""
        _sh("ip", "link", "add", "name", router_if, "netns", self.ns("router"), "type", "veth",
            "peer", "name", "eth0", "netns", self.ns(role))
        self.exec("router", "ip", "addr", "add", f"10.244.{subnet}.1/24", "dev", router_if)
        self.exec("router", "ip", "link", "set", router_if, "up")
        self.exec(role, "ip", "addr", "add", f"10.244.{subnet}.2/24", "dev", "eth0")
        self.exec(role, "ip", "link", "set", "eth0", "up")
        self.exec(role, "ip", "route", "add", "default", "via", f"10.244.{subnet}.1")

    def serve(self, role: str) -> None:
        proc = subprocess.Popen(["ip", "netns", "exec", self.ns(role), sys.executable, "-c", _NETLAB_SERVER, role],
                                stdout=subprocess.PIPE, text=True)
        self.servers.append(proc)
        assert proc.stdout is not None and proc.stdout.readline().strip() == "ready"

    def requests(self, n: int, url: str = f"http://{NETLAB_CLUSTER_IP}:80/") -> list[str]:
        return json.loads(self.exec("client", sys.executable, "-c", _NETLAB_CLIENT, url, str(n)))

    def close(self) -> None:
        for proc in self.servers:
            proc.kill()
            proc.wait(timeout=10)
        for ns in self.namespaces:
            subprocess.run(["ip", "netns", "del", ns], capture_output=True, timeout=30, check=False)


@pytest.fixture
def netlab() -> Iterator[NetLab]:
    lab = NetLab(prefix=f"kpxt-{uuid.uuid4().hex[:6]}")
    try:
        for role in ("router", "client", *NETLAB_BACKENDS):
            lab.add_ns(role)
        lab.exec("router", "sysctl", "-qw", "net.ipv4.ip_forward=1")
        # REJECT answers with ICMP; the default per-peer ICMP rate limit would turn a quick
        # burst of refusals into 1 s SYN retransmits
        lab.exec("router", "sysctl", "-qw", "net.ipv4.icmp_ratelimit=0")
        # a node has a default route; without one, unknown service IPs die in routing before
        # the filter table can REJECT them. The "uplink" namespace drops whatever reaches it.
        lab.add_ns("uplink")
        lab.link("uplink", "u0", 250)
        lab.exec("router", "ip", "route", "add", "default", "via", "10.244.250.2")
        lab.link("client", "c0", 0)
        for i, role in enumerate(NETLAB_BACKENDS, start=1):
            lab.link(role, f"b{i}", i)
            lab.serve(role)
        yield lab
    finally:
        lab.close()


def netlab_service() -> dict[str, Any]:
    """The `default/web` Service on the netlab's ClusterIP."""
    return {"metadata": {"name": "web", "namespace": "default"},
            "spec": {"clusterIP": NETLAB_CLUSTER_IP, "type": "ClusterIP",
                     "ports": [{"name": "http", "port": 80, "protocol": "TCP", "targetPort": 8080}]}}


def netlab_slice(*backends: int) -> dict[str, Any]:
    """An EndpointSlice of `web` naming netlab backends by number (1 = 10.244.1.2)."""
    return {"metadata": {"name": "web-x1", "namespace": "default",
                         "labels": {"kubernetes.io/service-name": "web"}},
            "addressType": "IPv4",
            "endpoints": [{"addresses": [f"10.244.{i}.2"], "conditions": {"ready": True}} for i in backends],
            "ports": [{"name": "http", "port": 8080, "protocol": "TCP"}]}


def answered_by(answers: list[str]) -> Counter[str]:
    """Which backend answered how often (errors counted by their text)."""
    return Counter(a.split()[0] if not a.startswith("error") else a for a in answers)
