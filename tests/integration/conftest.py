"""Session fixtures for integration tests: a real etcd, a real kube-apiserver process on it,
and the real kubectl binaries, all on loopback with free ports and temp dirs.

    def test_x(apiserver, kubectl):
        out = kubectl("1.33", "get", "ns")          # CompletedProcess
        apiserver.stop(); apiserver.start()          # restart on the same port and etcd
"""

from __future__ import annotations

import base64
import os
import shutil
import signal
import socket
import ssl
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
START_TIMEOUT = 30.0


def free_port() -> int:
    """A port nobody listens on right now (bind port 0 and let the kernel choose)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


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
    process controls a failure test needs: `stop()`, `start()`."""

    data_dir: Path
    log: Path
    peer_port: int
    proc: subprocess.Popen[bytes] | None

    def __new__(cls, data_dir: Path) -> EtcdServer:
        self = super().__new__(cls, f"http://127.0.0.1:{free_port()}")
        self.data_dir, self.log, self.peer_port, self.proc = data_dir, data_dir.parent / "etcd.log", free_port(), None
        return self

    @property
    def url(self) -> str:
        return str(self)

    def start(self) -> None:
        peer = f"http://127.0.0.1:{self.peer_port}"
        cmd = ["etcd", "--name", "kubelab-test", "--data-dir", str(self.data_dir),
               "--listen-client-urls", self.url, "--advertise-client-urls", self.url,
               "--listen-peer-urls", peer, "--initial-advertise-peer-urls", peer,
               "--initial-cluster", f"kubelab-test={peer}", "--log-level", "warn"]
        with open(self.log, "ab") as log:
            self.proc = subprocess.Popen(cmd, stdout=log, stderr=subprocess.STDOUT)
        deadline = time.monotonic() + START_TIMEOUT
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"etcd exited:\n{_tail(self.log)}")
            try:
                with urllib.request.urlopen(f"{self.url}/health", timeout=1) as resp:
                    if resp.status == 200:
                        return
            except (urllib.error.URLError, OSError):
                pass
            time.sleep(0.1)
        raise RuntimeError(f"etcd did not become healthy:\n{_tail(self.log)}")

    def stop(self) -> None:
        _stop(self.proc)
        self.proc = None


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

    def ssl_context(self) -> ssl.SSLContext:
        return ssl.create_default_context(cafile=str(self.ca_file))

    def command(self) -> list[str]:
        return [sys.executable, "-m", "lab.kube.apiserver.main",
                "--etcd-servers", self.etcd_url, "--secure-port", str(self.port),
                "--bind-address", "127.0.0.1", "--advertise-address", "127.0.0.1",
                "--cert-dir", str(self.cert_dir), "--service-cluster-ip-range", "10.96.0.0/12",
                *self.extra_args]

    def start(self) -> None:
        self.workdir.mkdir(parents=True, exist_ok=True)
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
        # a token keeps kubectl from prompting for a username; the server does no authn yet
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
  user: {{token: kubelab-test-admin}}
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
