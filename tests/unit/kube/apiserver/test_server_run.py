"""The API server's run owns its background loops: a loop that fails ends the run (and the
process, exit 1, with a log line) after the listener and storage are closed; a stop (cancel)
drains and closes the same way. Memory storage and a real TLS listener on loopback."""

from __future__ import annotations

import asyncio
import ssl
import subprocess
import sys
from pathlib import Path

import pytest

from lab.kube.apiserver.server import APIServer
from lab.kube.apiserver.settings import Settings
from lab.kube.apiserver.storage.memory import MemoryStorage
from tests.support import eventually, free_port

REPO = Path(__file__).resolve().parents[4]


class CompactingStorage(MemoryStorage):
    """Memory storage with an etcd-style compaction loop that fails after its first wait."""

    def __init__(self, failure: Exception) -> None:
        super().__init__()
        self.failure = failure
        self.closed = False

    async def compact_loop(self, interval: float) -> None:
        await asyncio.sleep(interval)
        raise self.failure

    async def close(self) -> None:
        self.closed = True
        await super().close()


def settings(tmp_path: Path, compaction: float) -> Settings:
    return Settings(storage_backend="memory", bind_address="127.0.0.1", secure_port=free_port(),
                    cert_dir=str(tmp_path), etcd_compaction_interval=compaction)


async def readyz(s: Settings) -> int | None:
    """The /readyz status code, or None while nothing listens (or no certificate is written)."""
    try:
        ctx = ssl.create_default_context(cafile=str(Path(s.cert_dir) / "apiserver.crt"))
        reader, writer = await asyncio.open_connection("127.0.0.1", s.secure_port, ssl=ctx)
    except OSError:  # includes the certificate not written yet and ssl.SSLError
        return None
    writer.write(b"GET /readyz HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n")
    status = (await reader.readline()).split()[1]
    writer.close()
    return int(status)


async def test_a_failed_background_loop_ends_the_run_after_cleanup(tmp_path: Path) -> None:
    s = settings(tmp_path, compaction=0.5)
    storage = CompactingStorage(RuntimeError("compaction bug"))
    run = asyncio.create_task(APIServer(s, storage).run())
    assert await eventually(lambda: readyz(s), 10, "the server answers /readyz") == 200
    with pytest.raises(ExceptionGroup) as failed:
        async with asyncio.timeout(10):
            await run
    assert [str(e) for e in failed.value.exceptions] == ["compaction bug"]
    assert storage.closed and await readyz(s) is None


async def test_a_stop_drains_then_closes_storage_and_listener(tmp_path: Path) -> None:
    s = settings(tmp_path, compaction=60)
    storage = CompactingStorage(RuntimeError("never reached"))
    run = asyncio.create_task(APIServer(s, storage).run())
    assert await eventually(lambda: readyz(s), 10, "the server answers /readyz") == 200
    run.cancel()
    with pytest.raises(asyncio.CancelledError):
        async with asyncio.timeout(10):
            await run
    assert storage.closed and await readyz(s) is None


def test_the_process_exits_1_and_logs_when_a_background_loop_fails(tmp_path: Path) -> None:
    code = ("import asyncio, sys\n"
            "from lab.kube.apiserver import main\n"
            "from lab.kube.apiserver.storage.memory import MemoryStorage\n"
            "async def compact_loop(self, interval):\n"
            "    await asyncio.sleep(interval)\n"
            "    raise RuntimeError('compaction bug')\n"
            "MemoryStorage.compact_loop = compact_loop\n"
            "sys.exit(main.main(sys.argv[1:]))\n")
    args = ["--storage-backend", "memory", "--bind-address", "127.0.0.1",
            "--secure-port", str(free_port()), "--cert-dir", str(tmp_path),
            "--etcd-compaction-interval", "0.5"]
    proc = subprocess.run([sys.executable, "-c", code, *args], cwd=REPO, capture_output=True,
                          text=True, timeout=30)
    assert proc.returncode == 1, proc.stderr
    errors = [line for line in proc.stderr.splitlines() if line.startswith("E")]
    assert len(errors) == 1 and errors[0].endswith("] kube-apiserver stopped on an error"), proc.stderr
    assert "RuntimeError: compaction bug" in proc.stderr.split(errors[0])[1]  # its traceback
