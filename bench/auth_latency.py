"""What authentication and authorization cost a GET, as JSON.

Starts two throwaway kube-apiservers on loopback (memory storage), both over TLS:
- `open`: `--insecure-anonymous-admin` (no credentials checked, AlwaysAllow),
- `secured`: `--client-ca-file` + `--authorization-mode=Node,RBAC`, the caller a client
  certificate bound to a ClusterRole that reads ConfigMaps (so RBAC evaluates rules; not system:masters,
  which is allowed before any mode is asked),
then times sequential GETs of one ConfigMap on a kept-alive connection, alternating rounds
between the two so machine noise falls on both. Reports p50/p99 per server and the ratios.

    .venv/bin/python bench/auth_latency.py --requests 2000 --rounds 4
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import socket
import ssl
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import aiohttp

from lab.kube.machinery.user import MASTERS
from lab.pki.authority import load_or_create_ca
from lab.pki.certs import CertSpec, ensure_cert

REPO = Path(__file__).resolve().parents[1]
PATH = "/api/v1/namespaces/default/configmaps/bench"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class Server:
    def __init__(self, workdir: Path, name: str, args: list[str]) -> None:
        self.workdir, self.name, self.port = workdir / name, name, free_port()
        self.workdir.mkdir(parents=True)
        cmd = [sys.executable, "-m", "lab.kube.apiserver.main", "--storage-backend=memory",
               "--bind-address=127.0.0.1", f"--secure-port={self.port}", f"--cert-dir={self.workdir}",
               "-v=0", *args]
        self.log = open(self.workdir / "log", "wb")  # closed in stop()
        self.proc = subprocess.Popen(cmd, stdout=self.log, stderr=subprocess.STDOUT, cwd=REPO,
                                     env=dict(os.environ, PYTHONPATH=str(REPO)))

    @property
    def url(self) -> str:
        return f"https://127.0.0.1:{self.port}"

    def ssl_context(self, cert: tuple[Path, Path] | None) -> ssl.SSLContext:
        ctx = ssl.create_default_context(cafile=str(self.workdir / "apiserver.crt"))
        if cert:
            ctx.load_cert_chain(str(cert[0]), str(cert[1]))
        return ctx

    def stop(self) -> None:
        self.proc.terminate()
        self.proc.wait(10)
        self.log.close()


async def wait_ready(server: Server, timeout: float = 30) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if (server.workdir / "apiserver.crt").exists():
            try:
                async with aiohttp.ClientSession() as s, s.get(
                        server.url + "/readyz", ssl=server.ssl_context(None)) as r:
                    if r.status == 200:
                        return
            except (aiohttp.ClientError, ssl.SSLError, OSError):
                pass
        await asyncio.sleep(0.2)
    raise RuntimeError(f"{server.name} not ready: see {server.workdir / 'log'}")


async def call(session: aiohttp.ClientSession, server: Server, ctx: ssl.SSLContext, method: str,
               path: str, body: dict | None = None) -> int:
    async with session.request(method, server.url + path, ssl=ctx, json=body) as r:
        await r.read()
        return r.status


async def timed_gets(session: aiohttp.ClientSession, server: Server, ctx: ssl.SSLContext, n: int) -> list[float]:
    out = []
    for _ in range(n):
        t = time.perf_counter()
        status = await call(session, server, ctx, "GET", PATH)
        out.append((time.perf_counter() - t) * 1000)
        if status != 200:
            raise RuntimeError(f"{server.name}: GET answered {status}")
    return out


def pct(values: list[float], p: float) -> float:
    ordered = sorted(values)
    return round(ordered[min(len(ordered) - 1, int(p / 100 * len(ordered)))], 3)


async def main(requests: int, rounds: int) -> dict:
    with tempfile.TemporaryDirectory(prefix="kubelab-bench-") as tmp:
        work = Path(tmp)
        pki = work / "pki"
        ca, _ = load_or_create_ca(pki)
        ensure_cert(pki, CertSpec("admin", "bench-admin", (MASTERS,)), ca)
        ensure_cert(pki, CertSpec("viewer", "bench-viewer", ()), ca)
        admin, viewer = (pki / "admin.crt", pki / "admin.key"), (pki / "viewer.crt", pki / "viewer.key")
        open_server = Server(work, "open", ["--insecure-anonymous-admin=true"])
        secured = Server(work, "secured", [f"--client-ca-file={pki / 'ca.crt'}",
                                           "--authorization-mode=Node,RBAC"])
        try:
            await asyncio.gather(wait_ready(open_server), wait_ready(secured))
            cm = {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "bench"}, "data": {"k": "v"}}
            binding = {"apiVersion": "rbac.authorization.k8s.io/v1", "kind": "ClusterRoleBinding",
                       "metadata": {"name": "bench-viewer"},
                       "roleRef": {"apiGroup": "rbac.authorization.k8s.io", "kind": "ClusterRole",
                                   "name": "bench-reader"},
                       "subjects": [{"apiGroup": "rbac.authorization.k8s.io", "kind": "User", "name": "bench-viewer"}]}
            async with aiohttp.ClientSession() as s:
                open_ctx, admin_ctx = open_server.ssl_context(None), secured.ssl_context(admin)
                await call(s, open_server, open_ctx, "POST", "/api/v1/namespaces/default/configmaps", cm)
                await call(s, secured, admin_ctx, "POST", "/api/v1/namespaces/default/configmaps", cm)
                reader = {"apiVersion": "rbac.authorization.k8s.io/v1", "kind": "ClusterRole",
                          "metadata": {"name": "bench-reader"},
                          "rules": [{"apiGroups": [""], "resources": ["configmaps"], "verbs": ["get"]}]}
                await call(s, secured, admin_ctx, "POST", "/apis/rbac.authorization.k8s.io/v1/clusterroles", reader)
                await call(s, secured, admin_ctx, "POST",
                           "/apis/rbac.authorization.k8s.io/v1/clusterrolebindings", binding)
                for _ in range(50):  # the authorizer's cache sees the binding a moment later
                    if await call(s, secured, secured.ssl_context(viewer), "GET", PATH) == 200:
                        break
                    await asyncio.sleep(0.1)
            samples: dict[str, list[float]] = {"open": [], "secured": []}
            # one session (one kept-alive TLS connection) per server, as a client would hold
            async with aiohttp.ClientSession() as s_open, aiohttp.ClientSession() as s_sec:
                viewer_ctx = secured.ssl_context(viewer)
                await timed_gets(s_open, open_server, open_ctx, 50)  # warm up both
                await timed_gets(s_sec, secured, viewer_ctx, 50)
                for _ in range(rounds):
                    samples["open"] += await timed_gets(s_open, open_server, open_ctx, requests)
                    samples["secured"] += await timed_gets(s_sec, secured, viewer_ctx, requests)
        finally:
            open_server.stop()
            secured.stop()
    result: dict[str, object] = {"benchmark": "auth_latency", "requests_per_server": requests * rounds}
    for name, values in samples.items():
        result[name] = {"p50_ms": pct(values, 50), "p99_ms": pct(values, 99),
                        "mean_ms": round(statistics.fmean(values), 3)}
    o, sec = result["open"], result["secured"]
    assert isinstance(o, dict) and isinstance(sec, dict)
    result["ratio_p50"] = round(sec["p50_ms"] / o["p50_ms"], 3)
    result["ratio_p99"] = round(sec["p99_ms"] / o["p99_ms"], 3)
    return result


if __name__ == "__main__":
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--requests", type=int, default=1000, help="GETs per round per server")
    ap.add_argument("--rounds", type=int, default=4)
    args = ap.parse_args()
    print(json.dumps(asyncio.run(main(args.requests, args.rounds)), indent=2))
