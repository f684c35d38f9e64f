"""gRPC probes (upstream pkg/probe/grpc): grpc.health.v1.Health/Check on the pod's address.

The two messages are tiny (one string, one enum), so they are encoded here by hand rather than
generated. Texts are upstream's, for the Unhealthy events.
"""

from __future__ import annotations

import grpc

CHECK = "/grpc.health.v1.Health/Check"
STATUS_NAMES = {0: "UNKNOWN", 1: "SERVING", 2: "NOT_SERVING", 3: "SERVICE_UNKNOWN"}
USER_AGENT = "kube-probe/1.33"


def _varint(n: int) -> bytes:
    out = bytearray()
    while True:
        byte, n = n & 0x7F, n >> 7
        out.append(byte | (0x80 if n else 0))
        if not n:
            return bytes(out)


def encode_request(service: str) -> bytes:
    """HealthCheckRequest{service = 1}."""
    raw = service.encode()
    return b"\x0a" + _varint(len(raw)) + raw if raw else b""


def decode_status(message: bytes) -> int:
    """HealthCheckResponse.status (field 1, varint); absent means UNKNOWN."""
    i = 0
    while i < len(message):
        key = message[i]
        i += 1
        value, shift = 0, 0
        while True:  # every field of this message is a varint
            byte = message[i]
            i += 1
            value |= (byte & 0x7F) << shift
            shift += 7
            if not byte & 0x80:
                break
        if key == 0x08:
            return value
    return 0


async def check(host: str, port: int, service: str, timeout: float) -> tuple[bool, str]:
    """(healthy, upstream's output) of one Health/Check."""
    addr = f"{host}:{port}"
    async with grpc.aio.insecure_channel(addr, options=[("grpc.primary_user_agent", USER_AGENT)]) as channel:
        try:
            call = channel.unary_unary(CHECK, request_serializer=lambda b: b, response_deserializer=lambda b: b)
            answer = await call(encode_request(service), timeout=timeout, wait_for_ready=True)
        except grpc.aio.AioRpcError as exc:
            code = exc.code()
            if code == grpc.StatusCode.UNIMPLEMENTED:
                return False, ("this server does not implement the grpc health protocol (grpc.health.v1.Health): "
                               f"{exc.details()}")
            if code == grpc.StatusCode.DEADLINE_EXCEEDED:  # the connection never came up (upstream dials blocking)
                return False, (f'timeout: failed to connect service "{addr}" within {timeout:g}s: '
                               "context deadline exceeded")
            name = code.name.title().replace("_", "")
            return False, f"error: health rpc probe failed: rpc error: code = {name} desc = {exc.details()}"
    status = decode_status(answer)
    if status != 1:
        return False, f'service unhealthy (responded with "{STATUS_NAMES.get(status, str(status))}")'
    return True, "service healthy"
