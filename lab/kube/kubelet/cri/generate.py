"""Regenerate the CRI messages (`api_pb2.py`, `api_pb2.pyi`) from `api.proto` (the CRI v1 subset).

No gRPC stubs: `client.py` calls the upstream `/runtime.v1.*` method paths itself, which works
with every grpcio the project supports (generated stubs need the newest).

Run from the repository root after editing the proto:  .venv/bin/python -m lab.kube.kubelet.cri.generate
The messages are committed so a node needs only grpcio + protobuf, not grpcio-tools.
"""

from __future__ import annotations

import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parents[3]  # the repository root, so generated imports read `from lab.kube.kubelet.cri import ...`


def main() -> int:
    import grpc_tools  # type: ignore[import-untyped]  # grpcio-tools ships no type information
    from grpc_tools import protoc  # a test/dev dependency only

    proto = HERE.joinpath("api.proto").relative_to(ROOT)
    include = Path(grpc_tools.__file__).parent / "_proto"  # google/protobuf well-known types
    args = ["protoc", f"-I{ROOT}", f"-I{include}", f"--python_out={ROOT}",
            f"--pyi_out={ROOT}", str(proto)]
    code = protoc.main(args)
    if code == 0:
        _drop_runtime_version_check(HERE / "api_pb2.py")
        print(f"generated {', '.join(p.name for p in sorted(HERE.glob('api_pb2*')))}")
    return int(code)


def _drop_runtime_version_check(path: Path) -> None:
    """protoc >= 5 pins the protobuf runtime to its own major.minor at import time; the messages use
    nothing newer than protobuf 4.25 (our floor in pyproject), so the pin would only break installs."""
    text = path.read_text()
    start = text.find("_runtime_version.ValidateProtobufRuntimeVersion(")
    if start < 0:
        return
    end = text.index(")\n", start) + 2
    text = text[:start] + text[end:]
    text = text.replace("from google.protobuf import runtime_version as _runtime_version\n", "")
    path.write_text(text)


if __name__ == "__main__":
    sys.exit(main())
