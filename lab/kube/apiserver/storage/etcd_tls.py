"""etcd over TLS with a client certificate (`--etcd-cafile/--etcd-certfile/--etcd-keyfile`).

aetcd 1.0 only ever dials a plaintext gRPC channel, so `TLSClient` opens the same stubs over
`grpc.aio.secure_channel` instead; everything above the channel (KV, watch, errors) is aetcd's.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import aetcd
import grpc
from aetcd import rpc, watcher


@dataclass(frozen=True)
class EtcdTLS:
    """The CA that etcd's serving certificate must chain to, and the client certificate
    and key presented to it. Empty fields: the system roots, no client certificate."""

    ca_file: str = ""
    cert_file: str = ""
    key_file: str = ""

    def credentials(self) -> grpc.ChannelCredentials:
        if bool(self.cert_file) != bool(self.key_file):
            raise ValueError("--etcd-certfile and --etcd-keyfile go together")

        def read(path: str) -> bytes | None:
            return Path(path).read_bytes() if path else None
        return grpc.ssl_channel_credentials(root_certificates=read(self.ca_file),
                                            private_key=read(self.key_file),
                                            certificate_chain=read(self.cert_file))


class TLSClient(aetcd.Client):  # type: ignore[misc]  # aetcd is untyped
    """An aetcd client whose channel is TLS. Mirrors `aetcd.Client.connect` (1.0) without the
    username/password step: client certificates are the lab's etcd authentication."""

    _is_connecting: bool  # aetcd's own connection state, declared for the type checker
    _connected: asyncio.Event

    def __init__(self, host: str, port: int, tls: EtcdTLS, timeout: int | None = None) -> None:
        super().__init__(host, port, timeout=timeout)
        self._credentials = tls.credentials()

    async def connect(self) -> None:
        if self._connected.is_set():
            return
        if self._is_connecting:  # another task is dialling: wait for it, as aetcd does
            await asyncio.wait_for(self._connected.wait(), self._connect_wait_timeout)
            return
        try:
            self._is_connecting = True
            options: Any = self._options.items()
            self.channel = grpc.aio.secure_channel(f"{self._host}:{self._port}", self._credentials, options=options)
            self.kvstub = rpc.KVStub(self.channel)
            self.clusterstub = rpc.ClusterStub(self.channel)
            self.leasestub = rpc.LeaseStub(self.channel)
            self.maintenancestub = rpc.MaintenanceStub(self.channel)
            self._watcher = watcher.Watcher(rpc.WatchStub(self.channel), timeout=self._timeout,
                                            metadata=self.metadata)
            self._connected.set()
        finally:
            self._is_connecting = False
