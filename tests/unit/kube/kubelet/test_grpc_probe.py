"""gRPC probes against a real gRPC server on loopback: SERVING passes, anything else fails with
upstream's texts, and so do a server without the health service and no server at all."""

from __future__ import annotations

from collections.abc import AsyncIterator

import grpc
import pytest

from lab.kube.kubelet import grpc_probe
from tests.support import free_port


class Health(grpc.GenericRpcHandler):
    def __init__(self, statuses: dict[str, int]) -> None:
        self.statuses = statuses

    def service(self, details: grpc.HandlerCallDetails) -> grpc.RpcMethodHandler | None:
        if details.method != grpc_probe.CHECK:
            return None

        async def check(request: bytes, context: grpc.aio.ServicerContext) -> bytes:
            service = request[2:].decode() if request else ""
            return b"\x08" + bytes([self.statuses.get(service, 3)])
        return grpc.unary_unary_rpc_method_handler(check, request_deserializer=lambda b: b,
                                                   response_serializer=lambda b: b)


@pytest.fixture
async def server() -> AsyncIterator[int]:
    port = free_port()
    srv = grpc.aio.server()
    srv.add_generic_rpc_handlers([Health({"": 1, "db": 2})])
    srv.add_insecure_port(f"127.0.0.1:{port}")
    await srv.start()
    yield port
    await srv.stop(None)


async def test_serving_passes_and_not_serving_fails(server: int) -> None:
    assert await grpc_probe.check("127.0.0.1", server, "", 2) == (True, "service healthy")
    assert await grpc_probe.check("127.0.0.1", server, "db", 2) == (
        False, 'service unhealthy (responded with "NOT_SERVING")')
    assert await grpc_probe.check("127.0.0.1", server, "cache", 2) == (
        False, 'service unhealthy (responded with "SERVICE_UNKNOWN")')


async def test_no_server_is_a_connect_timeout() -> None:
    port = free_port()
    ok, message = await grpc_probe.check("127.0.0.1", port, "", 0.5)
    assert not ok and message == (f'timeout: failed to connect service "127.0.0.1:{port}" within 0.5s: '
                                  "context deadline exceeded")


async def test_a_server_without_the_health_service() -> None:
    port = free_port()
    srv = grpc.aio.server()
    srv.add_insecure_port(f"127.0.0.1:{port}")
    await srv.start()
    try:
        ok, message = await grpc_probe.check("127.0.0.1", port, "", 2)
    finally:
        await srv.stop(None)
    assert not ok and message.startswith(
        "this server does not implement the grpc health protocol (grpc.health.v1.Health): ")


def test_the_messages_round_trip() -> None:
    assert grpc_probe.encode_request("") == b""
    assert grpc_probe.encode_request("db") == b"\x0a\x02db"
    assert grpc_probe.decode_status(b"\x08\x01") == 1 and grpc_probe.decode_status(b"") == 0
